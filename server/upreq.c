/*
 * upreq.c: the upgrade check's body model. The body is read into a JSON
 * tree (server/jtree.c) and its fields are checked in model order, every
 * error collected and rendered as the build model does (server/reqerr.c):
 * the same faults, patterns and locations, so that a client sees one
 * shape of 422 for both endpoints.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/jtree.h"
#include "server/reqchar.h"
#include "server/reqerr.h"
#include "server/request.h"
#include "server/upreq.h"

/* The checks of one body. */
struct upreq_check {
	const struct jtree	*t;
	struct reqerr_list	 errs;
};

typedef void (*upreq_field_cb)(struct upreq_check *, const char *, long,
    struct upreq *);

/* The build model's patterns (server/request.c), as the reference's. */
static const struct reqchar_pattern upreq_pat_name = {
	"^[\\w.,-]*$", REQCHAR_PAT_SET, ".,-", 0
};
static const struct reqchar_pattern upreq_pat_version = {
	"^[\\w+.,~-]*$", REQCHAR_PAT_SET, "+.,~-", 0
};
static const struct reqchar_pattern upreq_pat_target = {
	"^[\\w]*/[\\w]*$", REQCHAR_PAT_TARGET, "", 0
};

static const struct reqerr_fault upreq_f_missing = {
	"missing", "Field required", NULL, NULL, 0
};
static const struct reqerr_fault upreq_f_string = {
	"string_type", "Input should be a valid string", NULL, NULL, 0
};
static const struct reqerr_fault upreq_f_dict = {
	"dict_type", "Input should be a valid dictionary", NULL, NULL, 0
};
static const struct reqerr_fault upreq_f_bool = {
	"bool_type", "Input should be a valid boolean", NULL, NULL, 0
};
static const struct reqerr_fault upreq_f_model = {
	"model_attributes_type",
	"Input should be a valid dictionary or object to extract fields from",
	NULL, NULL, 0
};

static void	upreq_field_distro(struct upreq_check *, const char *, long,
		    struct upreq *);
static void	upreq_field_version(struct upreq_check *, const char *, long,
		    struct upreq *);
static void	upreq_field_code(struct upreq_check *, const char *, long,
		    struct upreq *);
static void	upreq_field_target(struct upreq_check *, const char *, long,
		    struct upreq *);
static void	upreq_field_profile(struct upreq_check *, const char *, long,
		    struct upreq *);
static void	upreq_field_installed(struct upreq_check *, const char *,
		    long, struct upreq *);
static void	upreq_field_upgrade(struct upreq_check *, const char *, long,
		    struct upreq *);

/* The fields in the order they are checked and reported. */
static const struct upreq_field {
	const char	*name;
	upreq_field_cb	 check;
} upreq_fields[] = {
	{ "distro", upreq_field_distro },
	{ "version", upreq_field_version },
	{ "version_code", upreq_field_code },
	{ "target", upreq_field_target },
	{ "profile", upreq_field_profile },
	{ "installed", upreq_field_installed },
	{ "upgrade_packages", upreq_field_upgrade },
};

/* Wants a string node matching p; on success *out is a copy. */
static int
upreq_want_string(struct upreq_check *c, const struct reqerr_where *w,
    long node, const struct reqchar_pattern *p, char **out)
{
	const char	*s;

	if (c->t->nodes[node].type != JTREE_STRING) {
		reqerr_add(&c->errs, w, &upreq_f_string);
		return (-1);
	}
	s = jtree_text(c->t, (size_t)node);
	if (!reqchar_match(p, s)) {
		reqerr_pattern(&c->errs, w, p->re);
		return (-1);
	}
	*out = xstrdup(s);
	return (0);
}

/* A string field: required when dflt is NULL. */
static void
upreq_check_string(struct upreq_check *c, const char *field, long node,
    const struct reqchar_pattern *p, const char *dflt, char **out)
{
	struct reqerr_where	w = { field, NULL, -1, 0, node, NULL };

	if (node >= 0)
		(void)upreq_want_string(c, &w, node, p, out);
	else if (dflt != NULL)
		*out = xstrdup(dflt);
	else {
		w.input = 0;	/* the whole body, as the build model */
		reqerr_add(&c->errs, &w, &upreq_f_missing);
	}
}

/* distro: a name, "openwrt" by default. */
static void
upreq_field_distro(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	upreq_check_string(c, field, node, &upreq_pat_name, "openwrt",
	    &u->distro);
}

/* version: the router's, required. */
static void
upreq_field_version(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	upreq_check_string(c, field, node, &upreq_pat_name, NULL,
	    &u->version);
}

/* version_code: the router's revision, "" when not known. */
static void
upreq_field_code(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	upreq_check_string(c, field, node, &upreq_pat_name, "",
	    &u->version_code);
}

/* target: target/subtarget, required. */
static void
upreq_field_target(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	upreq_check_string(c, field, node, &upreq_pat_target, NULL,
	    &u->target);
}

/* profile: required; a board name's "," becomes "_". */
static void
upreq_field_profile(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	char	*p;

	upreq_check_string(c, field, node, &upreq_pat_name, NULL,
	    &u->profile);
	for (p = u->profile; p != NULL && *p != '\0'; p++)
		if (*p == ',')
			*p = '_';
}

/* One installed package: its name, then its version. */
static void
upreq_check_member(struct upreq_check *c, const char *field,
    const struct jtree_entry *e, struct upreq *u)
{
	struct reqerr_where	kw = { field, e->key, -1, 1, 0, e->key };
	struct reqerr_where	vw = { field, e->key, -1, 0, (long)e->last,
	    NULL };
	int			kok;
	char			*v;

	if (!(kok = reqchar_match(&upreq_pat_name, e->key)))
		reqerr_pattern(&c->errs, &kw, upreq_pat_name.re);
	if (upreq_want_string(c, &vw, (long)e->last, &upreq_pat_version,
	    &v) == -1)
		return;
	if (!kok) {
		free(v);
		return;
	}
	strv_add(&u->names, e->key);
	strv_take(&u->versions, v);
}

/* installed: package name to installed version, required. */
static void
upreq_field_installed(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	struct reqerr_where	 w = { field, NULL, -1, 0, 0, NULL };
	struct jtree_entry	*e;
	size_t			 i, n;

	if (node < 0) {
		reqerr_add(&c->errs, &w, &upreq_f_missing);
		return;
	}
	if (c->t->nodes[node].type != JTREE_OBJECT) {
		reqerr_at(&c->errs, field, node, &upreq_f_dict);
		return;
	}
	e = jtree_dict_entries(c->t, (size_t)node, &n);
	for (i = 0; i < n; i++)
		upreq_check_member(c, field, &e[i], u);
	free(e);
}

/* upgrade_packages: true or false, true by default. */
static void
upreq_field_upgrade(struct upreq_check *c, const char *field, long node,
    struct upreq *u)
{
	u->upgrade_packages = 1;
	if (node < 0)
		return;
	if (c->t->nodes[node].type != JTREE_BOOL)
		reqerr_at(&c->errs, field, node, &upreq_f_bool);
	else
		u->upgrade_packages = c->t->nodes[node].boolean;
}

/* Checks a parsed object field by field; the last duplicate key wins. */
static void
upreq_check_object(struct upreq_check *c, struct upreq *u)
{
	const struct jtree	*t = c->t;
	long			 found[nitems(upreq_fields)];
	size_t			 i, j, end = t->nodes[0].size;

	for (i = 0; i < nitems(upreq_fields); i++)
		found[i] = -1;
	for (j = 1; j < end; j += t->nodes[j].size)
		for (i = 0; i < nitems(upreq_fields); i++)
			if (strcmp(jtree_key(t, j), upreq_fields[i].name) == 0)
				found[i] = (long)j;
	for (i = 0; i < nitems(upreq_fields); i++)
		upreq_fields[i].check(c, upreq_fields[i].name, found[i], u);
}

/* Parses the body into a tree and checks it; errors land in c. */
static void
upreq_run(struct upreq_check *c, struct jtree *t, const char *body,
    size_t len, struct upreq *u)
{
	size_t	offset = 0;
	char	*why = NULL;

	if (len == 0) {
		reqerr_at(&c->errs, NULL, REQERR_INPUT_NULL, &upreq_f_missing);
		return;
	}
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		body += 3;	/* as the build model: a BOM is skipped */
		len -= 3;
	}
	if (jtree_parse(t, body, len, &why, &offset) == -1) {
		reqerr_json(&c->errs, offset, why);
		free(why);
		return;
	}
	c->t = t;
	if (t->nodes[0].type == JTREE_NULL)
		reqerr_at(&c->errs, NULL, REQERR_INPUT_NULL, &upreq_f_missing);
	else if (t->nodes[0].type != JTREE_OBJECT)
		reqerr_at(&c->errs, NULL, 0, &upreq_f_model);
	else
		upreq_check_object(c, u);
}

/* Parses and checks an upgrade check's body. */
int
upreq_parse(const char *body, size_t len, struct upreq *u,
    struct request_error *err)
{
	struct jtree		 t;
	struct upreq_check	 c;
	char			*msg;

	memset(u, 0, sizeof *u);
	memset(err, 0, sizeof *err);
	memset(&t, 0, sizeof t);
	memset(&c, 0, sizeof c);
	t.maxvalues = REQUEST_MAX_VALUES;
	if (len > REQUEST_MAX_BODY) {
		xasprintf(&msg, "request body is larger than %d bytes",
		    REQUEST_MAX_BODY);
		reqerr_too_big(msg, &err->status, &err->detail, &err->body);
		free(msg);
		return (-1);
	}
	upreq_run(&c, &t, body, len, u);
	if (t.toobig) {
		xasprintf(&msg, "request body holds more than %d JSON values",
		    REQUEST_MAX_VALUES);
		reqerr_too_big(msg, &err->status, &err->detail, &err->body);
		free(msg);
	} else if (c.errs.total > 0)
		reqerr_render(&c.errs, c.t, &err->status, &err->detail,
		    &err->body);
	reqerr_free(&c.errs);
	jtree_free(&t);
	if (err->status == 0)
		return (0);
	upreq_free(u);
	return (-1);
}

/* Releases an upgrade check's body. */
void
upreq_free(struct upreq *u)
{
	free(u->distro);
	free(u->version);
	free(u->version_code);
	free(u->target);
	free(u->profile);
	strv_clear(&u->names);
	strv_clear(&u->versions);
	memset(u, 0, sizeof *u);
}

/*
 * request.c: the build request model. A body is read into a JSON tree
 * (server/jtree.c), then every field of the reference's Pydantic model is
 * typed and checked in model order, collecting every error the way
 * Pydantic reports them (server/reqerr.c). The field patterns and their
 * characters are in server/reqchar.c.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/jsonw.h"
#include "server/jtree.h"
#include "server/reqchar.h"
#include "server/reqerr.h"
#include "server/request.h"

#if JTREE_MAX_DEPTH != REQUEST_MAX_DEPTH
#error "the JSON tree must refuse the nesting request.h promises to refuse"
#endif

#define REQUEST_INT_MAX_DIGITS	4300	/* Python's int() string limit */
/* Records may be larger than requests; offsets must stay 32-bit. */
#define REQUEST_RECORD_MAX	(1024 * 1024 * 1024)

/* The checks of one body: the tree, the limits and the errors so far. */
struct request_check {
	const struct jtree		*t;
	const struct request_limits	*lim;
	struct reqerr_list		 errs;
};

struct request_literal {
	const char *const	*values;
	const char		*expected;	/* Pydantic's rendering */
};

typedef void (*request_field_cb)(struct request_check *, const char *,
    long, struct request *);

struct request_field {
	const char		*name;
	request_field_cb	 check;
};

static const struct reqchar_pattern request_pat_name = {
	"^[\\w.,-]*$", REQCHAR_PAT_SET, ".,-", 0
};
static const struct reqchar_pattern request_pat_version = {
	"^[\\w+.,~-]*$", REQCHAR_PAT_SET, "+.,~-", 0
};
static const struct reqchar_pattern request_pat_target = {
	"^[\\w]*/[\\w]*$", REQCHAR_PAT_TARGET, "", 0
};
static const struct reqchar_pattern request_pat_repo = {
	"^[\\w.-]+$", REQCHAR_PAT_SET, ".-", 1
};
static const struct reqchar_pattern request_pat_url = {
	"^https?://\\S+$", REQCHAR_PAT_URL, "", 1
};

static const char *const request_fs_values[] = {
	"squashfs", "ext4", "ubifs", "erofs", "jffs2", "jffs2-nand", "targz",
	"cpiogz", NULL
};
static const struct request_literal request_lit_fs = {
	request_fs_values,
	"'squashfs', 'ext4', 'ubifs', 'erofs', 'jffs2', 'jffs2-nand', "
	"'targz' or 'cpiogz'"
};
static const char *const request_mode_values[] = { "append", "replace", NULL };
static const struct request_literal request_lit_mode = {
	request_mode_values, "'append' or 'replace'"
};

static const struct reqerr_fault request_f_missing = {
	"missing", "Field required", NULL, NULL, 0
};
static const struct reqerr_fault request_f_string = {
	"string_type", "Input should be a valid string", NULL, NULL, 0
};
static const struct reqerr_fault request_f_list = {
	"list_type", "Input should be a valid list", NULL, NULL, 0
};
static const struct reqerr_fault request_f_dict = {
	"dict_type", "Input should be a valid dictionary", NULL, NULL, 0
};
static const struct reqerr_fault request_f_bool_type = {
	"bool_type", "Input should be a valid boolean", NULL, NULL, 0
};
static const struct reqerr_fault request_f_bool_parsing = {
	"bool_parsing",
	"Input should be a valid boolean, unable to interpret input",
	NULL, NULL, 0
};
static const struct reqerr_fault request_f_model = {
	"model_attributes_type",
	"Input should be a valid dictionary or object to extract fields from",
	NULL, NULL, 0
};
static const struct reqerr_fault request_f_ge = {
	"greater_than_equal", "Input should be greater than or equal to 1",
	"ge", NULL, 1
};

/* The lax integer outcomes, indexing request_int_faults. */
enum request_int {
	REQUEST_INT_OK,
	REQUEST_INT_TYPE,
	REQUEST_INT_PARSING,
	REQUEST_INT_FRACTION,
	REQUEST_INT_FINITE,
	REQUEST_INT_SIZE
};
static const struct reqerr_fault request_int_faults[] = {
	{ NULL, NULL, NULL, NULL, 0 },
	{ "int_type", "Input should be a valid integer", NULL, NULL, 0 },
	{ "int_parsing", "Input should be a valid integer, unable to parse "
	    "string as an integer", NULL, NULL, 0 },
	{ "int_from_float", "Input should be a valid integer, got a number "
	    "with a fractional part", NULL, NULL, 0 },
	{ "finite_number", "Input should be a finite number", NULL, NULL, 0 },
	{ "int_parsing_size", "Unable to parse input string as an integer, "
	    "exceeded maximum size", NULL, NULL, 0 }
};

static void	request_field_distro(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_version(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_version_code(struct request_check *,
		    const char *, long, struct request *);
static void	request_field_target(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_profile(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_packages(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_pv(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_diff(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_defaults(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_rootfs(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_filesystem(struct request_check *,
		    const char *, long, struct request *);
static void	request_field_repos(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_mode(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_keys(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_client(struct request_check *, const char *,
		    long, struct request *);

/* The model's fields in the order Pydantic checks and reports them. */
static const struct request_field request_fields[] = {
	{ "distro", request_field_distro },
	{ "version", request_field_version },
	{ "version_code", request_field_version_code },
	{ "target", request_field_target },
	{ "profile", request_field_profile },
	{ "packages", request_field_packages },
	{ "packages_versions", request_field_pv },
	{ "diff_packages", request_field_diff },
	{ "defaults", request_field_defaults },
	{ "rootfs_size_mb", request_field_rootfs },
	{ "filesystem", request_field_filesystem },
	{ "repositories", request_field_repos },
	{ "repositories_mode", request_field_mode },
	{ "repository_keys", request_field_keys },
	{ "client", request_field_client }
};

/* --- typing --- */

/*
 * Wants a string node matching p (when not NULL); on success *out is a
 * copy. Errors are recorded at w.
 */
static int
request_want_string(struct request_check *c, const struct reqerr_where *w,
    long node, const struct reqchar_pattern *p, char **out)
{
	const char	*s;

	if (c->t->nodes[node].type != JTREE_STRING) {
		reqerr_add(&c->errs, w, &request_f_string);
		return (-1);
	}
	s = jtree_text(c->t, (size_t)node);
	if (p != NULL && !reqchar_match(p, s)) {
		reqerr_pattern(&c->errs, w, p->re);
		return (-1);
	}
	*out = xstrdup(s);
	return (0);
}

/* A string field: required when dflt is NULL. */
static void
request_check_string(struct request_check *c, const char *field, long node,
    const struct reqchar_pattern *p, const char *dflt, char **out)
{
	struct reqerr_where	w = { field, NULL, -1, 0, node, NULL };

	if (node >= 0)
		(void)request_want_string(c, &w, node, p, out);
	else if (dflt != NULL)
		*out = xstrdup(dflt);
	else {
		w.input = 0;	/* Pydantic shows the whole body */
		reqerr_add(&c->errs, &w, &request_f_missing);
	}
}

/* A str | None field without a pattern. */
static void
request_check_nullable(struct request_check *c, const char *field, long node,
    char **out)
{
	struct reqerr_where	w = { field, NULL, -1, 0, node, NULL };

	if (node >= 0 && c->t->nodes[node].type != JTREE_NULL)
		(void)request_want_string(c, &w, node, NULL, out);
}

/* A list of strings, each matching p when p is not NULL. */
static void
request_check_list(struct request_check *c, const char *field, long node,
    const struct reqchar_pattern *p, struct strv *out)
{
	const struct jtree	*t = c->t;
	struct reqerr_where	 w = { field, NULL, 0, 0, 0, NULL };
	size_t			 j, end;
	char			*s;

	if (node < 0)
		return;
	if (t->nodes[node].type != JTREE_ARRAY) {
		reqerr_at(&c->errs, field, node, &request_f_list);
		return;
	}
	end = (size_t)node + t->nodes[node].size;
	for (j = (size_t)node + 1; j < end; j += t->nodes[j].size) {
		w.input = (long)j;
		if (request_want_string(c, &w, (long)j, p, &s) == 0)
			strv_take(out, s);
		w.index++;
	}
}

/* One dictionary member: the key, then the value, as Pydantic checks. */
static void
request_check_member(struct request_check *c, const char *field,
    const struct jtree_entry *e, const struct reqchar_pattern *kp,
    const struct reqchar_pattern *vp, struct strv *names, struct strv *vals)
{
	struct reqerr_where	kw = { field, e->key, -1, 1, 0, e->key };
	struct reqerr_where	vw = { field, e->key, -1, 0, (long)e->last,
	    NULL };
	int			kok;
	char			*v;

	if (!(kok = reqchar_match(kp, e->key)))
		reqerr_pattern(&c->errs, &kw, kp->re);
	if (request_want_string(c, &vw, (long)e->last, vp, &v) == -1)
		return;
	if (!kok) {
		free(v);
		return;
	}
	strv_add(names, e->key);
	strv_take(vals, v);
}

/* A dict[str, str] with patterns on keys and values. */
static void
request_check_dict(struct request_check *c, const char *field, long node,
    const struct reqchar_pattern *kp, const struct reqchar_pattern *vp,
    struct strv *names, struct strv *vals)
{
	struct jtree_entry	*e;
	size_t			 i, n;

	if (node < 0)
		return;
	if (c->t->nodes[node].type != JTREE_OBJECT) {
		reqerr_at(&c->errs, field, node, &request_f_dict);
		return;
	}
	e = jtree_dict_entries(c->t, (size_t)node, &n);
	for (i = 0; i < n; i++)
		request_check_member(c, field, &e[i], kp, vp, names, vals);
	free(e);
}

/* A Literal[...] field, optionally nullable; dflt applies when absent. */
static void
request_check_literal(struct request_check *c, const char *field, long node,
    const struct request_literal *l, int nullable, const char *dflt,
    char **out)
{
	struct reqerr_fault	 f = { "literal_error", NULL, "expected",
	    l->expected, 0 };
	const char		*s;
	char			*msg;
	size_t			 i;

	if (node < 0) {
		*out = dflt != NULL ? xstrdup(dflt) : NULL;
		return;
	}
	if (nullable && c->t->nodes[node].type == JTREE_NULL)
		return;
	if (c->t->nodes[node].type == JTREE_STRING) {
		s = jtree_text(c->t, (size_t)node);
		for (i = 0; l->values[i] != NULL; i++) {
			if (strcmp(s, l->values[i]) == 0) {
				*out = xstrdup(s);
				return;
			}
		}
	}
	xasprintf(&msg, "Input should be %s", l->expected);
	f.msg = msg;
	reqerr_at(&c->errs, field, node, &f);
	free(msg);
}

/* Parses [+-]digits of a given length, saturating; 0 or -1. */
static int
request_parse_ll(const char *s, size_t len, long long *v)
{
	size_t		i = 0;
	int		neg = 0;
	long long	n = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i++;
	}
	if (i == len)
		return (-1);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		if (n > (LLONG_MAX - (s[i] - '0')) / 10)
			n = LLONG_MAX;
		else
			n = n * 10 + (s[i] - '0');
	}
	*v = neg ? -n : n;
	return (0);
}

/* Python's int(str) the way pydantic-core does it: "12", " 12 ", "12.00". */
static enum request_int
request_str_int(const char *s, long long *v)
{
	size_t	len = strlen(s), dot;

	while (len > 0 && strchr(" \t\n\v\f\r", s[len - 1]) != NULL)
		len--;
	while (len > 0 && strchr(" \t\n\v\f\r", s[0]) != NULL) {
		s++;
		len--;
	}
	if (len > REQUEST_INT_MAX_DIGITS)
		return (REQUEST_INT_SIZE);
	if (request_parse_ll(s, len, v) == 0)
		return (REQUEST_INT_OK);
	for (dot = 0; dot < len && s[dot] != '.'; dot++)
		;
	if (dot < len && strspn(s + dot + 1, "0") == len - dot - 1 &&
	    request_parse_ll(s, dot, v) == 0)
		return (REQUEST_INT_OK);
	return (REQUEST_INT_PARSING);
}

/* A JSON number as an int: integers as such, floats without fraction. */
static enum request_int
request_num_int(const char *s, long long *v)
{
	double	d;

	if (strpbrk(s, ".eE") == NULL) {
		if (request_parse_ll(s, strlen(s), v) == -1)
			return (REQUEST_INT_PARSING);
		return (REQUEST_INT_OK);
	}
	d = strtod(s, NULL);
	if (!isfinite(d))
		return (REQUEST_INT_FINITE);
	if (d != trunc(d))
		return (REQUEST_INT_FRACTION);
	if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0)
		return (REQUEST_INT_SIZE);	/* as pydantic-core */
	*v = (long long)d;
	return (REQUEST_INT_OK);
}

/* Pydantic's lax int: bool, integer, integral float, numeric string. */
static enum request_int
request_lax_int(const struct jtree *t, long node, long long *v)
{
	const struct jtree_node	*nd = &t->nodes[node];

	switch (nd->type) {
	case JTREE_BOOL:
		*v = nd->boolean;
		return (REQUEST_INT_OK);
	case JTREE_NUMBER:
		return (request_num_int(jtree_text(t, (size_t)node), v));
	case JTREE_STRING:
		return (request_str_int(jtree_text(t, (size_t)node), v));
	default:
		return (REQUEST_INT_TYPE);
	}
}

/* Pydantic's lax bool from a string; 0, 1, or -1. */
static int
request_str_bool(const char *s)
{
	static const char *const	 no[] = { "0", "off", "f", "false",
	    "n", "no" };
	static const char *const	 yes[] = { "1", "on", "t", "true",
	    "y", "yes" };
	size_t				 i;

	for (i = 0; i < nitems(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return (0);
	for (i = 0; i < nitems(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return (1);
	return (-1);
}

/* Pydantic's lax bool from a number: 0, 1, -1 (parsing) or -2 (type). */
static int
request_num_bool(const char *s)
{
	long long	v;

	switch (request_num_int(s, &v)) {
	case REQUEST_INT_OK:
		return (v == 0 || v == 1 ? (int)v : -1);
	case REQUEST_INT_PARSING:
		return (-1);
	default:
		return (-2);
	}
}

/* --- the fields --- */

/* distro: a name, "openwrt" by default. */
static void
request_field_distro(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_string(c, field, node, &request_pat_name, "openwrt",
	    &r->distro);
}

/* version: a required name. */
static void
request_field_version(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_string(c, field, node, &request_pat_name, NULL,
	    &r->version);
}

/* version_code: the expected revision, "" by default. */
static void
request_field_version_code(struct request_check *c, const char *field,
    long node, struct request *r)
{
	request_check_string(c, field, node, &request_pat_name, "",
	    &r->version_code);
}

/* target: a required target/subtarget. */
static void
request_field_target(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_string(c, field, node, &request_pat_target, NULL,
	    &r->target);
}

/* profile: required; a board name's "," becomes "_" once it is checked. */
static void
request_field_profile(struct request_check *c, const char *field, long node,
    struct request *r)
{
	char	*p;

	request_check_string(c, field, node, &request_pat_name, NULL,
	    &r->profile);
	for (p = r->profile; p != NULL && *p != '\0'; p++)
		if (*p == ',')
			*p = '_';
}

/* packages: names, order and duplicates kept. */
static void
request_field_packages(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_list(c, field, node, &request_pat_name, &r->packages);
}

/* packages_versions: name to version. */
static void
request_field_pv(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_dict(c, field, node, &request_pat_name,
	    &request_pat_version, &r->pv_names, &r->pv_versions);
}

/* diff_packages: a lax bool, false by default. */
static void
request_field_diff(struct request_check *c, const char *field, long node,
    struct request *r)
{
	const struct jtree_node	*nd;
	int			 b;

	if (node < 0)
		return;
	nd = &c->t->nodes[node];
	if (nd->type == JTREE_BOOL)
		b = nd->boolean;
	else if (nd->type == JTREE_STRING)
		b = request_str_bool(jtree_text(c->t, (size_t)node));
	else if (nd->type == JTREE_NUMBER)
		b = request_num_bool(jtree_text(c->t, (size_t)node));
	else
		b = -2;
	if (b == -1)
		reqerr_at(&c->errs, field, node, &request_f_bool_parsing);
	else if (b == -2)
		reqerr_at(&c->errs, field, node, &request_f_bool_type);
	else
		r->diff_packages = b;
}

/* defaults: a script of at most max_defaults_length characters, or null. */
static void
request_field_defaults(struct request_check *c, const char *field, long node,
    struct request *r)
{
	struct reqerr_fault	 f = { "string_too_long", NULL, "max_length",
	    NULL, c->lim->max_defaults_length };
	char			*s = NULL, *msg;

	request_check_nullable(c, field, node, &s);
	if (s == NULL ||
	    reqchar_utf8_count(s) <= (size_t)c->lim->max_defaults_length) {
		r->defaults = s;
		return;
	}
	free(s);
	xasprintf(&msg, "String should have at most %d character%s",
	    c->lim->max_defaults_length,
	    c->lim->max_defaults_length == 1 ? "" : "s");
	f.msg = msg;
	reqerr_at(&c->errs, field, node, &f);
	free(msg);
}

/* rootfs_size_mb: a lax int in 1..max, or null (0). */
static void
request_field_rootfs(struct request_check *c, const char *field, long node,
    struct request *r)
{
	struct reqerr_fault	 f = { "less_than_equal", NULL, "le", NULL,
	    c->lim->max_custom_rootfs_size_mb };
	enum request_int	 rc;
	long long		 v = 0;
	char			*msg;

	if (node < 0 || c->t->nodes[node].type == JTREE_NULL)
		return;
	if ((rc = request_lax_int(c->t, node, &v)) != REQUEST_INT_OK) {
		reqerr_at(&c->errs, field, node, &request_int_faults[rc]);
		return;
	}
	if (v < 1) {
		reqerr_at(&c->errs, field, node, &request_f_ge);
		return;
	}
	if (v <= c->lim->max_custom_rootfs_size_mb) {
		r->rootfs_size_mb = (int)v;
		return;
	}
	xasprintf(&msg, "Input should be less than or equal to %d",
	    c->lim->max_custom_rootfs_size_mb);
	f.msg = msg;
	reqerr_at(&c->errs, field, node, &f);
	free(msg);
}

/* filesystem: one of the ImageBuilder's ROOTFS_FILESYSTEM values, or null. */
static void
request_field_filesystem(struct request_check *c, const char *field,
    long node, struct request *r)
{
	request_check_literal(c, field, node, &request_lit_fs, 1, NULL,
	    &r->filesystem);
}

/* repositories: feed name to URL, in the order sent. */
static void
request_field_repos(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_dict(c, field, node, &request_pat_repo,
	    &request_pat_url, &r->repo_names, &r->repo_urls);
}

/* repositories_mode: "append" or "replace" (the default). */
static void
request_field_mode(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_literal(c, field, node, &request_lit_mode, 0, "replace",
	    &r->repositories_mode);
}

/* repository_keys: strings without a pattern (usign or PEM keys). */
static void
request_field_keys(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_list(c, field, node, NULL, &r->repository_keys);
}

/* client: a free-form client name, or null. */
static void
request_field_client(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_nullable(c, field, node, &r->client);
}

/* --- entry points --- */

/* Checks a parsed object field by field; the last duplicate key wins. */
static void
request_check_object(struct request_check *c, struct request *r)
{
	const struct jtree	*t = c->t;
	long			 found[nitems(request_fields)];
	size_t			 i, j, end = t->nodes[0].size;

	for (i = 0; i < nitems(request_fields); i++)
		found[i] = -1;
	for (j = 1; j < end; j += t->nodes[j].size) {
		for (i = 0; i < nitems(request_fields); i++)
			if (strcmp(jtree_key(t, j),
			    request_fields[i].name) == 0)
				found[i] = (long)j;
	}
	for (i = 0; i < nitems(request_fields); i++)
		request_fields[i].check(c, request_fields[i].name, found[i], r);
}

/* Parses the body into a tree and checks it; errors land in c. */
static void
request_run(struct request_check *c, struct jtree *t, const char *body,
    size_t len, struct request *r)
{
	size_t	offset = 0;
	char	*why = NULL;

	if (len == 0) {
		reqerr_at(&c->errs, NULL, REQERR_INPUT_NULL,
		    &request_f_missing);
		return;
	}
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		body += 3;	/* Python's json.loads(bytes) skips a BOM */
		len -= 3;
	}
	if (jtree_parse(t, body, len, &why, &offset) == -1) {
		reqerr_json(&c->errs, offset, why);
		free(why);
		return;
	}
	c->t = t;
	if (t->nodes[0].type == JTREE_NULL)
		reqerr_at(&c->errs, NULL, REQERR_INPUT_NULL,
		    &request_f_missing);
	else if (t->nodes[0].type != JTREE_OBJECT)
		reqerr_at(&c->errs, NULL, 0, &request_f_model);
	else
		request_check_object(c, r);
}

/* request_parse with explicit size caps (records may be larger). */
static int
request_parse_capped(const char *body, size_t len,
    const struct request_limits *lim, size_t maxbody, size_t maxvalues,
    struct request *r, struct request_error *err)
{
	static const struct request_limits	 dflt = { 20480, 1024 };
	struct jtree				 t;
	struct request_check			 c;
	char					*msg;

	memset(r, 0, sizeof *r);
	memset(err, 0, sizeof *err);
	memset(&t, 0, sizeof t);
	memset(&c, 0, sizeof c);
	t.maxvalues = maxvalues;
	c.lim = lim != NULL ? lim : &dflt;
	if (len > maxbody) {
		xasprintf(&msg, "request body is larger than %zu bytes",
		    maxbody);
		reqerr_too_big(msg, &err->status, &err->detail,
		    &err->body);
		free(msg);
		return (-1);
	}
	request_run(&c, &t, body, len, r);
	if (t.toobig) {
		xasprintf(&msg, "request body holds more than %zu JSON values",
		    maxvalues);
		reqerr_too_big(msg, &err->status, &err->detail,
		    &err->body);
		free(msg);
	} else if (c.errs.total > 0)
		reqerr_render(&c.errs, c.t, &err->status, &err->detail,
		    &err->body);
	reqerr_free(&c.errs);
	jtree_free(&t);
	if (err->status == 0)
		return (0);
	request_free(r);
	return (-1);
}

/* Parses and checks a build request body. */
int
request_parse(const char *body, size_t len, const struct request_limits *lim,
    struct request *r, struct request_error *err)
{
	return (request_parse_capped(body, len, lim, REQUEST_MAX_BODY,
	    REQUEST_MAX_VALUES, r, err));
}

/* Releases a request. */
void
request_free(struct request *r)
{
	free(r->distro);
	free(r->version);
	free(r->version_code);
	free(r->target);
	free(r->profile);
	strv_clear(&r->packages);
	strv_clear(&r->pv_names);
	strv_clear(&r->pv_versions);
	free(r->defaults);
	free(r->filesystem);
	strv_clear(&r->repo_names);
	strv_clear(&r->repo_urls);
	free(r->repositories_mode);
	strv_clear(&r->repository_keys);
	free(r->client);
	memset(r, 0, sizeof *r);
}

/* Releases an error. */
void
request_error_free(struct request_error *err)
{
	free(err->detail);
	free(err->body);
	memset(err, 0, sizeof *err);
}

/* The names the build and the hash use. */
const struct strv *
request_package_names(const struct request *r)
{
	return (r->pv_names.n > 0 ? &r->pv_names : &r->packages);
}

/* Writes a C string with yajl. */
static void
request_gen_cstr(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Writes "key": "value", or null for a NULL value. */
static void
request_gen_member(yajl_gen g, const char *key, const char *value)
{
	request_gen_cstr(g, key);
	if (value != NULL)
		request_gen_cstr(g, value);
	else
		yajl_gen_null(g);
}

/* Writes "key": {names[i]: values[i]}. */
static void
request_gen_dict(yajl_gen g, const char *key, const struct strv *names,
    const struct strv *values)
{
	size_t	i;

	request_gen_cstr(g, key);
	yajl_gen_map_open(g);
	for (i = 0; i < names->n && i < values->n; i++) {
		request_gen_cstr(g, names->v[i]);
		request_gen_cstr(g, values->v[i]);
	}
	yajl_gen_map_close(g);
}

/* Writes the normalised request, every field present. */
void
request_to_json(const struct request *r, yajl_gen g)
{
	yajl_gen_map_open(g);
	request_gen_member(g, "distro",
	    r->distro != NULL ? r->distro : "openwrt");
	request_gen_member(g, "version", r->version ? r->version : "");
	request_gen_member(g, "version_code",
	    r->version_code != NULL ? r->version_code : "");
	request_gen_member(g, "target", r->target ? r->target : "");
	request_gen_member(g, "profile", r->profile ? r->profile : "");
	jsonw_kv_strv(g, "packages", &r->packages);
	request_gen_dict(g, "packages_versions", &r->pv_names,
	    &r->pv_versions);
	request_gen_cstr(g, "diff_packages");
	yajl_gen_bool(g, r->diff_packages);
	request_gen_member(g, "defaults", r->defaults);
	request_gen_cstr(g, "rootfs_size_mb");
	if (r->rootfs_size_mb > 0)
		yajl_gen_integer(g, r->rootfs_size_mb);
	else
		yajl_gen_null(g);
	request_gen_member(g, "filesystem", r->filesystem);
	request_gen_dict(g, "repositories", &r->repo_names, &r->repo_urls);
	request_gen_member(g, "repositories_mode",
	    r->repositories_mode != NULL ? r->repositories_mode : "replace");
	jsonw_kv_strv(g, "repository_keys", &r->repository_keys);
	request_gen_member(g, "client", r->client);
	yajl_gen_map_close(g);
}

/* Reads a request back from a record, without the operator's limits. */
int
request_from_json(const char *json, size_t len, struct request *r,
    char **cause)
{
	static const struct request_limits	nolimit = { INT_MAX, INT_MAX };
	struct request_error			err;

	if (request_parse_capped(json, len, &nolimit, REQUEST_RECORD_MAX,
	    REQUEST_RECORD_MAX, r, &err) == 0)
		return (0);
	*cause = err.detail;
	err.detail = NULL;
	request_error_free(&err);
	return (-1);
}

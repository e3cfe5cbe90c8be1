/*
 * treq.c: what the unit tests of the build request model share (see
 * treq.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/xmalloc.h"
#include "server/jsonw.h"
#include "server/request.h"
#include "t/unit/tap.h"
#include "t/unit/treq.h"

const struct request_limits treq_limits = { 20480, 1024 };

/* Parses a body that must be accepted. */
int
treq_ok(const char *json, struct request *r, const char *name)
{
	struct request_error	err;
	int			rv;

	rv = request_parse(json, strlen(json), &treq_limits, r, &err);
	ok(rv == 0, name);
	if (rv != 0) {
		printf("#   422: %s\n", err.detail);
		request_error_free(&err);
	}
	return (rv);
}

/* Parses a body of a given length that must be refused; keeps the body. */
int
treq_fail_len(const char *json, size_t len, const struct request_limits *lim,
    struct treq_err *e)
{
	struct request		r;
	struct request_error	err;
	char			ebuf[256];
	int			rv;

	memset(e, 0, sizeof *e);
	rv = request_parse(json, len, lim, &r, &err);
	if (rv == 0) {
		request_free(&r);
		return (-1);
	}
	e->status = err.status;
	e->detail = xstrdup(err.detail != NULL ? err.detail : "");
	e->root = yajl_tree_parse(err.body != NULL ? err.body : "", ebuf,
	    sizeof ebuf);
	if (e->root != NULL) {
		const char	*path[] = { "errors", NULL };

		e->errors = yajl_tree_get(e->root, path, yajl_t_array);
	}
	request_error_free(&err);
	return (e->root != NULL ? 0 : -1);
}

/* Parses a body that must be refused. */
int
treq_fail(const char *json, struct treq_err *e)
{
	return (treq_fail_len(json, strlen(json), &treq_limits, e));
}

/* Releases a parsed 422. */
void
treq_err_free(struct treq_err *e)
{
	free(e->detail);
	yajl_tree_free(e->root);
	memset(e, 0, sizeof *e);
}

/* A value as compact JSON, in a static buffer; "(none)" when absent. */
static const char *
treq_json(yajl_val v)
{
	static char	 out[4096];
	yajl_gen	 g;
	char		*s;

	if (v == NULL)
		return ("(none)");
	g = jsonw_new();
	jsonw_tree(g, v);
	s = jsonw_finish(g, NULL);
	snprintf(out, sizeof out, "%s", s);
	free(s);
	return (out);
}

/* Member "what" of error i, as compact JSON. */
const char *
treq_get(const struct treq_err *e, size_t i, const char *what)
{
	const char	*path[] = { what, NULL };

	if (e->errors == NULL || i >= e->errors->u.array.len)
		return ("(no such error)");
	return (treq_json(yajl_tree_get(e->errors->u.array.values[i], path,
	    yajl_t_any)));
}

/* Member "what" of the whole body, as compact JSON. */
const char *
treq_top(const struct treq_err *e, const char *what)
{
	const char	*path[] = { what, NULL };

	return (treq_json(yajl_tree_get(e->root, path, yajl_t_any)));
}

/* The number of listed errors. */
size_t
treq_count(const struct treq_err *e)
{
	return (e->errors != NULL ? e->errors->u.array.len : 0);
}

/*
 * Parses a body of a table that must be refused: a json starting with ","
 * holds the members after TREQ_BASE's. A failed check when it is not.
 */
static int
treq_refused(const char *json, struct treq_err *e, const char *name)
{
	char	*body = NULL;
	int	 rc;

	if (json[0] == ',')
		xasprintf(&body, "{" TREQ_BASE "%s}", json);
	rc = treq_fail(body != NULL ? body : json, e);
	if (rc == -1) {
		ok(0, name);
		printf("#   was accepted: %s\n", body != NULL ? body : json);
	}
	free(body);
	return (rc);
}

/* Checks member what of the first error, when want is given. */
static void
treq_member(const struct treq_err *e, const char *what, const char *want,
    const char *name)
{
	char	label[256];

	if (want == NULL)
		return;
	snprintf(label, sizeof label, "%s: %s", name, what);
	is_str(treq_get(e, 0, what), want, label);
}

/* Checks one refused body: a 422 with a single error as the case says. */
void
treq_one(const struct treq_case *c)
{
	struct treq_err	e;
	char		label[256];

	if (treq_refused(c->json, &e, c->name) == -1)
		return;
	snprintf(label, sizeof label, "%s: 422", c->name);
	is_int(e.status, 422, label);
	snprintf(label, sizeof label, "%s: one error", c->name);
	is_int(treq_count(&e), 1, label);
	treq_member(&e, "type", c->type, c->name);
	treq_member(&e, "loc", c->loc, c->name);
	treq_member(&e, "msg", c->msg, c->name);
	treq_member(&e, "input", c->input, c->name);
	treq_member(&e, "ctx", c->ctx, c->name);
	if (c->detail != NULL) {
		snprintf(label, sizeof label, "%s: detail", c->name);
		is_str(e.detail, c->detail, label);
	}
	treq_err_free(&e);
}

/* Checks a table of refused bodies. */
void
treq_cases(const struct treq_case *cases, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		treq_one(&cases[i]);
}

/* Checks that a body is refused by a pattern at loc. */
static void
treq_pattern_one(const struct treq_pattern *p)
{
	struct treq_err	e;
	char		msg[128], ctx[128], jre[64], label[256];
	size_t		i, j;

	if (treq_refused(p->json, &e, p->name) == -1)
		return;
	/* The pattern as it appears inside a JSON string. */
	for (i = j = 0; p->re[i] != '\0' && j < sizeof jre - 2; i++) {
		if (p->re[i] == '\\')
			jre[j++] = '\\';
		jre[j++] = p->re[i];
	}
	jre[j] = '\0';
	snprintf(msg, sizeof msg, "\"String should match pattern '%s'\"", jre);
	snprintf(ctx, sizeof ctx, "{\"pattern\":\"%s\"}", jre);
	snprintf(label, sizeof label, "%s: 422", p->name);
	is_int(e.status, 422, label);
	snprintf(label, sizeof label, "%s: string_pattern_mismatch", p->name);
	is_str(treq_get(&e, 0, "type"), "\"string_pattern_mismatch\"", label);
	treq_member(&e, "loc", p->loc, p->name);
	treq_member(&e, "msg", msg, p->name);
	treq_member(&e, "ctx", ctx, p->name);
	treq_err_free(&e);
}

/* Checks a table of pattern refusals. */
void
treq_patterns(const struct treq_pattern *patterns, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		treq_pattern_one(&patterns[i]);
}

/*
 * request.c: the build request model: every 422 case of the reference
 * (reference/asu-api.md §1.2) with its exact type, loc, msg, input and
 * ctx; lax typing as clients use it; defaults; patterns against shell and
 * make syntax; hostile bodies (size, depth, bad UTF-8, random bytes); and
 * the round trip through request_to_json and request_from_json.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/request.h"
#include "t/unit/tap.h"

#define BASE \
	"\"version\":\"1.2.3\",\"target\":\"testtarget/testsubtarget\"," \
	"\"profile\":\"testprofile\""

/* A parsed 422 body, for looking at its errors. */
struct t_err {
	int		 status;
	char		*detail;
	yajl_val	 root;
	yajl_val	 errors;
};

static const struct request_limits t_limits = { 20480, 1024 };

/* Parses a body that must be accepted. */
static int
t_ok(const char *json, struct request *r, const char *name)
{
	struct request_error	err;
	int			rv;

	rv = request_parse(json, strlen(json), &t_limits, r, &err);
	ok(rv == 0, name);
	if (rv != 0) {
		printf("#   422: %s\n", err.detail);
		request_error_free(&err);
	}
	return (rv);
}

/* Parses a body of a given length that must be refused; keeps the body. */
static int
t_fail_len(const char *json, size_t len, const struct request_limits *lim,
    struct t_err *e)
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
static int
t_fail(const char *json, struct t_err *e)
{
	return (t_fail_len(json, strlen(json), &t_limits, e));
}

/* Releases a parsed 422. */
static void
t_err_free(struct t_err *e)
{
	free(e->detail);
	yajl_tree_free(e->root);
	memset(e, 0, sizeof *e);
}

/* Writes a yajl tree value compactly. */
static void
t_gen(yajl_gen g, yajl_val v)
{
	size_t	i;

	if (YAJL_IS_STRING(v))
		yajl_gen_string(g, (const unsigned char *)v->u.string,
		    strlen(v->u.string));
	else if (YAJL_IS_NUMBER(v))
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			t_gen(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++) {
			yajl_gen_string(g,
			    (const unsigned char *)v->u.object.keys[i],
			    strlen(v->u.object.keys[i]));
			t_gen(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else
		yajl_gen_null(g);
}

/* A value as compact JSON, in a static buffer; "(none)" when absent. */
static const char *
t_json(yajl_val v)
{
	static char		 out[4096];
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;

	if (v == NULL)
		return ("(none)");
	g = yajl_gen_alloc(NULL);
	t_gen(g, v);
	yajl_gen_get_buf(g, &buf, &len);
	if (len >= sizeof out)
		len = sizeof out - 1;
	memcpy(out, buf, len);
	out[len] = '\0';
	yajl_gen_free(g);
	return (out);
}

/* Member "what" of error i, as compact JSON. */
static const char *
t_get(const struct t_err *e, size_t i, const char *what)
{
	const char	*path[] = { what, NULL };

	if (e->errors == NULL || i >= e->errors->u.array.len)
		return ("(no such error)");
	return (t_json(yajl_tree_get(e->errors->u.array.values[i], path,
	    yajl_t_any)));
}

/* Member "what" of the whole body, as compact JSON. */
static const char *
t_top(const struct t_err *e, const char *what)
{
	const char	*path[] = { what, NULL };

	return (t_json(yajl_tree_get(e->root, path, yajl_t_any)));
}

/* The number of listed errors. */
static size_t
t_count(const struct t_err *e)
{
	return (e->errors != NULL ? e->errors->u.array.len : 0);
}

/* Checks one refused body: a single error with type, loc, msg, input. */
static void
t_one(const char *json, const char *type, const char *loc, const char *msg,
    const char *input, const char *name)
{
	struct t_err	e;
	char		label[256];

	if (t_fail(json, &e) == -1) {
		ok(0, name);
		printf("#   was accepted: %s\n", json);
		return;
	}
	snprintf(label, sizeof label, "%s: one error", name);
	is_int(t_count(&e), 1, label);
	snprintf(label, sizeof label, "%s: type", name);
	is_str(t_get(&e, 0, "type"), type, label);
	snprintf(label, sizeof label, "%s: loc", name);
	is_str(t_get(&e, 0, "loc"), loc, label);
	if (msg != NULL) {
		snprintf(label, sizeof label, "%s: msg", name);
		is_str(t_get(&e, 0, "msg"), msg, label);
	}
	if (input != NULL) {
		snprintf(label, sizeof label, "%s: input", name);
		is_str(t_get(&e, 0, "input"), input, label);
	}
	t_err_free(&e);
}

/* Checks that a body is refused by a pattern at loc. */
static void
t_pattern(const char *json, const char *loc, const char *re,
    const char *name)
{
	struct t_err	e;
	char		msg[128], ctx[128], jre[64], label[256];
	size_t		i, j;

	if (t_fail(json, &e) == -1) {
		ok(0, name);
		printf("#   was accepted: %s\n", json);
		return;
	}
	/* The pattern as it appears inside a JSON string. */
	for (i = j = 0; re[i] != '\0' && j < sizeof jre - 2; i++) {
		if (re[i] == '\\')
			jre[j++] = '\\';
		jre[j++] = re[i];
	}
	jre[j] = '\0';
	snprintf(msg, sizeof msg, "\"String should match pattern '%s'\"", jre);
	snprintf(ctx, sizeof ctx, "{\"pattern\":\"%s\"}", jre);
	snprintf(label, sizeof label, "%s: string_pattern_mismatch", name);
	is_str(t_get(&e, 0, "type"), "\"string_pattern_mismatch\"", label);
	snprintf(label, sizeof label, "%s: loc", name);
	is_str(t_get(&e, 0, "loc"), loc, label);
	snprintf(label, sizeof label, "%s: msg", name);
	is_str(t_get(&e, 0, "msg"), msg, label);
	snprintf(label, sizeof label, "%s: ctx", name);
	is_str(t_get(&e, 0, "ctx"), ctx, label);
	t_err_free(&e);
}

/* The reference's 422 cases (asu-api.md §1.2), exactly. */
static void
t_reference_422(void)
{
	struct t_err	e;

	ok(t_fail("", &e) == 0, "empty body refused");
	is_int(e.status, 422, "empty body: 422");
	is_str(t_top(&e, "status"), "422", "empty body: status 422 in JSON");
	is_str(t_top(&e, "title"), "\"Unprocessable Entity\"",
	    "empty body: title");
	is_str(e.detail, "request body: Field required", "empty body: detail");
	is_str(t_top(&e, "detail"), "\"request body: Field required\"",
	    "empty body: detail is a string in the body");
	is_str(t_get(&e, 0, "type"), "\"missing\"", "empty body: type");
	is_str(t_get(&e, 0, "loc"), "[\"body\"]", "empty body: loc");
	is_str(t_get(&e, 0, "msg"), "\"Field required\"", "empty body: msg");
	is_str(t_get(&e, 0, "input"), "null", "empty body: input null");
	is_str(t_get(&e, 0, "ctx"), "(none)", "empty body: no ctx");
	t_err_free(&e);

	t_one("null", "\"missing\"", "[\"body\"]", "\"Field required\"",
	    "null", "JSON null body");

	t_one("{\"target\":\"testtarget/testsubtarget\",\"profile\":\"p\"}",
	    "\"missing\"", "[\"body\",\"version\"]", "\"Field required\"",
	    "{\"target\":\"testtarget/testsubtarget\",\"profile\":\"p\"}",
	    "version missing (input: the body)");
	t_one("{\"version\":\"1.2.3\",\"profile\":\"p\"}", "\"missing\"",
	    "[\"body\",\"target\"]", "\"Field required\"", NULL,
	    "target missing");
	t_one("{\"version\":\"1.2.3\",\"target\":\"a/b\"}", "\"missing\"",
	    "[\"body\",\"profile\"]", "\"Field required\"", NULL,
	    "profile missing");

	ok(t_fail("{}", &e) == 0, "{} refused");
	is_int(t_count(&e), 3, "{}: three errors");
	is_str(t_get(&e, 0, "loc"), "[\"body\",\"version\"]", "{}: version");
	is_str(t_get(&e, 1, "loc"), "[\"body\",\"target\"]", "{}: target");
	is_str(t_get(&e, 2, "loc"), "[\"body\",\"profile\"]", "{}: profile");
	is_str(t_get(&e, 2, "input"), "{}", "{}: input is the body");
	is_str(e.detail, "version: Field required; target: Field required; "
	    "profile: Field required", "{}: detail joins with ;");
	t_err_free(&e);

	t_one("{" BASE ",\"packages\":\"testpackage\"}", "\"list_type\"",
	    "[\"body\",\"packages\"]", "\"Input should be a valid list\"",
	    "\"testpackage\"", "string packages");

	t_one("{" BASE ",\"rootfs_size_mb\":0}", "\"greater_than_equal\"",
	    "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be greater than or equal to 1\"", "0",
	    "rootfs_size_mb 0");
	ok(t_fail("{" BASE ",\"rootfs_size_mb\":0}", &e) == 0, "rootfs 0");
	is_str(t_get(&e, 0, "ctx"), "{\"ge\":1}", "rootfs 0: ctx ge");
	t_err_free(&e);

	t_one("{" BASE ",\"rootfs_size_mb\":1025}", "\"less_than_equal\"",
	    "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be less than or equal to 1024\"", "1025",
	    "rootfs_size_mb 1025");
	ok(t_fail("{" BASE ",\"rootfs_size_mb\":1025}", &e) == 0,
	    "rootfs 1025");
	is_str(t_get(&e, 0, "ctx"), "{\"le\":1024}", "rootfs 1025: ctx le");
	is_str(e.detail, "rootfs_size_mb: Input should be less than or equal "
	    "to 1024", "rootfs 1025: detail");
	t_err_free(&e);

	t_one("{" BASE ",\"packages\":[\"+a\"]}", "\"string_pattern_mismatch\"",
	    "[\"body\",\"packages\",0]",
	    "\"String should match pattern '^[\\\\w.,-]*$'\"", "\"+a\"",
	    "leading + refused");
	ok(t_fail("{" BASE ",\"packages\":[\"ok\",\"a b\"]}", &e) == 0,
	    "package with a space");
	is_str(t_get(&e, 0, "loc"), "[\"body\",\"packages\",1]",
	    "package pattern: loc has the index");
	is_str(t_get(&e, 0, "ctx"), "{\"pattern\":\"^[\\\\w.,-]*$\"}",
	    "package pattern: ctx pattern");
	is_str(e.detail, "packages[1]: String should match pattern "
	    "'^[\\w.,-]*$'", "package pattern: detail");
	t_err_free(&e);

	t_one("{" BASE ",\"repositories\":{\"a b\":\"https://x\"}}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"repositories\",\"a b\",\"[key]\"]",
	    "\"String should match pattern '^[\\\\w.-]+$'\"", "\"a b\"",
	    "bad repository name");
	ok(t_fail("{" BASE ",\"repositories\":{\"a b\":\"https://x\"}}",
	    &e) == 0, "bad repository name");
	is_str(e.detail, "repositories[a b][key]: String should match "
	    "pattern '^[\\w.-]+$'", "bad repository name: detail");
	t_err_free(&e);
	t_one("{" BASE ",\"repositories\":{\"\":\"https://x\"}}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"repositories\",\"\",\"[key]\"]", NULL, "\"\"",
	    "empty repository name");
	t_one("{" BASE ",\"repositories\":{\"a\":\"ftp://x\"}}",
	    "\"string_pattern_mismatch\"", "[\"body\",\"repositories\",\"a\"]",
	    "\"String should match pattern '^https?://\\\\S+$'\"",
	    "\"ftp://x\"", "ftp repository URL");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"example.org/x\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL without a scheme");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"https://\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL without a host");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"HTTPS://x\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL scheme is case-sensitive");

	t_one("{" BASE ",\"filesystem\":\"btrfs\"}", "\"literal_error\"",
	    "[\"body\",\"filesystem\"]", "\"Input should be 'squashfs', "
	    "'ext4', 'ubifs', 'erofs', 'jffs2', 'jffs2-nand', 'targz' or "
	    "'cpiogz'\"", "\"btrfs\"", "bogus filesystem");
	ok(t_fail("{" BASE ",\"filesystem\":\"btrfs\"}", &e) == 0,
	    "bogus filesystem");
	is_str(t_get(&e, 0, "ctx"), "{\"expected\":\"'squashfs', 'ext4', "
	    "'ubifs', 'erofs', 'jffs2', 'jffs2-nand', 'targz' or 'cpiogz'\"}",
	    "bogus filesystem: ctx expected");
	t_err_free(&e);
	t_one("{" BASE ",\"repositories_mode\":\"merge\"}", "\"literal_error\"",
	    "[\"body\",\"repositories_mode\"]",
	    "\"Input should be 'append' or 'replace'\"", "\"merge\"",
	    "bogus repositories_mode");
	t_one("{" BASE ",\"repositories_mode\":null}", "\"literal_error\"",
	    "[\"body\",\"repositories_mode\"]", NULL, "null",
	    "null repositories_mode");
}

/* defaults: length in characters, against the configured maximum. */
static void
t_defaults_length(void)
{
	static const struct request_limits	one = { 1, 1024 };
	struct request				r;
	struct t_err				e;
	struct strv				sv = STRV_INITIALIZER;
	char					*json, *s;
	size_t					i;

	for (i = 0; i < 20481; i++)
		strv_add(&sv, "a");
	s = strv_join(&sv, "");
	xasprintf(&json, "{" BASE ",\"defaults\":\"%s\"}", s);
	ok(t_fail(json, &e) == 0, "defaults of 20481 characters refused");
	is_str(t_get(&e, 0, "type"), "\"string_too_long\"",
	    "defaults too long: type");
	is_str(t_get(&e, 0, "loc"), "[\"body\",\"defaults\"]",
	    "defaults too long: loc");
	is_str(t_get(&e, 0, "msg"),
	    "\"String should have at most 20480 characters\"",
	    "defaults too long: msg");
	is_str(t_get(&e, 0, "ctx"), "{\"max_length\":20480}",
	    "defaults too long: ctx");
	t_err_free(&e);
	free(json);
	s[20480] = '\0';
	xasprintf(&json, "{" BASE ",\"defaults\":\"%s\"}", s);
	if (t_ok(json, &r, "defaults of 20480 characters accepted") == 0) {
		is_int(strlen(r.defaults), 20480, "defaults kept whole");
		request_free(&r);
	}
	free(json);
	free(s);
	strv_clear(&sv);

	/* 20480 two-byte characters: 40960 bytes, still 20480 characters. */
	for (i = 0; i < 20480; i++)
		strv_add(&sv, "\xc3\xa4");
	s = strv_join(&sv, "");
	xasprintf(&json, "{" BASE ",\"defaults\":\"%s\"}", s);
	if (t_ok(json, &r, "defaults counted in characters, not bytes") == 0)
		request_free(&r);
	free(json);
	free(s);
	strv_clear(&sv);

	json = xstrdup("{" BASE ",\"defaults\":\"ab\"}");
	ok(t_fail_len(json, strlen(json), &one, &e) == 0,
	    "max_defaults_length 1: two characters refused");
	is_str(t_get(&e, 0, "msg"),
	    "\"String should have at most 1 character\"",
	    "max_length 1 is singular");
	t_err_free(&e);
	free(json);
}

/* Wrong JSON types get Pydantic's type errors. */
static void
t_types(void)
{
	struct t_err	 e;
	char		*digits, *json;

	t_one("{\"version\":5,\"target\":\"a/b\",\"profile\":\"p\"}",
	    "\"string_type\"", "[\"body\",\"version\"]",
	    "\"Input should be a valid string\"", "5", "number version");
	t_one("{\"version\":\"1\",\"target\":true,\"profile\":\"p\"}",
	    "\"string_type\"", "[\"body\",\"target\"]", NULL, "true",
	    "bool target");
	t_one("{\"version\":\"1\",\"target\":\"a/b\",\"profile\":null}",
	    "\"string_type\"", "[\"body\",\"profile\"]", NULL, "null",
	    "null profile");
	t_one("{" BASE ",\"distro\":null}", "\"string_type\"",
	    "[\"body\",\"distro\"]", NULL, "null", "null distro");
	t_one("{" BASE ",\"version_code\":[]}", "\"string_type\"",
	    "[\"body\",\"version_code\"]", NULL, "[]", "list version_code");
	t_one("{" BASE ",\"packages\":null}", "\"list_type\"",
	    "[\"body\",\"packages\"]", NULL, "null", "null packages");
	t_one("{" BASE ",\"packages\":{\"a\":1}}", "\"list_type\"",
	    "[\"body\",\"packages\"]", NULL, "{\"a\":1}", "object packages");
	t_one("{" BASE ",\"packages\":[\"a\",7]}", "\"string_type\"",
	    "[\"body\",\"packages\",1]", NULL, "7", "number in packages");
	t_one("{" BASE ",\"packages_versions\":[]}", "\"dict_type\"",
	    "[\"body\",\"packages_versions\"]",
	    "\"Input should be a valid dictionary\"", "[]",
	    "list packages_versions");
	t_one("{" BASE ",\"packages_versions\":{\"a\":1.5}}", "\"string_type\"",
	    "[\"body\",\"packages_versions\",\"a\"]", NULL, "1.5",
	    "number version in packages_versions");
	t_one("{" BASE ",\"packages_versions\":{\"a\":\"1 2\"}}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"packages_versions\",\"a\"]",
	    "\"String should match pattern '^[\\\\w+.,~-]*$'\"", "\"1 2\"",
	    "bad version in packages_versions");
	t_one("{" BASE ",\"packages_versions\":{\"a;b\":\"1\"}}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"packages_versions\",\"a;b\",\"[key]\"]",
	    "\"String should match pattern '^[\\\\w.,-]*$'\"", "\"a;b\"",
	    "bad name in packages_versions");
	t_one("{" BASE ",\"repositories\":\"x\"}", "\"dict_type\"",
	    "[\"body\",\"repositories\"]", NULL, "\"x\"",
	    "string repositories");
	t_one("{" BASE ",\"repositories\":{\"a\":null}}", "\"string_type\"",
	    "[\"body\",\"repositories\",\"a\"]", NULL, "null",
	    "null repository URL");
	t_one("{" BASE ",\"repository_keys\":\"k\"}", "\"list_type\"",
	    "[\"body\",\"repository_keys\"]", NULL, "\"k\"",
	    "string repository_keys");
	t_one("{" BASE ",\"repository_keys\":[false]}", "\"string_type\"",
	    "[\"body\",\"repository_keys\",0]", NULL, "false",
	    "bool in repository_keys");
	t_one("{" BASE ",\"client\":1}", "\"string_type\"",
	    "[\"body\",\"client\"]", NULL, "1", "number client");
	t_one("{" BASE ",\"defaults\":{}}", "\"string_type\"",
	    "[\"body\",\"defaults\"]", NULL, "{}", "object defaults");
	t_one("{" BASE ",\"filesystem\":1}", "\"literal_error\"",
	    "[\"body\",\"filesystem\"]", NULL, "1", "number filesystem");

	t_one("{" BASE ",\"diff_packages\":null}", "\"bool_type\"",
	    "[\"body\",\"diff_packages\"]",
	    "\"Input should be a valid boolean\"", "null",
	    "null diff_packages");
	t_one("{" BASE ",\"diff_packages\":[]}", "\"bool_type\"",
	    "[\"body\",\"diff_packages\"]", NULL, "[]", "list diff_packages");
	t_one("{" BASE ",\"diff_packages\":1.5}", "\"bool_type\"",
	    "[\"body\",\"diff_packages\"]", NULL, "1.5",
	    "fractional diff_packages");
	t_one("{" BASE ",\"diff_packages\":\"maybe\"}", "\"bool_parsing\"",
	    "[\"body\",\"diff_packages\"]",
	    "\"Input should be a valid boolean, unable to interpret input\"",
	    "\"maybe\"", "diff_packages maybe");
	t_one("{" BASE ",\"diff_packages\":2}", "\"bool_parsing\"",
	    "[\"body\",\"diff_packages\"]", NULL, "2", "diff_packages 2");
	t_one("{" BASE ",\"diff_packages\":\" yes\"}", "\"bool_parsing\"",
	    "[\"body\",\"diff_packages\"]", NULL, "\" yes\"",
	    "diff_packages with a space");

	t_one("{" BASE ",\"rootfs_size_mb\":[]}", "\"int_type\"",
	    "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be a valid integer\"", "[]", "list rootfs_size_mb");
	t_one("{" BASE ",\"rootfs_size_mb\":\"abc\"}", "\"int_parsing\"",
	    "[\"body\",\"rootfs_size_mb\"]", "\"Input should be a valid "
	    "integer, unable to parse string as an integer\"", "\"abc\"",
	    "rootfs_size_mb abc");
	t_one("{" BASE ",\"rootfs_size_mb\":\"1e3\"}", "\"int_parsing\"",
	    "[\"body\",\"rootfs_size_mb\"]", NULL, "\"1e3\"",
	    "rootfs_size_mb string 1e3");
	t_one("{" BASE ",\"rootfs_size_mb\":\"12.5\"}", "\"int_parsing\"",
	    "[\"body\",\"rootfs_size_mb\"]", NULL, "\"12.5\"",
	    "rootfs_size_mb string 12.5");
	t_one("{" BASE ",\"rootfs_size_mb\":12.5}", "\"int_from_float\"",
	    "[\"body\",\"rootfs_size_mb\"]", "\"Input should be a valid "
	    "integer, got a number with a fractional part\"", "12.5",
	    "rootfs_size_mb 12.5");
	t_one("{" BASE ",\"rootfs_size_mb\":1e400}", "\"finite_number\"",
	    "[\"body\",\"rootfs_size_mb\"]", "\"Input should be a finite "
	    "number\"", NULL, "rootfs_size_mb 1e400");
	t_one("{" BASE ",\"rootfs_size_mb\":-5}", "\"greater_than_equal\"",
	    "[\"body\",\"rootfs_size_mb\"]", NULL, "-5",
	    "negative rootfs_size_mb");
	t_one("{" BASE ",\"rootfs_size_mb\":false}", "\"greater_than_equal\"",
	    "[\"body\",\"rootfs_size_mb\"]", NULL, "false",
	    "false rootfs_size_mb is 0");
	t_one("{" BASE ",\"rootfs_size_mb\":99999999999999999999999}",
	    "\"less_than_equal\"", "[\"body\",\"rootfs_size_mb\"]", NULL,
	    "99999999999999999999999", "huge rootfs_size_mb");
	t_one("{" BASE ",\"rootfs_size_mb\":1e30}", "\"int_parsing_size\"",
	    "[\"body\",\"rootfs_size_mb\"]", "\"Unable to parse input string "
	    "as an integer, exceeded maximum size\"", "1e30",
	    "rootfs_size_mb 1e30");
	t_one("{" BASE ",\"rootfs_size_mb\":\"-99999999999999999999999\"}",
	    "\"greater_than_equal\"", "[\"body\",\"rootfs_size_mb\"]", NULL,
	    NULL, "hugely negative rootfs_size_mb string");

	digits = xmalloc(5001);
	memset(digits, '1', 5000);
	digits[5000] = '\0';
	xasprintf(&json, "{" BASE ",\"rootfs_size_mb\":\"%s\"}", digits);
	t_one(json, "\"int_parsing_size\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL, NULL, "rootfs_size_mb string of 5000 digits");
	free(json);
	free(digits);

	/* Several errors, in model order, whatever the order in the body. */
	ok(t_fail("{\"client\":5,\"packages\":\"x\",\"version\":\"1\","
	    "\"target\":\"a/b\",\"profile\":\"p\",\"distro\":\"a b\"}",
	    &e) == 0, "three bad fields");
	is_int(t_count(&e), 3, "three errors");
	is_str(t_get(&e, 0, "loc"), "[\"body\",\"distro\"]", "first: distro");
	is_str(t_get(&e, 1, "loc"), "[\"body\",\"packages\"]",
	    "second: packages");
	is_str(t_get(&e, 2, "loc"), "[\"body\",\"client\"]", "third: client");
	is_str(e.detail, "distro: String should match pattern '^[\\w.,-]*$'; "
	    "packages: Input should be a valid list; client: Input should be "
	    "a valid string", "detail joins all three");
	t_err_free(&e);
}

/* Lax typing as real clients send it, and null where allowed. */
static void
t_lax(void)
{
	static const char *const	rootfs[] = { "256", "\"256\"",
	    "\" 256 \"", "256.0", "\"256.00\"", "\"+256\"", "2.56e2",
	    "\"256.\"" };
	static const char *const	yes[] = { "true", "1", "1.0", "\"yes\"",
	    "\"Y\"", "\"on\"", "\"TRUE\"", "\"t\"", "\"1\"" };
	static const char *const	no[] = { "false", "0", "\"no\"",
	    "\"OFF\"", "\"f\"", "\"False\"", "\"n\"", "\"0\"", "0.0" };
	struct request			r;
	char				*json, name[128];
	size_t				i;

	for (i = 0; i < nitems(rootfs); i++) {
		xasprintf(&json, "{" BASE ",\"rootfs_size_mb\":%s}", rootfs[i]);
		snprintf(name, sizeof name, "rootfs_size_mb %s", rootfs[i]);
		if (t_ok(json, &r, name) == 0) {
			is_int(r.rootfs_size_mb, 256, "... is 256");
			request_free(&r);
		}
		free(json);
	}
	if (t_ok("{" BASE ",\"rootfs_size_mb\":true}", &r, "rootfs true") == 0)
		is_int(r.rootfs_size_mb, 1, "true is 1");
	request_free(&r);
	for (i = 0; i < nitems(yes); i++) {
		xasprintf(&json, "{" BASE ",\"diff_packages\":%s}", yes[i]);
		snprintf(name, sizeof name, "diff_packages %s", yes[i]);
		if (t_ok(json, &r, name) == 0)
			is_int(r.diff_packages, 1, "... is true");
		request_free(&r);
		free(json);
	}
	for (i = 0; i < nitems(no); i++) {
		xasprintf(&json, "{" BASE ",\"diff_packages\":%s}", no[i]);
		snprintf(name, sizeof name, "diff_packages %s", no[i]);
		if (t_ok(json, &r, name) == 0)
			is_int(r.diff_packages, 0, "... is false");
		request_free(&r);
		free(json);
	}
	if (t_ok("{" BASE ",\"defaults\":null,\"rootfs_size_mb\":null,"
	    "\"filesystem\":null,\"client\":null}", &r,
	    "nulls accepted") == 0) {
		ok(r.defaults == NULL, "null defaults is NULL");
		is_int(r.rootfs_size_mb, 0, "null rootfs_size_mb is 0");
		ok(r.filesystem == NULL, "null filesystem is NULL");
		ok(r.client == NULL, "null client is NULL");
	}
	request_free(&r);
	if (t_ok("{" BASE ",\"defaults\":\"\",\"filesystem\":\"jffs2-nand\","
	    "\"repositories_mode\":\"append\",\"client\":\"owut/1.0\"}", &r,
	    "set optional fields") == 0) {
		is_str(r.defaults, "", "\"\" defaults kept as \"\"");
		is_str(r.filesystem, "jffs2-nand", "filesystem kept");
		is_str(r.repositories_mode, "append", "mode append");
		is_str(r.client, "owut/1.0", "client kept");
	}
	request_free(&r);
}

/* Every default, the comma profile, and what the struct keeps. */
static void
t_defaults_and_shape(void)
{
	struct request	r;
	struct request	zero;

	if (t_ok("{" BASE "}", &r, "minimal request") == 0) {
		is_str(r.distro, "openwrt", "distro defaults to openwrt");
		is_str(r.version, "1.2.3", "version kept");
		is_str(r.version_code, "", "version_code defaults to \"\"");
		is_str(r.target, "testtarget/testsubtarget", "target kept");
		is_str(r.profile, "testprofile", "profile kept");
		is_int(r.packages.n, 0, "packages default empty");
		is_int(r.pv_names.n, 0, "packages_versions default empty");
		is_int(r.diff_packages, 0, "diff_packages defaults to false");
		ok(r.defaults == NULL, "defaults defaults to null");
		is_int(r.rootfs_size_mb, 0, "rootfs_size_mb defaults to null");
		ok(r.filesystem == NULL, "filesystem defaults to null");
		is_int(r.repo_names.n, 0, "repositories default empty");
		is_str(r.repositories_mode, "replace",
		    "mode defaults to replace");
		is_int(r.repository_keys.n, 0, "repository_keys default empty");
		ok(r.client == NULL, "client defaults to null");
		ok(request_package_names(&r) == &r.packages,
		    "package names are packages without packages_versions");
	}
	request_free(&r);
	memset(&zero, 0, sizeof zero);
	ok(memcmp(&r, &zero, sizeof r) == 0, "request_free leaves it empty");
	request_free(&r);

	if (t_ok("{\"version\":\"SNAPSHOT\",\"target\":\"ath79/generic\","
	    "\"profile\":\"8dev,carambola2\"}", &r, "comma profile") == 0)
		is_str(r.profile, "8dev_carambola2", ", becomes _");
	request_free(&r);

	if (t_ok("{" BASE ",\"packages\":[\"b\",\"-a\",\"b\",\"\",\"luci\"]}",
	    &r, "packages as sent") == 0) {
		is_int(r.packages.n, 5, "duplicates kept");
		is_str(r.packages.v[1], "-a", "-pkg kept");
		is_str(r.packages.v[3], "", "empty name passes the pattern");
		is_str(r.packages.v[4], "luci", "order kept");
	}
	request_free(&r);

	if (t_ok("{" BASE ",\"packages\":[\"x\"],\"packages_versions\":"
	    "{\"b\":\"1.0-r1\",\"a\":\"1.2~rc1+x\"}}", &r,
	    "packages_versions") == 0) {
		is_int(r.pv_names.n, 2, "two versions");
		is_str(r.pv_names.v[0], "b", "order sent kept");
		is_str(r.pv_versions.v[1], "1.2~rc1+x", "value kept");
		ok(request_package_names(&r) == &r.pv_names,
		    "package names come from packages_versions");
	}
	request_free(&r);
}

/* Duplicate keys: last wins; a dictionary keeps the first position. */
static void
t_duplicates(void)
{
	struct request	r;

	if (t_ok("{\"version\":\"1\",\"target\":\"a/b\",\"profile\":\"p\","
	    "\"version\":\"2\",\"packages\":5,\"packages\":[\"x\"]}", &r,
	    "duplicate top-level keys") == 0) {
		is_str(r.version, "2", "the last version wins");
		is_int(r.packages.n, 1, "a bad first value is overridden");
	}
	request_free(&r);
	if (t_ok("{" BASE ",\"repositories\":{\"a\":\"http://1\","
	    "\"b\":\"http://2\",\"a\":\"http://3\"}}", &r,
	    "duplicate repository") == 0) {
		is_int(r.repo_names.n, 2, "one entry per name");
		is_str(r.repo_names.v[0], "a", "first position kept");
		is_str(r.repo_urls.v[0], "http://3", "last value wins");
		is_str(r.repo_names.v[1], "b", "then b");
	}
	request_free(&r);
}

/* Shell and make syntax never gets through a pattern. */
static void
t_injection(void)
{
	static const char *const	bad[] = {
		"a;b", "$(x)", "PROFILE=x", "a\\nb", "a b", "`id`", "a|b",
		"a&b", "a>b", "a'b", "a\\\"b", "a/b", "a\\tb", "a\\u0000b",
		"a\\u00a0b", "a\\u200bb", "a\\u2028b", "x#", "*", "a\\\\b",
		"a:b", "\\u00bd"
	};
	struct request			r;
	struct request_error		err;
	char				*json, name[160];
	size_t				i;

	for (i = 0; i < nitems(bad); i++) {
		xasprintf(&json, "{" BASE ",\"packages\":[\"%s\"]}", bad[i]);
		snprintf(name, sizeof name, "package %s refused", bad[i]);
		ok(request_parse(json, strlen(json), &t_limits, &r,
		    &err) == -1 && err.status == 422, name);
		request_free(&r);
		request_error_free(&err);
		free(json);
	}
	t_pattern("{\"version\":\"1.0;rm\",\"target\":\"a/b\",\"profile\":"
	    "\"p\"}", "[\"body\",\"version\"]", "^[\\w.,-]*$", "version ;");
	t_pattern("{\"version\":\"1\",\"target\":\"a/b/c\",\"profile\":\"p\"}",
	    "[\"body\",\"target\"]", "^[\\w]*/[\\w]*$", "target a/b/c");
	t_pattern("{\"version\":\"1\",\"target\":\"a-b/c\",\"profile\":\"p\"}",
	    "[\"body\",\"target\"]", "^[\\w]*/[\\w]*$", "target with -");
	t_pattern("{\"version\":\"1\",\"target\":\"ab\",\"profile\":\"p\"}",
	    "[\"body\",\"target\"]", "^[\\w]*/[\\w]*$", "target without /");
	t_pattern("{\"version\":\"1\",\"target\":\"a/b\",\"profile\":"
	    "\"x PROFILE=y\"}", "[\"body\",\"profile\"]", "^[\\w.,-]*$",
	    "profile with make syntax");
	t_pattern("{" BASE ",\"version_code\":\"r1\\n\"}",
	    "[\"body\",\"version_code\"]", "^[\\w.,-]*$",
	    "version_code with a trailing newline");
	t_pattern("{" BASE ",\"distro\":\"$(id)\"}", "[\"body\",\"distro\"]",
	    "^[\\w.,-]*$", "distro $(id)");
	t_pattern("{" BASE ",\"repositories\":{\"a\\nb\":\"https://x\"}}",
	    "[\"body\",\"repositories\",\"a\\nb\",\"[key]\"]", "^[\\w.-]+$",
	    "repository name with a newline");
	t_pattern("{" BASE ",\"repositories\":{\"a/b\":\"https://x\"}}",
	    "[\"body\",\"repositories\",\"a/b\",\"[key]\"]", "^[\\w.-]+$",
	    "repository name with a slash");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"https://x y\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with a space");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"https://x\\n\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with a newline");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"https://x\\u0001\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with a control character");
	t_pattern("{" BASE ",\"repositories\":{\"a\":\"https://x\\u3000\"}}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with an ideographic space");
}

/* Unicode \w: letters pass, as in the reference. */
static void
t_unicode(void)
{
	struct request	r;

	if (t_ok("{\"version\":\"1\",\"target\":\"\xc3\xa4/b\",\"profile\":"
	    "\"\xe6\x97\xa5\xe6\x9c\xac\",\"packages\":[\"k\\u00e4se-1\","
	    "\"\xd0\xb4\xd0\xb0\"],\"repositories\":{\"\xc3\xb6\":"
	    "\"https://\xc3\xa9.example/\"}}", &r,
	    "letters beyond ASCII match \\w") == 0) {
		is_str(r.packages.v[0], "k\xc3\xa4se-1", "\\u00e4 decoded");
		is_str(r.target, "\xc3\xa4/b", "target with a letter");
	}
	request_free(&r);
}

/* Checks one body is a JSON error, reporting the byte offset. */
static void
t_json_invalid(const char *json, size_t len, const char *name)
{
	struct t_err	e;
	char		label[200];
	const char	*loc;

	if (t_fail_len(json, len, &t_limits, &e) == -1) {
		ok(0, name);
		return;
	}
	snprintf(label, sizeof label, "%s: json_invalid", name);
	is_str(t_get(&e, 0, "type"), "\"json_invalid\"", label);
	loc = t_get(&e, 0, "loc");
	snprintf(label, sizeof label, "%s: loc is body and an offset (%s)",
	    name, loc);
	ok(strncmp(loc, "[\"body\",", 8) == 0 && loc[8] >= '0' &&
	    loc[8] <= '9', label);
	snprintf(label, sizeof label, "%s: msg", name);
	is_str(t_get(&e, 0, "msg"), "\"JSON decode error\"", label);
	snprintf(label, sizeof label, "%s: input {}", name);
	is_str(t_get(&e, 0, "input"), "{}", label);
	snprintf(label, sizeof label, "%s: ctx error", name);
	ok(strncmp(t_get(&e, 0, "ctx"), "{\"error\":\"", 10) == 0, label);
	t_err_free(&e);
}

/* Broken JSON and broken text. */
static void
t_bad_json(void)
{
	static const char *const	bad[] = {
		"{\"version\":", "{\"a\" 1}", "{'a':1}", "{\"a\":tru}", " ",
		"{\"a\":1}x", "{\"a\":1,}", "// c\n{}", "{\"a\":NaN}",
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800x\"}",
		"{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"x\\u0000\"}", "{\"a\\u0000\":1}", "{\"a\":\"\t\"}",
		"{\"\xe4\":1}", "\xef\xbb\xbf"
	};
	struct request			r;
	struct t_err			e;
	char				*deep, name[64];
	size_t				i;

	for (i = 0; i < nitems(bad); i++) {
		snprintf(name, sizeof name, "bad JSON %zu", i);
		t_json_invalid(bad[i], strlen(bad[i]), name);
	}
	t_json_invalid("{\"a\":\"x\0y\"}", 11, "raw NUL byte");

	ok(t_fail("{\"version\":", &e) == 0, "truncated body");
	is_str(t_get(&e, 0, "loc"), "[\"body\",11]",
	    "truncated body: offset is the length");
	ok(strncmp(e.detail, "request body at byte 11: JSON decode error (",
	    44) == 0, "truncated body: detail names the offset");
	t_err_free(&e);

	ok(t_fail("{\"a\":\"\\ud800\"," BASE "}", &e) == 0, "lone surrogate");
	is_str(t_get(&e, 0, "loc"), "[\"body\",6]",
	    "lone surrogate: offset of the escape");
	t_err_free(&e);

	if (t_ok("\xef\xbb\xbf{" BASE "}", &r, "a UTF-8 BOM is skipped") == 0)
		is_str(r.version, "1.2.3", "and the body read");
	request_free(&r);

	/* A surrogate pair is fine, and decodes to one code point. */
	if (t_ok("{" BASE ",\"client\":\"x\\ud83d\\ude00\"}", &r,
	    "surrogate pair accepted") == 0)
		is_str(r.client, "x\xf0\x9f\x98\x80", "pair decoded");
	request_free(&r);

	t_one("[]", "\"model_attributes_type\"", "[\"body\"]",
	    "\"Input should be a valid dictionary or object to extract "
	    "fields from\"", "[]", "array body");
	t_one("\"x\"", "\"model_attributes_type\"", "[\"body\"]", NULL,
	    "\"x\"", "string body");
	t_one("5", "\"model_attributes_type\"", "[\"body\"]", NULL, "5",
	    "number body");

	/* Deep nesting is refused before it can hurt. */
	deep = xmalloc(20000);
	strcpy(deep, "{\"x\":");
	memset(deep + 5, '[', 5000);
	memset(deep + 5005, ']', 5000);
	strcpy(deep + 10005, "}");
	ok(t_fail(deep, &e) == 0, "5000 nested arrays refused");
	is_str(t_get(&e, 0, "type"), "\"json_invalid\"", "deep: json_invalid");
	is_str(t_get(&e, 0, "ctx"), "{\"error\":\"nesting too deep\"}",
	    "deep: says why");
	t_err_free(&e);
	free(deep);
	if (t_ok("{" BASE ",\"x\":[[[[[[[[{\"y\":[1]}]]]]]]]]}", &r,
	    "moderate nesting in unknown keys is fine") == 0)
		request_free(&r);
}

/* Unknown keys are ignored, as clients send extras. */
static void
t_unknown_keys(void)
{
	struct request	r;

	if (t_ok("{" BASE ",\"url\":\"https://sysupgrade.openwrt.org\","
	    "\"branch\":\"23.05\",\"efi\":null,\"advanced_mode\":\"1\","
	    "\"nested\":{\"a\":[1,2,{\"b\":null}]},\"Version\":5}", &r,
	    "unknown keys ignored") == 0)
		is_str(r.version, "1.2.3", "keys are case-sensitive");
	request_free(&r);
}

/* Seconds since an arbitrary start. */
static double
t_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* 100 000 packages and 100 000 versions parse (the times are printed). */
static void
t_big(void)
{
	struct strv	 sv = STRV_INITIALIZER;
	struct request	 r;
	char		*list, *json;
	double		 t0, t1;
	size_t		 i;

	for (i = 0; i < 100000; i++)
		strv_addf(&sv, "\"pkg-%06zu\"", 99999 - i);
	list = strv_join(&sv, ",");
	strv_clear(&sv);
	xasprintf(&json, "{" BASE ",\"packages\":[%s]}", list);
	free(list);
	t0 = t_now();
	if (t_ok(json, &r, "100 000 packages accepted") == 0) {
		t1 = t_now();
		is_int(r.packages.n, 100000, "all kept");
		is_str(r.packages.v[0], "pkg-099999", "in order");
		printf("# 100 000 packages: %.3f s\n", t1 - t0);
	}
	request_free(&r);
	free(json);

	/* Half of the names twice: de-duplication must not be quadratic. */
	for (i = 0; i < 100000; i++)
		strv_addf(&sv, "\"p%zu\":\"%zu\"", i % 50000, i);
	list = strv_join(&sv, ",");
	strv_clear(&sv);
	xasprintf(&json, "{" BASE ",\"packages_versions\":{%s}}", list);
	free(list);
	t0 = t_now();
	if (t_ok(json, &r, "100 000 versions accepted") == 0) {
		t1 = t_now();
		is_int(r.pv_names.n, 50000, "de-duplicated to 50 000");
		is_str(r.pv_names.v[1], "p1", "first positions kept");
		is_str(r.pv_versions.v[1], "50001", "last values kept");
		printf("# 100 000 versions: %.3f s\n", t1 - t0);
	}
	request_free(&r);
	free(json);
}

/* Many errors: all counted, the list and the detail are capped. */
static void
t_many_errors(void)
{
	struct strv	 sv = STRV_INITIALIZER;
	struct t_err	 e;
	char		*list, *json;
	size_t		 i;

	for (i = 0; i < 150; i++)
		strv_add(&sv, "\"a b\"");
	list = strv_join(&sv, ",");
	strv_clear(&sv);
	xasprintf(&json, "{" BASE ",\"packages\":[%s]}", list);
	free(list);
	ok(t_fail(json, &e) == 0, "150 bad packages refused");
	is_int(t_count(&e), REQUEST_MAX_ERRORS, "errors list is capped");
	is_str(t_get(&e, 99, "loc"), "[\"body\",\"packages\",99]",
	    "the first ones are listed");
	ok(strstr(e.detail, "packages[9]: ") != NULL &&
	    strstr(e.detail, "packages[10]") == NULL, "detail shows ten");
	ok(strlen(e.detail) > 14 && strcmp(e.detail + strlen(e.detail) - 14,
	    "; and 140 more") == 0, "detail counts the rest");
	t_err_free(&e);
	free(json);
}

/* Oversized bodies get 413, not a parse. */
static void
t_too_big(void)
{
	struct t_err	 e;
	char		*buf;
	size_t		 i, n;

	n = (size_t)REQUEST_MAX_BODY + 1;
	buf = xmalloc(n);
	memset(buf, ' ', n);
	ok(t_fail_len(buf, n, &t_limits, &e) == 0, "huge body refused");
	is_int(e.status, 413, "huge body: 413");
	is_str(t_top(&e, "status"), "413", "huge body: JSON status 413");
	t_err_free(&e);
	free(buf);

	n = 2 * (size_t)REQUEST_MAX_VALUES + 2;
	buf = xmalloc(n + 1);
	buf[0] = '[';
	for (i = 1; i < n - 1; i += 2) {
		buf[i] = '0';
		buf[i + 1] = ',';
	}
	buf[n - 2] = '0';
	buf[n - 1] = ']';
	buf[n] = '\0';
	ok(t_fail_len(buf, n, &t_limits, &e) == 0, "too many values refused");
	is_int(e.status, 413, "too many values: 413");
	t_err_free(&e);
	free(buf);
}

/* A custom limit from the configuration. */
static void
t_limits_custom(void)
{
	static const struct request_limits	big = { 10, 2048 };
	struct request				r;
	struct request_error			err;
	const char				*json;

	json = "{" BASE ",\"rootfs_size_mb\":2000}";
	ok(request_parse(json, strlen(json), &big, &r, &err) == 0,
	    "rootfs_size_mb 2000 under a 2048 limit");
	is_int(r.rootfs_size_mb, 2000, "... is 2000");
	request_free(&r);
	ok(request_parse(json, strlen(json), NULL, &r, &err) == -1,
	    "... refused with the default limits");
	is_str(err.detail, "rootfs_size_mb: Input should be less than or "
	    "equal to 1024", "default limit is 1024");
	request_error_free(&err);
	ok(err.body == NULL && err.detail == NULL,
	    "request_error_free leaves it empty");
}

/* Random damage to a valid body never crashes and always answers. */
static void
t_fuzz(void)
{
	static const char	base[] = "{\"version\":\"23.05.4\",\"target\":"
	    "\"ath79/generic\",\"profile\":\"a,b\",\"packages\":[\"a\","
	    "\"-b\"],\"packages_versions\":{\"a\":\"1.0\"},\"diff_packages\":"
	    "\"yes\",\"defaults\":\"echo \\u00e4\",\"rootfs_size_mb\":\"64\","
	    "\"repositories\":{\"x\":\"https://x/y\"},\"repository_keys\":"
	    "[\"k\"],\"client\":\"c\"}";
	struct request		r;
	struct request_error	err;
	char			buf[sizeof base];
	uint32_t		seed = 12345;
	size_t			i, k, len;
	int			bad = 0, accepted = 0;

	for (i = 0; i < 20000; i++) {
		memcpy(buf, base, sizeof base);
		len = sizeof base - 1;
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		seed = seed * 1103515245 + 12345;
		if (i % 3 == 0)
			len = (seed >> 8) % len;
		if (request_parse(buf, len, &t_limits, &r, &err) == 0) {
			accepted++;
			request_free(&r);
		} else {
			if (err.body == NULL || err.detail == NULL ||
			    (err.status != 422 && err.status != 413))
				bad++;
			request_error_free(&err);
		}
	}
	is_int(bad, 0, "20 000 damaged bodies: every refusal has a body");
	ok(accepted > 0, "some damaged bodies are still valid");
}

/* request_to_json and request_from_json agree. */
static void
t_round_trip(void)
{
	const char		*json = "{\"distro\":\"openwrt\","
	    "\"version\":\"24.10.0-rc1\",\"version_code\":\"r1-abc\","
	    "\"target\":\"x86/64\",\"profile\":\"a,b\",\"packages\":[\"b\","
	    "\"-a\",\"b\"],\"packages_versions\":{\"z\":\"1\",\"y\":\"2~3\"},"
	    "\"diff_packages\":\"on\","
	    "\"defaults\":\"echo \\\"hi\\\"\\n\\u00e4\","
	    "\"rootfs_size_mb\":\"300\",\"filesystem\":\"ext4\","
	    "\"repositories\":{\"r2\":\"https://a/b\",\"r1\":\"http://c\"},"
	    "\"repositories_mode\":\"append\",\"repository_keys\":"
	    "[\"-----BEGIN PUBLIC KEY-----\\nAB\\n-----END PUBLIC KEY-----\"],"
	    "\"client\":\"luci/1\"}";
	struct request		 a, b;
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	char			*first, *cause = NULL;

	if (t_ok(json, &a, "full request accepted") != 0)
		return;
	g = yajl_gen_alloc(NULL);
	request_to_json(&a, g);
	yajl_gen_get_buf(g, &buf, &len);
	first = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	is_str(first, "{\"distro\":\"openwrt\",\"version\":\"24.10.0-rc1\","
	    "\"version_code\":\"r1-abc\",\"target\":\"x86/64\",\"profile\":"
	    "\"a_b\",\"packages\":[\"b\",\"-a\",\"b\"],\"packages_versions\":"
	    "{\"z\":\"1\",\"y\":\"2~3\"},\"diff_packages\":true,\"defaults\":"
	    "\"echo \\\"hi\\\"\\n\xc3\xa4\",\"rootfs_size_mb\":300,"
	    "\"filesystem\":\"ext4\",\"repositories\":{\"r2\":\"https://a/b\","
	    "\"r1\":\"http://c\"},\"repositories_mode\":\"append\","
	    "\"repository_keys\":[\"-----BEGIN PUBLIC KEY-----\\nAB\\n-----END "
	    "PUBLIC KEY-----\"],\"client\":\"luci/1\"}",
	    "request_to_json writes every field, normalised");
	ok(request_from_json(first, strlen(first), &b, &cause) == 0,
	    "request_from_json reads it back");
	if (cause != NULL)
		printf("#   %s\n", cause);
	g = yajl_gen_alloc(NULL);
	request_to_json(&b, g);
	yajl_gen_get_buf(g, &buf, &len);
	ok(len == strlen(first) && memcmp(buf, first, len) == 0,
	    "and writes it again identically");
	yajl_gen_free(g);
	is_str(b.defaults, a.defaults, "defaults survive");
	is_int(b.rootfs_size_mb, 300, "rootfs survives");
	is_str(b.repo_names.v[0], "r2", "repository order survives");
	request_free(&a);
	request_free(&b);
	free(first);

	if (t_ok("{" BASE "}", &a, "minimal request") == 0) {
		g = yajl_gen_alloc(NULL);
		request_to_json(&a, g);
		yajl_gen_get_buf(g, &buf, &len);
		is_str((first = xstrndup((const char *)buf, len)),
		    "{\"distro\":\"openwrt\",\"version\":\"1.2.3\","
		    "\"version_code\":\"\",\"target\":\"testtarget/"
		    "testsubtarget\",\"profile\":\"testprofile\","
		    "\"packages\":[],"
		    "\"packages_versions\":{},\"diff_packages\":false,"
		    "\"defaults\":null,\"rootfs_size_mb\":null,\"filesystem\":"
		    "null,\"repositories\":{},"
		    "\"repositories_mode\":\"replace\","
		    "\"repository_keys\":[],\"client\":null}",
		    "defaults are written out");
		yajl_gen_free(g);
		ok(request_from_json(first, strlen(first), &b, &cause) == 0,
		    "and read back");
		ok(b.defaults == NULL && b.rootfs_size_mb == 0 &&
		    b.client == NULL, "nulls stay null");
		request_free(&b);
		free(first);
	}
	request_free(&a);

	ok(request_from_json("{\"version\":1}", 13, &b, &cause) == -1,
	    "request_from_json refuses a broken record");
	ok(cause != NULL && strstr(cause, "version") != NULL,
	    "with a cause");
	free(cause);
	request_free(&b);
}

int
main(void)
{
	t_reference_422();
	t_defaults_length();
	t_types();
	t_lax();
	t_defaults_and_shape();
	t_duplicates();
	t_injection();
	t_unicode();
	t_bad_json();
	t_unknown_keys();
	t_big();
	t_many_errors();
	t_too_big();
	t_limits_custom();
	t_fuzz();
	t_round_trip();
	return (done_testing());
}

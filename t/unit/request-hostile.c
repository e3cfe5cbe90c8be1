/*
 * request-hostile.c: bodies no client should send, against the build
 * request model: defaults over their length in characters, broken JSON
 * and UTF-8 with the byte offset, deep nesting, 100 000 packages and
 * versions, capped error lists, oversized bodies (413), the configured
 * limits, and random damage to a valid body.
 */
#include <stdint.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/request.h"
#include "t/unit/tap.h"
#include "t/unit/treq.h"
#include "t/unit/tutil.h"

/* defaults: length in characters, against the configured maximum. */
static void
t_defaults_length(void)
{
	static const struct request_limits	one = { 1, 1024 };
	struct request				r;
	struct treq_err				e;
	struct strv				sv = STRV_INITIALIZER;
	char					*json, *s;
	size_t					i;

	for (i = 0; i < 20481; i++)
		strv_add(&sv, "a");
	s = strv_join(&sv, "");
	xasprintf(&json, TREQ_BODY("\"defaults\":\"%s\""), s);
	ok(treq_fail(json, &e) == 0, "defaults of 20481 characters refused");
	is_str(treq_get(&e, 0, "type"), "\"string_too_long\"",
	    "defaults too long: type");
	is_str(treq_get(&e, 0, "loc"), "[\"body\",\"defaults\"]",
	    "defaults too long: loc");
	is_str(treq_get(&e, 0, "msg"),
	    "\"String should have at most 20480 characters\"",
	    "defaults too long: msg");
	is_str(treq_get(&e, 0, "ctx"), "{\"max_length\":20480}",
	    "defaults too long: ctx");
	treq_err_free(&e);
	free(json);
	s[20480] = '\0';
	xasprintf(&json, TREQ_BODY("\"defaults\":\"%s\""), s);
	if (treq_ok(json, &r, "defaults of 20480 characters accepted") == 0) {
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
	xasprintf(&json, TREQ_BODY("\"defaults\":\"%s\""), s);
	if (treq_ok(json, &r, "defaults counted in characters, not bytes") == 0)
		request_free(&r);
	free(json);
	free(s);
	strv_clear(&sv);

	json = xstrdup("{" TREQ_BASE ",\"defaults\":\"ab\"}");
	ok(treq_fail_len(json, strlen(json), &one, &e) == 0,
	    "max_defaults_length 1: two characters refused");
	is_str(treq_get(&e, 0, "msg"),
	    "\"String should have at most 1 character\"",
	    "max_length 1 is singular");
	treq_err_free(&e);
	free(json);
}

/* Checks one body is a JSON error, reporting the byte offset. */
static void
t_json_invalid(const char *json, size_t len, const char *name)
{
	struct treq_err	e;
	char		label[200];
	const char	*loc;

	if (treq_fail_len(json, len, &treq_limits, &e) == -1) {
		ok(0, name);
		return;
	}
	snprintf(label, sizeof label, "%s: json_invalid", name);
	is_str(treq_get(&e, 0, "type"), "\"json_invalid\"", label);
	loc = treq_get(&e, 0, "loc");
	snprintf(label, sizeof label, "%s: loc is body and an offset (%s)",
	    name, loc);
	ok(strncmp(loc, "[\"body\",", 8) == 0 && loc[8] >= '0' &&
	    loc[8] <= '9', label);
	snprintf(label, sizeof label, "%s: msg", name);
	is_str(treq_get(&e, 0, "msg"), "\"JSON decode error\"", label);
	snprintf(label, sizeof label, "%s: input {}", name);
	is_str(treq_get(&e, 0, "input"), "{}", label);
	snprintf(label, sizeof label, "%s: ctx error", name);
	ok(strncmp(treq_get(&e, 0, "ctx"), "{\"error\":\"", 10) == 0, label);
	treq_err_free(&e);
}

/* Bodies that are JSON but no object. */
static const struct treq_case t_not_objects[] = {
	{ "[]",
	    "\"model_attributes_type\"", "[\"body\"]",
	    "\"Input should be a valid dictionary or object to extract fields "
	    "from\"",
	    "[]", NULL, NULL,
	    "array body" },
	{ "\"x\"",
	    "\"model_attributes_type\"", "[\"body\"]",
	    NULL,
	    "\"x\"", NULL, NULL,
	    "string body" },
	{ "5",
	    "\"model_attributes_type\"", "[\"body\"]",
	    NULL,
	    "5", NULL, NULL,
	    "number body" },
};

/* Bodies that are no JSON, or no valid UTF-8 text. */
static const char *const t_bad_json_bodies[] = {
	"{\"version\":", "{\"a\" 1}", "{'a':1}", "{\"a\":tru}", " ",
	"{\"a\":1}x", "{\"a\":1,}", "// c\n{}", "{\"a\":NaN}",
	"{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
	"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
	"{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800x\"}",
	"{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
	"{\"a\":\"x\\u0000\"}", "{\"a\\u0000\":1}", "{\"a\":\"\t\"}",
	"{\"\xe4\":1}", "\xef\xbb\xbf"
};

/* Broken JSON and broken text. */
static void
t_bad_json(void)
{
	struct request			r;
	struct treq_err			e;
	char				*deep, name[64];
	size_t				i;

	for (i = 0; i < nitems(t_bad_json_bodies); i++) {
		snprintf(name, sizeof name, "bad JSON %zu", i);
		t_json_invalid(t_bad_json_bodies[i],
		    strlen(t_bad_json_bodies[i]), name);
	}
	t_json_invalid("{\"a\":\"x\0y\"}", 11, "raw NUL byte");

	ok(treq_fail("{\"version\":", &e) == 0, "truncated body");
	is_str(treq_get(&e, 0, "loc"), "[\"body\",11]",
	    "truncated body: offset is the length");
	ok(strncmp(e.detail, "request body at byte 11: JSON decode error (",
	    44) == 0, "truncated body: detail names the offset");
	treq_err_free(&e);

	ok(treq_fail("{\"a\":\"\\ud800\"," TREQ_BASE "}", &e) == 0,
	    "lone surrogate");
	is_str(treq_get(&e, 0, "loc"), "[\"body\",6]",
	    "lone surrogate: offset of the escape");
	treq_err_free(&e);

	if (treq_ok("\xef\xbb\xbf{" TREQ_BASE "}", &r,
	    "a UTF-8 BOM is skipped") == 0)
		is_str(r.version, "1.2.3", "and the body read");
	request_free(&r);

	/* A surrogate pair is fine, and decodes to one code point. */
	if (treq_ok("{" TREQ_BASE ",\"client\":\"x\\ud83d\\ude00\"}", &r,
	    "surrogate pair accepted") == 0)
		is_str(r.client, "x\xf0\x9f\x98\x80", "pair decoded");
	request_free(&r);

	treq_cases(t_not_objects, nitems(t_not_objects));

	/* Deep nesting is refused before it can hurt. */
	deep = xmalloc(20000);
	strcpy(deep, "{\"x\":");
	memset(deep + 5, '[', 5000);
	memset(deep + 5005, ']', 5000);
	strcpy(deep + 10005, "}");
	ok(treq_fail(deep, &e) == 0, "5000 nested arrays refused");
	is_str(treq_get(&e, 0, "type"), "\"json_invalid\"",
	    "deep: json_invalid");
	is_str(treq_get(&e, 0, "ctx"), "{\"error\":\"nesting too deep\"}",
	    "deep: says why");
	treq_err_free(&e);
	free(deep);
	if (treq_ok("{" TREQ_BASE ",\"x\":[[[[[[[[{\"y\":[1]}]]]]]]]]}", &r,
	    "moderate nesting in unknown keys is fine") == 0)
		request_free(&r);
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
	xasprintf(&json, TREQ_BODY("\"packages\":[%s]"), list);
	free(list);
	t0 = tutil_now();
	if (treq_ok(json, &r, "100 000 packages accepted") == 0) {
		t1 = tutil_now();
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
	xasprintf(&json, TREQ_BODY("\"packages_versions\":{%s}"), list);
	free(list);
	t0 = tutil_now();
	if (treq_ok(json, &r, "100 000 versions accepted") == 0) {
		t1 = tutil_now();
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
	struct treq_err	 e;
	char		*list, *json;
	size_t		 i;

	for (i = 0; i < 150; i++)
		strv_add(&sv, "\"a b\"");
	list = strv_join(&sv, ",");
	strv_clear(&sv);
	xasprintf(&json, TREQ_BODY("\"packages\":[%s]"), list);
	free(list);
	ok(treq_fail(json, &e) == 0, "150 bad packages refused");
	is_int(treq_count(&e), REQUEST_MAX_ERRORS, "errors list is capped");
	is_str(treq_get(&e, 99, "loc"), "[\"body\",\"packages\",99]",
	    "the first ones are listed");
	ok(strstr(e.detail, "packages[9]: ") != NULL &&
	    strstr(e.detail, "packages[10]") == NULL, "detail shows ten");
	ok(strlen(e.detail) > 14 && strcmp(e.detail + strlen(e.detail) - 14,
	    "; and 140 more") == 0, "detail counts the rest");
	treq_err_free(&e);
	free(json);
}

/* Oversized bodies get 413, not a parse. */
static void
t_too_big(void)
{
	struct treq_err	 e;
	char		*buf;
	size_t		 i, n;

	n = (size_t)REQUEST_MAX_BODY + 1;
	buf = xmalloc(n);
	memset(buf, ' ', n);
	ok(treq_fail_len(buf, n, &treq_limits, &e) == 0, "huge body refused");
	is_int(e.status, 413, "huge body: 413");
	is_str(treq_top(&e, "status"), "413", "huge body: JSON status 413");
	treq_err_free(&e);
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
	ok(treq_fail_len(buf, n, &treq_limits, &e) == 0,
	    "too many values refused");
	is_int(e.status, 413, "too many values: 413");
	treq_err_free(&e);
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

	json = "{" TREQ_BASE ",\"rootfs_size_mb\":2000}";
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
		if (request_parse(buf, len, &treq_limits, &r, &err) == 0) {
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

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	t_defaults_length();
	t_bad_json();
	t_big();
	t_many_errors();
	t_too_big();
	t_limits_custom();
	t_fuzz();
	return (done_testing());
}

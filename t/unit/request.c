/*
 * request.c: the build request model: every 422 case of the reference
 * (reference/asu-api.md §1.2) with its exact type, loc, msg, input and
 * ctx; lax typing as clients use it; defaults; patterns against shell and
 * make syntax; and the round trip through request_to_json and
 * request_from_json. Hostile bodies are in request-hostile.c.
 */
#include <stdint.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "server/request.h"
#include "t/unit/tap.h"
#include "t/unit/treq.h"

/* The reference's 422 cases with a single error (asu-api.md §1.2). */
static const struct treq_case t_reference_cases[] = {
	{ "null",
	    "\"missing\"", "[\"body\"]",
	    "\"Field required\"",
	    "null", NULL, NULL,
	    "JSON null body" },
	{ "{\"target\":\"testtarget/testsubtarget\",\"profile\":\"p\"}",
	    "\"missing\"", "[\"body\",\"version\"]",
	    "\"Field required\"",
	    "{\"target\":\"testtarget/testsubtarget\",\"profile\":\"p\"}",
	    NULL,
	    NULL,
	    "version missing (input: the body)" },
	{ "{\"version\":\"1.2.3\",\"profile\":\"p\"}",
	    "\"missing\"", "[\"body\",\"target\"]",
	    "\"Field required\"",
	    NULL, NULL, NULL,
	    "target missing" },
	{ "{\"version\":\"1.2.3\",\"target\":\"a/b\"}",
	    "\"missing\"", "[\"body\",\"profile\"]",
	    "\"Field required\"",
	    NULL, NULL, NULL,
	    "profile missing" },
	{ ",\"packages\":\"testpackage\"",
	    "\"list_type\"", "[\"body\",\"packages\"]",
	    "\"Input should be a valid list\"",
	    "\"testpackage\"", NULL, NULL,
	    "string packages" },
	{ ",\"rootfs_size_mb\":0",
	    "\"greater_than_equal\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be greater than or equal to 1\"",
	    "0", "{\"ge\":1}", NULL,
	    "rootfs_size_mb 0" },
	{ ",\"rootfs_size_mb\":1025",
	    "\"less_than_equal\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be less than or equal to 1024\"",
	    "1025",
	    "{\"le\":1024}",
	    "rootfs_size_mb: Input should be less than or equal to 1024",
	    "rootfs_size_mb 1025" },
	{ ",\"packages\":[\"+a\"]",
	    "\"string_pattern_mismatch\"", "[\"body\",\"packages\",0]",
	    "\"String should match pattern '^[\\\\w.,-]*$'\"",
	    "\"+a\"", NULL, NULL,
	    "leading + refused" },
	{ ",\"packages\":[\"ok\",\"a b\"]",
	    "\"string_pattern_mismatch\"", "[\"body\",\"packages\",1]",
	    "\"String should match pattern '^[\\\\w.,-]*$'\"",
	    "\"a b\"",
	    "{\"pattern\":\"^[\\\\w.,-]*$\"}",
	    "packages[1]: String should match pattern '^[\\w.,-]*$'",
	    "package with a space (the index)" },
	{ ",\"repositories\":{\"a b\":\"https://x\"}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"repositories\",\"a b\",\"[key]\"]",
	    "\"String should match pattern '^[\\\\w.-]+$'\"",
	    "\"a b\"",
	    NULL,
	    "repositories[a b][key]: String should match pattern "
	    "'^[\\w.-]+$'",
	    "bad repository name" },
	{ ",\"repositories\":{\"\":\"https://x\"}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"repositories\",\"\",\"[key]\"]",
	    NULL,
	    "\"\"", NULL, NULL,
	    "empty repository name" },
	{ ",\"repositories\":{\"a\":\"ftp://x\"}",
	    "\"string_pattern_mismatch\"", "[\"body\",\"repositories\",\"a\"]",
	    "\"String should match pattern '^https?://\\\\S+$'\"",
	    "\"ftp://x\"", NULL, NULL,
	    "ftp repository URL" },
	{ ",\"filesystem\":\"btrfs\"",
	    "\"literal_error\"", "[\"body\",\"filesystem\"]",
	    "\"Input should be 'squashfs', 'ext4', "
	    "'ubifs', 'erofs', 'jffs2', 'jffs2-nand', 'targz' or 'cpiogz'\"",
	    "\"btrfs\"",
	    "{\"expected\":\"'squashfs', 'ext4', 'ubifs', "
	    "'erofs', 'jffs2', 'jffs2-nand', 'targz' or 'cpiogz'\"}",
	    NULL,
	    "bogus filesystem" },
	{ ",\"repositories_mode\":\"merge\"",
	    "\"literal_error\"", "[\"body\",\"repositories_mode\"]",
	    "\"Input should be 'append' or 'replace'\"",
	    "\"merge\"", NULL, NULL,
	    "bogus repositories_mode" },
	{ ",\"repositories_mode\":null",
	    "\"literal_error\"", "[\"body\",\"repositories_mode\"]",
	    NULL,
	    "null", NULL, NULL,
	    "null repositories_mode" },
};

/* The reference's repository URLs refused by their pattern. */
static const struct treq_pattern t_reference_patterns[] = {
	{ ",\"repositories\":{\"a\":\"example.org/x\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL without a scheme" },
	{ ",\"repositories\":{\"a\":\"https://\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL without a host" },
	{ ",\"repositories\":{\"a\":\"HTTPS://x\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL scheme is case-sensitive" },
};

/* The reference's 422 cases (asu-api.md §1.2), exactly. */
static void
t_reference_422(void)
{
	struct treq_err	e;

	ok(treq_fail("", &e) == 0, "empty body refused");
	is_int(e.status, 422, "empty body: 422");
	is_str(treq_top(&e, "status"), "422", "empty body: status 422 in JSON");
	is_str(treq_top(&e, "title"), "\"Unprocessable Entity\"",
	    "empty body: title");
	is_str(e.detail, "request body: Field required", "empty body: detail");
	is_str(treq_top(&e, "detail"), "\"request body: Field required\"",
	    "empty body: detail is a string in the body");
	is_str(treq_get(&e, 0, "type"), "\"missing\"", "empty body: type");
	is_str(treq_get(&e, 0, "loc"), "[\"body\"]", "empty body: loc");
	is_str(treq_get(&e, 0, "msg"), "\"Field required\"", "empty body: msg");
	is_str(treq_get(&e, 0, "input"), "null", "empty body: input null");
	is_str(treq_get(&e, 0, "ctx"), "(none)", "empty body: no ctx");
	treq_err_free(&e);

	ok(treq_fail("{}", &e) == 0, "{} refused");
	is_int(treq_count(&e), 3, "{}: three errors");
	is_str(treq_get(&e, 0, "loc"), TREQ_LOC("version"), "{}: version");
	is_str(treq_get(&e, 1, "loc"), TREQ_LOC("target"), "{}: target");
	is_str(treq_get(&e, 2, "loc"), TREQ_LOC("profile"), "{}: profile");
	is_str(treq_get(&e, 2, "input"), "{}", "{}: input is the body");
	is_str(e.detail, "version: Field required; target: Field required; "
	    "profile: Field required", "{}: detail joins with ;");
	treq_err_free(&e);

	treq_cases(t_reference_cases, nitems(t_reference_cases));
	treq_patterns(t_reference_patterns, nitems(t_reference_patterns));
}

/* Wrong JSON types, with Pydantic's type errors. */
static const struct treq_case t_type_cases[] = {
	{ "{\"version\":5,\"target\":\"a/b\",\"profile\":\"p\"}",
	    "\"string_type\"", "[\"body\",\"version\"]",
	    "\"Input should be a valid string\"",
	    "5", NULL, NULL,
	    "number version" },
	{ "{\"version\":\"1\",\"target\":true,\"profile\":\"p\"}",
	    "\"string_type\"", "[\"body\",\"target\"]",
	    NULL,
	    "true", NULL, NULL,
	    "bool target" },
	{ "{\"version\":\"1\",\"target\":\"a/b\",\"profile\":null}",
	    "\"string_type\"", "[\"body\",\"profile\"]",
	    NULL,
	    "null", NULL, NULL,
	    "null profile" },
	{ ",\"distro\":null",
	    "\"string_type\"", "[\"body\",\"distro\"]",
	    NULL,
	    "null", NULL, NULL,
	    "null distro" },
	{ ",\"version_code\":[]",
	    "\"string_type\"", "[\"body\",\"version_code\"]",
	    NULL,
	    "[]", NULL, NULL,
	    "list version_code" },
	{ ",\"packages\":null",
	    "\"list_type\"", "[\"body\",\"packages\"]",
	    NULL,
	    "null", NULL, NULL,
	    "null packages" },
	{ ",\"packages\":{\"a\":1}",
	    "\"list_type\"", "[\"body\",\"packages\"]",
	    NULL,
	    "{\"a\":1}", NULL, NULL,
	    "object packages" },
	{ ",\"packages\":[\"a\",7]",
	    "\"string_type\"", "[\"body\",\"packages\",1]",
	    NULL,
	    "7", NULL, NULL,
	    "number in packages" },
	{ ",\"packages_versions\":[]",
	    "\"dict_type\"", "[\"body\",\"packages_versions\"]",
	    "\"Input should be a valid dictionary\"",
	    "[]", NULL, NULL,
	    "list packages_versions" },
	{ ",\"packages_versions\":{\"a\":1.5}",
	    "\"string_type\"", "[\"body\",\"packages_versions\",\"a\"]",
	    NULL,
	    "1.5", NULL, NULL,
	    "number version in packages_versions" },
	{ ",\"packages_versions\":{\"a\":\"1 2\"}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"packages_versions\",\"a\"]",
	    "\"String should match pattern '^[\\\\w+.,~-]*$'\"",
	    "\"1 2\"", NULL, NULL,
	    "bad version in packages_versions" },
	{ ",\"packages_versions\":{\"a;b\":\"1\"}",
	    "\"string_pattern_mismatch\"",
	    "[\"body\",\"packages_versions\",\"a;b\",\"[key]\"]",
	    "\"String should match pattern '^[\\\\w.,-]*$'\"",
	    "\"a;b\"", NULL, NULL,
	    "bad name in packages_versions" },
	{ ",\"repositories\":\"x\"",
	    "\"dict_type\"", "[\"body\",\"repositories\"]",
	    NULL,
	    "\"x\"", NULL, NULL,
	    "string repositories" },
	{ ",\"repositories\":{\"a\":null}",
	    "\"string_type\"", "[\"body\",\"repositories\",\"a\"]",
	    NULL,
	    "null", NULL, NULL,
	    "null repository URL" },
	{ ",\"repository_keys\":\"k\"",
	    "\"list_type\"", "[\"body\",\"repository_keys\"]",
	    NULL,
	    "\"k\"", NULL, NULL,
	    "string repository_keys" },
	{ ",\"repository_keys\":[false]",
	    "\"string_type\"", "[\"body\",\"repository_keys\",0]",
	    NULL,
	    "false", NULL, NULL,
	    "bool in repository_keys" },
	{ ",\"client\":1",
	    "\"string_type\"", "[\"body\",\"client\"]",
	    NULL,
	    "1", NULL, NULL,
	    "number client" },
	{ ",\"defaults\":{}",
	    "\"string_type\"", "[\"body\",\"defaults\"]",
	    NULL,
	    "{}", NULL, NULL,
	    "object defaults" },
	{ ",\"filesystem\":1",
	    "\"literal_error\"", "[\"body\",\"filesystem\"]",
	    NULL,
	    "1", NULL, NULL,
	    "number filesystem" },

	{ ",\"diff_packages\":null",
	    "\"bool_type\"", "[\"body\",\"diff_packages\"]",
	    "\"Input should be a valid boolean\"",
	    "null", NULL, NULL,
	    "null diff_packages" },
	{ ",\"diff_packages\":[]",
	    "\"bool_type\"", "[\"body\",\"diff_packages\"]",
	    NULL,
	    "[]", NULL, NULL,
	    "list diff_packages" },
	{ ",\"diff_packages\":1.5",
	    "\"bool_type\"", "[\"body\",\"diff_packages\"]",
	    NULL,
	    "1.5", NULL, NULL,
	    "fractional diff_packages" },
	{ ",\"diff_packages\":\"maybe\"",
	    "\"bool_parsing\"", "[\"body\",\"diff_packages\"]",
	    "\"Input should be a valid boolean, unable to interpret input\"",
	    "\"maybe\"", NULL, NULL,
	    "diff_packages maybe" },
	{ ",\"diff_packages\":2",
	    "\"bool_parsing\"", "[\"body\",\"diff_packages\"]",
	    NULL,
	    "2", NULL, NULL,
	    "diff_packages 2" },
	{ ",\"diff_packages\":\" yes\"",
	    "\"bool_parsing\"", "[\"body\",\"diff_packages\"]",
	    NULL,
	    "\" yes\"", NULL, NULL,
	    "diff_packages with a space" },

	{ ",\"rootfs_size_mb\":[]",
	    "\"int_type\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be a valid integer\"",
	    "[]", NULL, NULL,
	    "list rootfs_size_mb" },
	{ ",\"rootfs_size_mb\":\"abc\"",
	    "\"int_parsing\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be a valid integer, "
	    "unable to parse string as an integer\"",
	    "\"abc\"", NULL, NULL,
	    "rootfs_size_mb abc" },
	{ ",\"rootfs_size_mb\":\"1e3\"",
	    "\"int_parsing\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL,
	    "\"1e3\"", NULL, NULL,
	    "rootfs_size_mb string 1e3" },
	{ ",\"rootfs_size_mb\":\"12.5\"",
	    "\"int_parsing\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL,
	    "\"12.5\"", NULL, NULL,
	    "rootfs_size_mb string 12.5" },
	{ ",\"rootfs_size_mb\":12.5",
	    "\"int_from_float\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be a valid integer, "
	    "got a number with a fractional part\"",
	    "12.5", NULL, NULL,
	    "rootfs_size_mb 12.5" },
	{ ",\"rootfs_size_mb\":1e400",
	    "\"finite_number\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Input should be a finite number\"",
	    NULL, NULL, NULL,
	    "rootfs_size_mb 1e400" },
	{ ",\"rootfs_size_mb\":-5",
	    "\"greater_than_equal\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL,
	    "-5", NULL, NULL,
	    "negative rootfs_size_mb" },
	{ ",\"rootfs_size_mb\":false",
	    "\"greater_than_equal\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL,
	    "false", NULL, NULL,
	    "false rootfs_size_mb is 0" },
	{ ",\"rootfs_size_mb\":99999999999999999999999",
	    "\"less_than_equal\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL,
	    "99999999999999999999999", NULL, NULL,
	    "huge rootfs_size_mb" },
	{ ",\"rootfs_size_mb\":1e30",
	    "\"int_parsing_size\"", "[\"body\",\"rootfs_size_mb\"]",
	    "\"Unable to parse input string as an "
	    "integer, exceeded maximum size\"",
	    "1e30", NULL, NULL,
	    "rootfs_size_mb 1e30" },
	{ ",\"rootfs_size_mb\":\"-99999999999999999999999\"",
	    "\"greater_than_equal\"", "[\"body\",\"rootfs_size_mb\"]",
	    NULL,
	    NULL, NULL, NULL,
	    "hugely negative rootfs_size_mb string" },
};

/* Wrong JSON types get Pydantic's type errors. */
static void
t_types(void)
{
	struct treq_case	 c;
	struct treq_err	 e;
	char		*digits, *json;

	treq_cases(t_type_cases, nitems(t_type_cases));

	digits = xmalloc(5001);
	memset(digits, '1', 5000);
	digits[5000] = '\0';
	xasprintf(&json, TREQ_BODY("\"rootfs_size_mb\":\"%s\""), digits);
	memset(&c, 0, sizeof c);
	c.json = json;
	c.type = "\"int_parsing_size\"";
	c.loc = TREQ_LOC("rootfs_size_mb");
	c.name = "rootfs_size_mb string of 5000 digits";
	treq_one(&c);
	free(json);
	free(digits);

	/* Several errors, in model order, whatever the order in the body. */
	ok(treq_fail("{\"client\":5,\"packages\":\"x\",\"version\":\"1\","
	    "\"target\":\"a/b\",\"profile\":\"p\",\"distro\":\"a b\"}",
	    &e) == 0, "three bad fields");
	is_int(treq_count(&e), 3, "three errors");
	is_str(treq_get(&e, 0, "loc"), TREQ_LOC("distro"), "first: distro");
	is_str(treq_get(&e, 1, "loc"), TREQ_LOC("packages"),
	    "second: packages");
	is_str(treq_get(&e, 2, "loc"), TREQ_LOC("client"), "third: client");
	is_str(e.detail, "distro: String should match pattern '^[\\w.,-]*$'; "
	    "packages: Input should be a valid list; client: Input should be "
	    "a valid string", "detail joins all three");
	treq_err_free(&e);
}

/* Values of a field that lax typing reads as want. */
struct t_lax {
	const char	*field;		/* rootfs_size_mb or diff_packages */
	int		 want;
	const char	*values[10];
};

static const struct t_lax t_lax_cases[] = {
	{ "rootfs_size_mb", 256, { "256", "\"256\"", "\" 256 \"", "256.0",
	    "\"256.00\"", "\"+256\"", "2.56e2", "\"256.\"" } },
	{ "rootfs_size_mb", 1, { "true" } },
	{ "diff_packages", 1, { "true", "1", "1.0", "\"yes\"", "\"Y\"",
	    "\"on\"", "\"TRUE\"", "\"t\"", "\"1\"" } },
	{ "diff_packages", 0, { "false", "0", "\"no\"", "\"OFF\"", "\"f\"",
	    "\"False\"", "\"n\"", "\"0\"", "0.0" } },
};

/* Lax typing as real clients send it, and null where allowed. */
static void
t_lax(void)
{
	const struct t_lax	*l;
	struct request		 r;
	char			*json, name[128];
	size_t			 i, k;

	for (k = 0; k < nitems(t_lax_cases); k++) {
		l = &t_lax_cases[k];
		for (i = 0; i < nitems(l->values) && l->values[i] != NULL;
		    i++) {
			xasprintf(&json, "{" TREQ_BASE ",\"%s\":%s}", l->field,
			    l->values[i]);
			snprintf(name, sizeof name, "%s %s", l->field,
			    l->values[i]);
			if (treq_ok(json, &r, name) == 0) {
				snprintf(name, sizeof name, "... is %d",
				    l->want);
				is_int(strcmp(l->field, "diff_packages") == 0 ?
				    r.diff_packages : r.rootfs_size_mb,
				    l->want, name);
			}
			request_free(&r);
			free(json);
		}
	}
	if (treq_ok("{" TREQ_BASE ",\"defaults\":null,\"rootfs_size_mb\":null,"
	    "\"filesystem\":null,\"client\":null}", &r,
	    "nulls accepted") == 0) {
		ok(r.defaults == NULL, "null defaults is NULL");
		is_int(r.rootfs_size_mb, 0, "null rootfs_size_mb is 0");
		ok(r.filesystem == NULL, "null filesystem is NULL");
		ok(r.client == NULL, "null client is NULL");
	}
	request_free(&r);
	if (treq_ok(TREQ_BODY("\"defaults\":\"\",\"filesystem\":\"jffs2-nand\","
	    "\"repositories_mode\":\"append\",\"client\":\"owut/1.0\""), &r,
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

	if (treq_ok("{" TREQ_BASE "}", &r, "minimal request") == 0) {
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

	if (treq_ok("{\"version\":\"SNAPSHOT\",\"target\":\"ath79/generic\","
	    "\"profile\":\"8dev,carambola2\"}", &r, "comma profile") == 0)
		is_str(r.profile, "8dev_carambola2", ", becomes _");
	request_free(&r);

	if (treq_ok(TREQ_BODY("\"packages\":[\"b\",\"-a\",\"b\",\"\","
	    "\"luci\"]"), &r, "packages as sent") == 0) {
		is_int(r.packages.n, 5, "duplicates kept");
		is_str(r.packages.v[1], "-a", "-pkg kept");
		is_str(r.packages.v[3], "", "empty name passes the pattern");
		is_str(r.packages.v[4], "luci", "order kept");
	}
	request_free(&r);

	if (treq_ok("{" TREQ_BASE ",\"packages\":[\"x\"],\"packages_versions\":"
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

	if (treq_ok("{\"version\":\"1\",\"target\":\"a/b\",\"profile\":\"p\","
	    "\"version\":\"2\",\"packages\":5,\"packages\":[\"x\"]}", &r,
	    "duplicate top-level keys") == 0) {
		is_str(r.version, "2", "the last version wins");
		is_int(r.packages.n, 1, "a bad first value is overridden");
	}
	request_free(&r);
	if (treq_ok("{" TREQ_BASE ",\"repositories\":{\"a\":\"http://1\","
	    "\"b\":\"http://2\",\"a\":\"http://3\"}}", &r,
	    "duplicate repository") == 0) {
		is_str(r.repo_names.v[0], "a", "first position kept");
		is_str(r.repo_urls.v[0], "http://3", "last value wins");
		is_str(r.repo_names.v[1], "b", "then b");
		is_int(r.repo_names.n, 2, "one entry per name");
	}
	request_free(&r);
}

/* Package names (inside a JSON string) with shell or make syntax. */
static const char *const t_injection_packages[] = {
	"a;b", "$(x)", "PROFILE=x", "a\\nb", "a b", "`id`", "a|b", "a&b", "a>b",
	"a'b", "a\\\"b", "a/b", "a\\tb", "a\\u0000b", "a\\u00a0b", "a\\u200bb",
	"a\\u2028b", "x#", "*", "a\\\\b", "a:b", "\\u00bd"
};

/* Shell and make syntax refused by the patterns of the fields. */
static const struct treq_pattern t_injection_patterns[] = {
	{ "{\"version\":\"1.0;rm\",\"target\":\"a/b\",\"profile\":\"p\"}",
	    "[\"body\",\"version\"]", "^[\\w.,-]*$",
	    "version ;" },
	{ "{\"version\":\"1\",\"target\":\"a/b/c\",\"profile\":\"p\"}",
	    "[\"body\",\"target\"]", "^[\\w]*/[\\w]*$",
	    "target a/b/c" },
	{ "{\"version\":\"1\",\"target\":\"a-b/c\",\"profile\":\"p\"}",
	    "[\"body\",\"target\"]", "^[\\w]*/[\\w]*$",
	    "target with -" },
	{ "{\"version\":\"1\",\"target\":\"ab\",\"profile\":\"p\"}",
	    "[\"body\",\"target\"]", "^[\\w]*/[\\w]*$",
	    "target without /" },
	{ "{\"version\":\"1\",\"target\":\"a/b\",\"profile\":\"x PROFILE=y\"}",
	    "[\"body\",\"profile\"]", "^[\\w.,-]*$",
	    "profile with make syntax" },
	{ ",\"version_code\":\"r1\\n\"",
	    "[\"body\",\"version_code\"]", "^[\\w.,-]*$",
	    "version_code with a trailing newline" },
	{ ",\"distro\":\"$(id)\"",
	    "[\"body\",\"distro\"]", "^[\\w.,-]*$",
	    "distro $(id)" },
	{ ",\"repositories\":{\"a\\nb\":\"https://x\"}",
	    "[\"body\",\"repositories\",\"a\\nb\",\"[key]\"]", "^[\\w.-]+$",
	    "repository name with a newline" },
	{ ",\"repositories\":{\"a/b\":\"https://x\"}",
	    "[\"body\",\"repositories\",\"a/b\",\"[key]\"]", "^[\\w.-]+$",
	    "repository name with a slash" },
	{ ",\"repositories\":{\"a\":\"https://x y\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with a space" },
	{ ",\"repositories\":{\"a\":\"https://x\\n\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with a newline" },
	{ ",\"repositories\":{\"a\":\"https://x\\u0001\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with a control character" },
	{ ",\"repositories\":{\"a\":\"https://x\\u3000\"}",
	    "[\"body\",\"repositories\",\"a\"]", "^https?://\\S+$",
	    "repository URL with an ideographic space" },
};

/* Shell and make syntax never gets through a pattern. */
static void
t_injection(void)
{
	struct request		 r;
	struct request_error	 err;
	const char		*bad;
	char			*json, name[160];
	size_t			 i;

	for (i = 0; i < nitems(t_injection_packages); i++) {
		bad = t_injection_packages[i];
		xasprintf(&json, TREQ_BODY("\"packages\":[\"%s\"]"), bad);
		snprintf(name, sizeof name, "package %s refused", bad);
		ok(request_parse(json, strlen(json), &treq_limits, &r,
		    &err) == -1 && err.status == 422, name);
		request_free(&r);
		request_error_free(&err);
		free(json);
	}
	treq_patterns(t_injection_patterns, nitems(t_injection_patterns));
}

/* Unicode \w: letters pass, as in the reference. */
static void
t_unicode(void)
{
	struct request	r;

	if (treq_ok("{\"version\":\"1\",\"target\":\"\xc3\xa4/b\",\"profile\":"
	    "\"\xe6\x97\xa5\xe6\x9c\xac\",\"packages\":[\"k\\u00e4se-1\","
	    "\"\xd0\xb4\xd0\xb0\"],\"repositories\":{\"\xc3\xb6\":"
	    "\"https://\xc3\xa9.example/\"}}", &r,
	    "letters beyond ASCII match \\w") == 0) {
		is_str(r.packages.v[0], "k\xc3\xa4se-1", "\\u00e4 decoded");
		is_str(r.target, "\xc3\xa4/b", "target with a letter");
	}
	request_free(&r);
}

/* Unknown keys are ignored, as clients send extras. */
static void
t_unknown_keys(void)
{
	struct request	r;

	if (treq_ok("{" TREQ_BASE ",\"url\":\"https://sysupgrade.openwrt.org\","
	    "\"branch\":\"23.05\",\"efi\":null,\"advanced_mode\":\"1\","
	    "\"nested\":{\"a\":[1,2,{\"b\":null}]},\"Version\":5}", &r,
	    "unknown keys ignored") == 0)
		is_str(r.version, "1.2.3", "keys are case-sensitive");
	request_free(&r);
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

	if (treq_ok(json, &a, "full request accepted") != 0)
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

	if (treq_ok("{" TREQ_BASE "}", &a, "minimal request") == 0) {
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

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	t_reference_422();
	t_types();
	t_lax();
	t_defaults_and_shape();
	t_duplicates();
	t_injection();
	t_unicode();
	t_unknown_keys();
	t_round_trip();
	return (done_testing());
}

/*
 * hash.c: the request hash against the reference's vectors
 * (reference/asu-api.md §2) and against Python semantics worked out by
 * hand for the parts the reference's tests do not reach (repr quoting and
 * escapes, json.dumps ASCII escaping).
 */
#include <string.h>

#include "lib/sha256.h"
#include "lib/strv.h"
#include "server/reqhash.h"
#include "server/request.h"
#include "t/unit/tap.h"

/* The base request most vectors start from (the reference's tests). */
#define HASH_BASE \
	"\"version\":\"1.2.3\",\"target\":\"testtarget/testsubtarget\"," \
	"\"profile\":\"testprofile\""

/* Parses a body that must be valid and returns its hash in out. */
static int
hash_of(const char *json, char out[65])
{
	struct request		r;
	struct request_error	err;

	if (request_parse(json, strlen(json), NULL, &r, &err) == -1) {
		printf("# unexpected 422: %s\n", err.detail);
		request_error_free(&err);
		strcpy(out, "(parse failed)");
		return (-1);
	}
	reqhash_compute(&r, out);
	request_free(&r);
	return (0);
}

/* Checks one body against an expected hash. */
static void
hash_is(const char *json, const char *want, const char *name)
{
	char	got[65];

	hash_of(json, got);
	is_str(got, want, name);
}

/* The packages hash on its own. */
static void
hash_packages(void)
{
	struct strv	a = STRV_INITIALIZER, b = STRV_INITIALIZER;
	char		ha[65], hb[65], want[65];

	strv_add(&a, "test1");
	strv_add(&a, "test2");
	reqhash_packages(&a, ha);
	is_str(ha, "57aab5949a36e66b535a8cb13e39e9e093181c9000c016990d7be9eb"
	    "86a9b9e8", "packages hash of [test1, test2]");
	strv_clear(&a);

	/* set() and sorted() and removeprefix("+"): all give "a b". */
	strv_add(&a, "b");
	strv_add(&a, "+a");
	strv_add(&a, "a");
	strv_add(&a, "b");
	strv_add(&b, "a");
	strv_add(&b, "b");
	reqhash_packages(&a, ha);
	reqhash_packages(&b, hb);
	sha256_hex("a b", 3, want);
	is_str(ha, want, "packages hash: duplicates, order and + ignored");
	is_str(hb, want, "packages hash of [a, b] is sha256(\"a b\")");
	strv_clear(&a);
	strv_clear(&b);

	/* Only one leading "+" goes: "++a" stays "+a". */
	strv_add(&a, "++a");
	reqhash_packages(&a, ha);
	sha256_hex("+a", 2, want);
	is_str(ha, want, "packages hash strips one + only");
	strv_clear(&a);

	reqhash_packages(&a, ha);
	sha256_hex("", 0, want);
	is_str(ha, want, "packages hash of [] is sha256(\"\")");
}

/* The four request vectors of the reference. */
static void
hash_reference(void)
{
	hash_is("{\"distro\":\"test\",\"version\":\"test\","
	    "\"target\":\"testtarget/testsubtarget\",\"profile\":\"test\","
	    "\"packages\":[\"test\"]}",
	    "525e19496bd8d47b9b63aa5fb2b2f5da467558893d39a42eb32210007fd57800",
	    "reference vector: distro test");
	hash_is("{" HASH_BASE ",\"packages\":[\"test1\",\"zzz\",\"test2\","
	    "\"aaa\"],\"diff_packages\":true}",
	    "1c4a79c6b711a576996cf9a5e7046a4581008c4466574096266f0e6ea4208fbc",
	    "reference vector: diff_packages true");
	hash_is("{" HASH_BASE ",\"packages\":[\"aaa\",\"test2\",\"zzz\","
	    "\"test1\",\"zzz\"],\"diff_packages\":true}",
	    "1c4a79c6b711a576996cf9a5e7046a4581008c4466574096266f0e6ea4208fbc",
	    "same hash in another order with a duplicate");
	hash_is("{" HASH_BASE ",\"packages\":[\"test1\",\"zzz\",\"test2\","
	    "\"aaa\"],\"diff_packages\":false}",
	    "c5a849e05b60611b465042594fc3489a44f7695c3d09e36433a577ee772ad7b7",
	    "reference vector: diff_packages false");
	hash_is("{" HASH_BASE ",\"packages\":[\"zzz\",\"aaa\",\"test1\","
	    "\"test2\"],\"diff_packages\":\"no\"}",
	    "c5a849e05b60611b465042594fc3489a44f7695c3d09e36433a577ee772ad7b7",
	    "lax \"no\" hashes as False");
	hash_is("{" HASH_BASE ",\"defaults\":\"echo\"}",
	    "ba50558496f8fead41e8d5bc72afd1ad7d27bc053afb550a8bf6ee3bbcc64952",
	    "reference vector: defaults echo");
}

/* Fields that must, or must not, change the hash. */
static void
hash_fields(void)
{
	char	base[65], a[65], b[65];

	/* Worked out with the same Python expression as the reference. */
	hash_of("{" HASH_BASE "}", base);
	is_str(base,
	    "9b5d92cea9c3974a81a4e9f220472b74424ca073647a86ba95a8daafbc1a0eb6",
	    "base request");
	hash_is("{" HASH_BASE ",\"filesystem\":\"squashfs\"}",
	    "d82afe8f692b52dbab3b824298618ef1c881b793055286da86ed7bc753bfcfe2",
	    "filesystem changes the hash");
	hash_is("{" HASH_BASE ",\"repositories_mode\":\"append\"}",
	    "56ba2e3fc8abf749d8873213dccf02db40918572118ad6f6a52f8ffb65cca17c",
	    "repositories_mode changes the hash");
	hash_is("{" HASH_BASE ",\"rootfs_size_mb\":100}",
	    "cc76c76f0dcf6d392bbe0f155a67c4bda2d61437217612e44e3d7c95dffbda83",
	    "rootfs_size_mb 100 hashes as \"100\"");
	hash_is("{" HASH_BASE ",\"rootfs_size_mb\":\" 100 \"}",
	    "cc76c76f0dcf6d392bbe0f155a67c4bda2d61437217612e44e3d7c95dffbda83",
	    "rootfs_size_mb \" 100 \" is the same int");

	hash_of("{" HASH_BASE ",\"defaults\":null}", a);
	hash_of("{" HASH_BASE ",\"defaults\":\"\"}", b);
	is_str(a, base, "null defaults hash as absent");
	is_str(b, base, "\"\" defaults hash as null");
	hash_of("{" HASH_BASE ",\"rootfs_size_mb\":null,\"filesystem\":null,"
	    "\"client\":\"luci/1\",\"url\":\"x\"}", a);
	is_str(a, base, "nulls, client and unknown keys do not count");
	hash_of("{" HASH_BASE ",\"repositories_mode\":\"replace\","
	    "\"distro\":\"openwrt\",\"version_code\":\"\"}", a);
	is_str(a, base, "explicit defaults hash as absent ones");
	hash_of("{\"version\":\"1.2.3\",\"target\":\"testtarget/"
	    "testsubtarget\",\"profile\":\"testvendor,testprofile\"}", a);
	hash_of("{\"version\":\"1.2.3\",\"target\":\"testtarget/"
	    "testsubtarget\",\"profile\":\"testvendor_testprofile\"}", b);
	is_str(a, b, "profile is hashed after , becomes _");
	ok(strcmp(a, base) != 0, "an alias profile hashes differently");
	hash_of("{" HASH_BASE ",\"packages_versions\":{\"a\":\"1\"},"
	    "\"packages\":[\"zzz\"]}", a);
	hash_of("{" HASH_BASE ",\"packages_versions\":{\"a\":\"1\"}}", b);
	is_str(a, b, "packages are ignored when packages_versions is set");
}

/* repr() of repository_keys and repositories, and json.dumps escapes. */
static void
hash_python(void)
{
	/*
	 * "it's\nkey" holds ' and no ", so repr picks double quotes and
	 * escapes only the newline: str([k]) is ["it's\nkey"] with a
	 * backslash and an n.
	 */
	hash_is("{" HASH_BASE ",\"repository_keys\":[\"it's\\nkey\"]}",
	    "64835f6a6db3d83be0c699f27194c6caffa58bc8ba7c15ddceff67618636a93d",
	    "repr of a key with a quote and a newline");
	/*
	 * a'b"c\d<TAB>e<U+0001>f<ä>g<U+00A0>h<U+1F600>i<U+200B>j holds both
	 * quotes, so repr keeps single quotes and escapes ' as \'; " stays;
	 * \ doubles; TAB is \t; U+0001 is \x01; ä and U+1F600 are
	 * printable and stay raw; U+00A0 (Zs) is \xa0; U+200B (Cf) is
	 * \u200b: ['a\'b"c\\d\te\x01fäg\xa0h😀i\u200bj'].
	 */
	hash_is("{" HASH_BASE ",\"repository_keys\":[\"a'b\\\"c\\\\d\\te"
	    "\\u0001f\\u00e4g\\u00a0h\\ud83d\\ude00i\\u200bj\"]}",
	    "0c834fd99c8ad994bc7be8268e372eb39b8532b33588db50c8c6847d7516e039",
	    "repr escapes: both quotes, controls, unprintables");
	/*
	 * Insertion order, and the URL with a ' picks double quotes:
	 * {'feed_1': "https://example.org/a'b", 'x.y': 'http://example.org/p'}
	 */
	hash_is("{" HASH_BASE ",\"repositories\":{\"feed_1\":"
	    "\"https://example.org/a'b\",\"x.y\":\"http://example.org/p\"}}",
	    "0000ead951d5f846c75fb8e46c2f9f246e86e0800b411f0f3c1364e3d1498641",
	    "repr of repositories in insertion order");
	/*
	 * sort_keys puts test1 first; ensure_ascii writes ä as \u00e4 and
	 * U+1D400 as the surrogate pair \ud835\udc00:
	 * {"test1": "1.0~r\ud835\udc00", "test2": "2.0-\u00e4"}
	 */
	hash_is("{" HASH_BASE ",\"packages_versions\":{\"test2\":"
	    "\"2.0-\\u00e4\",\"test1\":\"1.0~r\xf0\x9d\x90\x80\"}}",
	    "89f4cdb422687458bd53ef5b42ed92b2396486a8edae7e9a2823efc9557fb824",
	    "json.dumps of packages_versions with non-ASCII values");
}

/* A request built by hand, with fields never filled, still hashes. */
static void
hash_by_hand(void)
{
	static char	version[] = "1.2.3", profile[] = "testprofile";
	static char	target[] = "testtarget/testsubtarget";
	struct request	r;
	char		a[65], b[65];

	memset(&r, 0, sizeof r);
	r.version = version;
	r.target = target;
	r.profile = profile;
	reqhash_compute(&r, a);
	hash_of("{" HASH_BASE "}", b);
	is_str(a, b, "NULL distro, version_code, mode take their defaults");
}

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	hash_packages();
	hash_reference();
	hash_fields();
	hash_python();
	hash_by_hand();
	return (done_testing());
}

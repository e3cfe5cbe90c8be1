/*
 * pkgindex.c: index.json (v1 and v2), opkg Packages with ABI suffixes,
 * feeds.conf, the kmods directory and the package map, with the reference
 * server's cases, its snapshot Packages fixture, and junk.
 */
#include <stdlib.h>

#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkgindex.h"
#include "t/unit/tap.h"

static char	*pkgindex_test_dump(const struct pkgindex *);
static int	 pkgindex_test_json(const char *, struct pkgindex *);
static int	 pkgindex_test_packages(const char *, struct pkgindex *);
static char	*pkgindex_test_feeds(const char *);
static void	 pkgindex_test_fixture(void);
static void	 pkgindex_test_reference(void);
static void	 pkgindex_test_json_junk(void);
static void	 pkgindex_test_packages_junk(void);
static void	 pkgindex_test_map(void);
static void	 pkgindex_test_caps(void);
static void	 pkgindex_test_feeds_conf(void);
static void	 pkgindex_test_kmods(void);

/* "arch|name=version name=version ..." for one-line comparisons. */
static char *
pkgindex_test_dump(const struct pkgindex *idx)
{
	struct strv	 sv = STRV_INITIALIZER;
	char		*list, *out;
	size_t		 i;

	for (i = 0; i < idx->n; i++)
		strv_addf(&sv, "%s=%s", idx->v[i].name, idx->v[i].version);
	list = strv_join(&sv, " ");
	xasprintf(&out, "%s|%s", idx->architecture != NULL ?
	    idx->architecture : "(none)", list);
	free(list);
	strv_clear(&sv);
	return (out);
}

/* Parses a NUL-terminated index.json; prints and frees the cause. */
static int
pkgindex_test_json(const char *text, struct pkgindex *idx)
{
	char	*cause = NULL;
	int	 rc;

	rc = pkgindex_parse_json(text, strlen(text), idx, &cause);
	if (rc == -1) {
		ok(cause != NULL && *cause != '\0', "the failure has a cause");
		printf("# cause: %s\n", cause != NULL ? cause : "(null)");
	} else
		ok(cause == NULL, "no cause on success");
	free(cause);
	return (rc);
}

/* Parses a NUL-terminated Packages text. */
static int
pkgindex_test_packages(const char *text, struct pkgindex *idx)
{
	char	*cause = NULL;
	int	 rc;

	rc = pkgindex_parse_packages(text, strlen(text), idx, &cause);
	if (rc == -1) {
		ok(cause != NULL && *cause != '\0', "the failure has a cause");
		printf("# cause: %s\n", cause != NULL ? cause : "(null)");
	}
	free(cause);
	return (rc);
}

/* The feed names of a feeds.conf, space-joined. */
static char *
pkgindex_test_feeds(const char *text)
{
	struct strv	 sv = STRV_INITIALIZER;
	char		*out;
	size_t		 n;

	n = pkgindex_parse_feeds_conf(text, strlen(text), &sv);
	is_int(n, sv.n, "the count returned is the count added");
	out = strv_join(&sv, " ");
	strv_clear(&sv);
	return (out);
}

/* The reference's snapshot Packages fixture (testarch/base). */
static void
pkgindex_test_fixture(void)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	const char	*top;
	char		*path, *buf = NULL, *cause = NULL, *dump;
	size_t		 len = 0;

	if ((top = getenv("ASUD_TOP_SRCDIR")) == NULL || *top == '\0')
		top = ASUD_SRCDIR;
	xasprintf(&path, "%s/t/data/unit/Packages.testarch", top);
	ok(fs_read_file(path, 1 << 20, &buf, &len) == 0, "fixture read");
	is_int(pkgindex_parse_packages(buf, len, &idx, &cause), 0,
	    "fixture parses");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "mips_mips32|base-files=214-r12467-5ea1b1ecd1 "
	    "block-mount=2020-01-21-deb745f8-1 "
	    "blockd=2020-01-21-deb745f8-1", "fixture: three packages");
	is_str(pkgindex_lookup(&idx, "blockd"), "2020-01-21-deb745f8-1",
	    "lookup blockd");
	ok(pkgindex_lookup(&idx, "libc") == NULL, "libc is not listed");
	free(dump);
	free(cause);
	free(buf);
	free(path);
	pkgindex_free(&idx);
}

/* test_util.py's test_get_packages_versions, one source at a time. */
static void
pkgindex_test_reference(void)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	char		*dump;
	const char	*packages =
	    "Package: libusb-1.0-0\n"
	    "ABIVersion: -0\n"
	    "Version: 1.2.3\n"
	    "Architecture: x86_64\n"
	    "\n"
	    "Package: libpython-3.3-3\n"
	    "ABIVersion: -3\n"
	    "Version: 1.2.3\n"
	    "\n"
	    "Package: bort\n"
	    "Version: 9.9.9\n"
	    "\n"
	    "\n"
	    "\n";
	const char	*v1 = "{\"architecture\": \"aarch_generic\", "
	    "\"packages\": {\"libusb-1.0-0\": \"1.2.3\", "
	    "\"libpython-3.3-3\": \"1.2.3\", \"bort\": \"9.9.9\"}}";
	const char	*v2 = "{\"version\": 2, "
	    "\"architecture\": \"aarch_generic\", "
	    "\"packages\": {\"libusb-1.0\": \"1.2.3\", "
	    "\"libpython-3.3\": \"1.2.3\", \"bort\": \"9.9.9\"}}";

	is_int(pkgindex_test_packages(packages, &idx), 0, "Packages parses");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "x86_64|bort=9.9.9 libpython-3.3=1.2.3 libusb-1.0=1.2.3",
	    "Packages: ABI suffixes stripped, architecture x86_64");
	free(dump);
	pkgindex_free(&idx);

	is_int(pkgindex_test_json(v1, &idx), PKGINDEX_OLD,
	    "v1 index.json says: read Packages instead");
	is_int(idx.n, 0, "and adds nothing");
	ok(idx.architecture == NULL, "not even the architecture");
	is_int(pkgindex_parse_json_any(v1, strlen(v1), &idx, NULL), 0,
	    "v1 index.json read anyway");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "aarch_generic|bort=9.9.9 libpython-3.3-3=1.2.3 "
	    "libusb-1.0-0=1.2.3", "v1 index.json kept as the last resort");
	free(dump);
	pkgindex_free(&idx);

	is_int(pkgindex_parse_json_any("[", 1, &idx, NULL), -1,
	    "junk is junk to parse_json_any too");
	is_int(pkgindex_test_json(v2, &idx), 0, "v2 index.json is used");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "aarch_generic|bort=9.9.9 libpython-3.3=1.2.3 "
	    "libusb-1.0=1.2.3", "v2 index.json as-is");
	free(dump);
	pkgindex_free(&idx);
}

/* index.json that is not what it should be. */
static void
pkgindex_test_json_junk(void)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	char		*dump, *deep;
	size_t		 i;

	is_int(pkgindex_test_json("", &idx), -1, "empty text");
	is_int(pkgindex_test_json("[]", &idx), -1, "an array");
	is_int(pkgindex_test_json("null", &idx), -1, "null");
	is_int(pkgindex_test_json("\"x\"", &idx), -1, "a string");
	is_int(pkgindex_test_json("{\"version\": 2,", &idx), -1, "cut short");
	is_int(pkgindex_test_json("{} {}", &idx), -1, "two objects");
	is_int(pkgindex_test_json("{\"a\": \"\xff\"}", &idx), -1,
	    "invalid UTF-8");
	deep = xmalloc(2 * 1000 + 20);
	strcpy(deep, "{\"packages\":");
	for (i = 0; i < 1000; i++)
		strcat(deep, "[");
	for (i = 0; i < 1000; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	is_int(pkgindex_test_json(deep, &idx), -1, "nested 1000 deep");
	free(deep);
	is_int(idx.n, 0, "failures add nothing");
	ok(idx.architecture == NULL, "failures set no architecture");

	is_int(pkgindex_test_json("{}", &idx), PKGINDEX_OLD, "{} is old");
	is_int(pkgindex_test_json("{\"version\": \"2\"}", &idx),
	    PKGINDEX_OLD, "a string version is not a number");
	is_int(pkgindex_test_json("{\"version\": null}", &idx),
	    PKGINDEX_OLD, "a null version");
	is_int(pkgindex_test_json("{\"version\": true}", &idx),
	    PKGINDEX_OLD, "true is 1");
	is_int(pkgindex_test_json("{\"version\": [2]}", &idx),
	    PKGINDEX_OLD, "a list version");
	is_int(pkgindex_test_json("{\"version\": 1}", &idx),
	    PKGINDEX_OLD, "version 1");
	is_int(pkgindex_test_json("{\"version\": 1.5}", &idx),
	    PKGINDEX_OLD, "version 1.5");
	is_int(pkgindex_test_json("{\"version\": 2.0}", &idx), 0,
	    "version 2.0");
	is_int(pkgindex_test_json("{\"version\": 3}", &idx), 0, "version 3");
	is_int(pkgindex_test_json("{\"version\": 2, \"version\": 1}", &idx),
	    PKGINDEX_OLD, "the last version key wins");
	is_int(pkgindex_test_json("{\"version\": 2, \"version\": null}",
	    &idx), PKGINDEX_OLD, "a later null version wins");
	is_int(pkgindex_test_json("{\"x\": {\"version\": 2}}", &idx),
	    PKGINDEX_OLD, "a nested version does not count");
	is_int(idx.n, 0, "still nothing added");

	is_int(pkgindex_test_json("{\"version\": 2, \"architecture\": 5, "
	    "\"packages\": {\"ok\": \"1\", \"bad name\": \"1\", "
	    "\"../up\": \"1\", \"\": \"1\", \"num\": 5, "
	    "\"obj\": {\"a\": \"b\"}, "
	    "\"arr\": [\"x\"], \"after\": \"2\", \"sp\": \"1 2\", "
	    "\"nl\": \"1\\n\", \"dup\": \"1\", \"dup\": \"2\"}, "
	    "\"other\": {\"packages\": {\"hidden\": \"1\"}}}", &idx), 0,
	    "v2 with junk entries");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "(none)|after=2 dup=2 ok=1",
	    "junk skipped, last duplicate wins, only top-level packages");
	free(dump);
	pkgindex_free(&idx);

	is_int(pkgindex_test_json("{\"version\": 2, \"packages\": [\"a\"], "
	    "\"architecture\": \"../x\"}", &idx), 0, "packages as a list");
	is_int(idx.n, 0, "a list gives no packages");
	ok(idx.architecture == NULL, "an unsound architecture is dropped");
	pkgindex_free(&idx);
}

/* Packages files with junk, odd spacing and odd stanzas. */
static void
pkgindex_test_packages_junk(void)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	char		*dump;
	const char	 bin[] = "\x00\x01\xff\n\n\x7f:\x00\nPackage: \x01\n";

	is_int(pkgindex_test_packages(
	    "Package: a\nVersion: 1\nArchitecture: all\n\n"
	    "Package: b\nVersion: 2\n\n"
	    "Package: c\nVersion: 3\nArchitecture: mips_24kc\n\n"
	    "Package: d\nVersion: 4\nArchitecture: arm_cortex-a7\n", &idx), 0,
	    "architecture after all and missing ones");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "mips_24kc|a=1 b=2 c=3 d=4",
	    "the first architecture that is not all");
	free(dump);
	pkgindex_free(&idx);

	is_int(pkgindex_test_packages(
	    "package: lower\r\nVERSION:  5 \r\n\r\n"
	    "Package: libubox20240329\nVersion: 2024.03.29~eb9bcb64-r1\n"
	    "ABIVersion: 20240329\nArchitecture: mips_24kc\n"
	    "Description:  Basic utility library\n continued\n\n"
	    "Package: first\nPackage: second\nVersion: 1\n\n"
	    "Package: abi-not-suffix\nABIVersion: 7\nVersion: 1\n\n"
	    "Package: 0\nABIVersion: 0\nVersion: 1\n\n"
	    "Package: noversion\n\n"
	    "Version: 1\n\n"
	    "Package: junkline\nthis is no header\nVersion: 1\n\n"
	    "Package: folded\n more\nVersion: 1\n\n"
	    "Package: bad name\nVersion: 1\n\n"
	    "Package: badver\nVersion: 1 2\n\n"
	    "Bad Field: x\nPackage: afterbad\nVersion: 1\n\n"
	    "\n\n\n"
	    "Package: last\nVersion: 9", &idx), 0, "odd stanzas");
	dump = pkgindex_test_dump(&idx);
	is_str(dump, "mips_24kc|abi-not-suffix=1 first=1 last=9 libubox=2024."
	    "03.29~eb9bcb64-r1 lower=5",
	    "field names in any case, CRLF, first field wins, ABI strip, "
	    "junk skipped");
	free(dump);
	pkgindex_free(&idx);

	is_int(pkgindex_parse_packages(bin, sizeof bin - 1, &idx, NULL), 0,
	    "binary junk parses to nothing");
	is_int(idx.n, 0, "no entries from binary junk");
	is_int(pkgindex_parse_packages(NULL, 0, &idx, NULL), 0,
	    "no text at all");
	is_int(pkgindex_test_packages("", &idx), 0, "empty text");
	is_int(idx.n, 0, "no entries from nothing");
	pkgindex_free(&idx);
}

/* The map: set, lookup, merge, order. */
static void
pkgindex_test_map(void)
{
	struct pkgindex	 a = PKGINDEX_INITIALIZER, b = PKGINDEX_INITIALIZER;
	char		*dump;

	is_int(pkgindex_set(&a, "zlib", "1"), 0, "set zlib");
	is_int(pkgindex_set(&a, "busybox", "1"), 0, "set busybox");
	is_int(pkgindex_set(&a, "kmod-x", "1"), 0, "set kmod-x");
	is_int(pkgindex_set(&a, "busybox", "2"), 0, "set busybox again");
	is_int(pkgindex_set(&a, "bad/name", "1"), -1, "a bad name");
	is_int(pkgindex_set(&a, "ok", ""), -1, "an empty version");
	is_int(pkgindex_set(&a, "", "1"), -1, "an empty name");
	dump = pkgindex_test_dump(&a);
	is_str(dump, "(none)|busybox=2 kmod-x=1 zlib=1",
	    "sorted, unique, last wins");
	free(dump);

	pkgindex_set(&b, "kmod-x", "6.6");
	pkgindex_set(&b, "kmod-y", "6.6");
	pkgindex_set(&b, "aaa", "0");
	b.architecture = xstrdup("x86_64");
	is_int(pkgindex_merge(&a, &b), 0, "merge");
	dump = pkgindex_test_dump(&a);
	is_str(dump, "x86_64|aaa=0 busybox=2 kmod-x=6.6 kmod-y=6.6 zlib=1",
	    "merged: the source wins, architecture taken when missing");
	free(dump);
	free(b.architecture);
	b.architecture = xstrdup("other");
	is_int(pkgindex_merge(&a, &b), 0, "merge again");
	is_str(a.architecture, "x86_64", "the first architecture stays");
	is_int(a.n, 5, "no duplicates from merging twice");
	is_int(b.n, 3, "the source is untouched");
	is_str(pkgindex_lookup(&a, "aaa"), "0", "lookup first");
	is_str(pkgindex_lookup(&a, "zlib"), "1", "lookup last");
	ok(pkgindex_lookup(&a, "zzz") == NULL, "lookup past the end");
	ok(pkgindex_lookup(&a, "a") == NULL, "lookup before the start");
	is_int(pkgindex_test_json("{\"version\":2,\"architecture\":\"y\","
	    "\"packages\":{\"zlib\":\"9\",\"new\":\"1\"}}", &a), 0,
	    "parse into a full map");
	dump = pkgindex_test_dump(&a);
	is_str(dump, "x86_64|aaa=0 busybox=2 kmod-x=6.6 kmod-y=6.6 new=1 "
	    "zlib=9", "a parsed file updates the map");
	free(dump);
	pkgindex_free(&a);
	pkgindex_free(&b);
	is_int(a.n, 0, "freed map is empty");
	ok(pkgindex_lookup(&a, "x") == NULL, "lookup in an empty map");
	is_int(pkgindex_merge(&a, &b), 0, "merge of empty maps");
	is_int(a.n, 0, "still empty");
	pkgindex_free(&a);
}

/* Size and count limits. */
static void
pkgindex_test_caps(void)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	char		*text, *p, *cause = NULL;
	size_t		 i, n = PKGINDEX_MAX_ENTRIES + 1;

	/* The length is checked before a byte is read. */
	is_int(pkgindex_parse_json("{}", (size_t)PKGINDEX_MAX_TEXT + 1, &idx,
	    &cause), -1, "index.json over the size limit");
	ok(cause != NULL, "with a cause");
	free(cause);
	cause = NULL;
	is_int(pkgindex_parse_packages("", (size_t)PKGINDEX_MAX_TEXT + 1,
	    &idx, &cause), -1, "Packages over the size limit");
	free(cause);
	cause = NULL;

	p = text = xmalloc(n * 32 + 1);
	for (i = 0; i < n; i++)
		p += sprintf(p, "Package: p%zu\nVersion: 1\n\n", i);
	is_int(pkgindex_parse_packages(text, (size_t)(p - text), &idx,
	    &cause), -1, "one package too many");
	ok(cause != NULL && strstr(cause, "more than") != NULL,
	    "the cause says so");
	is_int(idx.n, 0, "nothing kept");
	free(cause);
	cause = NULL;
	p = text;
	for (i = 0; i + 1 < n; i++)
		p += sprintf(p, "Package: p%zu\nVersion: 1\n\n", i);
	is_int(pkgindex_parse_packages(text, (size_t)(p - text), &idx,
	    &cause), 0, "exactly the limit");
	is_int(idx.n, PKGINDEX_MAX_ENTRIES, "all kept");
	is_int(pkgindex_set(&idx, "one-more", "1"), -1, "set on a full map");
	is_int(pkgindex_set(&idx, "p7", "2"), 0, "replacing still works");
	is_int(pkgindex_test_json("{\"version\":2,\"packages\":"
	    "{\"extra\":\"1\"}}", &idx),
	    -1, "a file that would overflow the map");
	ok(pkgindex_lookup(&idx, "extra") == NULL, "and the map is unchanged");
	is_str(pkgindex_lookup(&idx, "p7"), "2", "p7 kept its version");
	free(text);
	pkgindex_free(&idx);
}

/* feeds.conf: the reference's case and junk. */
static void
pkgindex_test_feeds_conf(void)
{
	char	*got;

	got = pkgindex_test_feeds(
	    "src-git packages "
	    "https://git.openwrt.org/feed/packages.git^b1635b8\n"
	    "src-git luci https://git.openwrt.org/project/luci.git^63d8b79\n");
	is_str(got, "packages luci", "the reference's feeds.conf");
	free(got);
	got = pkgindex_test_feeds(
	    "# src-git old https://x\n"
	    "\n"
	    "   \t \n"
	    "lonely\n"
	    "src-git ../escape https://x\n"
	    "src-git .. https://x\n"
	    "src-git a/b https://x\n"
	    "\tsrc-git  routing\thttps://x\r\n"
	    "src-git routing https://y\n"
	    "src-link telephony\n"
	    "src-git .hidden.ok https://x\n");
	is_str(got, "routing telephony .hidden.ok",
	    "comments, blanks, one word, path tricks and repeats skipped");
	free(got);
	got = pkgindex_test_feeds("");
	is_str(got, "", "empty feeds.conf");
	free(got);
}

/* The kmod split and the kmods directory name. */
static void
pkgindex_test_kmods(void)
{
	static const struct {
		const char	*version;
		int		 want;
	} cases[] = {
		/* test_util.py's test_check_kmod_split */
		{ "22.07.3", 0 },
		{ "23.05.0-rc3", 0 },
		{ "23.05.2", 0 },
		{ "23.05.5", 0 },
		{ "23.05.6", 1 },
		{ "23.05-SNAPSHOT", 1 },
		{ "24.10.0-rc1", 1 },
		{ "24.10.2", 1 },
		{ "24.10-SNAPSHOT", 1 },
		{ "25.12.2", 1 },
		{ "26.10-SNAPSHOT", 1 },
		{ "SNAPSHOT", 1 },
		/* more */
		{ "23.05.7", 1 },
		{ "23.05.6-rc1", 1 },
		{ "22.03-SNAPSHOT", 0 },
		{ "21.02.7", 0 },
		{ "1.2.3", 0 },
		{ "snapshot", 0 },
		{ "24", 0 },
		{ "x.y", 0 },
		{ "", 0 }
	};
	char	*dir, *name;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		xasprintf(&name, "kmod split for \"%s\" is %d",
		    cases[i].version, cases[i].want);
		is_int(pkgindex_has_kmods(cases[i].version), cases[i].want,
		    name);
		free(name);
	}
	ok(!pkgindex_has_kmods(NULL), "no version, no kmods");

	/* test_util.py's test_get_kernel_version */
	dir = pkgindex_kmods_dir("24.10.0", "6.6.63", "1",
	    "ed1b0ea64b60bcea5dd4112f33d0dcbe");
	is_str(dir, "6.6.63-1-ed1b0ea64b60bcea5dd4112f33d0dcbe",
	    "kmods directory name");
	free(dir);
	ok(pkgindex_kmods_dir("23.05.5", "5.15.167", "1", "abc") == NULL,
	    "no kmods directory before the split");
	ok(pkgindex_kmods_dir("SNAPSHOT", NULL, "1", "abc") == NULL,
	    "a missing part");
	ok(pkgindex_kmods_dir("SNAPSHOT", "6.6", "", "abc") == NULL,
	    "an empty part");
	ok(pkgindex_kmods_dir("SNAPSHOT", "6.6", "1", "../x") == NULL,
	    "a path trick");
	ok(pkgindex_kmods_dir("SNAPSHOT", "..", "1", "abc") == NULL,
	    "a dot part");
	ok(pkgindex_kmods_dir("SNAPSHOT", "6.6", "1", "a b") == NULL,
	    "a blank");
}

/* Runs every group of checks; the exit code says whether all passed. */
int
main(void)
{
	pkgindex_test_fixture();
	pkgindex_test_reference();
	pkgindex_test_json_junk();
	pkgindex_test_packages_junk();
	pkgindex_test_map();
	pkgindex_test_caps();
	pkgindex_test_feeds_conf();
	pkgindex_test_kmods();
	return (done_testing());
}

/*
 * repos.c: tests for imagebuilder/repos.c: the allow-list on parsed URLs
 * (the reference's edge cases and the tricks it misses), usign
 * fingerprints and key checks, the merged repository files of the
 * reference's test_build.py, and writing into an ImageBuilder for one
 * build with everything put back after, also after a crash.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/keys.h"
#include "imagebuilder/repos.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

/* The reference's test key (tests/test_util.py). */
#define TR_KEY \
	"RWSrHfFmlHslUcLbXFIRp+eEikWF9z1N77IJiX5Bt/nJd1a/x+L+SU89"
#define TR_KEY_FP	"ab1df166947b2551"
/* OpenWrt's 23.05 release key, as in a router's /etc/opkg/keys/. */
#define TR_KEY2305 \
	"untrusted comment: Public usign key for 23.05 release builds\n" \
	"RWRoKXAGS4epF5gGGh7tVQxiJIuZWQ0geStqgCkwRyviQCWXpufBggaP\n"
#define TR_KEY2305_FP	"682970064b87a917"
#define TR_PEM		"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyutJPZSUrGsKNqJKvVRDpsR9VMJt\n" \
	"iV9us9QCLgR3ldqb5Q7ZSBj+3ZeK6bM0yph11A7HmwSAKJytXQae8a8pNQ==\n" \
	"-----END PUBLIC KEY-----\n"
/* The 24.10 buildbot ImageBuilder's file (reference/imagebuilder.md 4.3). */
#define TR_CONF		"## Remote package repositories\n" \
	"src/gz openwrt_core https://downloads.openwrt.org/releases/24.10.0/" \
	"targets/ath79/generic/packages\n" \
	"src/gz openwrt_base https://downloads.openwrt.org/releases/24.10.0/" \
	"packages/mips_24kc/base\n" \
	"\n" \
	"## This is the local package repository, do not remove!\n" \
	"src imagebuilder file:packages\n" \
	"\n" \
	"option check_signature\n"
/* What a merge keeps of TR_CONF: its lines but the blank ones. */
#define TR_CONF_KEPT	"## Remote package repositories\n" \
	"src/gz openwrt_core https://downloads.openwrt.org/releases/24.10.0/" \
	"targets/ath79/generic/packages\n" \
	"src/gz openwrt_base https://downloads.openwrt.org/releases/24.10.0/" \
	"packages/mips_24kc/base\n" \
	"## This is the local package repository, do not remove!\n" \
	"src imagebuilder file:packages\n" \
	"option check_signature\n"
#define TR_APK		"https://downloads.openwrt.org/snapshots/targets/" \
	"ath79/generic/packages/packages.adb\n" \
	"https://downloads.openwrt.org/snapshots/packages/mips_24kc/base/" \
	"packages.adb\n"

static char	*tr_top;

/* One allow-list case. */
struct tr_allow {
	const char	*url;
	const char	*list;		/* space-separated prefixes */
	int		 want;
	const char	*name;
};

static const struct tr_allow tr_allow_cases[] = {
	/* The reference's tests/test_util.py. */
	{ "https://example.com/repo", "", 0, "empty list allows nothing" },
	{ "https://downloads.openwrt.org/releases/23.05",
	    "https://downloads.openwrt.org", 1, "host prefix allows a path" },
	{ "https://downloads.openwrt.org.evil.com/packages",
	    "https://downloads.openwrt.org", 0, "subdomain bypass" },
	{ "https://downloads.openwrt.org@evil.com/packages",
	    "https://downloads.openwrt.org", 0, "userinfo bypass" },
	{ "http://downloads.openwrt.org/releases",
	    "https://downloads.openwrt.org", 0, "scheme mismatch" },
	{ "https://downloads.openwrt.org/snapshots",
	    "https://downloads.openwrt.org/releases", 0, "other path" },
	{ "https://downloads.openwrt.org/releases/23.05",
	    "https://downloads.openwrt.org/releases", 1, "path below" },
	/* The reference's §5.5 example and tricks it does not test. */
	{ "https://downloads.openwrt.org/releases",
	    "https://downloads.openwrt.org/releases", 0,
	    "the prefix itself is not below it" },
	{ "https://downloads.openwrt.org/releases/",
	    "https://downloads.openwrt.org/releases", 1, "prefix plus /" },
	{ "https://downloads.openwrt.org/releases-evil/x",
	    "https://downloads.openwrt.org/releases", 0,
	    "path boundary: /releases-evil" },
	{ "https://downloads.openwrt.org/releases/x",
	    "https://downloads.openwrt.org/releases/", 1,
	    "trailing slash of the prefix dropped" },
	{ "https://downloads.openwrt.org/releases/x",
	    "https://downloads.openwrt.org/releases//", 1,
	    "trailing slashes of the prefix dropped" },
	{ "https://evil.com/downloads.openwrt.org/",
	    "https://downloads.openwrt.org", 0, "host in the path" },
	{ "https://downloads.openwrt.org", "https://downloads.openwrt.org", 0,
	    "no path at all" },
	{ "https://downloads.openwrt.org/", "https://downloads.openwrt.org", 1,
	    "root path under a bare host" },
	{ "https://downloads.openwrt.org:443@evil.com/x",
	    "https://downloads.openwrt.org", 0, "port-looking userinfo" },
	{ "https://user:pw@downloads.openwrt.org/x",
	    "https://downloads.openwrt.org", 0, "any userinfo refused" },
	{ "https://downloads.openwrt.org%2eevil.com/x",
	    "https://downloads.openwrt.org", 0, "percent-encoded dot in host" },
	{ "https://downloads%2eopenwrt%2eorg/x",
	    "https://downloads.openwrt.org", 0, "percent-encoded host" },
	{ "https://downloads.openwrt.org%2f@evil.com/x",
	    "https://downloads.openwrt.org", 0, "encoded slash and userinfo" },
	{ "https://downloads.openwrt.org%2fx",
	    "https://downloads.openwrt.org", 0, "encoded slash in host" },
	{ "https://downloads.openwrt.org\\@evil.com/x",
	    "https://downloads.openwrt.org", 0, "backslash before @" },
	{ "https://downloads.openwrt.org\\.evil.com/x",
	    "https://downloads.openwrt.org", 0, "backslash in host" },
	{ "https://evil.com\\downloads.openwrt.org/x",
	    "https://downloads.openwrt.org", 0, "backslash as a slash" },
	{ "HTTPS://Downloads.OpenWrt.ORG/releases/x",
	    "https://downloads.openwrt.org/releases", 1,
	    "scheme and host case-insensitive" },
	{ "https://downloads.openwrt.org/releases/x",
	    "HTTPS://DOWNLOADS.OPENWRT.ORG/releases", 1,
	    "allow-list case-insensitive too" },
	{ "https://downloads.openwrt.org/RELEASES/x",
	    "https://downloads.openwrt.org/releases", 0,
	    "path case-sensitive" },
	{ "https://downloads.openwrt.org:443/releases/x",
	    "https://downloads.openwrt.org/releases", 1, "default port 443" },
	{ "http://downloads.openwrt.org:80/releases/x",
	    "http://downloads.openwrt.org/releases", 1, "default port 80" },
	{ "https://downloads.openwrt.org/releases/x",
	    "https://downloads.openwrt.org:443/releases", 1,
	    "default port in the allow-list" },
	{ "https://downloads.openwrt.org:8443/releases/x",
	    "https://downloads.openwrt.org/releases", 0, "other port" },
	{ "https://downloads.openwrt.org:80/releases/x",
	    "https://downloads.openwrt.org/releases", 0,
	    "http's port on https" },
	{ "https://downloads.openwrt.org:/releases/x",
	    "https://downloads.openwrt.org/releases", 1, "empty port" },
	{ "https://downloads.openwrt.org:0443/releases/x",
	    "https://downloads.openwrt.org/releases", 1, "port 0443 is 443" },
	{ "https://downloads.openwrt.org:99999/releases/x",
	    "https://downloads.openwrt.org/releases", 0, "port out of range" },
	{ "https://downloads.openwrt.org:443x/releases/x",
	    "https://downloads.openwrt.org/releases", 0, "port not a number" },
	{ "https://downloads.openwrt.org:8443/releases/x",
	    "https://downloads.openwrt.org:8443/releases", 1, "same port" },
	{ "https://downloads.openwrt.org/releases/../snapshots/x",
	    "https://downloads.openwrt.org/releases", 0, "dot-dot segment" },
	{ "https://downloads.openwrt.org/releases/./x",
	    "https://downloads.openwrt.org/releases", 0, "dot segment" },
	{ "https://downloads.openwrt.org/releases/..",
	    "https://downloads.openwrt.org/releases", 0, "dot-dot at the end" },
	{ "https://downloads.openwrt.org/releases/%2e%2e/snapshots",
	    "https://downloads.openwrt.org/releases", 0, "encoded dot-dot" },
	{ "https://downloads.openwrt.org/releases/..%2Fsnapshots",
	    "https://downloads.openwrt.org/releases", 0, "encoded slash" },
	{ "https://downloads.openwrt.org/releases/..%5csnapshots",
	    "https://downloads.openwrt.org/releases", 0, "encoded backslash" },
	{ "https://downloads.openwrt.org/releases/a..b/x",
	    "https://downloads.openwrt.org/releases", 1, "dots inside a name" },
	{ "https://downloads.openwrt.org/releases/24.10.0/packages.adb",
	    "https://downloads.openwrt.org/releases", 1, "realistic apk feed" },
	{ "https://downloads.openwrt.org/releases/x?y=/z",
	    "https://downloads.openwrt.org/releases", 1, "query ignored" },
	{ "https://downloads.openwrt.org?/releases/x",
	    "https://downloads.openwrt.org/releases", 0,
	    "path in the query does not count" },
	{ "https://downloads.openwrt.org#/releases/x",
	    "https://downloads.openwrt.org/releases", 0,
	    "path in the fragment does not count" },
	{ "https://downloads.openwrt.org /releases/x",
	    "https://downloads.openwrt.org/releases", 0, "space" },
	{ "https://downloads.openwrt.org/releases/x\n",
	    "https://downloads.openwrt.org/releases", 0, "newline" },
	{ "https://downloads.openwrt.org\xc2\xa0/releases/x",
	    "https://downloads.openwrt.org/releases", 0, "non-ASCII" },
	{ "ftp://downloads.openwrt.org/releases/x",
	    "ftp://downloads.openwrt.org/releases", 0, "only http and https" },
	{ "downloads.openwrt.org/releases/x",
	    "https://downloads.openwrt.org/releases", 0, "no scheme" },
	{ "https:/downloads.openwrt.org/releases/x",
	    "https://downloads.openwrt.org/releases", 0, "one slash" },
	{ "https:///releases/x", "https://downloads.openwrt.org/releases", 0,
	    "empty host" },
	{ "https://[2001:db8::1]/releases/x", "https://[2001:db8::1]/releases",
	    1, "IPv6 host" },
	{ "https://[2001:db8::1]:443/releases/x",
	    "https://[2001:db8::1]/releases", 1, "IPv6 host, default port" },
	{ "https://[2001:db8::1/releases/x", "https://[2001:db8::1]/releases",
	    0, "unclosed IPv6 bracket" },
	{ "https://[2001:db8::1]x/releases/x",
	    "https://[2001:db8::1]/releases", 0, "junk after the bracket" },
	{ "https://downloads.openwrt.org/releases/x",
	    "https://mirror.example.org/openwrt https://downloads.openwrt.org/"
	    "releases", 1, "second entry of the list" },
	{ "https://downloads.openwrt.org/releases/x",
	    "not-a-url https://downloads.openwrt.org/releases", 1,
	    "a broken entry is skipped" },
	{ "https://downloads.openwrt.org./releases/x",
	    "https://downloads.openwrt.org/releases", 0,
	    "trailing dot is another host" },
	{ "https://evil.com/x", "https://evil.com/x https://evil.com", 1,
	    "the host entry still allows" },
};

/* The allow-list cases of the table, and a NULL list. */
static void
test_allowed(void)
{
	struct strv	list = STRV_INITIALIZER;
	size_t		i;

	for (i = 0; i < nitems(tr_allow_cases); i++) {
		strv_split(&list, tr_allow_cases[i].list, " ");
		is_int(repos_allowed(tr_allow_cases[i].url, &list),
		    tr_allow_cases[i].want, tr_allow_cases[i].name);
		strv_clear(&list);
	}
	is_int(repos_allowed("https://downloads.openwrt.org/releases/x", NULL),
	    0, "NULL list allows nothing");
	is_int(repos_allowed(NULL, NULL), 0, "NULL URL");
}

/* The fingerprint vector and OpenWrt's published keys. */
static void
test_fingerprint(void)
{
	static const char	*keys[][2] = {
		{ "RWQviwuY4IMGvwLfs6842A0m4EZU1IjczTxKMSk3BQP8DAQLHBwdQiaU",
		    "2f8b0b98e08306bf" },
		{ "RWRNAX5vHtXWFmt+n5di7XX8rTu0w+c8X7Ihv4oCyD6tzsUwmH0A6kO0",
		    "4d017e6f1ed5d616" },
		{ "RWS1BD5w+adc3j2Hqg9+b66CvLR7NlHbsj7wjNVj0XGt/othDgIAOJS+",
		    "b5043e70f9a75cde" },
		{ "RWTTEMbygz6X95lKDAulctZy3aj15823THXfyrfXgwGbxZlXBd2brNcw",
		    "d310c6f2833e97f7" },
		{ TR_KEY2305, TR_KEY2305_FP },
		{ "  " TR_KEY "\r\n\n", TR_KEY_FP },
	};
	char		 fp[KEYS_FP_LEN + 1];
	char		*cause = NULL;
	size_t		 i;

	memset(fp, 0, sizeof fp);
	is_int(keys_usign_fingerprint(TR_KEY, fp, &cause), 0,
	    "reference vector decodes");
	is_str(fp, TR_KEY_FP, "reference vector fingerprint");
	for (i = 0; i < nitems(keys); i++) {
		memset(fp, 0, sizeof fp);
		if (keys_usign_fingerprint(keys[i][0], fp, &cause) == -1) {
			printf("# %s\n", cause);
			free(cause);
			cause = NULL;
		}
		is_str(fp, keys[i][1], "OpenWrt key fingerprint");
	}
}

/* One key that must be refused with a message starting with want. */
static void
tr_bad_key(const char *key, const char *want, const char *name)
{
	char	*cause = NULL;

	if (keys_check(key, &cause) == 0)
		ok(0, name);
	else
		ok(cause != NULL && strncmp(cause, want, strlen(want)) == 0,
		    name);
	if (cause != NULL && strncmp(cause, want, strlen(want)) != 0)
		printf("#   got '%s'\n", cause);
	free(cause);
}

/* usign and PEM key checks. */
static void
test_keys(void)
{
	char	*cause = NULL, *big, *p;
	size_t	 i;

	ok(keys_is_pem(TR_PEM), "PEM detected");
	ok(keys_is_pem("\n  " TR_PEM), "PEM after white space");
	ok(!keys_is_pem(TR_KEY), "usign is not PEM");
	is_int(keys_check(TR_KEY, &cause), 0, "usign key accepted");
	is_int(keys_check(TR_KEY2305, &cause), 0,
	    "usign key file accepted");
	is_int(keys_check(TR_PEM, &cause), 0, "PEM key accepted");
	is_int(keys_check("\r\n" "-----BEGIN PUBLIC KEY-----\r\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyutJPZSUrGsKNqJKvVRDpsR9VMJt"
	    "\r\n"
	    "iV9us9QCLgR3ldqb5Q7ZSBj+3ZeK6bM0yph11A7HmwSAKJytXQae8a8pNQ=="
	    "\r\n" "-----END PUBLIC KEY-----", &cause), 0,
	    "PEM with CRLF and no final newline accepted");
	free(cause);

	/* usign */
	tr_bad_key("", "Invalid usign key: empty", "empty key");
	tr_bad_key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "Invalid usign key: not an Ed25519", "42 zero bytes: not Ed");
	tr_bad_key("RWSrHfFmlHslUcLbXFIRp+eEikWF9z1N77IJiX5Bt/nJd1a/x+L+",
	    "Invalid usign key: 39 bytes", "too short");
	tr_bad_key(TR_KEY "AAAA", "Invalid usign key: 45 bytes", "too long");
	tr_bad_key("RWSrHfFmlHslUcLbXFIRp+eEikWF9z1N77IJiX5Bt/nJd1a/x+L+SU8",
	    "Invalid usign key: not base64", "length not a multiple of 4");
	tr_bad_key("RWSrHfFmlHslUcLbXFIRp-eEikWF9z1N77IJiX5Bt_nJd1a/x+L+SU89",
	    "Invalid usign key: not base64", "URL-safe alphabet refused");
	tr_bad_key("RWSrHfFmlHslUcLbXFIRp+eEikWF9z1N77IJ iX5Bt/nJd1a/x+L+SU89",
	    "Invalid usign key: not base64", "space inside");
	tr_bad_key("RWSrHfFmlHslUcLb=FIRp+eEikWF9z1N77IJiX5Bt/nJd1a/x+L+SU89",
	    "Invalid usign key: not base64", "padding inside");
	tr_bad_key("x\n" TR_KEY, "Invalid usign key: more than one",
	    "a first line that is no comment");
	tr_bad_key("untrusted comment: a\nuntrusted comment: b\n" TR_KEY,
	    "Invalid usign key: more than one", "three lines");
	tr_bad_key("untrusted comment: \x01\n" TR_KEY,
	    "Invalid usign key: more than one", "control byte in comment");
	tr_bad_key("../../etc/passwd", "Invalid usign key: not base64",
	    "a path");

	/* PEM */
	tr_bad_key("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZI...\n"
	    "-----END PUBLIC KEY-----\n", "Invalid PEM key: not base64",
	    "the reference's dotted stand-in key");
	tr_bad_key(TR_PEM TR_PEM, "Invalid PEM key: not one PEM block",
	    "two PEM blocks");
	tr_bad_key(TR_PEM "junk\n", "Invalid PEM key: not one PEM block",
	    "junk after the block");
	tr_bad_key("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
	    "Invalid PEM key: not one PEM block", "no body");
	tr_bad_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY"
	    "-----\n", "Invalid PEM key: not one PEM block",
	    "labels differ");
	tr_bad_key("-----BEGIN public key-----\nAAAA\n-----END public key"
	    "-----\n", "Invalid PEM key: not one PEM block",
	    "lower-case label");
	tr_bad_key("-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY"
	    "-----\n", "Invalid PEM key: not base64", "body not base64");
	tr_bad_key("-----BEGIN PUBLIC KEY-----\nAAAA\nuntrusted: x\n"
	    "-----END PUBLIC KEY-----\n", "Invalid PEM key: not base64",
	    "a header line");
	tr_bad_key("-----BEGINPUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY"
	    "-----\n", "Invalid PEM key: not one PEM block", "no space");
	big = xmalloc(KEYS_MAX + 1024);
	p = big + sprintf(big, "-----BEGIN PUBLIC KEY-----\n");
	for (i = 0; i < 130; i++)
		p += sprintf(p, "%064d\n", 0);
	sprintf(p, "-----END PUBLIC KEY-----\n");
	tr_bad_key(big, "Invalid PEM key: longer than 8192",
	    "PEM over 8 KiB refused");
	free(big);
}

/* One check of names or URLs: what it accepts, and what it refuses. */
struct tr_check {
	int		(*check)(const char *, char **);
	const char	*what;
	const char	*cause;		/* the message of every refusal */
	const char	*good[4];
	const char	*good_names[4];
	const char	*bad[12];
};

static const struct tr_check tr_checks[] = {
	{ repos_name_check, "name", "Invalid repository name",
	    { "custom-repo", "my_repo.v2", "caf\xc3\xa9" },
	    { "name accepted", "name with dot and underscore accepted",
	    "non-ASCII word name accepted" },
	    { "", "a b", "a\nsrc/gz pwned http://x.com", "a\tb", "a\rb",
	    "src/gz", "a#b", "a\\b", "a\x7f", "a\x01" } },
	{ repos_url_check, "URL", "Invalid repository URL",
	    { "https://example.com/packages", "http://example.com/packages" },
	    { "https URL accepted", "http URL accepted" },
	    { "", "https://", "ftp://example.com/x", "example.com/x",
	    "https://a.com/x y", "https://a.com/x\nsrc/gz p http://e",
	    "https://a.com/x#y", "https://a.com\\x", "HTTPS://a.com/x",
	    "https://a.com/\x01" } },
};

/* The defence-in-depth checks of names and URLs. */
static void
test_text_checks(void)
{
	const struct tr_check	*c;
	char			*cause = NULL, name[64];
	size_t			 i, k, nbad;
	int			 bad;

	for (k = 0; k < nitems(tr_checks); k++) {
		c = &tr_checks[k];
		for (i = 0; i < nitems(c->good) && c->good[i] != NULL; i++)
			is_int(c->check(c->good[i], &cause), 0,
			    c->good_names[i]);
		for (i = 0, bad = 0, nbad = 0; i < nitems(c->bad) &&
		    c->bad[i] != NULL; i++, nbad++) {
			if (c->check(c->bad[i], &cause) == 0)
				printf("# %s accepted: '%s'\n", c->what,
				    c->bad[i]);
			else if (strcmp(cause, c->cause) == 0)
				bad++;
			free(cause);
			cause = NULL;
		}
		snprintf(name, sizeof name, "every bad %s refused", c->what);
		is_int(bad, nbad, name);
	}
}

/* Checks one merge against its exact output. */
static void
tr_merge(const char *base, const char *pairs, int apk, const char *want,
    const char *name)
{
	struct strv	 names = STRV_INITIALIZER, urls = STRV_INITIALIZER;
	struct strv	 all = STRV_INITIALIZER;
	char		*got;
	size_t		 i;

	strv_split(&all, pairs, " ");
	for (i = 0; i + 1 < all.n; i += 2) {
		strv_add(&names, all.v[i]);
		strv_add(&urls, all.v[i + 1]);
	}
	got = repos_merge(base, base != NULL ? strlen(base) : 0, &names,
	    &urls, apk);
	is_str(got, want, name);
	free(got);
	strv_clear(&all);
	strv_clear(&names);
	strv_clear(&urls);
}

/* The reference's merge_repositories cases, with exact outputs. */
static void
test_merge(void)
{
	tr_merge("src/gz base https://example.com/base\n"
	    "option check_signature\n", "custom https://example.com/custom", 0,
	    "src/gz base https://example.com/base\noption check_signature\n"
	    "src/gz custom https://example.com/custom\n"
	    "src imagebuilder file:packages\n", "opkg append");
	tr_merge("", "custom https://example.com/custom", 0,
	    "src/gz custom https://example.com/custom\n"
	    "src imagebuilder file:packages\noption check_signature\n",
	    "opkg: the two required lines are added");
	tr_merge("", "foo https://example.com/foo bar https://example.com/bar",
	    0, "src/gz bar https://example.com/bar\n"
	    "src/gz foo https://example.com/foo\n"
	    "src imagebuilder file:packages\noption check_signature\n",
	    "opkg replace, sorted by name");
	tr_merge(TR_CONF, "libremesh https://feed.libremesh.org/master", 0,
	    TR_CONF_KEPT
	    "src/gz libremesh https://feed.libremesh.org/master\n",
	    "opkg append to the IB's own file: blank lines go, no duplicates");
	tr_merge("a\r\n \t\r\nb\rc", "x https://e.com/x", 0,
	    "a\nb\nc\nsrc/gz x https://e.com/x\n"
	    "src imagebuilder file:packages\noption check_signature\n",
	    "CR and CRLF line ends, blank lines of white space");
	tr_merge("# option check_signature\n# src imagebuilder file:packages\n",
	    "x https://e.com/x", 0, "# option check_signature\n"
	    "# src imagebuilder file:packages\nsrc/gz x https://e.com/x\n",
	    "required lines found anywhere in a line, as the reference does");
	tr_merge("https://example.com/a\nhttps://example.com/b\n",
	    "x https://example.com/c", 1, "https://example.com/a\n"
	    "https://example.com/b\nhttps://example.com/c\n", "apk append");
	tr_merge("", "x https://example.com/new", 1,
	    "https://example.com/new\n", "apk replace");
	tr_merge(NULL, "b https://e.com/b a https://e.com/a", 1,
	    "https://e.com/a\nhttps://e.com/b\n", "apk sorted by name");
	tr_merge("", "b https://e.com/2 a https://e.com/1 b https://e.com/3",
	    0, "src/gz a https://e.com/1\nsrc/gz b https://e.com/2\n"
	    "src/gz b https://e.com/3\nsrc imagebuilder file:packages\n"
	    "option check_signature\n", "equal names keep their order");
}

/* What a test compares: every file of the IB, with modes and hashes. */
static char *
tr_state(const char *dir)
{
	return (tutil_tree_state(dir, 2));
}

/* Writes a file below dir. */
static void
tr_write(const char *dir, const char *name, const char *data, int mode)
{
	char	*path;

	xasprintf(&path, "%s/%s", dir, name);
	if (fs_write_file(path, data, strlen(data), mode) == -1 ||
	    chmod(path, mode) == -1)
		printf("# cannot write %s: %s\n", path, strerror(errno));
	free(path);
}

/* Reads a file below dir into a new string ("" if missing). */
static char *
tr_read(const char *dir, const char *name)
{
	char	*path, *buf = NULL;
	size_t	 len;

	xasprintf(&path, "%s/%s", dir, name);
	if (fs_read_file(path, 1 << 20, &buf, &len) == -1)
		buf = xstrdup("");
	free(path);
	return (buf);
}

/* Whether a file exists below dir (not following links). */
static int
tr_exists(const char *dir, const char *name)
{
	struct stat	 st;
	char		*path;
	int		 rc;

	xasprintf(&path, "%s/%s", dir, name);
	rc = lstat(path, &st) == 0;
	free(path);
	return (rc);
}

/* A fresh opkg ImageBuilder with keys/ holding OpenWrt's 23.05 key. */
static char *
tr_ib(const char *name, int apk, int with_keys)
{
	char	*dir, *keys;

	xasprintf(&dir, "%s/%s", tr_top, name);
	fs_rmtree(dir);
	fs_mkdirs(dir, 0755);
	tr_write(dir, "Makefile", "image:\n", 0644);
	if (apk)
		tr_write(dir, "repositories", TR_APK, 0640);
	else
		tr_write(dir, "repositories.conf", TR_CONF, 0640);
	if (with_keys) {
		xasprintf(&keys, "%s/keys", dir);
		fs_mkdirs(keys, 0755);
		tr_write(keys, TR_KEY2305_FP, TR_KEY2305, 0644);
		free(keys);
	}
	return (dir);
}

/* The spec used by most injection tests. */
struct tr_spec {
	struct strv		names;
	struct strv		urls;
	struct strv		keys;
	struct repos_spec	spec;
};

/* Fills a spec: repositories as "name url ...", keys, and a mode. */
static struct repos_spec *
tr_spec(struct tr_spec *t, const char *pairs, const char *mode,
    const char *key1, const char *key2)
{
	struct strv	all = STRV_INITIALIZER;
	size_t		i;

	memset(t, 0, sizeof *t);
	strv_split(&all, pairs, " ");
	for (i = 0; i + 1 < all.n; i += 2) {
		strv_add(&t->names, all.v[i]);
		strv_add(&t->urls, all.v[i + 1]);
	}
	strv_clear(&all);
	if (key1 != NULL)
		strv_add(&t->keys, key1);
	if (key2 != NULL)
		strv_add(&t->keys, key2);
	t->spec.names = &t->names;
	t->spec.urls = &t->urls;
	t->spec.mode = mode;
	t->spec.keys = &t->keys;
	return (&t->spec);
}

/* Frees a spec. */
static void
tr_spec_free(struct tr_spec *t)
{
	strv_clear(&t->names);
	strv_clear(&t->urls);
	strv_clear(&t->keys);
}

/* Injects a spec of repositories, keys and a mode, which must succeed. */
static void
tr_inject(const char *ib, const char *pairs, const char *mode,
    const char *key1, const char *key2, const char *name)
{
	struct tr_spec	 t;
	char		*cause = NULL;

	ok(repos_inject(ib, tr_spec(&t, pairs, mode, key1, key2),
	    &cause) == 0, name);
	if (cause != NULL)
		printf("#   %s\n", cause);
	free(cause);
	tr_spec_free(&t);
}

/* A check that the file name below dir holds want ("" if missing). */
static void
tr_read_is(const char *dir, const char *name, const char *want,
    const char *label)
{
	char	*got;

	got = tr_read(dir, name);
	is_str(got, want, label);
	free(got);
}

/* Restores an IB, checking that it worked and that all is as before. */
static void
tr_restore(const char *ib, const char *before, const char *restored,
    const char *same)
{
	char	*cause = NULL;

	is_int(repos_restore(ib, &cause), 0, restored);
	free(cause);
	tutil_tree_is(ib, 2, before, same);
}

/* Injects, checks what one build sees, restores, compares with before. */
static void
test_inject_opkg(void)
{
	char	*ib, *before, *cause = NULL;

	ib = tr_ib("opkg", 0, 1);
	before = tr_state(ib);
	tr_inject(ib, "zz https://e.com/zz aa https://e.com/aa", "append",
	    TR_KEY, TR_PEM, "opkg append injected");
	tr_read_is(ib, "repositories.conf", TR_CONF_KEPT
	    "src/gz aa https://e.com/aa\n"
	    "src/gz zz https://e.com/zz\n", "repositories.conf appended");
	tr_read_is(ib, "keys/" TR_KEY_FP, "untrusted comment: " TR_KEY_FP "\n"
	    TR_KEY "\n", "usign key written as keys/<fingerprint>");
	tr_read_is(ib, "keys/custom-1.pem", TR_PEM,
	    "PEM key written as keys/custom-<i>.pem");
	ok(tr_exists(ib, REPOS_PRISTINE), "pristine copy kept during build");
	ok(tr_exists(ib, "keys/" TR_KEY2305_FP), "existing key untouched");
	tr_restore(ib, before, "restored", "IB byte-identical after restore");
	ok(!tr_exists(ib, REPOS_PRISTINE), "pristine copy removed");
	is_int(repos_restore(ib, &cause), 0, "second restore is a no-op");
	free(cause);

	/* Replace mode, and a key that overwrites one the IB has. */
	tr_inject(ib, "custom https://e.com/c", "replace",
	    "untrusted comment: x\n" "RWRoKXAGS4epF5gGGh7tVQxiJIuZWQ0geStqgCkw"
	    "RyviQCWXpufBggaP", NULL, "opkg replace injected");
	tr_read_is(ib, "repositories.conf", "src/gz custom https://e.com/c\n"
	    "src imagebuilder file:packages\noption check_signature\n",
	    "repositories.conf replaced");
	tr_inject(ib, "", NULL, NULL, NULL, "empty spec: nothing to do");
	tr_read_is(ib, "keys/" TR_KEY2305_FP, "untrusted comment: "
	    TR_KEY2305_FP "\nRWRoKXAGS4epF5gGGh7tVQxiJIuZWQ0geStqgCkwRyviQCW"
	    "XpufBggaP\n", "existing key file replaced for the build");
	tr_restore(ib, before, "restored again", "overwritten key put back");
	free(before);
	fs_rmtree(ib);
	free(ib);
}

/* One rewrite against its exact output and count. */
static void
tr_rewrite(const char *text, int apk, const char *want, size_t nwant,
    const char *name)
{
	char	*got;
	size_t	 n;

	got = repos_rewrite(text, strlen(text), "http://m:8/x", apk, &n);
	is_str(got, want, name);
	is_int((int)n, (int)nwant, name);
	free(got);
}

/* Only the official feed lines move, by exact prefix replacement. */
static void
test_rewrite(void)
{
	tr_rewrite(TR_CONF, 0, "## Remote package repositories\n"
	    "src/gz openwrt_core http://m:8/x/releases/24.10.0/"
	    "targets/ath79/generic/packages\n"
	    "src/gz openwrt_base http://m:8/x/releases/24.10.0/"
	    "packages/mips_24kc/base\n\n"
	    "## This is the local package repository, do not remove!\n"
	    "src imagebuilder file:packages\n\noption check_signature\n", 2,
	    "opkg: the src/gz lines move, the rest is kept");
	tr_rewrite(" src/gz\ta\t https://downloads.openwrt.org/p\r\n"
	    "src b https://downloads.openwrt.org/p\n"
	    "# src/gz c https://downloads.openwrt.org/p\n"
	    "src/gz https://downloads.openwrt.org/p\n"
	    "src/gz d https://downloads.openwrt.org.evil/p\n"
	    "src/gz e http://downloads.openwrt.org/p\n"
	    "src/gz f https://downloads.openwrt.org/", 0,
	    " src/gz\ta\t http://m:8/x/p\r\n"
	    "src b https://downloads.openwrt.org/p\n"
	    "# src/gz c https://downloads.openwrt.org/p\n"
	    "src/gz https://downloads.openwrt.org/p\n"
	    "src/gz d https://downloads.openwrt.org.evil/p\n"
	    "src/gz e http://downloads.openwrt.org/p\n"
	    "src/gz f http://m:8/x/", 2,
	    "opkg: other lines and look-alikes are left alone");
	tr_rewrite(TR_APK "@tag https://downloads.openwrt.org/t/packages.adb\n"
	    "#https://downloads.openwrt.org/c\nhttps://e.com/p", 1,
	    "http://m:8/x/snapshots/targets/ath79/generic/packages/"
	    "packages.adb\nhttp://m:8/x/snapshots/packages/mips_24kc/base/"
	    "packages.adb\n@tag http://m:8/x/t/packages.adb\n"
	    "#https://downloads.openwrt.org/c\nhttps://e.com/p", 3,
	    "apk: the URL lines move, tagged ones too");
	tr_rewrite("", 0, "", 0, "an empty file stays empty");
}

/* A build with only a feed mirror, and with custom repositories too. */
static void
test_inject_mirror(void)
{
	struct tr_spec	 t;
	char		*ib, *before, *cause = NULL;

	ib = tr_ib("mirror", 0, 1);
	before = tr_state(ib);
	tr_spec(&t, "", NULL, NULL, NULL)->feed_mirror = "file:///srv/m";
	ok(repos_inject(ib, &t.spec, &cause) == 0, "mirror only: injected");
	tr_read_is(ib, "repositories.conf", "## Remote package repositories\n"
	    "src/gz openwrt_core file:///srv/m/releases/24.10.0/"
	    "targets/ath79/generic/packages\n"
	    "src/gz openwrt_base file:///srv/m/releases/24.10.0/"
	    "packages/mips_24kc/base\n\n"
	    "## This is the local package repository, do not remove!\n"
	    "src imagebuilder file:packages\n\noption check_signature\n",
	    "mirror only: the official feeds point at the mirror");
	tr_restore(ib, before, "mirror only: restored",
	    "mirror only: IB byte-identical after restore");
	tr_spec_free(&t);
	tr_spec(&t, "my https://downloads.openwrt.org/c", "append", NULL,
	    NULL)->feed_mirror = "http://m";
	ok(repos_inject(ib, &t.spec, &cause) == 0, "with repos: injected");
	tr_read_is(ib, "repositories.conf", "## Remote package repositories\n"
	    "src/gz openwrt_core http://m/releases/24.10.0/"
	    "targets/ath79/generic/packages\n"
	    "src/gz openwrt_base http://m/releases/24.10.0/"
	    "packages/mips_24kc/base\n"
	    "## This is the local package repository, do not remove!\n"
	    "src imagebuilder file:packages\noption check_signature\n"
	    "src/gz my http://m/c\n", "with repos: merged, then moved");
	tr_restore(ib, before, "with repos: restored",
	    "with repos: IB byte-identical after restore");
	tr_spec_free(&t);
	tr_write(ib, "repositories.conf", "src/gz a https://e.com/a\n", 0644);
	free(before);
	before = tr_state(ib);
	tr_spec(&t, "", NULL, NULL, NULL)->feed_mirror = "http://m";
	ok(repos_inject(ib, &t.spec, &cause) == 0, "no official feed: ok");
	ok(!tr_exists(ib, REPOS_PRISTINE), "no official feed: nothing saved");
	tutil_tree_is(ib, 2, before, "no official feed: IB untouched");
	tr_spec_free(&t);
	free(cause);
	free(before);
	fs_rmtree(ib);
	free(ib);
}

/* apk flavour, and an IB without keys/. */
static void
test_inject_apk(void)
{
	char	*ib, *before, *path;

	ib = tr_ib("apk", 1, 0);
	before = tr_state(ib);
	tr_inject(ib, "b https://e.com/b/packages.adb "
	    "a https://e.com/a/packages.adb", "append", TR_PEM, NULL,
	    "apk append injected");
	tr_read_is(ib, "repositories", TR_APK "https://e.com/a/packages.adb\n"
	    "https://e.com/b/packages.adb\n", "apk repositories appended");
	ok(!tr_exists(ib, "repositories.conf"),
	    "no repositories.conf for apk");
	tr_read_is(ib, "keys/custom-0.pem", TR_PEM,
	    "keys/ created for the PEM key");
	tr_restore(ib, before, "apk restored",
	    "apk IB identical, keys/ removed again");

	tr_inject(ib, "x https://e.com/new", NULL, NULL, NULL,
	    "apk default mode is replace");
	tr_read_is(ib, "repositories", "https://e.com/new\n",
	    "apk repositories replaced");
	tr_restore(ib, before, "apk restored after replace",
	    "apk IB identical after replace");
	free(before);
	fs_rmtree(ib);
	free(ib);

	/* Neither file: opkg's is created, and removed after. */
	ib = tr_ib("none", 0, 0);
	xasprintf(&path, "%s/repositories.conf", ib);
	unlink(path);
	free(path);
	before = tr_state(ib);
	tr_inject(ib, "x https://e.com/x", "append", NULL, NULL,
	    "no repository file: injected");
	tr_read_is(ib, "repositories.conf", "src/gz x https://e.com/x\n"
	    "src imagebuilder file:packages\noption check_signature\n",
	    "repositories.conf created");
	tr_restore(ib, before, "restored", "created file removed again");
	free(before);
	fs_rmtree(ib);
	free(ib);
}

/* Injects a spec that must be refused before anything is written. */
static void
tr_refused(const char *ib, struct repos_spec *spec, const char *want,
    const char *name)
{
	char	*before, *cause = NULL;
	int	 rc;

	before = tr_state(ib);
	rc = repos_inject(ib, spec, &cause);
	ok(rc == -1 && cause != NULL && strncmp(cause, want,
	    strlen(want)) == 0, name);
	if (cause != NULL && strncmp(cause, want, strlen(want)) != 0)
		printf("#   got '%s'\n", cause);
	tutil_tree_is(ib, 2, before, "nothing written");
	free(cause);
	free(before);
}

/* Hostile names, URLs, keys and symbolic links in the IB. */
static void
test_inject_refused(void)
{
	struct tr_spec	 t;
	char		*ib, *path, *target, *buf;

	ib = tr_ib("refuse", 0, 1);
	tr_spec(&t, "", "append", NULL, NULL);
	strv_add(&t.names, "evil\nsrc/gz pwned http://x.com");
	strv_add(&t.urls, "https://e.com/x");
	tr_refused(ib, &t.spec, "Invalid repository name", "newline in name");
	tr_spec_free(&t);
	tr_spec(&t, "ok https://e.com/ok", "append", NULL, NULL);
	strv_add(&t.names, "evil");
	strv_add(&t.urls, "https://e.com/x\noption check_signature 0");
	tr_refused(ib, &t.spec, "Invalid repository URL", "newline in URL");
	tr_spec_free(&t);
	tr_refused(ib, tr_spec(&t, "a https://e.com/a#x", "append", NULL,
	    NULL), "Invalid repository URL", "# in URL");
	tr_spec_free(&t);
	tr_refused(ib, tr_spec(&t, "a https://e.com/a", "append", TR_KEY,
	    "AAAA"), "Invalid usign key", "a bad key among good ones");
	tr_spec_free(&t);

	/* A symbolic link where repositories.conf is. */
	xasprintf(&path, "%s/repositories.conf", ib);
	xasprintf(&target, "%s/target", tr_top);
	tr_write(tr_top, "target", "precious\n", 0644);
	unlink(path);
	if (symlink(target, path) == -1)
		printf("# symlink: %s\n", strerror(errno));
	tr_refused(ib, tr_spec(&t, "a https://e.com/a", "append", NULL, NULL),
	    "Refusing repositories.conf", "symlinked file refused (append)");
	tr_spec_free(&t);
	tr_refused(ib, tr_spec(&t, "a https://e.com/a", "replace", NULL,
	    NULL), "Refusing repositories.conf",
	    "symlinked file refused (replace)");
	tr_spec_free(&t);
	buf = tr_read(tr_top, "target");
	is_str(buf, "precious\n", "link target untouched");
	free(buf);
	unlink(path);
	tr_write(ib, "repositories.conf", TR_CONF, 0644);
	free(path);

	/* keys/ as a symbolic link, and a key file as one. */
	xasprintf(&path, "%s/keys", ib);
	fs_rmtree(path);
	if (symlink(tr_top, path) == -1)
		printf("# symlink: %s\n", strerror(errno));
	tr_refused(ib, tr_spec(&t, "", NULL, TR_KEY, NULL), "Refusing keys",
	    "symlinked keys/ refused");
	tr_spec_free(&t);
	unlink(path);
	fs_mkdirs(path, 0755);
	free(path);
	xasprintf(&path, "%s/keys/%s", ib, TR_KEY_FP);
	if (symlink(target, path) == -1)
		printf("# symlink: %s\n", strerror(errno));
	tr_refused(ib, tr_spec(&t, "", NULL, TR_KEY, NULL),
	    "Refusing keys/" TR_KEY_FP, "symlinked key file refused");
	tr_spec_free(&t);
	free(path);
	free(target);
	fs_rmtree(ib);
	free(ib);
}

/* Crashes: a pristine copy left over, a half-made one, a damaged one. */
static void
test_crash(void)
{
	char	*ib, *before, *cause = NULL, *path;

	ib = tr_ib("crash", 0, 1);
	before = tr_state(ib);
	tr_inject(ib, "a https://e.com/a", "append", TR_KEY, NULL,
	    "first build injected, then crash");
	tr_inject(ib, "b https://e.com/b", "append", NULL, NULL,
	    "next build injects over the leftover");
	path = tr_read(ib, "repositories.conf");
	ok(strstr(path, "src/gz b https://e.com/b\n") != NULL &&
	    strstr(path, "https://e.com/a") == NULL,
	    "the leftover was restored first");
	free(path);
	ok(!tr_exists(ib, "keys/" TR_KEY_FP), "the leftover key is gone");
	tr_restore(ib, before, "restored", "identical after crash and rerun");

	/* A crash while the copies were being made. */
	xasprintf(&path, "%s/.asud-pristine.new", ib);
	fs_mkdirs(path, 0700);
	tr_write(path, "0", "half\n", 0600);
	free(path);
	tr_write(ib, ".asud-tmp", "half\n", 0600);
	tr_restore(ib, before, "half-made copy: restore",
	    "half-made copy and temporary file removed");

	/* A MANIFEST naming something that is not ours. */
	xasprintf(&path, "%s/" REPOS_PRISTINE, ib);
	fs_mkdirs(path, 0700);
	tr_write(path, "MANIFEST", "absent ../Makefile\nabsent Makefile\n",
	    0600);
	ok(repos_restore(ib, &cause) == -1 && cause != NULL &&
	    strstr(cause, "Damaged") != NULL, "damaged MANIFEST refused");
	free(cause);
	cause = NULL;
	ok(tr_exists(ib, "Makefile"), "nothing outside ours removed");
	tr_write(path, "MANIFEST", "saved 0 keys/../../x\n", 0600);
	ok(repos_restore(ib, &cause) == -1, "path in keys/ refused");
	free(cause);
	cause = NULL;
	tr_write(path, "MANIFEST", "absent keys/" TR_KEY2305_FP "\n", 0600);
	is_int(repos_restore(ib, &cause), 0, "a valid MANIFEST is obeyed");
	ok(!tr_exists(ib, "keys/" TR_KEY2305_FP) &&
	    !tr_exists(ib, REPOS_PRISTINE), "its entry removed");
	free(path);
	is_int(repos_restore(tr_top, &cause), 0, "a dir never used: no-op");
	is_int(repos_restore("/nonexistent-asud-ib", &cause), 0,
	    "no IB at all: no-op");
	free(before);
	fs_rmtree(ib);
	free(ib);
}

/* Runs every group in a scratch directory. */
int
main(void)
{
	tr_top = tutil_scratch("repos-test");
	test_allowed();
	test_fingerprint();
	test_keys();
	test_text_checks();
	test_merge();
	test_inject_opkg();
	test_rewrite();
	test_inject_mirror();
	test_inject_apk();
	test_inject_refused();
	test_crash();
	fs_rmtree(tr_top);
	free(tr_top);
	return (done_testing());
}

/*
 * pkglist.c: the packages hash and the diff_packages list against the
 * reference server's test vectors.
 */
#include <stdlib.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "imagebuilder/pkglist.h"
#include "t/unit/tap.h"

static char	*pkglist_test_hash(const char *);
static char	*pkglist_test_diff(const char *, const char *, const char *);

/* Hashes a space-separated list; the result is static. */
static char *
pkglist_test_hash(const char *list)
{
	static char	out[SHA256_HEX_LEN + 1];
	struct strv	sv = STRV_INITIALIZER;

	strv_split(&sv, list, " ");
	pkglist_hash(&sv, out);
	strv_clear(&sv);
	return (out);
}

/* Runs pkglist_diff on space-separated lists and joins the result. */
static char *
pkglist_test_diff(const char *req, const char *defs, const char *prof)
{
	struct strv	 r = STRV_INITIALIZER, d = STRV_INITIALIZER;
	struct strv	 p = STRV_INITIALIZER, out = STRV_INITIALIZER;
	char		*s;

	strv_split(&r, req, " ");
	strv_split(&d, defs, " ");
	strv_split(&p, prof, " ");
	pkglist_diff(&out, &r, &d, &p);
	s = strv_join(&out, " ");
	strv_clear(&r);
	strv_clear(&d);
	strv_clear(&p);
	strv_clear(&out);
	return (s);
}

/* The long vector of the reference's 1.2.3 test fixture. */
#define FIXTURE_DEFAULTS \
	"base-files busybox dnsmasq dropbear firewall fstools ip6tables " \
	"iptables kmod-ath9k kmod-gpio-button-hotplug kmod-ipt-offload " \
	"libc libgcc logd mtd netifd odhcp6c odhcpd-ipv6only opkg ppp " \
	"ppp-mod-pppoe swconfig uboot-envtools uci uclient-fetch " \
	"urandom-seed urngd wpad-basic"
#define FIXTURE_PROFILE \
	"kmod-usb2 kmod-usb-chipidea2 kmod-usb-storage -swconfig"
#define FIXTURE_WANT \
	"-base-files -busybox -dnsmasq -dropbear -firewall -fstools " \
	"-ip6tables -iptables -kmod-ath9k -kmod-gpio-button-hotplug " \
	"-kmod-ipt-offload -kmod-usb-chipidea2 -kmod-usb-storage " \
	"-kmod-usb2 -libc -libgcc -logd -mtd -netifd -odhcp6c " \
	"-odhcpd-ipv6only -opkg -ppp -ppp-mod-pppoe -swconfig " \
	"-uboot-envtools -uci -uclient-fetch -urandom-seed -urngd " \
	"-wpad-basic test1 zzz test2 aaa"

/* The hash of test1 and test2, whichever way the list says them. */
#define PKGLIST_TEST_HASH12 \
	"57aab5949a36e66b535a8cb13e39e9e093181c9000c016990d7be9eb86a9b9e8"

/* A space-separated list and its packages hash. */
struct pkglist_test_hashed {
	const char	*list;
	const char	*want;
	const char	*name;
};

static const struct pkglist_test_hashed pkglist_test_hashes[] = {
	{ "test1 test2", PKGLIST_TEST_HASH12, "hash of test1 test2" },
	{ "test2 test1 test2", PKGLIST_TEST_HASH12,
	    "hash ignores order and duplicates" },
	{ "+test1 test2", PKGLIST_TEST_HASH12, "hash strips a leading +" },
	{ "test1 +test1 test2", PKGLIST_TEST_HASH12,
	    "+name and name count once" },
	/* sha256("test") */
	{ "test",
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	    "hash of one name is the hash of the name" },
};

/* A diff vector: requested, default and profile packages, and the list. */
struct pkglist_test_vector {
	const char	*req;
	const char	*defs;
	const char	*prof;
	const char	*want;
	const char	*name;
};

static const struct pkglist_test_vector pkglist_test_diffs[] = {
	{ "test1", "test1 test2", "",
	    "-test2 test1",
	    "diff: [test1] with {test1,test2}" },
	{ "z x", "x y z", "",
	    "-y z x",
	    "diff: [z,x] with {x,y,z} keeps the user's order" },
	{ "test1", "test2 -test3", "",
	    "-test2 -test3 test1",
	    "diff: -test3 stays -test3" },
	{ "test1 zzz test2 aaa", FIXTURE_DEFAULTS, FIXTURE_PROFILE,
	    FIXTURE_WANT,
	    "diff: the 1.2.3 fixture PACKAGES vector" },
	{ "test1 zzz test2 aaa", FIXTURE_PROFILE, FIXTURE_DEFAULTS,
	    FIXTURE_WANT,
	    "diff: defaults and profile are one set" },
	{ "", "", "",
	    "",
	    "diff: all empty" },
	{ "a b", "", "",
	    "a b",
	    "diff: nothing to remove" },
	{ "b a b", "a c", "",
	    "-c b a b",
	    "diff: requested duplicates pass through" },
	{ "x", "foo--bar ---y", "",
	    "--y -foo-bar x",
	    "diff: every -- collapses, left to right" },
	{ "x", "b-x b2 b", "",
	    "-b -b-x -b2 x",
	    "diff: removals sort in byte order" },
	{ "-swconfig", "swconfig", "-swconfig",
	    "-swconfig -swconfig",
	    "diff: a requested -pkg is not removed again" },
};

/* Runs every vector; the exit code says whether all passed. */
int
main(void)
{
	const struct pkglist_test_vector	*v;
	struct strv				 empty = STRV_INITIALIZER;
	char					 out[SHA256_HEX_LEN + 1];
	char					*got;
	size_t					 i;

	for (i = 0; i < nitems(pkglist_test_hashes); i++)
		is_str(pkglist_test_hash(pkglist_test_hashes[i].list),
		    pkglist_test_hashes[i].want, pkglist_test_hashes[i].name);
	ok(strcmp(pkglist_test_hash("-test1 test2"), PKGLIST_TEST_HASH12) != 0,
	    "a -name is kept as is");
	pkglist_hash(&empty, out);
	is_str(out,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "empty list hashes the empty string");

	for (i = 0; i < nitems(pkglist_test_diffs); i++) {
		v = &pkglist_test_diffs[i];
		got = pkglist_test_diff(v->req, v->defs, v->prof);
		is_str(got, v->want, v->name);
		free(got);
	}
	return (done_testing());
}

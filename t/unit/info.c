/*
 * info.c: parsing `make info` output: the documented example, the
 * reference server's test fixture, and damaged or hostile text.
 */
#include <stdlib.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/info.h"
#include "imagebuilder/pkglist.h"
#include "t/unit/tap.h"

static int	info_test_parse(const char *, size_t, struct info *, char **);
static int	info_test_str(const char *, struct info *, char **);
static char	*info_test_join(const struct strv *);

/* The example of reference/imagebuilder.md section 2. */
static const char info_example[] =
    "Current Target: \"ath79/generic\"\n"
    "Current Architecture: \"mips\"\n"
    "Current Revision: \"r28427-6df0e3d02a\"\n"
    "Default Packages: base-files ca-bundle dnsmasq dropbear firewall4 "
    "fstools kmod-gpio-button-hotplug opkg\n"
    "Available Profiles:\n"
    "\n"
    "8dev_carambola2:\n"
    "    8devices Carambola2\n"
    "    Packages: kmod-usb-chipidea2\n"
    "    hasImageMetadata: 1\n"
    "    SupportedDevices: 8dev,carambola2 carambola2\n"
    "tplink_archer-c7-v5:\n"
    "    TP-Link Archer C7 v5\n"
    "    Packages: kmod-ath10k-ct ath10k-firmware-qca988x-ct kmod-usb2 "
    "-swconfig\n"
    "    hasImageMetadata: 1\n"
    "    SupportedDevices: tplink,archer-c7-v5\n";

/* The reference server's fake ImageBuilder prints this. */
static const char info_fixture[] =
    "Current Target: \"testtarget/testsubtarget\"\n"
    "Current Revision: \"r12647-cb44ab4f5d\"\n"
    "Default Packages: base-files libc libgcc busybox dropbear mtd uci "
    "opkg netifd fstools uclient-fetch logd urandom-seed urngd "
    "kmod-gpio-button-hotplug swconfig kmod-ath9k uboot-envtools "
    "wpad-basic dnsmasq iptables ip6tables ppp ppp-mod-pppoe firewall "
    "odhcpd-ipv6only odhcp6c kmod-ipt-offload\n"
    "Available Profiles:\n"
    "\n"
    "Default:\n"
    "    Default Profile (all drivers)\n"
    "    Packages: iwinfo\n"
    "    hasImageMetadata: 0\n"
    "8dev_carambola2:\n"
    "    8devices Carambola2\n"
    "    Packages: kmod-usb2 kmod-usb-chipidea2\n"
    "    hasImageMetadata: 1\n"
    "    SupportedDevices: 8dev,carambola2 carambola2\n"
    "testprofile:\n"
    "    Testprofile\n"
    "    Packages: kmod-usb2 kmod-usb-chipidea2 kmod-usb-storage "
    "-swconfig\n"
    "    hasImageMetadata: 1\n"
    "    SupportedDevices: testvendor,testprofile testprofile\n";

/* Parses into a zeroed info. */
static int
info_test_parse(const char *text, size_t len, struct info *info,
    char **cause)
{
	memset(info, 0, sizeof *info);
	*cause = NULL;
	return (info_parse(text, len, info, cause));
}

/* Parses a NUL-terminated string without its NUL. */
static int
info_test_str(const char *s, struct info *info, char **cause)
{
	return (info_test_parse(s, strlen(s), info, cause));
}

/* Joins a list with spaces into a static buffer. */
static char *
info_test_join(const struct strv *sv)
{
	static char	 buf[4096];
	char		*s;

	s = strv_join(sv, " ");
	snprintf(buf, sizeof buf, "%s", s);
	free(s);
	return (buf);
}

/* The documented example, field by field. */
static void
info_test_example(void)
{
	struct info			 info;
	const struct info_profile	*p;
	char				*cause;

	is_int(info_test_parse(info_example, strlen(info_example), &info,
	    &cause), 0, "example parses");
	is_str(info.target, "ath79/generic", "target");
	is_str(info.arch, "mips", "architecture");
	is_str(info.revision, "r28427-6df0e3d02a", "revision");
	is_str(info_test_join(&info.default_packages), "base-files ca-bundle "
	    "dnsmasq dropbear firewall4 fstools kmod-gpio-button-hotplug opkg",
	    "default packages");
	is_int(info.nprofiles, 2, "two profiles");
	p = info_profile(&info, "8dev_carambola2");
	ok(p != NULL, "8dev_carambola2 found");
	if (p != NULL) {
		is_str(p->title, "8devices Carambola2", "title");
		is_str(info_test_join(&p->packages), "kmod-usb-chipidea2",
		    "profile packages");
		is_int(p->has_image_metadata, 1, "hasImageMetadata");
		is_int(p->supported_devices.n, 2, "two supported devices");
		is_str(info_test_join(&p->supported_devices),
		    "8dev,carambola2 carambola2", "commas kept in devices");
	}
	p = info_profile(&info, "tplink_archer-c7-v5");
	ok(p != NULL, "tplink_archer-c7-v5 found");
	if (p != NULL) {
		is_str(p->title, "TP-Link Archer C7 v5", "second title");
		is_int(p->packages.n, 4, "four packages");
		is_str(p->packages.v[3], "-swconfig", "a -pkg entry is kept");
	}
	ok(info_profile(&info, "tplink") == NULL, "no prefix match");
	ok(info_profile(&info, "Available Profiles") == NULL,
	    "the header is no profile");
	info_free(&info);
	is_int(info.nprofiles, 0, "free empties the info");
}

/* The reference fixture, and the diff_packages list it leads to. */
static void
info_test_fixture(void)
{
	struct info			 info;
	const struct info_profile	*p;
	struct strv			 req = STRV_INITIALIZER;
	struct strv			 out = STRV_INITIALIZER;
	char				*cause;

	is_int(info_test_parse(info_fixture, strlen(info_fixture), &info,
	    &cause), 0, "fixture parses");
	ok(info.arch == NULL, "no architecture line: NULL");
	is_int(info.default_packages.n, 28, "28 default packages");
	is_int(info.nprofiles, 3, "three profiles, Default included");
	p = info_profile(&info, "Default");
	ok(p != NULL && strcmp(p->title, "Default Profile (all drivers)") ==
	    0, "old-style Default profile");
	ok(p != NULL && p->supported_devices.n == 0 &&
	    p->has_image_metadata == 0, "Default has no devices, no metadata");
	p = info_profile(&info, "testprofile");
	ok(p != NULL, "testprofile found");
	if (p != NULL) {
		strv_split(&req, "test1 zzz test2 aaa", " ");
		pkglist_diff(&out, &req, &info.default_packages, &p->packages);
		is_str(info_test_join(&out), "-base-files -busybox -dnsmasq "
		    "-dropbear -firewall -fstools -ip6tables -iptables "
		    "-kmod-ath9k -kmod-gpio-button-hotplug -kmod-ipt-offload "
		    "-kmod-usb-chipidea2 -kmod-usb-storage -kmod-usb2 -libc "
		    "-libgcc -logd -mtd -netifd -odhcp6c -odhcpd-ipv6only "
		    "-opkg -ppp -ppp-mod-pppoe -swconfig -uboot-envtools -uci "
		    "-uclient-fetch -urandom-seed -urngd -wpad-basic test1 zzz "
		    "test2 aaa", "fixture diff_packages PACKAGES");
		strv_clear(&req);
		strv_clear(&out);
	}
	info_free(&info);
}

/* Lines the format allows to be absent or empty. */
static void
info_test_optional(void)
{
	struct info			 info;
	const struct info_profile	*p;
	char				*cause;
	const char			 text[] =
	    "Current Revision: \"r1-abc\"\n"
	    "Default Packages: \n"
	    "Available Profiles: \n"
	    "\n"
	    "notitle:\t\n"
	    "    Packages: \n"
	    "    hasImageMetadata: 0\n"
	    "nodevices:\n"
	    "    Some Device\n"
	    "    Packages: a -b\n"
	    "    hasImageMetadata: 1\n"
	    "late:\n"
	    "    Packages: x\n"
	    "    Not A Title\n"
	    "last:\n";

	is_int(info_test_parse(text, strlen(text), &info, &cause), 0,
	    "sparse text parses");
	is_int(info.default_packages.n, 0, "empty default packages");
	ok(info.target == NULL, "no target line: NULL");
	is_int(info.nprofiles, 4, "four profiles");
	p = info_profile(&info, "notitle");
	ok(p != NULL && p->title == NULL, "no title line: NULL title");
	ok(p != NULL && p->packages.n == 0, "empty Packages line");
	p = info_profile(&info, "nodevices");
	ok(p != NULL && p->supported_devices.n == 0,
	    "no SupportedDevices line");
	ok(p != NULL && p->title != NULL &&
	    strcmp(p->title, "Some Device") == 0, "title before Packages");
	p = info_profile(&info, "late");
	ok(p != NULL && p->title == NULL && p->packages.n == 1,
	    "text after the keys is no title");
	p = info_profile(&info, "last");
	ok(p != NULL && p->title == NULL && p->packages.n == 0,
	    "a bare header at the end is a profile");
	info_free(&info);
}

/* CRLF, junk, cut text and text that is not NUL-terminated. */
static void
info_test_damaged(void)
{
	struct info			 info;
	const struct info_profile	*p;
	char				*cause, *crlf, *buf;
	size_t				 i, j, len, cut;

	len = strlen(info_example);
	crlf = malloc(2 * len + 1);
	for (i = 0, j = 0; i < len; i++) {
		if (info_example[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = info_example[i];
	}
	is_int(info_test_parse(crlf, j, &info, &cause), 0, "CRLF parses");
	is_str(info.revision, "r28427-6df0e3d02a", "CRLF revision");
	p = info_profile(&info, "tplink_archer-c7-v5");
	ok(p != NULL && strcmp(p->packages.v[p->packages.n - 1],
	    "-swconfig") == 0, "CRLF: no CR in the last package");
	ok(p != NULL && strcmp(p->supported_devices.v[0],
	    "tplink,archer-c7-v5") == 0, "CRLF: no CR in the last line");
	info_free(&info);
	free(crlf);

	/* An exact-size heap copy: reading past len would trip ASan. */
	buf = malloc(len - 1);
	memcpy(buf, info_example, len - 1);
	is_int(info_test_parse(buf, len - 1, &info, &cause), 0,
	    "no trailing newline, no NUL");
	p = info_profile(&info, "tplink_archer-c7-v5");
	ok(p != NULL && p->supported_devices.n == 1 &&
	    strcmp(p->supported_devices.v[0], "tplink,archer-c7-v5") == 0,
	    "last line read up to len");
	info_free(&info);
	free(buf);

	/* Every prefix of the text must parse or fail cleanly. */
	for (i = 0, j = 0; i <= len; i++) {
		buf = malloc(i + 1);
		memcpy(buf, info_example, i);
		if (info_test_parse(buf, i, &info, &cause) == 0) {
			j++;
			info_free(&info);
		} else
			free(cause);
		free(buf);
	}
	/* The revision is complete once its closing quote is in. */
	cut = strstr(info_example, "\"\nDefault") - info_example + 1;
	is_int(j, len - cut + 1, "every prefix with the revision parses");

	cut = strstr(info_example, "tplink_archer-c7-v5:") - info_example +
	    strlen("tplink_archer-c7-v5:\n    TP-Link Archer C7 v5\n"
	    "    Packages: kmod-ath10k-ct ath10k");
	is_int(info_test_parse(info_example, cut, &info, &cause), 0,
	    "text cut inside a Packages line");
	p = info_profile(&info, "tplink_archer-c7-v5");
	ok(p != NULL && p->packages.n == 2 &&
	    strcmp(p->packages.v[1], "ath10k") == 0,
	    "the cut line keeps what it has");
	info_free(&info);
}

/* Junk lines and hostile names. */
static void
info_test_hostile(void)
{
	struct info			 info;
	const struct info_profile	*p;
	char				*cause, *text, *p2;
	size_t				 i;
	const char			 junk[] =
	    "make[1]: Entering directory '/x'\n"
	    "WARNING: something\n"
	    "Current Target: \"a/b\"\n"
	    "Current Revision: \"r5-x\"\n"
	    "Current Revision: \"r6-y\"\n"
	    "Default Packages: a b\n"
	    "not-a-profile:\n"
	    "    Packages: x\n"
	    "Available Profiles:\n"
	    "\n"
	    "good:\n"
	    "    Good\n"
	    "    Packages: p\n"
	    "junk line here\n"
	    "    Packages: stolen\n"
	    "bad$(shell):\n"
	    "    Packages: q\n"
	    "evil:\n"
	    "    Evil\x01\x7f title\n"
	    "    Packages: ok $(shell rm -rf /)\n"
	    "baddev:\n"
	    "    Packages: ok\n"
	    "    SupportedDevices: a`b`\n"
	    "good:\n"
	    "    Packages: duplicate\n"
	    "withnul:\n"
	    "    T\0itle\n"
	    "    Packages: n\n";

	is_int(info_test_parse(junk, sizeof junk - 1, &info, &cause), 0,
	    "junk text parses");
	is_str(info.revision, "r5-x", "the first revision line counts");
	is_int(info.nprofiles, 2, "only sound profiles are kept");
	ok(info_profile(&info, "not-a-profile") == NULL,
	    "no profiles before Available Profiles");
	p = info_profile(&info, "good");
	ok(p != NULL && p->packages.n == 1 &&
	    strcmp(p->packages.v[0], "p") == 0,
	    "a junk line ends the block; the duplicate is ignored");
	ok(info_profile(&info, "evil") == NULL,
	    "a make expansion in Packages drops the profile");
	ok(info_profile(&info, "baddev") == NULL,
	    "a bad device name drops the profile");
	p = info_profile(&info, "withnul");
	ok(p != NULL && strcmp(p->title, "T") == 0 && p->packages.n == 1,
	    "a NUL byte cuts its line only");
	info_free(&info);

	is_int(info_test_str("Default Packages: a\n", &info, &cause),
	    -1, "no revision fails");
	is_str(cause, "make info printed no revision", "the cause");
	free(cause);
	ok(info.default_packages.n == 0, "nothing kept after a failure");

	is_int(info_test_str("Current Revision: \"12-x\"\n", &info,
	    &cause), -1, "a revision must start with r");
	free(cause);
	is_int(info_test_str("Current Revision: \"r1 x\"\n", &info,
	    &cause), -1, "a revision with a blank is refused");
	free(cause);
	is_int(info_test_str("Current Revision: \"r1\n", &info,
	    &cause), -1, "an unclosed quote is no revision");
	free(cause);
	is_int(info_test_parse(NULL, 0, &info, &cause), -1,
	    "empty text fails");
	free(cause);
	is_int(info_test_str("Current Revision: \"r1\"\n"
	    "Default Packages: a $(x)\n", &info, &cause), -1,
	    "hostile default packages fail");
	ok(cause != NULL && strstr(cause, "default package") != NULL,
	    "and say so");
	free(cause);

	/*
	 * Each profile header was looked up among all those kept: 4095
	 * profiles then 4 MB of one repeated header took 29 s. Only 4096
	 * headers are read now, repeated ones included.
	 */
	text = xmalloc(4 * 1024 * 1024 + 64);
	p2 = text + sprintf(text, "Current Revision: \"r1\"\n"
	    "Available Profiles:\n");
	for (i = 0; i < 4095; i++)
		p2 += sprintf(p2, "p%zu:\n", i);
	while (p2 - text < 4 * 1024 * 1024)
		p2 += sprintf(p2, "p4094:\n");
	p2 += sprintf(p2, "late:\n");
	is_int(info_test_parse(text, (size_t)(p2 - text), &info, &cause), 0,
	    "4 MB of repeated profile headers parse");
	is_int(info.nprofiles, 4095, "the distinct ones are kept");
	ok(info_profile(&info, "late") == NULL,
	    "a header after the 4096th is ignored");
	info_free(&info);
	free(text);
}

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	info_test_example();
	info_test_fixture();
	info_test_optional();
	info_test_damaged();
	info_test_hostile();
	return (done_testing());
}

/*
 * catalog.c: profile resolution over the real OpenWrt 23.05.4 ath79/generic
 * profiles, the alias and generic rules on small made-up targets, and
 * catalog_scan over a .targetinfo tree written to a scratch directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "imagebuilder/catalog.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

#define CATALOG_PROFILES ASUD_SRCDIR "/t/data/unit/ath79-generic-profiles.json"

/* A name and what it must resolve to (NULL: nothing). */
struct catalog_test_name {
	const char	*name;
	const char	*want;
};

static void	catalog_test_resolve(const struct catalog_target *,
		    const char *, const char *);
static void	catalog_test_resolves(const struct catalog_target *,
		    const struct catalog_test_name *, size_t);
static void	catalog_test_list(const struct catalog *, const char *,
		    const char *, const char *);
static int	catalog_test_load(struct catalog_target *, struct strv *);
static void	catalog_test_real(void);
static void	catalog_test_rules(void);
static void	catalog_test_lookup(void);
static void	catalog_test_write(const char *, const char *, const char *);
static void	catalog_test_scan(void);
static void	catalog_test_hostile(void);

/* Checks a table of names against what they resolve to. */
#define CATALOG_TEST_RESOLVES(t, names) \
	catalog_test_resolves((t), (names), nitems(names))

/* Checks what a name resolves to. */
static void
catalog_test_resolve(const struct catalog_target *t, const char *name,
    const char *want)
{
	char	label[256];

	snprintf(label, sizeof label, "%s -> %s", name,
	    want != NULL ? want : "NULL");
	is_str(catalog_resolve(t, name), want, label);
}

/* Checks a table of names. */
static void
catalog_test_resolves(const struct catalog_target *t,
    const struct catalog_test_name *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		catalog_test_resolve(t, names[i].name, names[i].want);
}

/* Checks the versions (version NULL) or a version's targets, in order. */
static void
catalog_test_list(const struct catalog *c, const char *version,
    const char *want, const char *name)
{
	struct strv	 sv = STRV_INITIALIZER;
	char		*got;

	if (version == NULL)
		catalog_versions(c, &sv);
	else
		catalog_targets(c, version, &sv);
	got = strv_join(&sv, " ");
	is_str(got, want, name);
	free(got);
	strv_clear(&sv);
}

/*
 * Fills a target from profiles.json and lists "alias id" pairs (alias
 * with "," -> "_") for the checks. Returns the number of profiles.
 */
static int
catalog_test_load(struct catalog_target *t, struct strv *pairs)
{
	const char	*ppath[] = { "profiles", NULL };
	const char	*dpath[] = { "supported_devices", NULL };
	yajl_val	 root, profiles, devs;
	struct strv	 sv = STRV_INITIALIZER;
	char		*text, err[256], *p;
	size_t		 len, i, j;
	int		 n = -1;

	if (fs_read_file(CATALOG_PROFILES, 1 << 22, &text, &len) == -1)
		return (-1);
	root = yajl_tree_parse(text, err, sizeof err);
	free(text);
	if (root == NULL)
		return (-1);
	profiles = yajl_tree_get(root, ppath, yajl_t_object);
	for (i = 0; profiles != NULL && i < profiles->u.object.len; i++) {
		devs = yajl_tree_get(profiles->u.object.values[i], dpath,
		    yajl_t_array);
		for (j = 0; devs != NULL && j < devs->u.array.len; j++) {
			if (!YAJL_IS_STRING(devs->u.array.values[j]))
				continue;
			strv_add(&sv, YAJL_GET_STRING(devs->u.array.values[j]));
			strv_addf(pairs, "%s %s", sv.v[sv.n - 1],
			    profiles->u.object.keys[i]);
			for (p = pairs->v[pairs->n - 1]; *p != ' '; p++) {
				if (*p == ',')
					*p = '_';
			}
		}
		catalog_add_profile(t, profiles->u.object.keys[i], &sv);
		strv_clear(&sv);
	}
	if (profiles != NULL)
		n = (int)profiles->u.object.len;
	yajl_tree_free(root);
	strv_sort_unique(pairs);
	return (n);
}

/* The real data: ids, aliases, commas, and names of no profile. */
static const struct catalog_test_name catalog_test_real_names[] = {
	{ "ubnt_unifiac-lite", "ubnt_unifiac-lite" },
	{ "ubnt_unifiac-lr", "ubnt_unifiac-lr" },
	{ "8dev_carambola2", "8dev_carambola2" },
	{ "8dev,carambola2", "8dev_carambola2" },
	{ "carambola2", "8dev_carambola2" },
	{ "tplink_archer-c7-v5", "tplink_archer-c7-v5" },
	{ "tplink,archer-c7-v5", "tplink_archer-c7-v5" },
	/* Aliases with several claimants: the last in id order wins. */
	{ "unifiac-lite", "ubnt_unifiac-mesh" },
	{ "esr1200", "engenius_esr1750" },
	{ "archer-c7", "tplink_tl-wdr7500-v3" },
	{ "tl-wdr4300", "tplink_tl-wdr4310-v1" },
	{ "wndr3700", "netgear_wndrmac-v2" },
	{ "loco-m-xw", "ubnt_powerbeam-m5-xw" },
	{ "ubnt_unifi", "ubnt_unifi-ap-lr" },
	/* An id that is also claimed by others stays itself. */
	{ "engenius_esr1200", "engenius_esr1200" },
	{ "ubnt_unifi-ap", "ubnt_unifi-ap" },
	{ "no-such-device", NULL },
	{ "", NULL },
	{ "generic", NULL },
};

/* The real 23.05.4 ath79/generic data. */
static void
catalog_test_real(void)
{
	struct catalog		*c;
	struct catalog_target	*t;
	struct strv		 pairs = STRV_INITIALIZER;
	size_t			 i, j, k, alen, multi = 0, single = 0;
	size_t			 single_ok = 0, multi_ok = 0;
	const char		*r;
	char			*alias;

	c = catalog_new();
	t = catalog_add_target(c, "23.05.4", "ath79/generic");
	is_int(catalog_test_load(t, &pairs), 349,
	    "profiles.json: 349 profiles");
	is_int(catalog_nprofiles(t), 349, "all 349 are in the catalog");
	is_int(pairs.n, 518, "518 distinct (alias, profile) claims");

	/* Walk the sorted pairs alias by alias. */
	for (i = 0; i < pairs.n; i = j) {
		alen = strcspn(pairs.v[i], " ");
		for (j = i + 1; j < pairs.n && strncmp(pairs.v[j],
		    pairs.v[i], alen + 1) == 0; j++)
			;
		alias = strndup(pairs.v[i], alen);
		r = catalog_resolve(t, alias);
		if (j - i == 1) {
			single++;
			if (r != NULL && (strcmp(r, pairs.v[i] + alen + 1) ==
			    0 || strcmp(r, alias) == 0))
				single_ok++;
		} else {
			multi++;
			for (k = i; r != NULL && k < j; k++) {
				if (strcmp(r, pairs.v[k] + alen + 1) == 0) {
					multi_ok++;
					break;
				}
			}
		}
		free(alias);
	}
	is_int(multi, 27, "27 aliases are claimed by more than one profile");
	is_int(multi_ok, multi, "each resolves to one of its claimants");
	is_int(single, 453, "453 aliases have a single claimant");
	is_int(single_ok, single, "each resolves to it (or to its own id)");

	CATALOG_TEST_RESOLVES(t, catalog_test_real_names);
	ok(catalog_target_dir(t) == NULL, "no directory when added by hand");
	ok(catalog_target_arch(t) == NULL, "no arch unless set");
	catalog_target_set_arch(t, "mips_24kc");
	is_str(catalog_target_arch(t), "mips_24kc", "arch set by hand");
	strv_clear(&pairs);
	catalog_free(c);
}

/* A generic-only target: any name is generic. */
static const struct catalog_test_name catalog_test_generic_names[] = {
	{ "generic", "generic" },
	{ "anything", "generic" },
	{ "vendor,model", "generic" },
	{ "", "generic" },
};

/* The alias and generic rules on small targets. */
static void
catalog_test_rules(void)
{
	struct catalog		*c;
	struct catalog_target	*t, *g, *g2;
	struct strv		 sv = STRV_INITIALIZER;

	c = catalog_new();
	t = catalog_add_target(c, "1.0", "t/s");
	strv_split(&sv, "v,dev other", " ");
	catalog_add_profile(t, "p1", &sv);
	strv_clear(&sv);
	strv_split(&sv, "x v,dev", " ");
	catalog_add_profile(t, "p2", &sv);
	strv_clear(&sv);
	strv_split(&sv, "y other", " ");
	catalog_add_profile(t, "p0", &sv);
	strv_clear(&sv);
	catalog_test_resolve(t, "v_dev", "p1");
	catalog_test_resolve(t, "v,dev", "p1");
	catalog_test_resolve(t, "other", "p1");
	strv_split(&sv, "other", " ");
	catalog_add_profile(t, "p3", &sv);
	strv_clear(&sv);
	catalog_test_resolve(t, "other", "p3");
	catalog_test_resolve(t, "x", "p2");

	/* Re-adding a profile replaces its devices and aliases. */
	strv_split(&sv, "z", " ");
	catalog_add_profile(t, "p1", &sv);
	strv_clear(&sv);
	catalog_test_resolve(t, "v_dev", "p2");
	catalog_test_resolve(t, "z", "p1");
	is_int(catalog_nprofiles(t), 4, "a re-added id is not doubled");
	catalog_add_profile(t, "p1", NULL);
	catalog_test_resolve(t, "z", NULL);
	catalog_test_resolve(t, "p1", "p1");

	/* Ids and devices that could not come from OpenWrt are ignored. */
	strv_split(&sv, "good bad$(x) ", " ");
	catalog_add_profile(t, "bad id", &sv);
	catalog_add_profile(t, "", &sv);
	catalog_add_profile(t, "p$(x)", &sv);
	is_int(catalog_nprofiles(t), 4, "bad ids are not added");
	catalog_add_profile(t, "p4", &sv);
	strv_clear(&sv);
	catalog_test_resolve(t, "good", "p4");
	catalog_test_resolve(t, "bad$(x)", NULL);
	is_str(catalog_profile_id(t, 0), "p0", "ids in strcmp order");
	is_str(catalog_profile_id(t, 4), "p4", "last id");
	ok(catalog_profile_id(t, 5) == NULL, "past the end");

	/* Generic-only targets accept any name. */
	g = catalog_add_target(c, "1.0", "x86/64");
	catalog_add_profile(g, "generic", NULL);
	CATALOG_TEST_RESOLVES(g, catalog_test_generic_names);
	g2 = catalog_add_target(c, "1.0", "x86/legacy");
	catalog_add_profile(g2, "generic", NULL);
	catalog_add_profile(g2, "other", NULL);
	catalog_test_resolve(g2, "anything", NULL);
	catalog_test_resolve(g2, "generic", "generic");
	ok(catalog_resolve(NULL, "x") == NULL, "NULL target");
	catalog_free(c);
}

/* Versions and targets. */
static void
catalog_test_lookup(void)
{
	struct catalog		*c;
	struct catalog_target	*t;
	struct strv		 sv = STRV_INITIALIZER;

	c = catalog_new();
	ok(!catalog_has_version(c, "1.0"), "empty catalog");
	t = catalog_add_target(c, "23.05.4", "ath79/generic");
	ok(catalog_add_target(c, "23.05.4", "ath79/generic") == t,
	    "adding a known target returns it");
	catalog_add_target(c, "23.05.4", "x86/64");
	catalog_add_target(c, "SNAPSHOT", "ath79/generic");
	catalog_add_target(c, "22.03.7", "ramips/mt7621");
	ok(catalog_has_version(c, "23.05.4"), "known version");
	ok(!catalog_has_version(c, "23.05"), "no prefix match");
	ok(catalog_target(c, "23.05.4", "ath79/generic") == t, "target found");
	ok(catalog_target(c, "23.05.4", "ramips/mt7621") == NULL,
	    "target of another version");
	ok(catalog_target(c, "1.0", "x86/64") == NULL, "unknown version");
	is_str(catalog_target_name(t), "ath79/generic", "target name");
	is_str(catalog_target_version(t), "23.05.4", "target version");
	catalog_test_list(c, NULL, "22.03.7 23.05.4 SNAPSHOT",
	    "versions in order");
	catalog_test_list(c, "23.05.4", "ath79/generic x86/64",
	    "targets in order");
	catalog_targets(c, "9.9", &sv);
	is_int(sv.n, 0, "no targets of an unknown version");
	is_str(catalog_version_at(c, 0), "22.03.7", "first version by index");
	is_str(catalog_version_at(c, 2), "SNAPSHOT", "last version by index");
	ok(catalog_version_at(c, 3) == NULL, "no version past the end");
	ok(catalog_target_at(c, "23.05.4", 0) == t, "first target by index");
	ok(catalog_target_at(c, "23.05.4", 2) == NULL,
	    "no target past the end");
	ok(catalog_target_at(c, "9.9", 0) == NULL,
	    "no target of an unknown version");
	catalog_free(c);
	catalog_free(NULL);
}

/* Writes a file, creating its directory. */
static void
catalog_test_write(const char *dir, const char *name, const char *text)
{
	char	*path;

	fs_mkdirs(dir, 0755);
	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return;
	fs_write_file(path, text, strlen(text), 0644);
	free(path);
}

/* The two blocks of a real .targetinfo, trimmed to three devices. */
static const char catalog_tinfo_ath79[] =
    "Source-Makefile: target/linux/ath79/Makefile\n"
    "Target: ath79\n"
    "Target-Board: ath79\n"
    "Target-Name: Atheros ATH79\n"
    "Target-Arch: mips\n"
    "Target-Arch-Packages: wrong_parent\n"
    "Target-Description:\n"
    "\tBuild firmware images for Atheros AR71xx/AR913x/AR934x based boards.\n"
    "Target-Profile: DEVICE_in_description\n"
    "@@\n"
    "Default-Packages: base-files ca-bundle dnsmasq\n"
    "\n"
    "Target: ath79/generic\n"
    "Target-Board: ath79\n"
    "Target-Name: Generic\n"
    "Target-Arch-Packages: mips_24kc\n"
    "Target-Features: squashfs\n"
    "Linux-Version: 5.15.162\n"
    "Target-Description:\n"
    "\tBuild firmware images for generic Atheros AR71xx/AR913x/AR934x\n"
    "Target-Profile: DEVICE_fake_in_description\n"
    "@@\n"
    "Default-Packages: base-files ca-bundle dnsmasq kmod-ath9k\n"
    "Target-Profile: DEVICE_8dev_carambola2\n"
    "Target-Profile-Name: 8devices Carambola2\n"
    "Target-Profile-Packages: kmod-usb-chipidea2\n"
    "Target-Profile-hasImageMetadata: 1\n"
    "Target-Profile-SupportedDevices: 8dev,carambola2 carambola2\n"
    "Target-Profile-Description:\n"
    "Build firmware images for 8devices Carambola2\n"
    "Target-Profile-SupportedDevices: not,this\n"
    "@@\n"
    "\n"
    "Target-Profile: DEVICE_tplink_archer-c7-v5\n"
    "Target-Profile-Name: TP-Link Archer C7 v5\n"
    "Target-Profile-Packages: kmod-ath10k-ct -swconfig\n"
    "Target-Profile-hasImageMetadata: 1\n"
    "Target-Profile-SupportedDevices: tplink,archer-c7-v5\n"
    "Target-Profile-Description:\n"
    "@@\n"
    "\n"
    "Target-Profile: DEVICE_nodevices\n"
    "Target-Profile-Name: No Devices\n"
    "Target-Profile-Description: one line\n"
    "@@\n"
    "\n"
    "Target: ath79/nand\n"
    "Target-Arch-Packages: other_arch\n"
    "Target-Profile: DEVICE_nand_only\n"
    "Target-Profile-SupportedDevices: nand,only\n"
    "@@\n";

/* The short form: a block per target closed by "@@", CRLF endings. */
static const char catalog_tinfo_x86[] =
    "Target: x86/64\r\n"
    "Target-Arch-Packages: x86_64\r\n"
    "Default-Packages: base-files\r\n"
    "Target-Profile: DEVICE_generic\r\n"
    "Target-Profile-Name: Generic x86/64\r\n"
    "Target-Profile-Packages: kmod-bnx2\r\n"
    "Target-Profile-hasImageMetadata: 0\r\n"
    "@@";

/* The scanned ath79/generic: devices of its own block only. */
static const struct catalog_test_name catalog_test_scan_names[] = {
	{ "8dev_carambola2", "8dev_carambola2" },
	{ "carambola2", "8dev_carambola2" },
	{ "tplink,archer-c7-v5", "tplink_archer-c7-v5" },
	{ "nodevices", "nodevices" },
	{ "not_this", NULL },
	{ "fake_in_description", NULL },
	{ "in_description", NULL },
	{ "nand_only", NULL },
	{ "DEVICE_8dev_carambola2", NULL },
};

/* A tree with good, bad and tricky entries. */
static void
catalog_test_scan(void)
{
	struct catalog			*c;
	const struct catalog_target	*t;
	char				*root, *p, *s, *outside, *cause = NULL;

	root = tutil_scratch("catalog-test");
	if (asprintf(&outside, "%s-outside", root) == -1)
		return;

#define MK(dir, name, text) do {					\
	if (asprintf(&p, "%s/%s", root, (dir)) != -1) {			\
		catalog_test_write(p, (name), (text));			\
		free(p);						\
	}								\
} while (0)
	MK("23.05.4/ath79/generic", ".targetinfo", catalog_tinfo_ath79);
	MK("23.05.4/x86/64", ".targetinfo", catalog_tinfo_x86);
	MK("23.05.4/x86/64", "Makefile", "info:\n");
	MK("23.05.4/ath79/notib", "README", "not an ImageBuilder\n");
	MK("23.05.4/ath79/wrongblock", ".targetinfo", catalog_tinfo_x86);
	MK(".hidden/ath79/generic", ".targetinfo", catalog_tinfo_ath79);
	MK("23.05.4/.tmp-x/generic", ".targetinfo", catalog_tinfo_ath79);
	MK("bad name/ath79/generic", ".targetinfo", catalog_tinfo_ath79);
	MK("SNAPSHOT/ath79/gen$x", ".targetinfo", catalog_tinfo_ath79);
	MK("SNAPSHOT/ath79/dirtinfo/.targetinfo", "x", "");
	MK("SNAPSHOT/ath79/linked", "real", catalog_tinfo_ath79);
	MK("SNAPSHOT/x86", "64", "a file, not a directory\n");
	if (asprintf(&p, "%s/SNAPSHOT/ath79/linked/.targetinfo", root) != -1) {
		ok(symlink("real", p) == 0, "symlinked .targetinfo made");
		free(p);
	}
	if (asprintf(&p, "%s/SNAPSHOT/ath79/fifo", root) != -1) {
		fs_mkdirs(p, 0755);
		free(p);
	}
	if (asprintf(&p, "%s/SNAPSHOT/ath79/fifo/.targetinfo", root) != -1) {
		ok(mkfifo(p, 0644) == 0, "FIFO .targetinfo made");
		free(p);
	}
	/* A link inside root is followed, one leading out is not. */
	if (asprintf(&p, "%s/23.05", root) != -1) {
		ok(symlink("23.05.4", p) == 0, "inner version link made");
		free(p);
	}
	if (asprintf(&p, "%s/24.10.0/ath79/generic", outside) != -1) {
		catalog_test_write(p, ".targetinfo", catalog_tinfo_ath79);
		free(p);
	}
	if (asprintf(&p, "%s/24.10.0", root) != -1) {
		if (asprintf(&s, "%s/24.10.0", outside) != -1) {
			ok(symlink(s, p) == 0, "outer version link made");
			free(s);
		}
		free(p);
	}
#undef MK

	c = catalog_new();
	is_int(catalog_scan(c, root, &cause), 0, "scan succeeds");
	catalog_test_list(c, NULL, "23.05 23.05.4",
	    "only sound versions; the inner link too");
	catalog_test_list(c, "23.05.4", "ath79/generic x86/64",
	    "targets with their own block only");

	t = catalog_target(c, "23.05.4", "ath79/generic");
	ok(t != NULL, "ath79/generic scanned");
	if (t != NULL) {
		is_int(catalog_nprofiles(t), 3, "three profiles");
		is_str(catalog_target_arch(t), "mips_24kc",
		    "arch from the target's own block");
		if (asprintf(&p, "%s/23.05.4/ath79/generic", root) != -1) {
			is_str(catalog_target_dir(t), p,
			    "ImageBuilder directory recorded");
			free(p);
		}
		CATALOG_TEST_RESOLVES(t, catalog_test_scan_names);
	}
	t = catalog_target(c, "23.05.4", "x86/64");
	ok(t != NULL, "x86/64 scanned (CRLF, no final newline)");
	if (t != NULL) {
		is_str(catalog_target_arch(t), "x86_64", "x86 arch");
		catalog_test_resolve(t, "anything", "generic");
	}
	ok(catalog_target(c, "23.05", "ath79/generic") != NULL,
	    "the inner link is a version of its own");
	ok(!catalog_has_version(c, "24.10.0"),
	    "the outer link is not followed");
	ok(!catalog_has_version(c, "SNAPSHOT"),
	    "bad names, links, FIFOs and files are skipped");
	catalog_free(c);

	c = catalog_new();
	is_int(catalog_scan(c, "catalog-test-missing", &cause), -1,
	    "a missing root fails");
	ok(cause != NULL && strstr(cause, "catalog-test-missing") != NULL,
	    "the cause names the root");
	free(cause);
	catalog_free(c);

	ok(fs_rmtree(root) == 0 && fs_rmtree(outside) == 0,
	    "scratch removed");
	free(outside);
	free(root);
}

/* The hostile target: what was kept of it. */
static const struct catalog_test_name catalog_test_hostile_names[] = {
	{ "d0999999", "p20000" },
	{ "d0991808", "p19968" },
	{ "d0991807", NULL },
	{ "p11809", "p11809" },
	{ "p11808", NULL },
};

/* The hostile target after replacing one profile 100 000 times. */
static const struct catalog_test_name catalog_test_replaced_names[] = {
	{ "p20000", "p20000" },
	{ "d0999999", NULL },
	{ "again6", NULL },
	{ "d0991808", "p19968" },
};

/*
 * A hostile profiles.json: each alias went into a sorted array, so 800
 * profiles of 250 devices in reverse order (2.4 MB) kept the event loop
 * busy for 50 seconds. A target now takes 8192 profiles and 8192 aliases,
 * replaced ones included.
 */
static void
catalog_test_hostile(void)
{
	struct catalog		*c;
	struct catalog_target	*t;
	struct strv		 sv = STRV_INITIALIZER;
	char			 id[32];
	int			 i, j, k = 1000000;

	c = catalog_new();
	t = catalog_add_target(c, "1.0", "t/s");
	for (i = 20000; i > 0; i--) {
		for (j = 0; j < (i > 19800 ? 250 : 1); j++)
			strv_addf(&sv, "d%07d", --k);
		snprintf(id, sizeof id, "p%05d", i);
		catalog_add_profile(t, id, &sv);
		strv_clear(&sv);
	}
	is_int(catalog_nprofiles(t), 8192, "hostile: 8192 profiles kept");
	CATALOG_TEST_RESOLVES(t, catalog_test_hostile_names);

	/* Replacing one profile over and over takes no more aliases. */
	for (i = 0; i < 100000; i++) {
		strv_addf(&sv, "again%d", i % 7);
		catalog_add_profile(t, "p20000", &sv);
		strv_clear(&sv);
	}
	CATALOG_TEST_RESOLVES(t, catalog_test_replaced_names);
	catalog_free(c);
}

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	catalog_test_real();
	catalog_test_rules();
	catalog_test_lookup();
	catalog_test_scan();
	catalog_test_hostile();
	return (done_testing());
}

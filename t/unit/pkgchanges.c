/*
 * pkgchanges.c: the shipped package-changes file against the cases of the
 * reference server's test_package_changes and its tables, the rule
 * actions one by one, and malformed files.
 */
#include <stdlib.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkgchanges.h"
#include "t/unit/tap.h"

/* A list before and after the rules, for a version, target and profile. */
struct pkgchanges_test_case {
	const char	*version;
	const char	*target;
	const char	*profile;
	const char	*pkgs;
	const char	*want;
};

/* The profiles of a target that all get pkgs, and how many they are. */
struct pkgchanges_test_set {
	const char	*version;
	const char	*target;
	const char	*profiles;
	const char	*pkgs;
	size_t		 n;
};

static struct pkgchanges *pkgchanges_test_shipped(void);
static char	*pkgchanges_test_run(const struct pkgchanges *, const char *,
		    const char *, const char *, const char *);
static void	 pkgchanges_test_is(const struct pkgchanges *, const char *,
		    const char *, const char *, const char *, const char *);
static void	 pkgchanges_test_cases(const struct pkgchanges *,
		    const struct pkgchanges_test_case *, size_t);
static void	 pkgchanges_test_reference(const struct pkgchanges *);
static void	 pkgchanges_test_profiles(const struct pkgchanges *,
		    const char *, const char *, const char *, const char *,
		    size_t);
static void	 pkgchanges_test_rules(const struct pkgchanges *);
static void	 pkgchanges_test_clients(const struct pkgchanges *);
static int	 pkgchanges_test_branch(const struct pkgchanges *, int);
static void	 pkgchanges_test_actions(void);
static void	 pkgchanges_test_bad(const char *, const char *);
static void	 pkgchanges_test_errors(void);

/* Loads conf/package-changes.conf of the source tree. */
static struct pkgchanges *
pkgchanges_test_shipped(void)
{
	struct pkgchanges	*pc;
	const char		*top;
	char			*path, *cause = NULL;

	if ((top = getenv("ASUD_TOP_SRCDIR")) == NULL || *top == '\0')
		top = ASUD_SRCDIR;
	xasprintf(&path, "%s/conf/package-changes.conf", top);
	pc = pkgchanges_load(path, &cause);
	ok(pc != NULL, "the shipped package-changes.conf loads");
	if (pc == NULL)
		printf("# %s\n", cause);
	free(cause);
	free(path);
	return (pc);
}

/* Applies the rules to a space-separated list; returns it joined. */
static char *
pkgchanges_test_run(const struct pkgchanges *pc, const char *version,
    const char *target, const char *profile, const char *pkgs)
{
	struct strv	 sv = STRV_INITIALIZER;
	char		*out;

	strv_split(&sv, pkgs, " ");
	pkgchanges_apply(pc, version, target, profile, &sv);
	out = strv_join(&sv, " ");
	if (sv.n > 0 && sv.v[sv.n] != NULL)
		ok(0, "the list stays NULL-terminated");
	strv_clear(&sv);
	return (out);
}

/* Applies and compares with the expected list. */
static void
pkgchanges_test_is(const struct pkgchanges *pc, const char *version,
    const char *target, const char *profile, const char *pkgs,
    const char *want)
{
	char	*got, *name;

	got = pkgchanges_test_run(pc, version, target, profile, pkgs);
	xasprintf(&name, "%s %s %s: [%s] -> [%s]", version, target, profile,
	    pkgs, want);
	is_str(got, want, name);
	free(name);
	free(got);
}

/* pkgchanges_test_is for each of n cases. */
static void
pkgchanges_test_cases(const struct pkgchanges *pc,
    const struct pkgchanges_test_case *cases, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		pkgchanges_test_is(pc, cases[i].version, cases[i].target,
		    cases[i].profile, cases[i].pkgs, cases[i].want);
}

/* test_package_changes.py, case by case (but the one applied twice). */
static const struct pkgchanges_test_case pkgchanges_test_reference_cases[] = {
	/* test_apply_package_changes_adds_kmod_switch_rtl8366s */
	{ "23.05", "ath79/generic", "buffalo_wzr-hp-g300nh-s",
	    "kmod-ath9k-htc",
	    "kmod-ath9k-htc kmod-switch-rtl8366s" },
	/* test_apply_package_changes_does_not_add_duplicate_packages */
	{ "23.05", "ath79/generic", "buffalo_wzr-hp-g300nh-s",
	    "kmod-ath9k-htc kmod-switch-rtl8366s",
	    "kmod-ath9k-htc kmod-switch-rtl8366s" },
	/* test_apply_package_add_and_remove */
	{ "24.10", "ath79/generic", "buffalo_wzr-hp-g300nh-s",
	    "auc",
	    "owut" },
	{ "SNAPSHOT", "ath79/generic", "buffalo_wzr-hp-g300nh-s",
	    "a b kmod-nf-conntrack c kmod-nf-conntrack6 d e",
	    "a b kmod-nf-conntrack c d e" },
	/* test_apply_package_changes_mediatek */
	{ "23.05", "mediatek/mt7622", "foobar",
	    "ubus",
	    "ubus kmod-mt7622-firmware" },
	/* test_apply_package_changes_lang_packs */
	{ "23.05.5", "mediatek/mt7622", "foobar",
	    "luci-i18n-english-en luci-i18n-opkg-ko luci-i18n-xinetd-lt "
	    "luci-i18n-opkg-en luci-i18n-opkg-zh-cn",
	    "luci-i18n-opkg-ko luci-i18n-xinetd-lt luci-i18n-opkg-zh-cn "
	    "kmod-mt7622-firmware" },
	{ "24.10.0-rc5", "mediatek/mt7622", "foobar",
	    "luci-i18n-opkg-ko luci-i18n-xinetd-lt luci-i18n-opkg-zh-cn "
	    "kmod-mt7622-firmware",
	    "luci-i18n-package-manager-ko luci-i18n-xinetd-lt "
	    "luci-i18n-package-manager-zh-cn kmod-mt7622-firmware fitblk" },
	{ "24.10.0-rc5", "mediatek/mt7622", "foobar",
	    "luci-i18n-english-en luci-i18n-opkg-ko luci-i18n-xinetd-lt "
	    "luci-i18n-opkg-en luci-i18n-opkg-zh-cn",
	    "luci-i18n-package-manager-ko luci-i18n-xinetd-lt "
	    "luci-i18n-package-manager-zh-cn fitblk" },
};

/* test_package_changes.py, case by case. */
static void
pkgchanges_test_reference(const struct pkgchanges *pc)
{
	char	*once, *twice;

	pkgchanges_test_cases(pc, pkgchanges_test_reference_cases,
	    nitems(pkgchanges_test_reference_cases));
	/* test_apply_package_changes_release: nothing for 21.02 */
	once = pkgchanges_test_run(pc, "21.02.0-rc1", "ath79/generic",
	    "buffalo_wzr-hp-g300nh-s", "kmod-ath9k-htc");
	twice = pkgchanges_test_run(pc, "21.02.0-rc1", "ath79/generic",
	    "buffalo_wzr-hp-g300nh-s", once);
	is_str(once, "kmod-ath9k-htc", "21.02.0-rc1 is left alone");
	is_str(twice, once, "applying twice changes nothing more");
	free(once);
	free(twice);
}

/*
 * Every profile of a space-separated list gets pkgs added (after "base");
 * one profile off the list gets nothing; the list has want entries.
 */
static void
pkgchanges_test_profiles(const struct pkgchanges *pc, const char *version,
    const char *target, const char *profiles, const char *pkgs, size_t want)
{
	struct strv	 sv = STRV_INITIALIZER;
	char		*got, *expect, *name;
	size_t		 i, good = 0;

	strv_split(&sv, profiles, " ");
	is_int(sv.n, want, target);
	xasprintf(&expect, "base %s", pkgs);
	for (i = 0; i < sv.n; i++) {
		got = pkgchanges_test_run(pc, version, target, sv.v[i], "base");
		if (strcmp(got, expect) == 0)
			good++;
		else
			printf("# %s %s: got [%s]\n", target, sv.v[i], got);
		free(got);
	}
	xasprintf(&name, "%s: all %zu profiles get %s", target, sv.n, pkgs);
	is_int(good, sv.n, name);
	free(name);
	got = pkgchanges_test_run(pc, version, target, "not-listed", "base");
	ok(strstr(got, strchr(pkgs, ' ') != NULL ? strrchr(pkgs, ' ') + 1 :
	    pkgs) == NULL, "a profile off the list gets none of it");
	free(got);
	free(expect);
	strv_clear(&sv);
}

/* The rules beyond the reference's own test cases: lists of one profile. */
static const struct pkgchanges_test_case pkgchanges_test_rule_cases[] = {
	{ "23.05.4", "ath79/generic", "buffalo_wzr-hp-g300nh-rb",
	    "luci",
	    "luci kmod-switch-rtl8366rb" },
	{ "23.05.4", "ath79/nand", "buffalo_wzr-hp-g300nh-rb",
	    "luci",
	    "luci" },
	{ "24.10.0", "ath79/generic", "buffalo_wzr-hp-g300nh-s",
	    "luci",
	    "luci" },
	{ "23.05-SNAPSHOT", "mediatek/mt7622", "x",
	    "luci",
	    "luci kmod-mt7622-firmware" },
	{ "24.10.2", "x86/64", "generic",
	    "luci owut auc",
	    "luci owut" },
	{ "24.10.2", "x86/64", "generic",
	    "luci",
	    "luci" },
	{ "24.10-SNAPSHOT", "ath79/generic", "tplink_archer-c6-v2",
	    "luci",
	    "luci ipq-wifi-tplink_archer-c6-v2" },
	{ "24.10.0", "mediatek/filogic", "x",
	    "luci",
	    "luci fitblk" },
	{ "24.10.0", "mediatek/mt7623", "x",
	    "fitblk luci",
	    "fitblk luci" },
	{ "25.12.0", "mediatek/filogic", "x",
	    "auc",
	    "auc" },
	{ "25.12.0", "mvebu/cortexa9", "globalscale_mochabin",
	    "base",
	    "base" },
	{ "25.12.1", "lantiq/xrx200", "other",
	    "base",
	    "base kmod-dsa-gswip" },
	{ "25.12.1", "lantiq/xrx200_legacy", "other",
	    "kmod-dsa-gswip base",
	    "kmod-dsa-gswip base" },
	{ "25.12.0", "ipq40xx/generic", "meraki_mr32",
	    "base",
	    "base" },
	{ "25.12-SNAPSHOT", "ath79/mikrotik", "x",
	    "base",
	    "base kmod-ag71xx-legacy" },
	{ "24.10.0", "ath79/mikrotik", "x",
	    "base",
	    "base" },
	{ "SNAPSHOT", "x86/64", "generic",
	    "kmod-lib-crc32c auc luci-i18n-opkg-de luci-i18n-base-en "
	    "kmod-nf-conntrack6 luci-i18n-en",
	    "auc luci-i18n-package-manager-de" },
	{ "25.12-SNAPSHOT", "x86/64", "generic",
	    "kmod-lib-crc32c kmod-nf-conntrack6 luci-i18n-opkg-de",
	    "kmod-lib-crc32c kmod-nf-conntrack6 "
	    "luci-i18n-package-manager-de" },
	{ "23.05.5", "x86/64", "generic",
	    "luci-i18n-opkg-de luci-i18n-base-en luci-i18n-base-en",
	    "luci-i18n-opkg-de" },
	{ "24.10.0", "x86/64", "generic",
	    "luci-i18n-opkg-opkg-luci-i18n-opkg-x",
	    "luci-i18n-package-manager-opkg-x" },
	{ "24.10.0", "x86/64", "generic",
	    "",
	    "" },
};

/* The rules beyond the reference's: every profile of a list, and no other. */
static const struct pkgchanges_test_set pkgchanges_test_rule_sets[] = {
	{ "23.05.5", "ath79/generic",
	    "buffalo_wzr-hp-g300nh-s dlink_dir-825-b1 netgear_wndr3700 "
	    "netgear_wndr3700-v2 netgear_wndr3800 netgear_wndr3800ch "
	    "netgear_wndrmac-v1 netgear_wndrmac-v2 trendnet_tew-673gru",
	    "kmod-switch-rtl8366s",
	    9 },
	{ "25.12.0", "kirkwood/generic",
	    "checkpoint_l-50 endian_4i-edge-200 linksys_e4200-v2 "
	    "linksys_ea3500 linksys_ea4500",
	    "kmod-dsa-mv88e6xxx",
	    5 },
	{ "25.12.0", "mvebu/cortexa9",
	    "cznic_turris-omnia fortinet_fg-30e fortinet_fwf-30e "
	    "fortinet_fg-50e fortinet_fg-51e fortinet_fg-52e "
	    "fortinet_fwf-50e-2r fortinet_fwf-51e iij_sa-w2 linksys_wrt1200ac "
	    "linksys_wrt1900acs linksys_wrt1900ac-v1 linksys_wrt1900ac-v2 "
	    "linksys_wrt3200acm linksys_wrt32x marvell_a370-rd",
	    "kmod-dsa-mv88e6xxx",
	    16 },
	{ "25.12.0", "mvebu/cortexa53",
	    "glinet_gl-mv1000 globalscale_espressobin "
	    "globalscale_espressobin-emmc globalscale_espressobin-ultra "
	    "globalscale_espressobin-v7 globalscale_espressobin-v7-emmc "
	    "methode_udpu",
	    "kmod-dsa-mv88e6xxx",
	    7 },
	{ "25.12.0", "mvebu/cortexa72",
	    "checkpoint_v-80 checkpoint_v-81 globalscale_mochabin "
	    "mikrotik_rb5009 solidrun_clearfog-pro",
	    "kmod-dsa-mv88e6xxx",
	    5 },
	{ "25.12.1", "lantiq/xrx200",
	    "arcadyan_arv7519rw22 arcadyan_vgv7510kw22-brn "
	    "arcadyan_vgv7510kw22-nor avm_fritz7412 avm_fritz7430 "
	    "buffalo_wbmr-300hpd",
	    "kmod-dsa-gswip "
	    "xrx200-rev1.1-phy22f-firmware xrx200-rev1.2-phy22f-firmware",
	    6 },
	{ "25.12.1", "lantiq/xrx200",
	    "tplink_vr200 tplink_vr200v arcadyan_vgv7519-brn "
	    "arcadyan_vgv7519-nor arcadyan_vrv9510kwac23 "
	    "avm_fritz3370-rev2-hynix avm_fritz3370-rev2-micron avm_fritz3390 "
	    "avm_fritz3490 avm_fritz3490-micron avm_fritz5490 "
	    "avm_fritz5490-micron avm_fritz7360sl avm_fritz7360-v2 "
	    "avm_fritz7362sl avm_fritz7490 avm_fritz7490-micron "
	    "bt_homehub-v5a lantiq_easy80920-nand lantiq_easy80920-nor "
	    "zyxel_p-2812hnu-f1 zyxel_p-2812hnu-f3",
	    "kmod-dsa-gswip "
	    "xrx200-rev1.1-phy11g-firmware xrx200-rev1.2-phy11g-firmware",
	    22 },
	{ "25.12.1", "lantiq/xrx200_legacy",
	    "alphanetworks_asl56026 netgear_dm200",
	    "kmod-dsa-gswip "
	    "xrx200-rev1.1-phy22f-firmware xrx200-rev1.2-phy22f-firmware",
	    2 },
	{ "25.12.1", "lantiq/xrx200_legacy",
	    "tplink_tdw8970 tplink_tdw8980 arcadyan_vg3503j",
	    "kmod-dsa-gswip "
	    "xrx200-rev1.1-phy11g-firmware xrx200-rev1.2-phy11g-firmware",
	    3 },
	{ "25.12.0", "bcm53xx/generic",
	    "meraki_mr32",
	    "kmod-hci-uart",
	    1 },
	{ "25.12.0", "ipq40xx/generic",
	    "linksys_whw03 linksys_whw03v2",
	    "kmod-hci-uart",
	    2 },
	{ "25.12.0", "qualcommax/ipq807x",
	    "linksys_mx4200v1 linksys_mx8500 zyxel_nbg7815",
	    "kmod-hci-uart",
	    3 },
};

/* The rules beyond the reference's own test cases. */
static void
pkgchanges_test_rules(const struct pkgchanges *pc)
{
	const struct pkgchanges_test_set	*t;
	size_t					 i;

	pkgchanges_test_cases(pc, pkgchanges_test_rule_cases,
	    nitems(pkgchanges_test_rule_cases));
	for (i = 0; i < nitems(pkgchanges_test_rule_sets); i++) {
		t = &pkgchanges_test_rule_sets[i];
		pkgchanges_test_profiles(pc, t->version, t->target, t->profiles,
		    t->pkgs, t->n);
	}
}

/* How many client-facing entries a branch lists. */
static int
pkgchanges_test_branch(const struct pkgchanges *pc, int rev)
{
	const struct pkgchanges_client	*c;
	size_t				 i;
	int				 n = 0;

	for (i = 0; (c = pkgchanges_client_at(pc, i)) != NULL; i++)
		n += pkgchanges_client_applies(c, rev);
	return (n);
}

/* config.py's package_changes_list and the per-branch selection. */
static void
pkgchanges_test_clients(const struct pkgchanges *pc)
{
	static const struct {
		const char	*source, *target;
		int		 revision, mandatory;
	} want[] = {
		{ "firewall", "firewall4", 18611, 0 },
		{ "kmod-nft-nat6", NULL, 20282, 1 },
		{ "libustream-wolfssl", "libustream-mbedtls", 21994, 0 },
		{ "px5g-wolfssl", "px5g-mbedtls", 21994, 0 },
		{ "wpad-basic-wolfssl", "wpad-basic-mbedtls", 21994, 0 },
		{ "luci-app-diag-core", NULL, 25984, 1 },
		{ "auc", "owut", 26792, 0 },
		{ "luci-app-opkg", "luci-app-package-manager", 27897, 0 },
		{ "opkg", "apk-mbedtls", 28056, 0 }
	};
	const struct pkgchanges_client	*c;
	size_t				 i, good = 0;

	is_int(pkgchanges_client_count(pc), nitems(want), "9 client entries");
	for (i = 0; i < nitems(want); i++) {
		if ((c = pkgchanges_client_at(pc, i)) == NULL)
			break;
		if (strcmp(c->source, want[i].source) == 0 &&
		    (c->target == NULL ? want[i].target == NULL :
		    want[i].target != NULL &&
		    strcmp(c->target, want[i].target) == 0) &&
		    c->revision == want[i].revision &&
		    c->mandatory == want[i].mandatory)
			good++;
		else
			printf("# entry %zu differs: %s\n", i, c->source);
	}
	is_int(good, nitems(want), "every entry as the reference's");
	ok(pkgchanges_client_at(pc, nitems(want)) == NULL, "NULL past the end");
	is_int(pkgchanges_test_branch(pc, -1), 9, "SNAPSHOT lists all");
	is_int(pkgchanges_test_branch(pc, 32295), 9, "25.12 lists 9");
	is_int(pkgchanges_test_branch(pc, 27990), 8, "24.10 lists 8");
	is_int(pkgchanges_test_branch(pc, 23069), 5, "23.05 lists 5");
	is_int(pkgchanges_test_branch(pc, 19160), 1, "22.03 lists 1");
	is_int(pkgchanges_test_branch(pc, 15812), 0, "21.02 lists none");
	is_int(pkgchanges_test_branch(pc, 21994), 5, "equal revision counts");
}

/* Each action and version form on a small file. */
static void
pkgchanges_test_actions(void)
{
	struct pkgchanges	*pc;
	struct strv		 sv = STRV_INITIALIZER;
	char			*cause = NULL;
	size_t			 i;
	const char		*text =
	    "# a comment\n"
	    "\n"
	    "add =1.0 a/b x y # trailing comment\n"
	    "add >=2 * ge\n"
	    "add 3. * prefix\n"
	    "remove * * r r\n"
	    "replace * c/d old new\n"
	    "rename-prefix * * p- q-\n"
	    "remove-matching * * m- -z\n"
	    "add * e/f only for\n"
	    "\tp1\n"
	    "   # an indented comment\n"
	    "\n"
	    "  p2\r\n"
	    "client  s  -  5";

	pc = pkgchanges_parse(text, strlen(text), "t", &cause);
	ok(pc != NULL, "a small rules file parses");
	if (pc == NULL) {
		printf("# %s\n", cause);
		free(cause);
		return;
	}
	is_int(pkgchanges_rule_count(pc), 8, "8 rules");
	is_int(pkgchanges_client_count(pc), 1, "1 client entry");
	pkgchanges_test_is(pc, "1.0", "a/b", "p", "y", "y x");
	pkgchanges_test_is(pc, "1.0.1", "a/b", "p", "", "");
	pkgchanges_test_is(pc, "1.0", "a/c", "p", "", "");
	pkgchanges_test_is(pc, "2", "a/c", "p", "", "ge");
	pkgchanges_test_is(pc, "10", "a/c", "p", "", "");
	pkgchanges_test_is(pc, "SNAP", "a/c", "p", "", "ge");
	pkgchanges_test_is(pc, "3.1", "a/c", "p", "", "ge prefix");
	pkgchanges_test_is(pc, "3", "a/c", "p", "", "ge");
	pkgchanges_test_is(pc, "1", "x/y", "p", "r a r r", "a r");
	pkgchanges_test_is(pc, "1", "c/d", "p", "old x new old",
	    "x new old");
	pkgchanges_test_is(pc, "1", "c/d", "p", "x old", "x new");
	pkgchanges_test_is(pc, "1", "c/e", "p", "x old", "x old");
	pkgchanges_test_is(pc, "1", "x/y", "p", "p-a xp-b p- p-p-c",
	    "q-a xp-b q- q-c");
	pkgchanges_test_is(pc, "1", "x/y", "p",
	    "m-z m-a-z a-z m- m-z -z m-zz m-z", "a-z m- -z m-zz");
	pkgchanges_test_is(pc, "1", "e/f", "p1", "", "only");
	pkgchanges_test_is(pc, "1", "e/f", "p2", "", "only");
	pkgchanges_test_is(pc, "1", "e/f", "p3", "", "");
	is_str(pkgchanges_client_at(pc, 0)->source, "s", "client source");
	ok(pkgchanges_client_at(pc, 0)->target == NULL, "client no target");
	is_int(pkgchanges_client_at(pc, 0)->revision, 5, "client revision");
	ok(!pkgchanges_client_at(pc, 0)->mandatory, "not mandatory");
	strv_add(&sv, "r");
	pkgchanges_apply(pc, NULL, NULL, NULL, &sv);
	is_int(sv.n, 0, "NULL version, target and profile read as empty");
	strv_clear(&sv);
	pkgchanges_free(pc);
	strv_add(&sv, "r");
	pkgchanges_apply(NULL, "1", "a/b", "p", &sv);
	is_int(sv.n, 1, "no tables, no change");
	strv_clear(&sv);

	pc = pkgchanges_parse("", 0, "empty", &cause);
	ok(pc != NULL && pkgchanges_rule_count(pc) == 0 &&
	    pkgchanges_client_count(pc) == 0, "an empty file is no rules");
	pkgchanges_free(pc);

	/*
	 * A request of 200000 packages that all match remove-matching took
	 * 9 seconds of the event loop: each match moved the rest of the
	 * list. Found while writing t/fuzz/pkgchanges.c.
	 */
	text = "remove-matching * * luci-i18n- -en\n";
	pc = pkgchanges_parse(text, strlen(text), "t", &cause);
	for (i = 0; i < 200000; i++)
		strv_addf(&sv, i % 2 ? "luci-i18n-%zu-en" : "k%zu", i);
	pkgchanges_apply(pc, "1", "a/b", "p", &sv);
	ok(sv.n == 100000 && strcmp(sv.v[0], "k0") == 0 &&
	    strcmp(sv.v[99999], "k199998") == 0 && sv.v[100000] == NULL,
	    "remove-matching over 200000 packages keeps the rest in order");
	strv_clear(&sv);
	pkgchanges_free(pc);
}

/* A malformed file gives exactly the message want. */
static void
pkgchanges_test_bad(const char *text, const char *want)
{
	struct pkgchanges	*pc;
	char			*cause = NULL;

	pc = pkgchanges_parse(text, strlen(text), "bad.conf", &cause);
	ok(pc == NULL, want);
	is_str(cause, want, "  with the message");
	pkgchanges_free(pc);
	free(cause);
}

/* Malformed files and a missing one. */
static void
pkgchanges_test_errors(void)
{
	struct pkgchanges	*pc;
	char			*cause = NULL;
	const char		 nul[] = "add * * a\nadd * * b\0c\n";

	pkgchanges_test_bad("add * * a\nfrobnicate * * b\n",
	    "bad.conf:2: unknown directive \"frobnicate\"");
	pkgchanges_test_bad("\tadd * * a\n",
	    "bad.conf:1: continuation line without a directive");
	pkgchanges_test_bad("client a b 12x\n",
	    "bad.conf:1: bad revision \"12x\"");
	pkgchanges_test_bad("client a b 1234567890\n",
	    "bad.conf:1: bad revision \"1234567890\"");
	pkgchanges_test_bad("client a b\n",
	    "bad.conf:1: expected: client SOURCE TARGET REVISION "
	    "[mandatory]");
	pkgchanges_test_bad("client - b 1\n",
	    "bad.conf:1: bad source package \"-\"");
	pkgchanges_test_bad("client a b 1 optional\n",
	    "bad.conf:1: expected \"mandatory\", not \"optional\"");
	pkgchanges_test_bad("# x\n\nadd 1 ath79 a\n",
	    "bad.conf:3: bad target \"ath79\"");
	pkgchanges_test_bad("add 1 a/b/c a\n",
	    "bad.conf:1: bad target \"a/b/c\"");
	pkgchanges_test_bad("add >= * a\n", "bad.conf:1: bad version \">=\"");
	pkgchanges_test_bad("add 1 * a\n\tb c/d\n",
	    "bad.conf:2: bad package \"c/d\"");
	pkgchanges_test_bad("add 1 * a for\n  p1\n  p$2\n",
	    "bad.conf:3: bad profile \"p$2\"");
	pkgchanges_test_bad("add 1 * a for\n\n",
	    "bad.conf:1: \"for\" without a profile");
	pkgchanges_test_bad("add 1 * for p\n",
	    "bad.conf:1: add needs a package");
	pkgchanges_test_bad("replace * * a b c\n",
	    "bad.conf:1: replace takes 2 arguments");
	pkgchanges_test_bad("remove-matching * * a\n",
	    "bad.conf:1: remove-matching takes 2 arguments");
	pkgchanges_test_bad("remove *\n",
	    "bad.conf:1: expected: remove VERSION TARGET ARGUMENT... "
	    "[for PROFILE...]");
	pc = pkgchanges_parse(nul, sizeof nul - 1, "bad.conf", &cause);
	ok(pc == NULL, "a NUL byte");
	is_str(cause, "bad.conf:2: NUL byte", "  with the message");
	free(cause);
	cause = NULL;
	pc = pkgchanges_load("/nonexistent/package-changes.conf", &cause);
	ok(pc == NULL, "a missing file");
	is_str(cause, "/nonexistent/package-changes.conf: "
	    "No such file or directory", "  says FILE: reason");
	free(cause);
}

/* Runs every group of checks; the exit code says whether all passed. */
int
main(void)
{
	struct pkgchanges	*pc;

	if ((pc = pkgchanges_test_shipped()) != NULL) {
		pkgchanges_test_reference(pc);
		pkgchanges_test_rules(pc);
		pkgchanges_test_clients(pc);
		pkgchanges_free(pc);
	}
	pkgchanges_test_actions();
	pkgchanges_test_errors();
	return (done_testing());
}

/*
 * vercmp.c: the order of package versions (opkg's and apk's usual forms)
 * and of OpenWrt release versions.
 */
#include <stdio.h>

#include "lib/compat.h"
#include "imagebuilder/vercmp.h"
#include "t/unit/tap.h"

/* One package comparison: a, b and the sign wanted. */
static const struct vercmp_test_case {
	const char	*a;
	const char	*b;
	int		 want;
} vercmp_test_packages[] = {
	{ "1.2.3-r4", "1.2.3-r4", 0 },
	{ "1.2.3-r4", "1.2.3-r5", -1 },
	{ "1.2.3-r10", "1.2.3-r9", 1 },
	{ "1.2.10-r1", "1.2.9-r1", 1 },
	{ "1.2.3-1", "1.2.3-2", -1 },
	{ "1.2.3", "1.2.3-1", -1 },
	{ "2024.01.02~abcdef-r1", "2024.01.02~abcdef-r2", -1 },
	{ "2024.01.02~abcdef-r1", "2024.02.01~012345-r1", -1 },
	{ "2024.01.02~abcdef-r1", "2023.12.31~fedcba-r9", 1 },
	{ "2024.01.02~abcdef-r1", "2024.01.02-r1", -1 },
	{ "1:2.0", "2.0", 1 },
	{ "1:2.0", "2:1.0", -1 },
	{ "1:2.0-r1", "1:2.0-r1", 0 },
	{ "3.0", "1:1.0", -1 },
	{ "1.0_rc1", "1.0", -1 },
	{ "1.0_alpha1", "1.0_beta1", -1 },
	{ "1.0_rc1-r1", "1.0_pre2-r1", 1 },
	{ "1.0~git", "1.0", -1 },
	{ "1.0a", "1.0", 1 },
	{ "1.0a", "1.0b", -1 },
	{ "1.0.1", "1.0a", 1 },
	{ "0123", "123", 0 },
	{ "", "0", 0 },
	{ "", "1", -1 },
	{ "5.15.162-1", "5.15.162-1", 0 },
	{ "6.6.74-r1", "5.15.162-1", 1 },
	{ "1.36.1-1", "1.37.0-r4", -1 },
	{ "99999999999999999999", "99999999999999999998", 1 },
	{ ":1", "1", 1 },
	{ "x:1", "x:2", -1 },
};

/* One release comparison. */
static const struct vercmp_test_case vercmp_test_releases[] = {
	{ "23.05.4", "23.05.5", -1 },
	{ "23.05.10", "23.05.9", 1 },
	{ "24.10.0-rc1", "24.10.0", -1 },
	{ "24.10.0-rc2", "24.10.0-rc1", 1 },
	{ "24.10.0-rc7", "23.05.5", 1 },
	{ "24.10.1", "24.10.0", 1 },
	{ "24.10", "23.05", 1 },
	{ "1.2", "23.05", -1 },
	{ "25.12", "25.12", 0 },
};

/* Runs one table with a comparison both ways. */
static void
vercmp_test_table(const struct vercmp_test_case *t, size_t n,
    int (*cmp)(const char *, const char *), const char *what)
{
	char	name[256];
	size_t	i;
	int	got;

	for (i = 0; i < n; i++) {
		got = cmp(t[i].a, t[i].b);
		snprintf(name, sizeof name, "%s: \"%s\" %s \"%s\"", what,
		    t[i].a, t[i].want < 0 ? "<" : t[i].want > 0 ? ">" : "==",
		    t[i].b);
		is_int(got, t[i].want, name);
		snprintf(name, sizeof name, "%s: \"%s\" against \"%s\" is "
		    "the reverse", what, t[i].b, t[i].a);
		is_int(cmp(t[i].b, t[i].a), -t[i].want, name);
	}
}

/* Every table. */
int
main(void)
{
	vercmp_test_table(vercmp_test_packages, nitems(vercmp_test_packages),
	    vercmp_package, "package");
	vercmp_test_table(vercmp_test_releases, nitems(vercmp_test_releases),
	    vercmp_release, "release");
	return (done_testing());
}

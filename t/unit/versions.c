/*
 * versions.c: branch derivation, snapshot detection, the published order
 * of versions, path templates and revision numbers, with the reference
 * server's examples.
 */
#include <stdlib.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/versions.h"
#include "t/unit/tap.h"

static void	versions_test_branch(const struct strv *, const char *,
		    const char *);
static void	versions_test_sort(const char *, const char *, const char *);
static void	versions_test_path(const char *, const char *, const char *);

/* Checks the branch of one version. */
static void
versions_test_branch(const struct strv *branches, const char *version,
    const char *want)
{
	char	*got, *name;

	got = versions_branch_of(version, branches);
	xasprintf(&name, "branch of \"%s\" is \"%s\"", version, want);
	is_str(got, want, name);
	free(name);
	free(got);
}

/* Sorts a space-separated list and compares the joined result. */
static void
versions_test_sort(const char *in, const char *want, const char *name)
{
	struct strv	 sv = STRV_INITIALIZER;
	char		*got;

	strv_split(&sv, in, " ");
	versions_sort(&sv);
	got = strv_join(&sv, " ");
	is_str(got, want, name);
	ok(sv.n == 0 || sv.v[sv.n] == NULL, "still NULL-terminated");
	free(got);
	strv_clear(&sv);
}

/* Checks one path template substitution. */
static void
versions_test_path(const char *tmpl, const char *version, const char *want)
{
	char	*got;

	got = versions_path(tmpl, version);
	is_str(got, want, tmpl);
	free(got);
}

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	struct strv	branches = STRV_INITIALIZER;

	strv_split(&branches, "SNAPSHOT 25.12 24.10 23.05 22.03 21.02", " ");

	/* asu-api.md §3 item 4 */
	versions_test_branch(&branches, "SNAPSHOT", "SNAPSHOT");
	versions_test_branch(&branches, "24.10", "24.10");
	versions_test_branch(&branches, "23.05.5", "23.05");
	versions_test_branch(&branches, "24.10.0-rc1", "24.10");
	versions_test_branch(&branches, "10.10.10", "10.10");
	versions_test_branch(&branches, "99.99.99", "99.99");
	versions_test_branch(&branches, "23.05-SNAPSHOT", "23.05");
	versions_test_branch(&branches, "1.0.0-SNAPSHOT", "1.0.0");
	versions_test_branch(&branches, "SNAPP-SNAPSHOT", "SNAPP");
	versions_test_branch(&branches, "23.05.6", "23.05");
	/* not a branch key, no dot: the version itself */
	versions_test_branch(&branches, "snapshot", "snapshot");
	/* the suffix test is case-sensitive, as the reference's */
	versions_test_branch(&branches, "23.05-snapshot", "23");
	versions_test_branch(NULL, "SNAPSHOT", "SNAPSHOT");
	versions_test_branch(NULL, "23.05", "23");
	versions_test_branch(&branches, "", "");

	/* is_snapshot_build cases of the reference's test_util */
	ok(!versions_is_snapshot("22.07.3"), "22.07.3 is not a snapshot");
	ok(!versions_is_snapshot("23.05.0-rc3"), "23.05.0-rc3 is not");
	ok(!versions_is_snapshot("23.05.2"), "23.05.2 is not");
	ok(!versions_is_snapshot("23.05.5"), "23.05.5 is not");
	ok(!versions_is_snapshot("23.05.6"), "23.05.6 is not");
	ok(versions_is_snapshot("23.05-SNAPSHOT"), "23.05-SNAPSHOT is");
	ok(!versions_is_snapshot("24.10.0-rc1"), "24.10.0-rc1 is not");
	ok(!versions_is_snapshot("24.10.2"), "24.10.2 is not");
	ok(versions_is_snapshot("24.10-SNAPSHOT"), "24.10-SNAPSHOT is");
	ok(versions_is_snapshot("SNAPSHOT"), "SNAPSHOT is");
	ok(versions_is_snapshot("snapshot"), "lower case snapshot is");
	ok(versions_is_snapshot("1.0-SnapShot"), "mixed case is");
	ok(!versions_is_snapshot("SNAPSHOT-1"), "SNAPSHOT-1 is not");
	ok(!versions_is_snapshot("NAPSHOT"), "a shorter string is not");
	ok(!versions_is_snapshot(""), "the empty string is not");

	/* asu-api.md §6.1 */
	versions_test_sort("23.05.5 24.10-SNAPSHOT SNAPSHOT 25.12.0-rc1 "
	    "24.10.0 25.12.1 23.05-SNAPSHOT 25.12-SNAPSHOT 24.10.0-rc7 "
	    "25.12.2 24.10.5 25.12.0 23.05.0-rc3 23.05.0 24.10.10 22.03.7 "
	    "25.12.0-rc2",
	    "SNAPSHOT 25.12.2 25.12.1 25.12.0 25.12.0-rc2 25.12.0-rc1 "
	    "25.12-SNAPSHOT 24.10.5 24.10.10 24.10.0 24.10.0-rc7 "
	    "24.10-SNAPSHOT 23.05.5 23.05.0 23.05.0-rc3 23.05-SNAPSHOT "
	    "22.03.7",
	    "release candidates sort between -SNAPSHOT and the releases");
	versions_test_sort("25.12.0-rc1 25.12-rc1 25.12.0-rc1",
	    "25.12.0-rc1 25.12-rc1 25.12.0-rc1",
	    "equal keys keep their order");
	versions_test_sort("", "", "an empty list");
	versions_test_sort("1.2.3", "1.2.3", "one version");

	versions_test_path("releases/{version}", "23.05.4",
	    "releases/23.05.4");
	versions_test_path("snapshots", "SNAPSHOT", "snapshots");
	versions_test_path("a/{version}/b/{version}", "1.0", "a/1.0/b/1.0");
	versions_test_path("{version", "1.0", "{version");
	versions_test_path("", "1.0", "");

	is_int(versions_revision_number("r28427-6df0e3d02a"), 28427,
	    "r28427-6df0e3d02a");
	is_int(versions_revision_number("r24106-10cc5fcd00"), 24106,
	    "r24106-10cc5fcd00");
	is_int(versions_revision_number("r1"), 1, "r1");
	is_int(versions_revision_number("r0-x"), 0, "r0-x");
	is_int(versions_revision_number("28427-6df0e3d02a"), -1, "no r");
	is_int(versions_revision_number("r-6df0e3d02a"), -1, "no digits");
	is_int(versions_revision_number("r28427-"), -1, "empty suffix");
	is_int(versions_revision_number("r28427x"), -1, "junk after digits");
	is_int(versions_revision_number("r1234567890"), -1, "too many digits");
	is_int(versions_revision_number("r123456789"), 123456789,
	    "nine digits");
	is_int(versions_revision_number(""), -1, "empty");
	is_int(versions_revision_number(NULL), -1, "NULL");

	strv_clear(&branches);
	return (done_testing());
}

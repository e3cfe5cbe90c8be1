/*
 * versions.c: branch derivation, snapshot detection, the published order
 * of versions, path templates and revision numbers, with the reference
 * server's examples.
 */
#include <stdlib.h>

#include "lib/compat.h"
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

/* A version, its branch, and whether the branch list is left out. */
struct versions_test_of {
	const char	*version;
	const char	*branch;
	int		 no_list;
};

static const struct versions_test_of versions_test_branches[] = {
	/* asu-api.md §3 item 4 */
	{ "SNAPSHOT", "SNAPSHOT", 0 },
	{ "24.10", "24.10", 0 },
	{ "23.05.5", "23.05", 0 },
	{ "24.10.0-rc1", "24.10", 0 },
	{ "10.10.10", "10.10", 0 },
	{ "99.99.99", "99.99", 0 },
	{ "23.05-SNAPSHOT", "23.05", 0 },
	{ "1.0.0-SNAPSHOT", "1.0.0", 0 },
	{ "SNAPP-SNAPSHOT", "SNAPP", 0 },
	{ "23.05.6", "23.05", 0 },
	/* not a branch key, no dot: the version itself */
	{ "snapshot", "snapshot", 0 },
	/* the suffix test is case-sensitive, as the reference's */
	{ "23.05-snapshot", "23", 0 },
	{ "SNAPSHOT", "SNAPSHOT", 1 },
	{ "23.05", "23", 1 },
	{ "", "", 0 },
};

/* A version and whether it is a snapshot build. */
struct versions_test_snapshot {
	const char	*version;
	int		 snapshot;
	const char	*name;
};

/* is_snapshot_build cases of the reference's test_util */
static const struct versions_test_snapshot versions_test_snapshots[] = {
	{ "22.07.3", 0, "22.07.3 is not a snapshot" },
	{ "23.05.0-rc3", 0, "23.05.0-rc3 is not" },
	{ "23.05.2", 0, "23.05.2 is not" },
	{ "23.05.5", 0, "23.05.5 is not" },
	{ "23.05.6", 0, "23.05.6 is not" },
	{ "23.05-SNAPSHOT", 1, "23.05-SNAPSHOT is" },
	{ "24.10.0-rc1", 0, "24.10.0-rc1 is not" },
	{ "24.10.2", 0, "24.10.2 is not" },
	{ "24.10-SNAPSHOT", 1, "24.10-SNAPSHOT is" },
	{ "SNAPSHOT", 1, "SNAPSHOT is" },
	{ "snapshot", 1, "lower case snapshot is" },
	{ "1.0-SnapShot", 1, "mixed case is" },
	{ "SNAPSHOT-1", 0, "SNAPSHOT-1 is not" },
	{ "NAPSHOT", 0, "a shorter string is not" },
	{ "", 0, "the empty string is not" },
};

/* A path template, a version, and the path. */
struct versions_test_template {
	const char	*tmpl;
	const char	*version;
	const char	*want;
};

static const struct versions_test_template versions_test_paths[] = {
	{ "releases/{version}", "23.05.4", "releases/23.05.4" },
	{ "snapshots", "SNAPSHOT", "snapshots" },
	{ "a/{version}/b/{version}", "1.0", "a/1.0/b/1.0" },
	{ "{version", "1.0", "{version" },
	{ "", "1.0", "" },
};

/* A revision and its number (-1: none). */
struct versions_test_revision {
	const char	*revision;
	long long	 number;
	const char	*name;
};

static const struct versions_test_revision versions_test_revisions[] = {
	{ "r28427-6df0e3d02a", 28427, "r28427-6df0e3d02a" },
	{ "r24106-10cc5fcd00", 24106, "r24106-10cc5fcd00" },
	{ "r1", 1, "r1" },
	{ "r0-x", 0, "r0-x" },
	{ "28427-6df0e3d02a", -1, "no r" },
	{ "r-6df0e3d02a", -1, "no digits" },
	{ "r28427-", -1, "empty suffix" },
	{ "r28427x", -1, "junk after digits" },
	{ "r1234567890", -1, "too many digits" },
	{ "r123456789", 123456789, "nine digits" },
	{ "", -1, "empty" },
};

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	struct strv	branches = STRV_INITIALIZER;
	size_t		i;

	strv_split(&branches, "SNAPSHOT 25.12 24.10 23.05 22.03 21.02", " ");
	for (i = 0; i < nitems(versions_test_branches); i++)
		versions_test_branch(versions_test_branches[i].no_list ? NULL :
		    &branches, versions_test_branches[i].version,
		    versions_test_branches[i].branch);
	for (i = 0; i < nitems(versions_test_snapshots); i++)
		is_int(versions_is_snapshot(versions_test_snapshots[i].version),
		    versions_test_snapshots[i].snapshot,
		    versions_test_snapshots[i].name);

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

	for (i = 0; i < nitems(versions_test_paths); i++)
		versions_test_path(versions_test_paths[i].tmpl,
		    versions_test_paths[i].version,
		    versions_test_paths[i].want);

	for (i = 0; i < nitems(versions_test_revisions); i++)
		is_int(versions_revision_number(
		    versions_test_revisions[i].revision),
		    versions_test_revisions[i].number,
		    versions_test_revisions[i].name);
	is_int(versions_revision_number(NULL), -1, "NULL");

	strv_clear(&branches);
	return (done_testing());
}

/*
 * versions.h: OpenWrt version strings as the reference server reads them
 * (reference/asu-api.md §3 and §6.1): the branch of a version, snapshot
 * detection, the order of the published versions list, the upstream path of
 * a version and the revision number of a version_code.
 */
#ifndef ASUD_VERSIONS_H
#define ASUD_VERSIONS_H

#include "lib/strv.h"

/*
 * The branch a version belongs to: the version itself when it is one of
 * branch_names (may be NULL), the part before the last "-" when it ends in
 * "-SNAPSHOT", else the part before the last "." (the whole version when it
 * has none). Always returns an allocated string the caller frees; whether
 * that branch is configured is the caller's question.
 */
char	*versions_branch_of(const char *version,
	    const struct strv *branch_names);
/* 1 when the version ends in "snapshot", compared case-insensitively. */
int	 versions_is_snapshot(const char *version);
/*
 * Sorts in place, newest first: descending byte order of the key
 * version.replace(".0-rc", "-rc"), so that release candidates land between
 * a branch's releases and its -SNAPSHOT. Equal keys keep their order.
 */
void	 versions_sort(struct strv *);
/*
 * A branch path template with every "{version}" replaced by version
 * ("releases/{version}" -> "releases/23.05.4"). Allocated.
 */
char	*versions_path(const char *path_template, const char *version);
/*
 * The number of a revision such as "r28427-6df0e3d02a" (28427), or -1 when
 * it is not "r<digits>" optionally followed by "-<anything>".
 */
long	 versions_revision_number(const char *revision);

#endif

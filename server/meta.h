/*
 * meta.h: what the upstream metadata means: the versions list and the
 * latest releases (reference/asu-api.md §6.1), the branch and path of a
 * version, the targets of a version, the profiles of a target. Built from
 * upstream documents and from the ImageBuilders on disk.
 */
#ifndef ASUD_META_H
#define ASUD_META_H

#include "lib/strv.h"

struct asud;
struct catalog_target;
struct conf_branch;
struct upstream_doc;

/* The configured branch of a version, or NULL (Unsupported branch). */
struct conf_branch *meta_branch_of(struct asud *, const char *version);
/* The upstream path of a version ("releases/23.05.4"), or NULL. */
char		*meta_version_path(struct asud *, const char *version);
/*
 * The versions list and the latest list of §6.1, from .versions.json
 * (doc may be NULL; the first 1024 entries of its versions_list) and the
 * configured branches; versions on disk are added too.
 */
void		 meta_versions(struct asud *, struct upstream_doc *doc,
		    struct strv *versions, struct strv *latest);
/* True when version is in the list. */
int		 meta_has_version(struct asud *, struct upstream_doc *doc,
		    const char *version);
/* The architecture of a target in a .targets.json, or NULL. */
const char	*meta_target_arch(struct upstream_doc *doc, const char *target);
/* The profiles of a profiles.json as a catalog target (cached on doc). */
const struct catalog_target *meta_profiles(struct upstream_doc *doc,
		    const char *version, const char *target);
/* Path of the version's .targets.json ("releases/X/.targets.json"). */
char		*meta_targets_path(struct asud *, const char *version);
/* Path of a target's profiles.json. */
char		*meta_profiles_path(struct asud *, const char *version,
		    const char *target);

/*
 * The revision (version_code) upstream offers now for version/target,
 * from the cached profiles.json (refreshed in the background), or NULL.
 */
const char	*meta_upstream_revision(struct asud *, const char *version,
		    const char *target);

#endif

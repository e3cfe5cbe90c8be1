/*
 * catalog.h: which versions, targets and profiles can be built, and how a
 * requested profile name resolves to a canonical profile id.
 *
 * A catalog is filled either by scanning ImageBuilders on disk
 * (<root>/<version>/<target>/<subtarget>/.targetinfo) or, later, from
 * upstream profiles.json files; resolution is the same for both.
 */
#ifndef ASUD_CATALOG_H
#define ASUD_CATALOG_H

#include <stddef.h>

#include "lib/strv.h"

struct catalog;
struct catalog_target;

struct catalog	*catalog_new(void);
void		 catalog_free(struct catalog *);

/*
 * Scans root for unpacked ImageBuilders and adds what their .targetinfo
 * files describe. A directory that is not an ImageBuilder is skipped. Fails
 * only when root cannot be read.
 */
int		 catalog_scan(struct catalog *, const char *root, char **cause);
/* Adds (or returns the existing) target of a version. */
struct catalog_target *catalog_add_target(struct catalog *, const char *version,
		    const char *target);
/* Adds a profile with its supported_devices (board names, commas kept). */
void		 catalog_add_profile(struct catalog_target *, const char *id,
		    const struct strv *supported_devices);

int		 catalog_has_version(const struct catalog *, const char *version);
const struct catalog_target *catalog_target(const struct catalog *,
		    const char *version, const char *target);
/*
 * Resolves profile (already with "," turned into "_") on a target:
 * an exact profile id always wins; then a supported_devices alias (with
 * "," -> "_"), preferring a profile whose first supported device is that
 * alias, then the last claimant in id order (the reference's choice);
 * then, when the target's only profile is "generic", "generic".
 * Returns the canonical id (owned by the catalog) or NULL.
 */
const char	*catalog_resolve(const struct catalog_target *, const char *profile);
/* Number of profiles of a target. */
size_t		 catalog_nprofiles(const struct catalog_target *);

#endif

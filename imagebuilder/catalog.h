/*
 * catalog.h: which versions, targets and profiles can be built, and how a
 * requested profile name resolves to a canonical profile id.
 *
 * A catalog is filled either by scanning ImageBuilders on disk
 * (<root>/<version>/<target>/<subtarget>/.targetinfo) or, later, from
 * upstream profiles.json files; resolution is the same for both. Lookups
 * are binary searches over sorted arrays. Strings returned are owned by
 * the catalog and live until catalog_free.
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
 *
 * Layout: <root>/<version>/<target>/<subtarget>/.targetinfo, each name
 * matching ^[A-Za-z0-9._-]+$ and not starting with "."; symbolic links
 * are followed only when they stay inside root. Only the .targetinfo
 * block "Target: <target>/<subtarget>" is read; its Target-Arch-Packages
 * and every Target-Profile (DEVICE_ prefix removed) with its
 * Target-Profile-SupportedDevices are added, and the target records the
 * ImageBuilder directory (<root>/<version>/<target>/<subtarget>). Scanning
 * into a filled catalog adds to it; to drop what vanished, scan into a new
 * catalog and swap.
 */
int		 catalog_scan(struct catalog *, const char *root, char **cause);
/* Adds (or returns the existing) target of a version. */
struct catalog_target *catalog_add_target(struct catalog *, const char *version,
		    const char *target);
/*
 * Adds a profile with its supported_devices (board names, commas kept);
 * adding a known id replaces its devices. supported_devices may be NULL.
 * An id or device that is empty, longer than 256 bytes or holds anything
 * but letters, digits and "._-,+" is ignored. A target holds at most 8192
 * profiles of 256 devices each and takes at most 8192 aliases over its
 * life, those of replaced profiles included (a rescan belongs in a new
 * catalog); beyond, the rest is ignored.
 */
void		 catalog_add_profile(struct catalog_target *, const char *id,
		    const struct strv *supported_devices);
/* Sets (or, with NULL, clears) the package architecture of a target. */
void		 catalog_target_set_arch(struct catalog_target *,
		    const char *arch);

int		 catalog_has_version(const struct catalog *,
		    const char *version);
const struct catalog_target *catalog_target(const struct catalog *,
		    const char *version, const char *target);
/*
 * Resolves profile (normally already with "," turned into "_"; any comma
 * left is turned here too) on a target:
 * an exact profile id always wins; then a supported_devices alias (with
 * "," -> "_"), preferring a profile whose first supported device is that
 * alias, then the last claimant in id order (the reference's choice);
 * then, when the target's only profile is "generic", "generic".
 * Returns the canonical id (owned by the catalog) or NULL.
 */
const char	*catalog_resolve(const struct catalog_target *,
		    const char *profile);
/* Number of profiles of a target. */
size_t		 catalog_nprofiles(const struct catalog_target *);
/* The i-th profile id in strcmp order, or NULL when i is past the end. */
const char	*catalog_profile_id(const struct catalog_target *, size_t i);
/* The target's name ("ath79/generic") and its version. */
const char	*catalog_target_name(const struct catalog_target *);
const char	*catalog_target_version(const struct catalog_target *);
/* The ImageBuilder directory found by catalog_scan; NULL if added by hand. */
const char	*catalog_target_dir(const struct catalog_target *);
/* The package architecture (Target-Arch-Packages, "mips_24kc"), or NULL. */
const char	*catalog_target_arch(const struct catalog_target *);
/* The i-th version name in strcmp order, or NULL when i is past the end. */
const char	*catalog_version_at(const struct catalog *, size_t i);
/* The i-th target of a version in name order, or NULL past the end. */
const struct catalog_target *catalog_target_at(const struct catalog *,
		    const char *version, size_t i);
/* Appends the version names, in strcmp order. */
void		 catalog_versions(const struct catalog *, struct strv *out);
/* Appends the target names of a version, in strcmp order. */
void		 catalog_targets(const struct catalog *, const char *version,
		    struct strv *out);

#endif

/*
 * pkglist.h: package-list arithmetic shared by the request hash and the
 * build (reference/asu-api.md §2 and §4.3).
 */
#ifndef ASUD_PKGLIST_H
#define ASUD_PKGLIST_H

#include "lib/sha256.h"
#include "lib/strv.h"

/*
 * sha256 hex of " ".join(sorted(set(name without a leading "+"))).
 */
void	pkglist_hash(const struct strv *names, char out[SHA256_HEX_LEN + 1]);
/*
 * The PACKAGES list for diff_packages: sorted unique "-pkg" for every
 * default or profile package not requested ("--" collapsed to "-"), then
 * the requested packages in the user's order.
 */
void	pkglist_diff(struct strv *out, const struct strv *requested,
	    const struct strv *defaults, const struct strv *profile_packages);

#endif

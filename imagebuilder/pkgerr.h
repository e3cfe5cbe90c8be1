/*
 * pkgerr.h: turns opkg and apk error output into the reference server's
 * "Impossible package selection" message (reference/asu-api.md §5.4).
 */
#ifndef ASUD_PKGERR_H
#define ASUD_PKGERR_H

#include <stddef.h>

/*
 * Returns an allocated message: "Impossible package selection", followed by
 * ": missing (a, b) conflicts (c, d)" parts for what was recognised. Both
 * lists are sorted and unique; a name in conflicts is not in missing.
 * apk's "name-1.0-r1" loses its version; names that are not plain package
 * names are left out, and each list stops at 64 names.
 */
char	*pkgerr_message(const char *text, size_t len);

#endif

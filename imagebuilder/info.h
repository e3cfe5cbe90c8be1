/*
 * info.h: parses the output of `make info` (reference/imagebuilder.md §2).
 */
#ifndef ASUD_INFO_H
#define ASUD_INFO_H

#include <stddef.h>

#include "lib/strv.h"

struct info_profile {
	char		*id;		/* header line without the colon */
	char		*title;		/* NULL when the title line is absent */
	struct strv	 packages;	/* may hold "-pkg" entries */
	int		 has_image_metadata;
	struct strv	 supported_devices;
};

struct info {
	char			*target;	/* "ath79/generic" */
	char			*arch;		/* "mips" */
	char			*revision;	/* "r28427-6df0e3d02a" */
	struct strv		 default_packages;
	struct info_profile	*profiles;
	size_t			 nprofiles;
};

/*
 * Parses text into *info (zeroed by the caller). Fails with a cause when
 * the revision line is missing ("make info printed no revision") or the
 * default packages hold a name that is not a plain package name; *info is
 * then empty. Unknown lines are ignored, only bytes within len are read.
 * Names are checked (letters, digits, "._+-", and "," in ids and devices):
 * a profile whose Packages or SupportedDevices line fails is left out.
 * Profile headers after the 4096th (repeated ones count) are ignored.
 */
int	info_parse(const char *text, size_t len, struct info *, char **cause);
void	info_free(struct info *);
/* Finds a profile by exact id, or NULL. */
const struct info_profile *info_profile(const struct info *, const char *id);

#endif

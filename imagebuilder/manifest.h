/*
 * manifest.h: the installed-package list printed by `make manifest`
 * (opkg "name - version" lines, apk "name version" lines).
 */
#ifndef ASUD_MANIFEST_H
#define ASUD_MANIFEST_H

#include <stddef.h>

#include "lib/strv.h"

struct manifest {
	struct strv	names;		/* in the order printed */
	struct strv	versions;	/* versions[i] belongs to names[i] */
};

/* Parses text into *m (zeroed by the caller); blank lines are skipped. */
int	 manifest_parse(const char *text, size_t len, struct manifest *m,
	    char **cause);
void	 manifest_free(struct manifest *);
/* The version of name, or NULL. */
const char *manifest_version(const struct manifest *, const char *name);
/*
 * Checks the requested packages_versions (names[i] at versions[i]) against
 * the manifest. Returns NULL when all match, else an allocated message:
 * "Impossible package selection: <pkg> not in manifest" or
 * "Impossible package selection: <pkg> version not as requested: <req>
 * vs. <got>" (one line).
 */
char	*manifest_check(const struct manifest *, const struct strv *names,
	    const struct strv *versions);

#endif

/*
 * pkgchanges.h: the package-change tables of conf/package-changes.conf
 * (reference/asu-api.md §4.1 and §4.2): the client-facing list published
 * per branch in overview.json, and the server-side rewrites of a build's
 * package list. The file's syntax is described at its top.
 */
#ifndef ASUD_PKGCHANGES_H
#define ASUD_PKGCHANGES_H

#include <stddef.h>

#include "lib/strv.h"

/* The largest package-changes file read. */
#define PKGCHANGES_MAX_FILE	(1024 * 1024)

struct pkgchanges;

/* One entry of the client-facing table. */
struct pkgchanges_client {
	char	*source;	/* never NULL */
	char	*target;	/* NULL when the entry has none */
	int	 revision;
	int	 mandatory;
};

/*
 * Reads a package-changes file. Returns the tables, or NULL with an
 * allocated *cause: "FILE: reason" when it cannot be read, "FILE:LINE:
 * reason" when a line is wrong.
 */
struct pkgchanges *pkgchanges_load(const char *path, char **cause);
/*
 * The same from text in memory; name stands for FILE in messages.
 */
struct pkgchanges *pkgchanges_parse(const char *text, size_t len,
	    const char *name, char **cause);
void	 pkgchanges_free(struct pkgchanges *);

/*
 * Applies the server-side rewrites to a build's package list in place, in
 * file order, as the reference's apply_package_changes: additions go at
 * the end and are never duplicated; removals take the first occurrence.
 * profile is the canonical profile name.
 */
void	 pkgchanges_apply(const struct pkgchanges *, const char *version,
	    const char *target, const char *profile, struct strv *packages);
/* How many server-side rules there are. */
size_t	 pkgchanges_rule_count(const struct pkgchanges *);

/* How many client-facing entries there are. */
size_t	 pkgchanges_client_count(const struct pkgchanges *);
/* The i-th client-facing entry in file order, or NULL past the end. */
const struct pkgchanges_client *pkgchanges_client_at(
	    const struct pkgchanges *, size_t i);
/*
 * 1 when a branch lists the entry: its revision is at most the branch's
 * branch_off_rev; every entry when branch_off_rev is -1 (SNAPSHOT).
 */
int	 pkgchanges_client_applies(const struct pkgchanges_client *,
	    int branch_off_rev);

#endif

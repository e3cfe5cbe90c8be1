/*
 * pkgindex.h: the package indexes published next to the ImageBuilders
 * (reference/asu-api.md §6.1, reference/imagebuilder.md §4.4 and §5): the
 * index.json files, opkg Packages files, a packages directory's feeds.conf,
 * and where a version keeps its kernel modules. Every input is untrusted:
 * sizes and counts are capped and entries with bad names are skipped.
 */
#ifndef ASUD_PKGINDEX_H
#define ASUD_PKGINDEX_H

#include <stddef.h>

#include "lib/strv.h"

/* The largest index text accepted. */
#define PKGINDEX_MAX_TEXT	(64 * 1024 * 1024)
/* The most packages one map holds. */
#define PKGINDEX_MAX_ENTRIES	200000
/* The longest package name, version or architecture kept. */
#define PKGINDEX_MAX_NAME	128
#define PKGINDEX_MAX_VERSION	256
#define PKGINDEX_MAX_ARCH	64
/* The most feed names read from one feeds.conf. */
#define PKGINDEX_MAX_FEEDS	64

/* pkgindex_parse_json: the file is not version 2; read Packages instead. */
#define PKGINDEX_OLD		1

struct pkgindex_entry {
	char	*name;
	char	*version;
};

/*
 * A package -> version map, sorted by name (strcmp order) with unique
 * names; iterate over v[0] .. v[n - 1]. Zero it (PKGINDEX_INITIALIZER)
 * before first use.
 */
struct pkgindex {
	char			*architecture;	/* NULL when not known */
	struct pkgindex_entry	*v;
	size_t			 n;
	size_t			 cap;
};

#define PKGINDEX_INITIALIZER	{ NULL, NULL, 0, 0 }

/*
 * Reads an index.json ({"version": 2, "architecture": A, "packages":
 * {name: version}}) into idx; its entries replace those of the same name
 * already there, and its architecture is taken when idx has none. Returns
 * 0 for version 2 or later; PKGINDEX_OLD, with idx unchanged, when
 * "version" is missing, below 2 or not a number (its names may carry ABI
 * suffixes: read Packages instead); -1 with an allocated *cause when the
 * text is not a JSON object or is too big, with idx unchanged.
 */
int	 pkgindex_parse_json(const char *text, size_t len, struct pkgindex *idx,
	    char **cause);
/*
 * As pkgindex_parse_json, but takes the entries whatever the version (the
 * reference's last resort when an old index.json has no Packages file next
 * to it). Returns 0 or -1 with an allocated *cause, idx unchanged.
 */
int	 pkgindex_parse_json_any(const char *text, size_t len,
	    struct pkgindex *idx, char **cause);
/*
 * Reads an opkg Packages file into idx, as pkgindex_parse_json: each
 * stanza's name is Package minus its ABIVersion suffix; the architecture is
 * that of the first stanza whose Architecture is not "all". Stanzas without
 * a valid name or version are skipped. Returns 0, or -1 with an allocated
 * *cause (too big, too many packages), leaving idx as it was.
 */
int	 pkgindex_parse_packages(const char *text, size_t len,
	    struct pkgindex *idx, char **cause);
/*
 * Appends to names the feed names of a feeds.conf (the second word of each
 * line that is not blank or a comment), skipping names unfit for a URL
 * path and repeats. Returns how many were added.
 */
size_t	 pkgindex_parse_feeds_conf(const char *text, size_t len,
	    struct strv *names);
/*
 * 1 when the version keeps its kernel modules in a kmods/ directory of its
 * own instead of the target's packages/ (the "kmod split"): snapshots
 * (SNAPSHOT), branches 24 and later (releases and -SNAPSHOT),
 * 23.05-SNAPSHOT and 23.05.6 or later. Else 0.
 */
int	 pkgindex_has_kmods(const char *version);
/*
 * The kmods directory name "<kernel_version>-<release>-<vermagic>", from
 * profiles.json's linux_kernel, for a version with the kmod split.
 * Allocated; NULL when the version has none or a part is missing or unfit
 * for a URL path.
 */
char	*pkgindex_kmods_dir(const char *version, const char *kernel_version,
	    const char *release, const char *vermagic);

/* 1 when name is a package name the reference's pattern accepts. */
int	 pkgindex_name_ok(const char *name, size_t len);
/*
 * Sets one entry (copies are kept). Returns 0, or -1 when the name or
 * version is unfit or the map is full.
 */
int	 pkgindex_set(struct pkgindex *, const char *name, const char *version);
/*
 * Copies every entry of src into dst, src winning on equal names (Python's
 * dict.update); dst keeps its architecture unless it has none. Returns 0,
 * or -1 when dst would grow past PKGINDEX_MAX_ENTRIES (dst unchanged).
 */
int	 pkgindex_merge(struct pkgindex *dst, const struct pkgindex *src);
/* The version of name, or NULL. */
const char *pkgindex_lookup(const struct pkgindex *, const char *name);
/* Releases everything; leaves an empty map. */
void	 pkgindex_free(struct pkgindex *);

#endif

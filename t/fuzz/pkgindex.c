/*
 * pkgindex.c: libFuzzer target for the package indexes of a downloads
 * server: the same bytes are read as an index.json (both ways), an opkg
 * Packages file and a feeds.conf, and their lines as version strings and
 * kmods directory parts.
 *
 * Seeds: t/data/unit/Packages.testarch
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkgindex.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Checks the map's invariants: sorted, unique, every entry found. */
static void
fuzz_check(const struct pkgindex *idx)
{
	size_t	i;

	for (i = 0; i < idx->n; i++) {
		if (i > 0 && strcmp(idx->v[i - 1].name, idx->v[i].name) >= 0)
			abort();
		if (pkgindex_lookup(idx, idx->v[i].name) != idx->v[i].version)
			abort();
	}
}

/* The first lines of the text as version and kmods directory parts. */
static void
fuzz_versions(const char *text)
{
	struct strv	 lines = STRV_INITIALIZER;
	const char	*part[4];
	size_t		 i;
	char		*dir;

	strv_split(&lines, text, "\n");
	for (i = 0; i < 4; i++)
		part[i] = i < lines.n ? lines.v[i] : "";
	(void)pkgindex_has_kmods(part[0]);
	dir = pkgindex_kmods_dir(part[0], part[1], part[2], part[3]);
	free(dir);
	(void)pkgindex_name_ok(text, strlen(text));
	strv_clear(&lines);
}

/* One input: an index file of any of the kinds (not NUL-terminated). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	struct pkgindex	 all = PKGINDEX_INITIALIZER;
	struct strv	 feeds = STRV_INITIALIZER;
	const char	*text = (const char *)data;
	char		*cause = NULL, *s;

	if (pkgindex_parse_json(text, size, &idx, &cause) == -1)
		free(cause);
	fuzz_check(&idx);
	cause = NULL;
	if (pkgindex_parse_json_any(text, size, &all, &cause) == -1)
		free(cause);
	fuzz_check(&all);
	cause = NULL;
	if (pkgindex_parse_packages(text, size, &all, &cause) == -1)
		free(cause);
	fuzz_check(&all);
	if (pkgindex_merge(&idx, &all) == 0)
		fuzz_check(&idx);
	(void)pkgindex_parse_feeds_conf(text, size, &feeds);
	s = xstrndup(text, size);
	fuzz_versions(s);
	free(s);
	strv_clear(&feeds);
	pkgindex_free(&idx);
	pkgindex_free(&all);
	return (0);
}

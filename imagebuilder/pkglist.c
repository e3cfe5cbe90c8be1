/*
 * pkglist.c: package-list arithmetic as the reference server does it: the
 * packages hash that goes into the request hash, and the PACKAGES list of a
 * diff_packages build.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkglist.h"

static int	 pkglist_cmp(const void *, const void *);
static char	*pkglist_negate(const char *);

/* Hashes the sorted set of names, with one leading "+" dropped. */
void
pkglist_hash(const struct strv *names, char out[SHA256_HEX_LEN + 1])
{
	struct strv	 set = STRV_INITIALIZER;
	char		*joined;
	size_t		 i;

	for (i = 0; i < names->n; i++) {
		if (names->v[i][0] == '+')
			strv_add(&set, names->v[i] + 1);
		else
			strv_add(&set, names->v[i]);
	}
	strv_sort_unique(&set);
	joined = strv_join(&set, " ");
	sha256_hex(joined, strlen(joined), out);
	free(joined);
	strv_clear(&set);
}

/* bsearch comparator: a key string against a vector slot. */
static int
pkglist_cmp(const void *key, const void *slot)
{
	return (strcmp(key, *(char *const *)slot));
}

/*
 * Builds "-" + name with every "--" turned into "-", scanning left to right
 * like Python's str.replace, so "-swconfig" gives "-swconfig" again.
 */
static char *
pkglist_negate(const char *name)
{
	char	*s, *out;
	size_t	 i, j;

	xasprintf(&s, "-%s", name);
	out = xmalloc(strlen(s) + 1);
	for (i = 0, j = 0; s[i] != '\0'; i++) {
		out[j++] = s[i];
		if (s[i] == '-' && s[i + 1] == '-')
			i++;
	}
	out[j] = '\0';
	free(s);
	return (out);
}

/* Appends the removals for diff_packages, then the requested packages. */
void
pkglist_diff(struct strv *out, const struct strv *requested,
    const struct strv *defaults, const struct strv *profile_packages)
{
	struct strv	 want = STRV_INITIALIZER, remove = STRV_INITIALIZER;
	const struct strv *lists[2];
	size_t		 i, k;

	lists[0] = defaults;
	lists[1] = profile_packages;
	strv_copy(&want, requested);
	strv_sort_unique(&want);
	for (k = 0; k < nitems(lists); k++) {
		for (i = 0; i < lists[k]->n; i++) {
			if (want.n > 0 && bsearch(lists[k]->v[i], want.v,
			    want.n, sizeof *want.v, pkglist_cmp) != NULL)
				continue;
			strv_take(&remove, pkglist_negate(lists[k]->v[i]));
		}
	}
	strv_sort_unique(&remove);
	for (i = 0; i < remove.n; i++)
		strv_add(out, remove.v[i]);
	for (i = 0; i < requested->n; i++)
		strv_add(out, requested->v[i]);
	strv_clear(&remove);
	strv_clear(&want);
}

/*
 * versions.c: the reference server's reading of OpenWrt version strings:
 * which branch a version belongs to, whether it is a snapshot, the order in
 * which versions are published, where a version lives upstream, and the
 * revision number behind a version_code.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/versions.h"

/* More digits than any OpenWrt revision; keeps the number in range. */
#define VERSIONS_REV_DIGITS	9

struct versions_key {
	char	*key;	/* the sort key */
	char	*orig;	/* the version, owned */
	size_t	 pos;	/* the original position, for a stable order */
};

static char	*versions_replace(const char *, const char *, const char *);
static int	 versions_key_cmp(const void *, const void *);

/*
 * Replaces every non-overlapping occurrence of from, scanning left to
 * right as Python's str.replace does. from must not be empty.
 */
static char *
versions_replace(const char *s, const char *from, const char *to)
{
	const char	*p, *hit;
	size_t		 flen = strlen(from), tlen = strlen(to), n = 0;
	char		*out, *o;

	for (p = s; (hit = strstr(p, from)) != NULL; p = hit + flen)
		n++;
	out = xmalloc(strlen(s) + n * tlen + 1);
	o = out;
	for (p = s; (hit = strstr(p, from)) != NULL; p = hit + flen) {
		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, to, tlen);
		o += tlen;
	}
	strcpy(o, p);
	return (out);
}

/* Finds the branch of a version the way the reference's get_branch does. */
char *
versions_branch_of(const char *version, const struct strv *branch_names)
{
	const char	*cut;
	size_t		 len = strlen(version), sfx = strlen("-SNAPSHOT");

	if (branch_names != NULL && strv_find(branch_names, version) != -1)
		return (xstrdup(version));
	if (len >= sfx && strcmp(version + len - sfx, "-SNAPSHOT") == 0)
		cut = strrchr(version, '-');
	else
		cut = strrchr(version, '.');
	if (cut == NULL)
		return (xstrdup(version));
	return (xstrndup(version, (size_t)(cut - version)));
}

/* A snapshot ImageBuilder is fetched per build, not kept. */
int
versions_is_snapshot(const char *version)
{
	size_t	len = strlen(version), sfx = strlen("snapshot");

	return (len >= sfx && strcasecmp(version + len - sfx, "snapshot") == 0);
}

/* Descending by key, then ascending by original position. */
static int
versions_key_cmp(const void *a, const void *b)
{
	const struct versions_key	*ka = a, *kb = b;
	int				 c;

	if ((c = strcmp(kb->key, ka->key)) != 0)
		return (c);
	return (ka->pos < kb->pos ? -1 : ka->pos > kb->pos);
}

/* Orders the versions list as the reference publishes it. */
void
versions_sort(struct strv *sv)
{
	struct versions_key	*keys;
	size_t			 i;

	if (sv->n < 2)
		return;
	keys = xcalloc(sv->n, sizeof *keys);
	for (i = 0; i < sv->n; i++) {
		keys[i].key = versions_replace(sv->v[i], ".0-rc", "-rc");
		keys[i].orig = sv->v[i];
		keys[i].pos = i;
	}
	qsort(keys, sv->n, sizeof *keys, versions_key_cmp);
	for (i = 0; i < sv->n; i++) {
		sv->v[i] = keys[i].orig;
		free(keys[i].key);
	}
	free(keys);
}

/* Fills a branch's path template, as str.format(version=...) would. */
char *
versions_path(const char *path_template, const char *version)
{
	return (versions_replace(path_template, "{version}", version));
}

/* Reads "r<digits>[-...]"; anything else is -1. */
long
versions_revision_number(const char *revision)
{
	const char	*p;
	long		 n = 0;

	if (revision == NULL || revision[0] != 'r')
		return (-1);
	for (p = revision + 1; isdigit((unsigned char)*p); p++) {
		if (p - revision > VERSIONS_REV_DIGITS)
			return (-1);
		n = n * 10 + (*p - '0');
	}
	if (p == revision + 1)
		return (-1);
	if (*p == '\0')
		return (n);
	if (*p == '-' && p[1] != '\0')
		return (n);
	return (-1);
}

/*
 * strv.c: growable string vectors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"

/* Appends an owned string, keeping the vector NULL-terminated. */
void
strv_take(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap == 0 ? 8 : sv->cap * 2;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

/* Appends a copy. */
void
strv_add(struct strv *sv, const char *s)
{
	strv_take(sv, xstrdup(s));
}

/* Appends a formatted string. */
void
strv_addf(struct strv *sv, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	strv_take(sv, s);
}

/* Finds an exact match. */
int
strv_find(const struct strv *sv, const char *s)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return ((int)i);
	return (-1);
}

/* Releases everything. */
void
strv_clear(struct strv *sv)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* Deep copy. */
void
strv_copy(struct strv *dst, const struct strv *src)
{
	size_t	i;

	for (i = 0; i < src->n; i++)
		strv_add(dst, src->v[i]);
}

/* Splits on separator bytes, dropping empty fields. */
void
strv_split(struct strv *sv, const char *s, const char *seps)
{
	size_t	len;

	while (*s != '\0') {
		s += strspn(s, seps);
		len = strcspn(s, seps);
		if (len > 0)
			strv_take(sv, xstrndup(s, len));
		s += len;
	}
}

/* Joins into one new string. */
char *
strv_join(const struct strv *sv, const char *sep)
{
	size_t	 i, len = 1, seplen = strlen(sep);
	char	*out, *p;

	for (i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + seplen;
	out = p = xmalloc(len);
	*p = '\0';
	for (i = 0; i < sv->n; i++) {
		if (i > 0) {
			memcpy(p, sep, seplen);
			p += seplen;
		}
		len = strlen(sv->v[i]);
		memcpy(p, sv->v[i], len);
		p += len;
	}
	*p = '\0';
	return (out);
}

/* qsort comparator over string pointers. */
static int
strv_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Sorts and drops repeated entries. */
void
strv_sort_unique(struct strv *sv)
{
	size_t	i, j;

	if (sv->n < 2)
		return;
	qsort(sv->v, sv->n, sizeof *sv->v, strv_cmp);
	for (i = 1, j = 1; i < sv->n; i++) {
		if (strcmp(sv->v[i], sv->v[j - 1]) == 0)
			free(sv->v[i]);
		else
			sv->v[j++] = sv->v[i];
	}
	sv->n = j;
	sv->v[j] = NULL;
}

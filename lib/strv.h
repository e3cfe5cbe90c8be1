/*
 * strv.h: a growable, NULL-terminated vector of owned strings. Used for
 * package lists and argument vectors.
 */
#ifndef ASUD_STRV_H
#define ASUD_STRV_H

#include <stddef.h>

struct strv {
	char	**v;	/* always NULL-terminated once anything was added */
	size_t	  n;
	size_t	  cap;
};

#define STRV_INITIALIZER { NULL, 0, 0 }

/* Appends a copy of s. */
void	strv_add(struct strv *, const char *s);
/* Appends a formatted string. */
void	strv_addf(struct strv *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Appends s, taking ownership. */
void	strv_take(struct strv *, char *s);
/* Returns the index of s, or -1. */
int	strv_find(const struct strv *, const char *s);
/* Frees the strings and the vector; leaves an empty vector. */
void	strv_clear(struct strv *);
/* Copies src into an empty dst. */
void	strv_copy(struct strv *dst, const struct strv *src);
/* Splits s on any of the bytes in seps, skipping empty fields. */
void	strv_split(struct strv *, const char *s, const char *seps);
/* Joins with sep into a new string ("" for an empty vector). */
char	*strv_join(const struct strv *, const char *sep);
/* Sorts in strcmp order and removes duplicates. */
void	strv_sort_unique(struct strv *);

#endif

/*
 * tally.c: counts by name in a chained hash table that doubles its buckets
 * as it fills, so that chains stay short.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "server/tally.h"

static uint32_t	tally_hash(const char *);
static void	tally_grow(struct tally *);

/* FNV-1a: a small, good enough hash for counter names. */
static uint32_t
tally_hash(const char *s)
{
	uint32_t	h = 2166136261U;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	return (h);
}

/* Starts an empty table. */
void
tally_init(struct tally *t)
{
	t->size = 64;
	t->n = 0;
	t->tab = xcalloc(t->size, sizeof *t->tab);
}

/* Doubles the buckets so that chains stay short. */
static void
tally_grow(struct tally *t)
{
	struct tally_entry	**tab, *e, *next;
	size_t			  size = t->size * 2, i, b;

	tab = xcalloc(size, sizeof *tab);
	for (i = 0; i < t->size; i++) {
		for (e = t->tab[i]; e != NULL; e = next) {
			next = e->next;
			b = tally_hash(e->name) & (size - 1);
			e->next = tab[b];
			tab[b] = e;
		}
	}
	free(t->tab);
	t->tab = tab;
	t->size = size;
}

/* Adds delta to the count of name, creating it at 0. */
void
tally_add(struct tally *t, const char *name, uint64_t delta)
{
	struct tally_entry	*e;
	size_t			 b;

	b = tally_hash(name) & (t->size - 1);
	for (e = t->tab[b]; e != NULL; e = e->next) {
		if (strcmp(e->name, name) == 0) {
			e->count += delta;
			return;
		}
	}
	e = xcalloc(1, sizeof *e);
	e->name = xstrdup(name);
	e->count = delta;
	e->next = t->tab[b];
	t->tab[b] = e;
	if (++t->n > t->size * 2)
		tally_grow(t);
}

/* The entries as an array of t->n pointers (owned by the table). */
struct tally_entry **
tally_list(const struct tally *t)
{
	struct tally_entry	**list, *e;
	size_t			  i, k = 0;

	list = xcalloc(t->n + 1, sizeof *list);
	for (i = 0; i < t->size; i++) {
		for (e = t->tab[i]; e != NULL; e = e->next)
			list[k++] = e;
	}
	return (list);
}

/* Frees every entry; the table stays usable. */
void
tally_clear(struct tally *t)
{
	struct tally_entry	*e, *next;
	size_t			 i;

	for (i = 0; i < t->size; i++) {
		for (e = t->tab[i]; e != NULL; e = next) {
			next = e->next;
			free(e->name);
			free(e);
		}
		t->tab[i] = NULL;
	}
	t->n = 0;
}

/* Frees every entry and the buckets. */
void
tally_free(struct tally *t)
{
	tally_clear(t);
	free(t->tab);
	t->tab = NULL;
	t->size = 0;
}

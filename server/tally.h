/*
 * tally.h: counts by name in a chained hash table: the statistics' pending
 * counter deltas and the rows of their top lists.
 */
#ifndef ASUD_TALLY_H
#define ASUD_TALLY_H

#include <stddef.h>
#include <stdint.h>

/* One name and its count. */
struct tally_entry {
	char			*name;
	uint64_t		 count;
	struct tally_entry	*next;
};

struct tally {
	struct tally_entry	**tab;
	size_t			  size;	/* buckets, a power of two */
	size_t			  n;	/* entries */
};

/* Starts an empty table; tally_free releases it. */
void		 tally_init(struct tally *);
/* Adds delta to the count of name (copied), creating it at 0. */
void		 tally_add(struct tally *, const char *name, uint64_t delta);
/*
 * The n entries as an allocated array in no particular order; the caller
 * frees the array, the entries stay the table's.
 */
struct tally_entry **tally_list(const struct tally *);
/* Forgets every entry; the table stays usable. */
void		 tally_clear(struct tally *);
/* Forgets every entry and the buckets. */
void		 tally_free(struct tally *);

#endif

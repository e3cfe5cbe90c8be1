/*
 * jtree.h: a JSON text as a flat tree that keeps what the request model
 * needs to see: members in document order with their duplicate keys, and
 * numbers as their text. A container is followed by its members, so a
 * subtree is a run of nodes and a walk needs no recursion.
 */
#ifndef ASUD_JTREE_H
#define ASUD_JTREE_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

/* Arrays and objects nested deeper than this are refused (syntax error). */
#define JTREE_MAX_DEPTH	32

enum jtree_type {
	JTREE_NULL,
	JTREE_BOOL,
	JTREE_NUMBER,
	JTREE_STRING,
	JTREE_ARRAY,
	JTREE_OBJECT
};

/* One JSON value; a container is followed by its members. */
struct jtree_node {
	uint8_t		type;
	uint8_t		boolean;
	uint32_t	size;		/* nodes in the subtree, itself too */
	uint32_t	text;		/* arena offset of a string or number */
	uint32_t	textlen;
	uint32_t	key;		/* arena offset of a member's key */
	uint32_t	keylen;
};

/* Zeroed, with maxvalues set, before jtree_parse. */
struct jtree {
	struct jtree_node	*nodes;
	size_t			 n;
	size_t			 cap;
	size_t			 maxvalues;
	char			*arena;
	size_t			 alen;
	size_t			 acap;
	size_t			 stack[JTREE_MAX_DEPTH];
	int			 depth;
	uint32_t		 key;		/* the pending member key */
	uint32_t		 keylen;
	const char		*why;		/* why a callback stopped */
	int			 toobig;	/* more than maxvalues values */
};

/* A dictionary member after Python's de-duplication. */
struct jtree_entry {
	const char	*key;
	size_t		 first;		/* node of the first occurrence */
	size_t		 last;		/* node of the last: its value wins */
	size_t		 ord;		/* position of the first occurrence */
};

/*
 * Parses a JSON text of len bytes into t. Returns 0; -1 for a syntax
 * error, with an allocated *why and the byte *offset; or -2 when the text
 * holds more than t->maxvalues values (t->toobig is set). Strings that are
 * not strict UTF-8 or hold a NUL, and unpaired UTF-16 surrogates in \u
 * escapes, are syntax errors.
 */
int	jtree_parse(struct jtree *t, const char *buf, size_t len, char **why,
	    size_t *offset);
/* Frees what t holds. */
void	jtree_free(struct jtree *t);
/* The NUL-terminated text of string or number node i. */
const char *jtree_text(const struct jtree *t, size_t i);
/* The NUL-terminated key of object member i. */
const char *jtree_key(const struct jtree *t, size_t i);
/* Writes node i and its subtree back as JSON. */
void	jtree_gen(const struct jtree *t, size_t i, yajl_gen g);
/*
 * Lists the members of object node as a Python dict holds them: one per
 * key, at the first occurrence's position, with the last occurrence's
 * value. Returns an allocated array of *np entries whose keys point into
 * t.
 */
struct jtree_entry *jtree_dict_entries(const struct jtree *t, size_t node,
	    size_t *np);

#endif

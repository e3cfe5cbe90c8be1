/*
 * reqchar.h: the characters of the request model: strict UTF-8 (no
 * overlong forms, surrogates or code points above U+10FFFF) and the
 * reference's field patterns, which are all character-class matches.
 */
#ifndef ASUD_REQCHAR_H
#define ASUD_REQCHAR_H

#include <stddef.h>

enum reqchar_pattern_kind {
	REQCHAR_PAT_SET,	/* ^[\w<extra>]*$ or +$ */
	REQCHAR_PAT_TARGET,	/* ^[\w]*\/[\w]*$ */
	REQCHAR_PAT_URL		/* ^https?://\S+$ */
};

struct reqchar_pattern {
	const char			*re;	/* as the reference spells it */
	enum reqchar_pattern_kind	 kind;
	const char			*extra;	/* ASCII allowed besides \w */
	int				 nonempty;
};

/* Tells whether len bytes at s are strict UTF-8. */
int	reqchar_utf8_valid(const unsigned char *s, size_t len);
/* Counts the code points of valid UTF-8, as Python's len() does. */
size_t	reqchar_utf8_count(const char *s);
/* Tells whether s matches p (a string that is not UTF-8 never does). */
int	reqchar_match(const struct reqchar_pattern *p, const char *s);

#endif

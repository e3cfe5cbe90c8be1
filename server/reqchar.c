/*
 * reqchar.c: the characters of the request model: strict UTF-8 and the
 * character classes of the reference's field patterns.
 *
 * The patterns' \w follows the reference's regex engine (Rust regex, which
 * is Unicode-aware). We accept ASCII [A-Za-z0-9_] and the non-ASCII code
 * points that iswalnum() calls alphanumeric in the C.UTF-8 locale (Unicode
 * letters and digits). That is a subset of the reference: non-alphabetic
 * combining marks and connector punctuation other than "_" are refused,
 * and every non-ASCII character is refused when no UTF-8 locale exists.
 * \S refuses Unicode white space and, stricter than the reference, every
 * control character.
 */
#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <wctype.h>

#include "lib/text.h"
#include "server/reqchar.h"

/* Decodes one strict UTF-8 code point (no overlong, surrogate or >U+10FFFF). */
static int
reqchar_utf8_next(const unsigned char *s, size_t len, size_t *pos,
    uint32_t *cp)
{
	size_t		i = *pos, n, k;
	uint32_t	c = s[i], min;

	if (c < 0x80) {
		n = 0;
		min = 0;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		c &= 0x07;
		min = 0x10000;
	} else
		return (-1);
	if (n > len - i - 1)
		return (-1);
	for (k = 1; k <= n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return (-1);
		c = (c << 6) | (s[i + k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (-1);
	*pos = i + n + 1;
	*cp = c;
	return (0);
}

/* Tells whether a buffer is strict UTF-8. */
int
reqchar_utf8_valid(const unsigned char *s, size_t len)
{
	size_t		pos = 0;
	uint32_t	cp;

	while (pos < len)
		if (reqchar_utf8_next(s, len, &pos, &cp) == -1)
			return (0);
	return (1);
}

/* Counts code points, as Python's len() does, in valid UTF-8. */
size_t
reqchar_utf8_count(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

/* Tells whether a non-ASCII code point is a \w character (see the top). */
static int
reqchar_is_word(uint32_t cp)
{
	locale_t	loc = text_utf8_locale();

	if (loc == (locale_t)0)
		return (0);
	return (iswalnum_l((wint_t)cp, loc) != 0);
}

/* Tells whether a code point is \s (Unicode White_Space) or a control. */
static int
reqchar_is_space(uint32_t cp)
{
	if (cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0))
		return (1);
	if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a))
		return (1);
	return (cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
	    cp == 0x205f || cp == 0x3000);
}

/* Tells whether one code point belongs to a pattern's character set. */
static int
reqchar_pattern_char(const struct reqchar_pattern *p, uint32_t cp)
{
	if (cp >= 0x80)
		return (reqchar_is_word(cp));
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= '0' && cp <= '9') || cp == '_')
		return (1);
	return (cp != 0 && strchr(p->extra, (int)cp) != NULL);
}

/* Matches ^https?://\S+$. */
static int
reqchar_match_url(const char *s)
{
	size_t		pos, len;
	uint32_t	cp;

	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	else
		return (0);
	len = strlen(s);
	if (len == 0)
		return (0);
	for (pos = 0; pos < len;) {
		if (reqchar_utf8_next((const unsigned char *)s, len, &pos,
		    &cp) == -1 || reqchar_is_space(cp))
			return (0);
	}
	return (1);
}

/* Matches a string against one of the model's patterns. */
int
reqchar_match(const struct reqchar_pattern *p, const char *s)
{
	size_t		pos = 0, len = strlen(s);
	uint32_t	cp;
	int		slashes = 0;

	if (p->kind == REQCHAR_PAT_URL)
		return (reqchar_match_url(s));
	if (p->nonempty && len == 0)
		return (0);
	while (pos < len) {
		if (reqchar_utf8_next((const unsigned char *)s, len, &pos,
		    &cp) == -1)
			return (0);
		if (p->kind == REQCHAR_PAT_TARGET && cp == '/')
			slashes++;
		else if (!reqchar_pattern_char(p, cp))
			return (0);
	}
	return (p->kind != REQCHAR_PAT_TARGET || slashes == 1);
}


/*
 * text.h: small text helpers shared by the leaves and the hub: base64,
 * a UTF-8 locale for character classes, a JSON nesting check, the line
 * splitting and name checks of the parsers of untrusted text, and the
 * check of a request hash.
 */
#ifndef ASUD_TEXT_H
#define ASUD_TEXT_H

#include <locale.h>
#include <stddef.h>

/* The value of a base64 digit (standard alphabet), or -1. */
int		text_b64_value(int c);
/*
 * Decodes len bytes of padded base64 (no white space; len a non-zero
 * multiple of 4) into out, which has room for size bytes; *outlen gets
 * the decoded length. Returns -1 when s is not such base64 or decodes to
 * more than size bytes; 1 when it decodes but the spare bits of the last
 * group are not zero (Python's decoder accepts that, usign's does not);
 * 0 otherwise.
 */
int		text_b64_decode(const char *s, size_t len, unsigned char *out,
		    size_t size, size_t *outlen);
/*
 * A UTF-8 LC_CTYPE locale for the *_l classification functions, made
 * once without touching the global locale; (locale_t)0 if none exists.
 */
locale_t	text_utf8_locale(void);
/*
 * Whether the arrays and objects of len bytes of JSON text nest at most
 * max deep (strings skipped): yajl's tree and generator recurse per level
 * and overrun their own limits, so deeper text is refused before parsing.
 */
int		text_json_depth_ok(const char *p, size_t len, int max);
/*
 * Cuts the next line off *p, which runs up to end: *line points at it and
 * *len is its length without the "\n" and one "\r" before it; *p moves
 * past the "\n". A last line without "\n" counts. Returns 0, with
 * nothing set, when *p is NULL or at end.
 */
int		text_next_line(const char **p, const char *end,
		    const char **line, size_t *len);
/*
 * Whether len bytes at s are 1 to max bytes of printable ASCII other than
 * the space (0x21 to 0x7e).
 */
int		text_graph_ok(const char *s, size_t len, size_t max);
/*
 * Whether len bytes at s are 1 to max bytes, each an ASCII letter or
 * digit or one of the bytes of extra (never NUL).
 */
int		text_word_ok(const char *s, size_t len, size_t max,
		    const char *extra);
/*
 * Whether the first 64 bytes of s are lowercase hex digits (a request
 * hash); what follows them is not looked at. A shorter string is safe: the
 * check stops at its NUL.
 */
int		text_is_hex64(const char *s);
/*
 * Whether the n bytes at line are a sha256sums line, "<64 hex> *<name>"
 * (or with a space for the star); *name and *namelen then give the name,
 * never empty. The sum is the line's first 64 bytes.
 */
int		text_sums_line(const char *line, size_t n, const char **name,
		    size_t *namelen);

#endif

/*
 * text.h: small text helpers shared by the leaves and the hub: base64
 * digits, a UTF-8 locale for character classes, and a JSON nesting check.
 */
#ifndef ASUD_TEXT_H
#define ASUD_TEXT_H

#include <locale.h>
#include <stddef.h>

/* The value of a base64 digit (standard alphabet), or -1. */
int		text_b64_value(int c);
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

#endif

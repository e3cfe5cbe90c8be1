/*
 * text.h: small text helpers shared by the leaves and the hub: base64
 * digits and a UTF-8 locale for character classes.
 */
#ifndef ASUD_TEXT_H
#define ASUD_TEXT_H

#include <locale.h>

/* The value of a base64 digit (standard alphabet), or -1. */
int		text_b64_value(int c);
/*
 * A UTF-8 LC_CTYPE locale for the *_l classification functions, made
 * once without touching the global locale; (locale_t)0 if none exists.
 */
locale_t	text_utf8_locale(void);

#endif

/*
 * text.c: base64 digits and a UTF-8 locale.
 */
#include <locale.h>
#include <stddef.h>

#include "lib/compat.h"
#include "lib/text.h"

/* Maps one base64 character to its 6-bit value. */
int
text_b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/* Creates the first UTF-8 locale that exists, once. */
locale_t
text_utf8_locale(void)
{
	static const char *const	 names[] = {
		"C.UTF-8", "C.utf8", "en_US.UTF-8"
	};
	static locale_t			 loc;
	static int			 tried;
	size_t				 i;

	if (!tried) {
		tried = 1;
		for (i = 0; i < nitems(names) && loc == (locale_t)0; i++)
			loc = newlocale(LC_CTYPE_MASK, names[i], (locale_t)0);
	}
	return (loc);
}

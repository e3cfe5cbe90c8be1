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

/* Counts brackets outside strings; stops at the first level past max. */
int
text_json_depth_ok(const char *p, size_t len, int max)
{
	size_t	i;
	int	depth = 0, in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_string = 0;
		} else if (p[i] == '"')
			in_string = 1;
		else if (p[i] == '[' || p[i] == '{') {
			if (++depth > max)
				return (0);
		} else if (p[i] == ']' || p[i] == '}')
			depth--;
	}
	return (1);
}

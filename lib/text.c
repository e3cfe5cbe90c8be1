/*
 * text.c: base64, a UTF-8 locale, a JSON nesting check, lines, names and
 * request hashes.
 * Everything here reads bytes within a length, never past it.
 */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Decodes four digits at a time; '=' only at the end, at most two. */
int
text_b64_decode(const char *s, size_t len, unsigned char *out, size_t size,
    size_t *outlen)
{
	size_t		 i, j, n = 0, pad = 0, total;
	uint32_t	 acc = 0;
	int		 v;

	if (len == 0 || len % 4 != 0)
		return (-1);
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	if ((total = len / 4 * 3 - pad) > size)
		return (-1);
	for (i = 0; i < len; i += 4) {
		acc = 0;
		for (j = 0; j < 4; j++) {
			if (i + j >= len - pad)
				v = 0;
			else if ((v = text_b64_value(
			    (unsigned char)s[i + j])) == -1)
				return (-1);
			acc = (acc << 6) | (uint32_t)v;
		}
		for (j = 0; j < 3 && n < total; j++)
			out[n++] = (unsigned char)(acc >> (16 - 8 * j));
	}
	*outlen = n;
	return ((acc & ((1U << (8 * pad)) - 1)) != 0 ? 1 : 0);
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

/* Finds the next "\n" within end; drops one "\r" before it. */
int
text_next_line(const char **p, const char *end, const char **line,
    size_t *len)
{
	const char	*nl;

	if (*p == NULL || *p >= end)
		return (0);
	*line = *p;
	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL) {
		*len = (size_t)(end - *p);
		*p = end;
	} else {
		*len = (size_t)(nl - *p);
		*p = nl + 1;
	}
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	return (1);
}

/* Refuses blanks, control bytes, DEL and everything past ASCII. */
int
text_graph_ok(const char *s, size_t len, size_t max)
{
	size_t	i;

	if (len == 0 || len > max)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return (0);
	}
	return (1);
}

/* Letters and digits without a locale, and the bytes of extra. */
int
text_word_ok(const char *s, size_t len, size_t max, const char *extra)
{
	size_t	i;

	if (len == 0 || len > max)
		return (0);
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (s[i] == '\0' || strchr(extra, s[i]) == NULL)
			return (0);
	}
	return (1);
}

/* Checks 64 bytes for lowercase hex digits, stopping at the first other. */
int
text_is_hex64(const char *s)
{
	size_t	i;

	for (i = 0; i < 64; i++) {
		if ((s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f'))
			return (0);
	}
	return (1);
}

/* A "<hex> *<name>" line of a sha256sums file. */
int
text_sums_line(const char *line, size_t n, const char **name,
    size_t *namelen)
{
	const char	*f;

	if (n < 64 + 3 || !text_is_hex64(line) || line[64] != ' ')
		return (0);
	f = line + 64 + 1;
	if (*f == '*' || *f == ' ')
		f++;
	*name = f;
	*namelen = (size_t)(line + n - f);
	return (1);
}

/*
 * capture.c: what one command printed on one stream, for a build's
 * result. Output beyond the limit drops the oldest bytes, in amortised
 * steps so that a chatty command costs no quadratic copying, and the
 * string handed out says how much was cut.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "imagebuilder/capture.h"

/* Appends to a capture, dropping the oldest bytes beyond the limit. */
void
capture_add(struct capture *c, const char *p, size_t n)
{
	size_t	drop, skip;

	if (c->len + n > 2 * CAPTURE_MAX) {
		/* Keep the newest CAPTURE_MAX bytes, amortised. */
		drop = c->len + n - CAPTURE_MAX;
		if (drop >= c->len) {
			skip = drop - c->len;
			c->dropped += drop;
			c->len = 0;
			p += skip;
			n -= skip;
		} else {
			memmove(c->buf, c->buf + drop, c->len - drop);
			c->len -= drop;
			c->dropped += drop;
		}
	}
	if (c->len + n + 1 > c->size) {
		c->size = c->size == 0 ? 65536 : c->size;
		while (c->len + n + 1 > c->size)
			c->size *= 2;
		c->buf = xreallocarray(c->buf, c->size, 1);
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

/* Whether the capture holds all the command printed. */
int
capture_whole(const struct capture *c)
{
	return (c->dropped == 0 && c->len <= CAPTURE_MAX);
}

/* The bytes kept, never NULL. */
const char *
capture_text(const struct capture *c)
{
	return (c->buf != NULL ? c->buf : "");
}

/* Empties a capture for the next command. */
void
capture_reset(struct capture *c)
{
	free(c->buf);
	memset(c, 0, sizeof *c);
}

/* The capture as the result's string, saying so when the head was cut. */
char *
capture_string(const struct capture *c)
{
	const char	*p = capture_text(c);
	size_t		 len = c->len, dropped = c->dropped;
	char		*s, *note;
	size_t		 nlen;

	if (len > CAPTURE_MAX) {
		dropped += len - CAPTURE_MAX;
		p += len - CAPTURE_MAX;
		len = CAPTURE_MAX;
	}
	if (dropped == 0)
		note = xstrdup("");
	else
		xasprintf(&note, "[asud: the first %zu bytes were cut]\n",
		    dropped);
	nlen = strlen(note);
	s = xmalloc(nlen + len + 1);
	memcpy(s, note, nlen);
	memcpy(s + nlen, p, len);
	s[nlen + len] = '\0';
	free(note);
	return (s);
}

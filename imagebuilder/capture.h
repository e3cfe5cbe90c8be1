/*
 * capture.h: one output stream of a command kept for a result, as a build
 * keeps the stdout and stderr of make: at most the newest CAPTURE_MAX
 * bytes are guaranteed, with a count of the older bytes dropped.
 */
#ifndef ASUD_CAPTURE_H
#define ASUD_CAPTURE_H

#include <stddef.h>

/* The most of one stream kept. */
#define CAPTURE_MAX	(4 * 1024 * 1024)

/* Zero it before first use; capture_reset frees it. */
struct capture {
	char	*buf;		/* NUL-terminated; NULL before any output */
	size_t	 len;		/* may exceed CAPTURE_MAX, up to twice it */
	size_t	 size;
	size_t	 dropped;	/* older bytes no longer kept */
};

/* Appends n bytes, dropping the oldest beyond the limit. */
void		 capture_add(struct capture *, const char *p, size_t n);
/* Whether the capture holds all the command printed (nothing cut). */
int		 capture_whole(const struct capture *);
/* What is kept, len bytes and NUL-terminated; "" before any output. */
const char	*capture_text(const struct capture *);
/* Frees what is kept and empties the capture. */
void		 capture_reset(struct capture *);
/*
 * The newest CAPTURE_MAX bytes as an allocated string, after a note
 * "[asud: the first N bytes were cut]\n" when older bytes were dropped.
 */
char		*capture_string(const struct capture *);

#endif

/*
 * record.h: the build record stored under each request hash. Its
 * finished form holds the complete response body, so that a status poll
 * is one LMDB read and one reply.
 */
#ifndef ASUD_RECORD_H
#define ASUD_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum record_state {
	RECORD_QUEUED = 1,	/* accepted; queued or running */
	RECORD_DONE = 2,	/* images in the store; body is the 200 */
	RECORD_FAILED = 3	/* body is the 500 */
};

/* Queue classes, best first (DESIGN: routers, then web pages, then rest). */
enum record_class {
	RECORD_CLASS_ROUTER = 0,
	RECORD_CLASS_WEB = 1,
	RECORD_CLASS_OTHER = 2
};

struct record {
	int		 state;
	int		 klass;
	int64_t		 enqueued_ms;	/* milliseconds since the epoch */
	int64_t		 expires;	/* seconds since the epoch; 0: never */
	uint64_t	 qkey;		/* the queue key while queued */
	const char	*profile_id;	/* the canonical profile */
	const char	*request;	/* the normalised request, JSON */
	size_t		 request_len;
	const char	*body;		/* DONE/FAILED: the response body */
	size_t		 body_len;
	const char	*phase;		/* FAILED: the last phase reached */
	const char	*revision;	/* DONE: the ImageBuilder's revision */
};

/* Serialises r into a new buffer of *len bytes. */
void	*record_encode(const struct record *r, size_t *len);
/*
 * Reads a serialised record; the strings of r point into buf (every one is
 * NUL-terminated there). Returns -1 when buf is not a valid record.
 */
int	 record_decode(const void *buf, size_t len, struct record *r);

#endif

/*
 * anscache.h: finished build answers kept in memory, by request hash, so
 * that a status poll or a cache-hit POST is sent straight from one shared
 * copy (by reference, no copy per request) instead of being read out of
 * the store and copied each time. Bounded in bytes, least recently used
 * out first; the store says when a record changes and its entry goes.
 */
#ifndef ASUD_ANSCACHE_H
#define ASUD_ANSCACHE_H

#include <stddef.h>
#include <time.h>

struct anscache;
struct anscache_blob;

/* What a lookup found: the answer and the blob that holds its bytes. */
struct anscache_hit {
	int			 tag;		/* the caller's, as put */
	int			 code;		/* HTTP status */
	const void		*data;
	size_t			 len;
	struct anscache_blob	*blob;
};

/* A cache of at most max_bytes of answers; 0 keeps nothing. */
struct anscache	*anscache_new(size_t max_bytes);
/* Frees the cache; blobs still being sent live until released. */
void		 anscache_free(struct anscache *);
/*
 * Keeps a copy of body for hash, valid until expires (0: no end). -1 when
 * it is not kept (too large for the budget, or the cache is off).
 */
int		 anscache_put(struct anscache *, const char *hash, int tag,
		    int code, time_t expires, const void *body, size_t len);
/* 1 and the answer for hash when one is kept and valid at now, else 0. */
int		 anscache_get(struct anscache *, const char *hash, time_t now,
		    struct anscache_hit *);
/* The record of hash changed or went: forget its answer. */
void		 anscache_forget(struct anscache *, const char *hash);
/* Keeps a blob alive while its bytes are being sent. */
void		 anscache_hold(struct anscache_blob *);
/* Ends a hold; the last one frees a blob the cache no longer has. */
void		 anscache_release(struct anscache_blob *);
/* Answers kept, and their bytes (for tests and metrics). */
size_t		 anscache_count(const struct anscache *);
size_t		 anscache_bytes(const struct anscache *);

#endif

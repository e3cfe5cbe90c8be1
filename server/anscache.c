/*
 * anscache.c: finished answers in memory. Entries sit in a small hash
 * table by request hash and on one list in order of use; the bytes live in
 * reference-counted blobs so that an entry can be evicted or replaced
 * while a connection is still sending its old bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "server/anscache.h"

#define ANSCACHE_BUCKETS	1024
#define ANSCACHE_HASH_MAX	64
/* One answer may take at most this share of the budget. */
#define ANSCACHE_MAX_SHARE	16

struct anscache_blob {
	size_t		 refs;
	size_t		 len;
	unsigned char	 data[];
};

struct anscache_entry {
	char			 hash[ANSCACHE_HASH_MAX + 1];
	int			 tag;
	int			 code;
	time_t			 expires;
	struct anscache_blob	*blob;
	LIST_ENTRY(anscache_entry) link;	/* in its bucket */
	TAILQ_ENTRY(anscache_entry) lru;	/* most recent first */
};
LIST_HEAD(anscache_bucket, anscache_entry);
TAILQ_HEAD(anscache_lru, anscache_entry);

struct anscache {
	size_t			 max_bytes;
	size_t			 bytes;
	size_t			 count;
	struct anscache_bucket	 buckets[ANSCACHE_BUCKETS];
	struct anscache_lru	 lru;
};

/* The bucket of a hash (FNV-1a: any text is a valid key). */
static struct anscache_bucket *
anscache_bucket(struct anscache *c, const char *hash)
{
	uint32_t	h = 2166136261u;

	for (; *hash != '\0'; hash++)
		h = (h ^ (unsigned char)*hash) * 16777619u;
	return (&c->buckets[h % ANSCACHE_BUCKETS]);
}

/* The entry of hash, or NULL. */
static struct anscache_entry *
anscache_find(struct anscache *c, const char *hash)
{
	struct anscache_entry	*e;

	LIST_FOREACH(e, anscache_bucket(c, hash), link)
		if (strcmp(e->hash, hash) == 0)
			return (e);
	return (NULL);
}

/* Removes an entry; its blob lives on while a send holds it. */
static void
anscache_drop(struct anscache *c, struct anscache_entry *e)
{
	LIST_REMOVE(e, link);
	TAILQ_REMOVE(&c->lru, e, lru);
	c->bytes -= e->blob->len;
	c->count--;
	anscache_release(e->blob);
	free(e);
}

/* Creates a cache of at most max_bytes. */
struct anscache *
anscache_new(size_t max_bytes)
{
	struct anscache	*c;
	size_t		 i;

	c = xcalloc(1, sizeof *c);
	c->max_bytes = max_bytes;
	for (i = 0; i < ANSCACHE_BUCKETS; i++)
		LIST_INIT(&c->buckets[i]);
	TAILQ_INIT(&c->lru);
	return (c);
}

/* Frees every entry and the cache. */
void
anscache_free(struct anscache *c)
{
	if (c == NULL)
		return;
	while (!TAILQ_EMPTY(&c->lru))
		anscache_drop(c, TAILQ_FIRST(&c->lru));
	free(c);
}

/* Keeps a copy of an answer, evicting the least recently used. */
int
anscache_put(struct anscache *c, const char *hash, int tag, int code,
    time_t expires, const void *body, size_t len)
{
	struct anscache_entry	*e;

	if (strlen(hash) > ANSCACHE_HASH_MAX)
		return (-1);
	if ((e = anscache_find(c, hash)) != NULL)
		anscache_drop(c, e);
	if (len > c->max_bytes / ANSCACHE_MAX_SHARE || len == 0)
		return (-1);
	while (c->bytes + len > c->max_bytes && !TAILQ_EMPTY(&c->lru))
		anscache_drop(c, TAILQ_LAST(&c->lru, anscache_lru));
	e = xcalloc(1, sizeof *e);
	snprintf(e->hash, sizeof e->hash, "%s", hash);
	e->tag = tag;
	e->code = code;
	e->expires = expires;
	e->blob = xmalloc(sizeof *e->blob + len);
	e->blob->refs = 1;
	e->blob->len = len;
	memcpy(e->blob->data, body, len);
	LIST_INSERT_HEAD(anscache_bucket(c, hash), e, link);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->bytes += len;
	c->count++;
	return (0);
}

/* Looks an answer up; an expired one is dropped. */
int
anscache_get(struct anscache *c, const char *hash, time_t now,
    struct anscache_hit *hit)
{
	struct anscache_entry	*e;

	if ((e = anscache_find(c, hash)) == NULL)
		return (0);
	if (e->expires != 0 && e->expires <= now) {
		anscache_drop(c, e);
		return (0);
	}
	if (e != TAILQ_FIRST(&c->lru)) {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
	}
	hit->tag = e->tag;
	hit->code = e->code;
	hit->data = e->blob->data;
	hit->len = e->blob->len;
	hit->blob = e->blob;
	return (1);
}

/* Forgets the answer of hash, if any. */
void
anscache_forget(struct anscache *c, const char *hash)
{
	struct anscache_entry	*e;

	if (c != NULL && (e = anscache_find(c, hash)) != NULL)
		anscache_drop(c, e);
}

/* One more holder of blob. */
void
anscache_hold(struct anscache_blob *b)
{
	b->refs++;
}

/* One holder fewer; the last frees. */
void
anscache_release(struct anscache_blob *b)
{
	if (--b->refs == 0)
		free(b);
}

/* The number of answers kept. */
size_t
anscache_count(const struct anscache *c)
{
	return (c->count);
}

/* The bytes of the answers kept. */
size_t
anscache_bytes(const struct anscache *c)
{
	return (c->bytes);
}

/*
 * upstream.c: the upstream metadata cache. Each document lives in a small
 * hash table in memory and in LMDB (meta key "up:<path>"); fetches of one
 * path are coalesced, so however many requests wait, it is fetched once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/fetch.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/jsonw.h"
#include "server/upstream.h"

#define UPSTREAM_BUCKETS	512
#define UPSTREAM_404_TTL	10	/* seconds a 404 stands */
#define UPSTREAM_MAX_BODY	(64 * 1024 * 1024)
#define UPSTREAM_MAGIC		"UPD1"

struct upstream_waiter {
	upstream_cb			 cb;
	void				*arg;
	TAILQ_ENTRY(upstream_waiter)	 link;
};
TAILQ_HEAD(upstream_waiters, upstream_waiter);

struct upstream_entry {
	struct upstream_doc		 doc;
	struct upstream			*u;
	struct fetch			*fetch;
	struct upstream_waiters		 waiters;
	int				 notifying;
	uint64_t			 start_clock;	/* u->clock: started */
	uint64_t			 done_clock;	/* u->clock: ended */
	struct upstream_entry		*next;	/* hash chain */
};

struct upstream {
	struct asud		*a;
	struct upstream_entry	*buckets[UPSTREAM_BUCKETS];
	uint64_t		 errors;
	uint64_t		 generation;
	uint64_t		 clock;		/* fetch starts and ends */
	int			 stopping;
};

/* FNV-1a over the path. */
static unsigned int
upstream_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h % UPSTREAM_BUCKETS);
}

/* The metadata cache for this daemon. */
struct upstream *
upstream_new(struct asud *a)
{
	struct upstream	*u;

	u = xcalloc(1, sizeof *u);
	u->a = a;
	return (u);
}

/* True when there is an upstream to ask. */
int
upstream_enabled(const struct upstream *u)
{
	return (u->a->conf->upstream_url != NULL);
}

/* Errors so far. */
uint64_t
upstream_errors(const struct upstream *u)
{
	return (u->errors);
}

/* Drops the parsed forms of a body that changed. */
static void
upstream_doc_reset_views(struct upstream_doc *d)
{
	if (d->json != NULL)
		yajl_tree_free(d->json);
	d->json = NULL;
	if (d->view != NULL && d->view_free != NULL)
		d->view_free(d->view);
	d->view = NULL;
	d->view_free = NULL;
}

/* Frees one entry. */
static void
upstream_entry_free(struct upstream_entry *e)
{
	upstream_doc_reset_views(&e->doc);
	free(e->doc.path);
	free(e->doc.body);
	free(e->doc.error);
	free(e->doc.etag);
	free(e->doc.last_modified);
	free(e);
}

/* Calls and forgets every waiter of an entry. */
static void
upstream_notify(struct upstream_entry *e)
{
	struct upstream_waiters	 ws;
	struct upstream_waiter	*w;

	TAILQ_INIT(&ws);
	TAILQ_CONCAT(&ws, &e->waiters, link);
	e->notifying++;		/* waiters take this answer as it is */
	while ((w = TAILQ_FIRST(&ws)) != NULL) {
		TAILQ_REMOVE(&ws, w, link);
		w->cb(&e->doc, w->arg);
		free(w);
	}
	e->notifying--;
}

/* Stops fetches and releases the cache. */
void
upstream_free(struct upstream *u)
{
	struct upstream_entry	*e, *next;
	size_t			 i;

	if (u == NULL)
		return;
	u->stopping = 1;	/* waiters woken below start nothing new */
	for (i = 0; i < UPSTREAM_BUCKETS; i++) {
		for (e = u->buckets[i]; e != NULL; e = e->next) {
			if (e->fetch == NULL)
				continue;
			fetch_cancel(e->fetch);
			e->fetch = NULL;
			free(e->doc.error);
			e->doc.error = xstrdup("asud is stopping");
			upstream_notify(e);
		}
	}
	for (i = 0; i < UPSTREAM_BUCKETS; i++) {
		for (e = u->buckets[i]; e != NULL; e = next) {
			next = e->next;
			upstream_entry_free(e);
		}
	}
	free(u);
}

/* Appends a length-prefixed string to a record. */
static char *
upstream_put_str(char *p, const char *s, size_t len)
{
	uint32_t	n = (uint32_t)len;

	memcpy(p, &n, 4);
	if (len > 0)
		memcpy(p + 4, s, len);
	return (p + 4 + len);
}

/* Saves a document in LMDB so that a restart starts warm. */
static void
upstream_persist(struct upstream *u, struct upstream_doc *d)
{
	char		*name, *buf, *p;
	size_t		 elen, llen, total;
	int64_t		 hdr[2];
	char		*cause = NULL;

	if (d->body == NULL || strlen(d->path) > 190)
		return;
	elen = d->etag != NULL ? strlen(d->etag) : 0;
	llen = d->last_modified != NULL ? strlen(d->last_modified) : 0;
	total = 4 + sizeof hdr + 12 + elen + llen + d->len;
	p = buf = xmalloc(total);
	memcpy(p, UPSTREAM_MAGIC, 4);
	hdr[0] = d->fetched;
	hdr[1] = d->status;
	memcpy(p + 4, hdr, sizeof hdr);
	p += 4 + sizeof hdr;
	p = upstream_put_str(p, d->etag, elen);
	p = upstream_put_str(p, d->last_modified, llen);
	p = upstream_put_str(p, d->body, d->len);
	xasprintf(&name, "up:%s", d->path);
	if (store_meta_put(u->a->store, name, buf, (size_t)(p - buf),
	    &cause) == -1) {
		log_warnx("cannot cache %s: %s", d->path, cause);
		free(cause);
	}
	free(name);
	free(buf);
}

/* Reads one length-prefixed string of a record. */
static const char *
upstream_get_str(const char *p, const char *end, char **out, size_t *len)
{
	uint32_t	n;

	if (p == NULL || end - p < 4)
		return (NULL);
	memcpy(&n, p, 4);
	p += 4;
	if ((size_t)(end - p) < n)
		return (NULL);
	*out = n > 0 || len != NULL ? xmemdup(p, n) : NULL;
	if (len != NULL)
		*len = n;
	return (p + n);
}

/* Loads a document saved by an earlier run, if any. */
static void
upstream_load(struct upstream *u, struct upstream_entry *e)
{
	struct upstream_doc	*d = &e->doc;
	const char		*p, *end;
	char			*name, *cause = NULL;
	void			*val;
	size_t			 len;
	int64_t			 hdr[2];

	if (strlen(d->path) > 190)
		return;
	xasprintf(&name, "up:%s", d->path);
	if (store_meta_get(u->a->store, name, &val, &len, &cause) != 1) {
		free(cause);
		free(name);
		return;
	}
	free(name);
	p = val;
	end = p + len;
	if (len < 4 + sizeof hdr || memcmp(p, UPSTREAM_MAGIC, 4) != 0) {
		free(val);
		return;
	}
	memcpy(hdr, p + 4, sizeof hdr);
	p += 4 + sizeof hdr;
	p = upstream_get_str(p, end, &d->etag, NULL);
	p = upstream_get_str(p, end, &d->last_modified, NULL);
	p = upstream_get_str(p, end, &d->body, &d->len);
	if (p == NULL) {
		free(d->etag);
		free(d->last_modified);
		free(d->body);
		d->etag = d->last_modified = d->body = NULL;
		d->len = 0;
	} else {
		d->fetched = hdr[0];
		d->status = (long)hdr[1];
		d->generation = ++u->generation;
	}
	free(val);
}

/* Finds or creates the entry of a path. */
static struct upstream_entry *
upstream_entry(struct upstream *u, const char *path, int create)
{
	struct upstream_entry	*e;
	unsigned int		 h = upstream_hash(path);

	for (e = u->buckets[h]; e != NULL; e = e->next)
		if (strcmp(e->doc.path, path) == 0)
			return (e);
	if (!create)
		return (NULL);
	e = xcalloc(1, sizeof *e);
	e->u = u;
	e->doc.path = xstrdup(path);
	TAILQ_INIT(&e->waiters);
	e->next = u->buckets[h];
	u->buckets[h] = e;
	upstream_load(u, e);
	return (e);
}

/* The cached document of a path, or NULL when there is none. */
struct upstream_doc *
upstream_doc(struct upstream *u, const char *path)
{
	struct upstream_entry	*e;

	e = upstream_entry(u, path, 1);
	return (&e->doc);
}

/* True when a good body is held. */
int
upstream_ok(const struct upstream_doc *d)
{
	return (d != NULL && d->body != NULL && d->status == 200);
}

/* Parses the body as JSON once. */
yajl_val
upstream_json(struct upstream_doc *d)
{
	char	*cause = NULL;

	if (!upstream_ok(d))
		return (NULL);
	if (d->json == NULL) {
		d->json = jsonw_parse(d->body, &cause);
		free(cause);
	}
	return (d->json);
}

/* True when the path names a JSON file, whose body must parse. */
static int
upstream_is_json(const char *path)
{
	size_t	len = strlen(path);

	return (len > 5 && strcmp(path + len - 5, ".json") == 0);
}

/* Takes a fetch's answer into the entry. */
static void
upstream_take(struct upstream_entry *e, const struct fetch_result *r)
{
	struct upstream_doc	*d = &e->doc;
	yajl_val		 v = NULL;
	char			*cause = NULL;

	free(d->error);
	d->error = NULL;
	d->tried = time(NULL);
	if (r->error != NULL) {
		xasprintf(&d->error, "%s", r->error);
		if (d->body == NULL)
			d->status = 0;
		e->u->errors++;
		return;
	}
	if (r->not_modified) {
		d->fetched = d->tried;
		return;
	}
	if (r->status != 200) {
		xasprintf(&d->error, "upstream answered %ld", r->status);
		if (d->body == NULL) {
			d->status = r->status;
			if (r->status == 404)
				d->fetched = d->tried;	/* an answer, too */
		}
		if (r->status != 404)
			e->u->errors++;
		return;
	}
	if (upstream_is_json(d->path) &&
	    (v = jsonw_parse(r->body != NULL ? r->body : "", &cause)) ==
	    NULL) {
		xasprintf(&d->error, "upstream sent malformed JSON (%s)",
		    cause);
		free(cause);
		if (d->body == NULL)
			d->status = 0;
		e->u->errors++;
		return;
	}
	upstream_doc_reset_views(d);
	d->json = v;
	free(d->body);
	d->body = xmemdup(r->body != NULL ? r->body : "", r->len);
	d->len = r->len;
	d->status = 200;
	d->fetched = d->tried;
	d->generation = ++e->u->generation;
	free(d->etag);
	free(d->last_modified);
	d->etag = r->etag != NULL ? xstrdup(r->etag) : NULL;
	d->last_modified = r->last_modified != NULL ?
	    xstrdup(r->last_modified) : NULL;
	upstream_persist(e->u, d);
}

/* A fetch ended: update the cache, wake the waiters. */
static void
upstream_fetched(const struct fetch_result *r, void *arg)
{
	struct upstream_entry	*e = arg;

	e->fetch = NULL;
	e->done_clock = ++e->u->clock;
	upstream_take(e, r);
	if (e->doc.error != NULL)
		log_warnx("upstream %s: %s", e->doc.path, e->doc.error);
	else
		log_debug("upstream %s: %s", e->doc.path,
		    r->not_modified ? "not modified" : "fetched");
	upstream_notify(e);
}

/* Starts a conditional fetch of an entry, unless one runs. */
static int
upstream_start(struct upstream *u, struct upstream_entry *e)
{
	struct fetch_options	 o;
	char			*url, *cause = NULL;

	if (e->fetch != NULL)
		return (0);
	memset(&o, 0, sizeof o);
	o.etag = e->doc.body != NULL ? e->doc.etag : NULL;
	o.last_modified = e->doc.body != NULL ? e->doc.last_modified : NULL;
	o.max_size = UPSTREAM_MAX_BODY;
	o.timeout = u->a->conf->upstream_timeout;
	o.connect_timeout = o.timeout < 10 ? o.timeout : 10;
	e->start_clock = ++u->clock;
	xasprintf(&url, "%s/%s", u->a->conf->upstream_url, e->doc.path);
	e->fetch = fetch_start(url, &o, upstream_fetched, e, &cause);
	free(url);
	if (e->fetch == NULL) {
		free(e->doc.error);
		e->doc.error = cause;
		e->doc.tried = time(NULL);
		e->done_clock = ++u->clock;
		u->errors++;
		return (-1);
	}
	return (0);
}

/* Adds a waiter to an entry's fetch in flight. */
static void
upstream_wait(struct upstream_entry *e, upstream_cb cb, void *arg)
{
	struct upstream_waiter	*w;

	w = xcalloc(1, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&e->waiters, w, link);
}

/* Fetch starts and ends so far; see upstream_want's since. */
uint64_t
upstream_clock(const struct upstream *u)
{
	return (u->clock);
}

/* Makes sure a path is cached; see upstream.h. */
int
upstream_want(struct upstream *u, const char *path, int force,
    uint64_t since, upstream_cb cb, void *arg)
{
	struct upstream_entry	*e;
	int64_t			 now = time(NULL);
	int			 have, answered, need, ttl;

	e = upstream_entry(u, path, 1);
	if (!upstream_enabled(u) || u->stopping)
		return (1);
	/*
	 * Fetched already for this caller. A forced one (a validation miss)
	 * takes no fetch that started before it: that answer may have been
	 * made before the change it missed.
	 */
	if (e->done_clock > since && (!force || e->start_clock > since))
		return (1);
	if (e->notifying && !force)
		return (1);	/* waiters take this answer as it is */
	have = e->doc.body != NULL;
	if (e->fetch != NULL) {
		if (have && !force)
			return (1);
		upstream_wait(e, cb, arg);
		return (0);
	}
	/*
	 * A 404 is an answer too, kept for a short while (a missing file is
	 * asked for again soon); errors are not answers and are retried.
	 */
	answered = have || e->doc.status == 404;
	ttl = u->a->conf->metadata_refresh;
	if (!have && ttl > UPSTREAM_404_TTL)
		ttl = UPSTREAM_404_TTL;
	need = force || !answered || now - e->doc.fetched >= ttl;
	if (!need)
		return (1);
	if (upstream_start(u, e) == -1)
		return (1);
	if (answered && !force)
		return (1);	/* stale: answer now, refresh behind */
	upstream_wait(e, cb, arg);
	return (0);
}

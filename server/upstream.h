/*
 * upstream.h: upstream metadata (the downloads server's JSON and index
 * files), fetched on the event loop, cached in memory and in LMDB, kept
 * fresh with conditional requests every metadata_refresh seconds. When
 * upstream cannot be reached the last good copy is served.
 */
#ifndef ASUD_UPSTREAM_H
#define ASUD_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

struct asud;
struct upstream;

struct upstream_doc {
	char		*path;		/* relative to upstream_url */
	long		 status;	/* 200 for a body held, else the last */
	char		*body;		/* the last good body, or NULL */
	size_t		 len;
	int64_t		 fetched;	/* when upstream last said so (s) */
	int64_t		 tried;		/* when a fetch last ended (s) */
	char		*error;		/* why the last fetch failed, or NULL */
	char		*etag;
	char		*last_modified;
	uint64_t	 generation;	/* changes whenever the body changes */
	yajl_val	 json;		/* parsed body, see upstream_json */
	void		*view;		/* derived data owned by the caller */
	void		(*view_free)(void *);
};

typedef void (*upstream_cb)(struct upstream_doc *, void *arg);

struct upstream	*upstream_new(struct asud *);
/* Cancels every fetch; waiters are called once with error set. */
void		 upstream_free(struct upstream *);
/* False when upstream_url is "none". */
int		 upstream_enabled(const struct upstream *);
/* The cached document (memory first, then LMDB), or NULL. */
struct upstream_doc *upstream_doc(struct upstream *, const char *path);
/* True when the document holds a good body. */
int		 upstream_ok(const struct upstream_doc *);
/* Parsed JSON of a good body (parsed once), or NULL. */
yajl_val	 upstream_json(struct upstream_doc *);
/*
 * Makes sure path is cached. Returns 1 when the cache can answer now (a
 * stale copy is refreshed in the background, an error is the answer);
 * 0 when cb will be called after a fetch. force asks for a fetch even of
 * a fresh copy (a validation miss), one that starts after since. A caller
 * passes since = upstream_clock() taken when it started, so that a path
 * fetched once for it is never fetched again for it. Concurrent fetches
 * of a path are one.
 */
int		 upstream_want(struct upstream *, const char *path, int force,
		    uint64_t since, upstream_cb cb, void *arg);
/* A counter of fetch starts and ends, for upstream_want's since. */
uint64_t	 upstream_clock(const struct upstream *);
/* Number of fetch errors seen (metrics). */
uint64_t	 upstream_errors(const struct upstream *);

#endif

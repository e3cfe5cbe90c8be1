/*
 * ibcache.h: ImageBuilders on demand. A missing ImageBuilder is found in
 * the version's sha256sums (whose usign signature must verify with a
 * trusted key), streamed to disk while hashed, unpacked in a child
 * process and renamed into <root>/<version>/<target>/<subtarget>/.
 * However many builds wait for one ImageBuilder, it is fetched once; a
 * failure fails every waiter and is retried on a later request.
 */
#ifndef ASUD_IBCACHE_H
#define ASUD_IBCACHE_H

struct event_base;
struct ibcache;
struct ibcache_wait;
struct usign_keys;

/* Phases, as the clients know them: "download_imagebuilder", ... */
typedef void (*ibcache_phase_cb)(const char *phase, void *arg);
/* The end: dir of the installed ImageBuilder, or NULL with error. */
typedef void (*ibcache_done_cb)(const char *dir, const char *error,
	    void *arg);

/*
 * root is the ImageBuilder cache, upstream the downloads server's URL,
 * keys the trusted usign keys (not owned; may be NULL: nothing verifies).
 */
struct ibcache	*ibcache_new(struct event_base *, const char *root,
		    const char *upstream, const struct usign_keys *keys);
/* Cancels downloads and unpacks; waiters are not called. */
void		 ibcache_free(struct ibcache *);
/*
 * Fetches and installs the ImageBuilder of version/target (target is
 * "board/subtarget"), found under vpath ("releases/23.05.4") upstream.
 * Callbacks always come from the event loop, never from this call.
 */
struct ibcache_wait *ibcache_ensure(struct ibcache *, const char *version,
		    const char *target, const char *vpath, ibcache_phase_cb,
		    ibcache_done_cb, void *arg);
/* Forgets one waiter (its callbacks are not called). */
void		 ibcache_cancel(struct ibcache_wait *);
/* Downloads started so far (metrics, tests). */
unsigned long	 ibcache_downloads(const struct ibcache *);

#endif

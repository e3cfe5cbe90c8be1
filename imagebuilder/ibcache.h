/*
 * ibcache.h: ImageBuilders on demand. A missing ImageBuilder is found in
 * the version's sha256sums (whose usign signature must verify with a
 * trusted key), streamed to disk while hashed, unpacked in a child
 * process and renamed into <root>/<version>/<target>/<subtarget>/.
 * However many builds wait for one ImageBuilder, it is fetched once; a
 * failure fails every waiter and is retried on a later request. The
 * downloaded ImageBuilders are kept within a disk budget, and each notes
 * the upstream revision it was made from.
 */
#ifndef ASUD_IBCACHE_H
#define ASUD_IBCACHE_H

struct catalog;
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

/* True when a queued or running build will use the ImageBuilder dir. */
typedef int (*ibcache_in_use_cb)(const char *dir, void *arg);

/*
 * Keeps the ImageBuilders asud downloaded (those of cat with a size note)
 * within budget bytes (0 or less: no bound): the least recently used that
 * in_use says no build needs go first; hand-placed ones are never
 * touched. Returns how many were evicted.
 */
int		 ibcache_evict(struct ibcache *, const struct catalog *cat,
		    long long budget, ibcache_in_use_cb in_use, void *arg);
/*
 * Moves the ImageBuilder dir aside into the cache's .tmp at once and
 * removes it in a child; 0, or -1 when it could not be moved.
 */
int		 ibcache_remove(struct ibcache *, const char *dir);
/* Removes the tree path, already out of every build's way, in a child. */
void		 ibcache_discard(const char *path);
/* Marks the ImageBuilder dir used now (eviction goes by last use). */
void		 ibcache_touch(const char *dir);
/*
 * Remembers the upstream revision the ImageBuilder dir stands for: the
 * one upstream offered when it was installed (replace set: a lagging
 * mirror cannot make asud download it again and again), else the one
 * make info said (kept only when there is no note yet). dir not absolute:
 * nothing.
 */
void		 ibcache_note_revision(const char *dir, const char *revision,
		    int replace);
/*
 * The revision a result built with dir stands for, allocated: the note
 * of dir (what upstream offered), else said (what make info said).
 */
char		*ibcache_revision(const char *dir, const char *said);
/*
 * True when upstream now offers another revision (now; NULL: unknown)
 * than the ImageBuilder in dir, downloaded by asud, was made from.
 */
int		 ibcache_moved(const char *dir, const char *now);

#endif

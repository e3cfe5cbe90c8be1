/*
 * wait.h: long-polling waiters. A status poll with ?wait=N (or the header
 * "Prefer: wait=N") for a build in progress is held until the build's
 * state, phase or queue position changes, or N seconds pass (at most
 * max_wait), then answered exactly as a plain poll would be. A client
 * that goes away is forgotten at once.
 */
#ifndef ASUD_WAIT_H
#define ASUD_WAIT_H

#include <stddef.h>

struct asud;
struct evhttp_request;
struct waiters;

/* Answers req for hash as a plain poll would. */
typedef void (*wait_answer_cb)(struct asud *, struct evhttp_request *,
	    const char *hash);

struct waiters	*wait_new(struct asud *, wait_answer_cb);
/* Answers every waiter now and frees. */
void		 wait_free(struct waiters *);
/*
 * Holds req for hash for at most seconds. Returns -1 (nothing held: the
 * caller answers at once) when its client holds max_waiters_per_client.
 */
int		 wait_add(struct waiters *, struct evhttp_request *,
		    const char *hash, int seconds);
/* Something about hash changed (state or phase): wake its waiters. */
void		 wait_changed(struct waiters *, const char *hash);
/* The queue moved: wake every waiter whose answer would now differ. */
void		 wait_queue_moved(struct waiters *);
/* Waiters held now (metrics). */
size_t		 wait_count(const struct waiters *);

#endif

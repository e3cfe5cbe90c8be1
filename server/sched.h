/*
 * sched.h: the scheduler. It owns the in-memory queue, starts builds when
 * a slot and the ImageBuilder are free, and hands their results to
 * outcome.h to be stored. What changes is told through sched_events, so
 * that the scheduler knows nothing of those who listen.
 */
#ifndef ASUD_SCHED_H
#define ASUD_SCHED_H

#include <stddef.h>

struct asud;
struct request;
struct sched;
struct evbuffer;

struct sched_status {
	int		 running;
	const char	*phase;		/* "init", "validate_manifest", ... */
	size_t		 position;	/* waiting entries ahead */
};

/*
 * What the scheduler tells the daemon (also from inside sched_submit),
 * each called with arg. They may read the scheduler's state (its status,
 * live log, lost answers, queue) but not change it.
 */
struct sched_events {
	/* The phase of the build of hash changed. */
	void	(*state)(const char *hash, void *arg);
	/* The queue moved: a build was queued, started or ended. */
	void	(*queue_moved)(void *arg);
	/* The build of hash printed len bytes at offset in its log. */
	void	(*log)(const char *hash, size_t offset, const char *buf,
		    size_t len, void *arg);
	/*
	 * The build of hash ended, its log too; then its record is final
	 * (or lost) and it is no longer queued: state and queue_moved
	 * follow.
	 */
	void	(*ended)(const char *hash, void *arg);
	/* A successful build took seconds in its ImageBuilder. */
	void	(*build_seconds)(double seconds, void *arg);
	/* ImageBuilders were installed or removed: the catalog is stale. */
	void	(*ib_changed)(void *arg);
	void	*arg;
};

/* Sets up the scheduler; ev is copied. */
struct sched	*sched_new(struct asud *, const struct sched_events *ev);
/* Reloads the persisted queue after a start; interrupted builds rerun. */
int		 sched_restore(struct sched *, char **cause);
/*
 * Commits the record and queue entry of a validated request, then queues
 * it. ib_dir is the ImageBuilder it will use. On success the request is
 * durable and the caller may answer 202.
 */
int		 sched_submit(struct sched *, const char *hash,
		    const struct request *, const char *profile_id,
		    const char *ib_dir, int klass, char **cause);
/* The live state of a queued or running hash; 0 when unknown. */
int		 sched_status(struct sched *, const char *hash,
		    struct sched_status *);
/*
 * The live log of a queued or running build, or NULL; the build's output
 * comes at a follower's pace from then on (build_set_live).
 */
struct evbuffer	*sched_live_log(struct asud *, const char *hash);
/* Waiting requests (the 529 limit and /api/v1/stats). */
size_t		 sched_queue_length(struct sched *);
/*
 * A build whose result could not be stored, or that ran out of disk
 * space, is answered with a 500 kept in memory for a while (not cached in
 * the store; see lost.h). sched_lost_answer gives that body (owned by the
 * scheduler, valid until the next turn of the loop); 1 when there is one.
 */
int		 sched_lost_answer(struct sched *, const char *hash,
		    const char **body, size_t *len);
/*
 * Before a lost request is built again: deletes what is left of it in the
 * store and forgets it. 0 (also when there is none), or -1 with *cause
 * when the store still refuses.
 */
int		 sched_lost_forget(struct sched *, const char *hash,
		    char **cause);
/*
 * Why the disk of the state directory or the store is full (a write
 * failed for lack of room and there is no space again yet), or NULL.
 */
const char	*sched_disk_full(struct sched *);
/* Stops running builds (they run again at the next start) and frees. */
void		 sched_free(struct sched *);

/* One queued or running build, as the operators' listing shows it. */
struct sched_view {
	const char	*hash;
	size_t		 position;	/* waiting entries ahead; 0 running */
	int		 running;
	int		 klass;		/* 0 router, 1 web, 2 other */
	const char	*phase;		/* "queued" while waiting */
	const char	*version;
	const char	*target;
	const char	*profile;
	const char	*client;	/* the request's client, or NULL */
	long long	 enqueued_ms;
	long long	 started_ms;	/* 0 until it runs */
};
/* Calls cb for every queued or running build, in queue order. */
void		 sched_foreach(struct sched *,
		    void (*cb)(const struct sched_view *, void *), void *arg);

#endif

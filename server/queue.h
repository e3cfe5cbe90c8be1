/*
 * queue.h: the build queue's order in memory. The same order is persisted
 * by store/ (queue keys sort the same way), so the queue is rebuilt at
 * start by reading it back.
 *
 * Order: a key of enqueue time plus a per-class delay. Routers' own
 * upgrade clients (class 0) go first, web pages (1) next, everything else
 * (2) last, first come first served within a class; the delay is fixed,
 * so a request of a lower class is overtaken only by requests that arrived
 * less than (class * delay) after it: nothing waits forever.
 */
#ifndef ASUD_QUEUE_H
#define ASUD_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct queue_entry {
	uint64_t	 qkey;
	char		 hash[65];
	int		 klass;
	int64_t		 enqueued_ms;
	char		*ib_key;	/* one build at a time per key */
	int		 running;
	int		 ready;		/* its ImageBuilder is on disk */
	void		*data;		/* the owner's */
	TAILQ_ENTRY(queue_entry) link;
};

struct queue;

struct queue	*queue_new(void);
/* Frees the queue; free_data (may be NULL) is called for each entry. */
void		 queue_free(struct queue *, void (*free_data)(void *));
/* The class of a request from its client field and User-Agent. */
int		 queue_class_of(const char *client, const char *user_agent);
/* The sort key: milliseconds plus the class delay. */
uint64_t	 queue_key(int64_t enqueued_ms, int klass, int class_delay);
/* Adds an entry in key order (ties: by hash) and returns it. */
struct queue_entry *queue_add(struct queue *, uint64_t qkey, const char *hash,
		    int klass, int64_t enqueued_ms, const char *ib_key,
		    void *data);
struct queue_entry *queue_find(struct queue *, const char *hash);
/*
 * The first waiting, ready entry whose ib_key fewer than per_ib running
 * entries hold, or NULL.
 */
struct queue_entry *queue_next(struct queue *, size_t per_ib);
/* How many running entries hold ib_key. */
size_t		 queue_busy(const struct queue *, const char *ib_key);
/* Marks an entry running (it keeps its place for the listing). */
void		 queue_start(struct queue *, struct queue_entry *);
/* Removes and frees an entry (not its data). */
void		 queue_remove(struct queue *, struct queue_entry *);
/* How many waiting entries will start before this one. */
size_t		 queue_position(const struct queue *,
		    const struct queue_entry *);
/* Waiting (not running) entries. */
size_t		 queue_waiting(const struct queue *);
/* Running entries. */
size_t		 queue_running(const struct queue *);
/* Gives an entry its ImageBuilder (ib_key) and makes it ready. */
void		 queue_set_ready(struct queue_entry *, const char *ib_key);
/* The first entry in order (running or not), for walking the queue. */
struct queue_entry *queue_first(struct queue *);

#endif

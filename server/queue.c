/*
 * queue.c: the in-memory build queue: a list kept in key order. Its length
 * is bounded by max_pending_jobs, so linear walks are fine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "server/queue.h"
#include "server/record.h"

TAILQ_HEAD(queue_list, queue_entry);

struct queue {
	struct queue_list	list;
	size_t			nwaiting;
	size_t			nrunning;
};

/* An empty queue. */
struct queue *
queue_new(void)
{
	struct queue	*q;

	q = xcalloc(1, sizeof *q);
	TAILQ_INIT(&q->list);
	return (q);
}

/* Frees every entry and the queue. */
void
queue_free(struct queue *q, void (*free_data)(void *))
{
	struct queue_entry	*e;

	if (q == NULL)
		return;
	while ((e = TAILQ_FIRST(&q->list)) != NULL) {
		TAILQ_REMOVE(&q->list, e, link);
		if (free_data != NULL)
			free_data(e->data);
		free(e->ib_key);
		free(e);
	}
	free(q);
}

/* True when s starts with prefix. */
static int
queue_prefix(const char *s, const char *prefix)
{
	return (s != NULL && strncmp(s, prefix, strlen(prefix)) == 0);
}

/* Routers first, web pages next, then everybody else. */
static int
queue_class_of_one(const char *who)
{
	if (queue_prefix(who, "luci/") || queue_prefix(who, "owut/") ||
	    queue_prefix(who, "auc"))
		return (RECORD_CLASS_ROUTER);
	if (queue_prefix(who, "ofs/"))
		return (RECORD_CLASS_WEB);
	return (RECORD_CLASS_OTHER);
}

/* The client field decides when present, else the User-Agent. */
int
queue_class_of(const char *client, const char *user_agent)
{
	if (client != NULL && *client != '\0')
		return (queue_class_of_one(client));
	return (queue_class_of_one(user_agent));
}

/* Enqueue time plus the class's delay, in milliseconds. */
uint64_t
queue_key(int64_t enqueued_ms, int klass, int class_delay)
{
	return ((uint64_t)enqueued_ms +
	    (uint64_t)klass * (uint64_t)class_delay * 1000);
}

/* Orders by key, then by hash so that equal keys are stable. */
static int
queue_before(const struct queue_entry *a, const struct queue_entry *b)
{
	if (a->qkey != b->qkey)
		return (a->qkey < b->qkey);
	return (strcmp(a->hash, b->hash) < 0);
}

/* Inserts in order, walking from the tail (new entries are usually last). */
struct queue_entry *
queue_add(struct queue *q, uint64_t qkey, const char *hash, int klass,
    int64_t enqueued_ms, const char *ib_key, void *data)
{
	struct queue_entry	*e, *at;

	e = xcalloc(1, sizeof *e);
	e->qkey = qkey;
	snprintf(e->hash, sizeof e->hash, "%s", hash);
	e->klass = klass;
	e->enqueued_ms = enqueued_ms;
	e->ib_key = xstrdup(ib_key != NULL ? ib_key : "");
	e->data = data;
	e->ready = 1;
	TAILQ_FOREACH_REVERSE(at, &q->list, queue_list, link) {
		if (!queue_before(e, at))
			break;
	}
	if (at == NULL)
		TAILQ_INSERT_HEAD(&q->list, e, link);
	else
		TAILQ_INSERT_AFTER(&q->list, at, e, link);
	q->nwaiting++;
	return (e);
}

/* Finds an entry by request hash. */
struct queue_entry *
queue_find(struct queue *q, const char *hash)
{
	struct queue_entry	*e;

	TAILQ_FOREACH(e, &q->list, link)
		if (strcmp(e->hash, hash) == 0)
			return (e);
	return (NULL);
}

/* Running entries that hold this ImageBuilder. */
size_t
queue_busy(const struct queue *q, const char *ib_key)
{
	const struct queue_entry	*e;
	size_t				 n = 0;

	TAILQ_FOREACH(e, &q->list, link)
		if (e->running && strcmp(e->ib_key, ib_key) == 0)
			n++;
	return (n);
}

/* The best waiting entry that can start now. */
struct queue_entry *
queue_next(struct queue *q, size_t per_ib)
{
	struct queue_entry	*e;

	TAILQ_FOREACH(e, &q->list, link) {
		if (e->running || !e->ready)
			continue;
		if (queue_busy(q, e->ib_key) < per_ib)
			return (e);
	}
	return (NULL);
}

/* Marks an entry running. */
void
queue_start(struct queue *q, struct queue_entry *e)
{
	if (e->running)
		return;
	e->running = 1;
	q->nwaiting--;
	q->nrunning++;
}

/* Unlinks and frees an entry; its data is the caller's. */
void
queue_remove(struct queue *q, struct queue_entry *e)
{
	TAILQ_REMOVE(&q->list, e, link);
	if (e->running)
		q->nrunning--;
	else
		q->nwaiting--;
	free(e->ib_key);
	free(e);
}

/* Waiting entries ahead of e. */
size_t
queue_position(const struct queue *q, const struct queue_entry *e)
{
	const struct queue_entry	*it;
	size_t				 n = 0;

	TAILQ_FOREACH(it, &q->list, link) {
		if (it == e)
			break;
		if (!it->running)
			n++;
	}
	return (n);
}

/* Count of waiting entries. */
size_t
queue_waiting(const struct queue *q)
{
	return (q->nwaiting);
}

/* Count of running entries. */
size_t
queue_running(const struct queue *q)
{
	return (q->nrunning);
}

/* Gives an entry its ImageBuilder once it is on disk. */
void
queue_set_ready(struct queue_entry *e, const char *ib_key)
{
	free(e->ib_key);
	e->ib_key = xstrdup(ib_key);
	e->ready = 1;
}

/* The head of the list. */
struct queue_entry *
queue_first(struct queue *q)
{
	return (TAILQ_FIRST(&q->list));
}

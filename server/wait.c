/*
 * wait.c: long-poll waiters, kept per request hash in a small hash table
 * so that one build finishing wakes exactly its own waiters at once. Each
 * waiter costs one struct, one timer and its held connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/asud.h"
#include "server/client.h"
#include "server/http.h"
#include "server/sched.h"
#include "server/wait.h"

#define WAIT_BUCKETS	1024

struct waiter {
	struct waiters		*w;
	struct http_hold	*hold;
	struct event		*timer;
	char			 hash[65];
	struct client_key	 client;	/* counted per client */
	int			 running;	/* the state last answered */
	const char		*phase;
	size_t			 position;
	LIST_ENTRY(waiter)	 link;
};
LIST_HEAD(waiter_list, waiter);

struct waiters {
	struct asud		*a;
	wait_answer_cb		 answer;
	struct waiter_list	 buckets[WAIT_BUCKETS];
	size_t			 count;
};

/* FNV-1a of a hash, for the table. */
static unsigned int
wait_bucket(const char *hash)
{
	uint32_t	h = 2166136261u;

	while (*hash != '\0')
		h = (h ^ (unsigned char)*hash++) * 16777619u;
	return (h % WAIT_BUCKETS);
}

/* An empty set of waiters. */
struct waiters *
wait_new(struct asud *a, wait_answer_cb answer)
{
	struct waiters	*w;
	size_t		 i;

	w = xcalloc(1, sizeof *w);
	w->a = a;
	w->answer = answer;
	for (i = 0; i < WAIT_BUCKETS; i++)
		LIST_INIT(&w->buckets[i]);
	return (w);
}

/* Answers a waiter (if its client is still there) and forgets it. */
static void
wait_release(struct waiter *x)
{
	struct evhttp_request	*req = http_hold_req(x->hold);

	LIST_REMOVE(x, link);
	x->w->count--;
	client_release(x->w->a->clients, &x->client, CLIENT_WAITER);
	if (req != NULL)
		x->w->answer(x->w->a, req, x->hash);
	http_hold_free(x->hold);
	event_free(x->timer);
	free(x);
}

/* N seconds passed: answer as a plain poll. */
static void
wait_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	wait_release(arg);
}

/* The client went away: forget it at once. */
static void
wait_gone(void *arg)
{
	struct waiter	*x = arg;

	log_debug("waiter of %.12s gone", x->hash);
	LIST_REMOVE(x, link);
	x->w->count--;
	client_release(x->w->a->clients, &x->client, CLIENT_WAITER);
	http_hold_free(x->hold);
	event_free(x->timer);
	free(x);
}

/* Holds a poll, unless its client holds max_waiters_per_client already. */
int
wait_add(struct waiters *w, struct evhttp_request *req, const char *hash,
    int seconds)
{
	struct waiter		*x;
	struct sched_status	 st;
	struct client_key	 k;
	struct timeval		 tv = { seconds, 0 };

	if (client_hold(w->a->clients, req, CLIENT_WAITER, &k) == -1)
		return (-1);
	x = xcalloc(1, sizeof *x);
	x->client = k;
	x->w = w;
	snprintf(x->hash, sizeof x->hash, "%s", hash);
	if (sched_status(w->a->sched, hash, &st)) {
		x->running = st.running;
		x->phase = st.phase;
		x->position = st.position;
	}
	x->hold = http_hold_new_cb(req, wait_gone, x);
	if ((x->timer = evtimer_new(w->a->base, wait_timeout_cb, x)) == NULL)
		fatalx("evtimer_new: out of memory");
	evtimer_add(x->timer, &tv);
	LIST_INSERT_HEAD(&w->buckets[wait_bucket(hash)], x, link);
	w->count++;
	return (0);
}

/* Wakes every waiter of hash. */
void
wait_changed(struct waiters *w, const char *hash)
{
	struct waiter_list	*l = &w->buckets[wait_bucket(hash)];
	struct waiter		*x, *next;

	LIST_FOREACH_SAFE(x, l, link, next)
		if (strcmp(x->hash, hash) == 0)
			wait_release(x);
}

/* Wakes the waiters whose state, phase or position moved. */
void
wait_queue_moved(struct waiters *w)
{
	struct sched_status	 st;
	struct waiter		*x, *next;
	size_t			 i;

	for (i = 0; i < WAIT_BUCKETS; i++) {
		LIST_FOREACH_SAFE(x, &w->buckets[i], link, next) {
			if (!sched_status(w->a->sched, x->hash, &st) ||
			    st.running != x->running ||
			    st.position != x->position ||
			    (st.phase != x->phase && (st.phase == NULL ||
			    x->phase == NULL ||
			    strcmp(st.phase, x->phase) != 0)))
				wait_release(x);
		}
	}
}

/* Waiters now. */
size_t
wait_count(const struct waiters *w)
{
	return (w->count);
}

/* Answers everybody (at shutdown) and frees. */
void
wait_free(struct waiters *w)
{
	struct waiter	*x;
	size_t		 i;

	if (w == NULL)
		return;
	for (i = 0; i < WAIT_BUCKETS; i++)
		while ((x = LIST_FIRST(&w->buckets[i])) != NULL)
			wait_release(x);
	free(w);
}

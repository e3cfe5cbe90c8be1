/*
 * opsview.c: the operators' listing of queued and running builds, in the
 * order they will run: running ones first (position 0, in queue order),
 * then waiting ones with the number of waiting builds ahead of them.
 */
#include <stdlib.h>

#include <event2/http.h>

#include "lib/clock.h"
#include "server/asud.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/opsview.h"
#include "server/record.h"
#include "server/sched.h"

struct opsview_walk {
	yajl_gen	 g;
	long long	 now_ms;
	size_t		 queued;
	size_t		 running;
	int		 pass_running;	/* listing running ones */
};

/* The class names of queue.h's classes. */
static const char *
opsview_class(int klass)
{
	switch (klass) {
	case RECORD_CLASS_ROUTER:
		return ("router");
	case RECORD_CLASS_WEB:
		return ("web");
	default:
		return ("other");
	}
}

/* Whole seconds between two times in milliseconds, never negative. */
static long long
opsview_seconds(long long from_ms, long long to_ms)
{
	if (from_ms <= 0 || to_ms < from_ms)
		return (0);
	return ((to_ms - from_ms) / 1000);
}

/* Writes one string member, or null. */
static void
opsview_kv(yajl_gen g, const char *key, const char *val)
{
	if (val != NULL)
		jsonw_kv_str(g, key, val);
	else
		jsonw_kv_null(g, key);
}

/* Writes one entry of the listing. */
static void
opsview_entry(const struct sched_view *v, void *arg)
{
	struct opsview_walk	*w = arg;
	yajl_gen		 g = w->g;
	long long		 end;

	if (!v->running != !w->pass_running)
		return;
	if (v->running)
		w->running++;
	else
		w->queued++;
	yajl_gen_map_open(g);
	jsonw_kv_int(g, "position", (long long)v->position);
	jsonw_kv_str(g, "request_hash", v->hash);
	jsonw_kv_str(g, "class", opsview_class(v->klass));
	opsview_kv(g, "phase", v->phase);
	opsview_kv(g, "version", v->version);
	opsview_kv(g, "target", v->target);
	opsview_kv(g, "profile", v->profile);
	opsview_kv(g, "client", v->client);
	end = v->running && v->started_ms > 0 ? v->started_ms : w->now_ms;
	jsonw_kv_int(g, "waiting_seconds",
	    opsview_seconds(v->enqueued_ms, end));
	jsonw_kv_int(g, "running_seconds", v->running ?
	    opsview_seconds(v->started_ms, w->now_ms) : 0);
	yajl_gen_map_close(g);
}

/* The listing as JSON. */
char *
opsview_queue_json(struct asud *a, long long now_ms, size_t *len)
{
	struct opsview_walk	w;

	w.g = jsonw_new();
	w.now_ms = now_ms;
	w.queued = w.running = 0;
	yajl_gen_map_open(w.g);
	jsonw_key(w.g, "queue");
	yajl_gen_array_open(w.g);
	for (w.pass_running = 1; w.pass_running >= 0; w.pass_running--) {
		if (a->sched != NULL)
			sched_foreach(a->sched, opsview_entry, &w);
	}
	yajl_gen_array_close(w.g);
	jsonw_kv_int(w.g, "queued", (long long)w.queued);
	jsonw_kv_int(w.g, "running", (long long)w.running);
	yajl_gen_map_close(w.g);
	return (jsonw_finish(w.g, len));
}

/* GET /api/v1/queue. */
void
opsview_queue(struct asud *a, struct evhttp_request *req, const char *arg)
{
	char	*body;
	size_t	 len;

	body = opsview_queue_json(a, clock_now_ms(), &len);
	http_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200, body, len);
	free(body);
}

/*
 * follow.c: log followers. Each follower is a held request answered in
 * chunks; the bytes it has been sent are counted so that it never misses
 * or repeats output, and the connection's unsent output is checked before
 * each chunk, so a slow reader cannot make asud buffer without bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zstd.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/client.h"
#include "server/follow.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/record.h"
#include "server/sched.h"

#define FOLLOW_LOG_MAX	(256 * 1024 * 1024)	/* a decompressed log */

struct follower {
	struct followers	*f;
	struct http_hold	*hold;
	char			 hash[65];
	struct client_key	 client;	/* counted per client */
	size_t			 sent;		/* log offset sent so far */
	int			 sse;		/* an event stream */
	struct evbuffer		*partial;	/* sse: a line not yet ended */
	char			*state;		/* sse: the last state sent */
	LIST_ENTRY(follower)	 link;
};

struct followers {
	struct asud		*a;
	follow_live_cb		 live;
	size_t			 cap;
	LIST_HEAD(, follower)	 list;
	size_t			 count;
};

/* The follower registry. */
struct followers *
follow_new(struct asud *a, follow_live_cb live, size_t cap)
{
	struct followers	*f;

	f = xcalloc(1, sizeof *f);
	f->a = a;
	f->live = live;
	f->cap = cap;
	LIST_INIT(&f->list);
	return (f);
}

/* Forgets a follower (its stream was ended, or its client left). */
static void
follow_forget(struct follower *x)
{
	LIST_REMOVE(x, link);
	x->f->count--;
	client_release(x->f->a->clients, &x->client, CLIENT_FOLLOWER);
	http_hold_free(x->hold);
	if (x->partial != NULL)
		evbuffer_free(x->partial);
	free(x->state);
	free(x);
}

/* Ends a follower's stream and forgets it. */
static void
follow_finish(struct follower *x)
{
	struct evhttp_request	*req = http_hold_req(x->hold);

	if (req != NULL)
		evhttp_send_reply_end(req);
	follow_forget(x);
}

/* The client went away. */
static void
follow_gone(void *arg)
{
	follow_forget(arg);
}

/* Bytes not yet written to the follower's socket. */
static size_t
follow_backlog(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return (0);
	return (evbuffer_get_length(bufferevent_get_output(bev)));
}

/* Turns log bytes into "event: log" events, one per complete line. */
static void
follow_sse_lines(struct follower *x, struct evbuffer *out, const char *buf,
    size_t len)
{
	char	*line;
	size_t	 n;

	evbuffer_add(x->partial, buf, len);
	while ((line = evbuffer_readln(x->partial, &n,
	    EVBUFFER_EOL_LF)) != NULL) {
		evbuffer_add_printf(out, "event: log\ndata: %s\n\n", line);
		free(line);
	}
}

/*
 * Sends bytes to a follower; 0, or -1 when it was cut off (too slow)
 * and forgotten.
 */
static int
follow_send(struct follower *x, const char *buf, size_t len)
{
	struct evhttp_request	*req = http_hold_req(x->hold);
	struct evbuffer		*b;
	static const char	 cut[] = "\n[asud: this follower reads too "
				    "slowly and was cut off; resume with "
				    "?since=%zu]\n";

	if (req == NULL)
		return (0);
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if (follow_backlog(req) + len > x->f->cap) {
		evbuffer_add_printf(b, cut, x->sent);
		evhttp_send_reply_chunk(req, b);
		evbuffer_free(b);
		log_info("log follower of %.12s cut off at %zu bytes", x->hash,
		    x->sent);
		follow_finish(x);
		return (-1);
	}
	if (x->sse)
		follow_sse_lines(x, b, buf, len);
	else
		evbuffer_add(b, buf, len);
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
	x->sent += len;
	return (0);
}

/* Reads the state of a record (and its body when it is finished). */
struct follow_rec {
	int	 state;
	char	*body;
};

static void
follow_rec_cb(const void *val, size_t len, void *arg)
{
	struct follow_rec	*fr = arg;
	struct record		 r;

	if (record_decode(val, len, &r) == -1)
		return;
	fr->state = r.state;
	if (r.state != RECORD_QUEUED)
		fr->body = xmemdup(r.body, r.body_len);
}

/* The state of a build as one JSON object, for "event: state". */
static char *
follow_state_json(struct followers *f, const char *hash)
{
	struct follow_rec	 fr = { 0, NULL };
	struct sched_status	 st;
	yajl_gen		 g;
	yajl_val		 body, detail;
	char			*cause = NULL;

	if (store_record_view(f->a->store, hash, follow_rec_cb, &fr,
	    &cause) == -1)
		free(cause);
	g = jsonw_new();
	yajl_gen_map_open(g);
	if (fr.state == RECORD_DONE || fr.state == RECORD_FAILED) {
		body = jsonw_parse(fr.body, &cause);
		free(cause);
		detail = jsonw_get(body, "detail");
		jsonw_kv_int(g, "status", fr.state == RECORD_DONE ? 200 : 500);
		jsonw_kv_str(g, "detail", detail != NULL &&
		    YAJL_IS_STRING(detail) ? detail->u.string : "");
		jsonw_kv_str(g, "imagebuilder_status",
		    fr.state == RECORD_DONE ? "done" : "failed");
		yajl_tree_free(body);
	} else {
		if (!sched_status(f->a->sched, hash, &st)) {
			st.running = 0;
			st.phase = "queued";
			st.position = 0;
		}
		jsonw_kv_int(g, "status", 202);
		jsonw_kv_str(g, "detail", st.running ? "started" : "queued");
		jsonw_kv_str(g, "imagebuilder_status", st.phase);
		jsonw_kv_int(g, "queue_position", (long long)st.position);
	}
	jsonw_kv_str(g, "request_hash", hash);
	yajl_gen_map_close(g);
	free(fr.body);
	return (jsonw_finish(g, NULL));
}

/* Sends "event: state" when the state differs from the last one sent. */
static void
follow_sse_state(struct follower *x)
{
	struct evhttp_request	*req = http_hold_req(x->hold);
	struct evbuffer		*b;
	char			*state;

	if (req == NULL || !x->sse)
		return;
	state = follow_state_json(x->f, x->hash);
	if (x->state != NULL && strcmp(x->state, state) == 0) {
		free(state);
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	evbuffer_add_printf(b, "event: state\ndata: %s\n\n", state);
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
	free(x->state);
	x->state = state;
}

/* Starts a chunked stream that follows the build of hash. */
static void
follow_start(struct followers *f, struct evhttp_request *req,
    const char *hash, size_t since, int sse)
{
	struct follower		*x;
	struct evbuffer		*live;
	struct client_key	 k;
	unsigned char		*p;
	size_t			 len;

	if (client_hold(f->a->clients, req, CLIENT_FOLLOWER, &k) == -1) {
		client_reply_limited(req, CLIENT_FOLLOWER_RETRY, "Error: too "
		    "many log followers from this address");
		return;
	}
	http_header(req, "Access-Control-Allow-Origin", "*");
	http_header(req, "Content-Type", sse ? "text/event-stream" :
	    "text/plain; charset=utf-8");
	http_header(req, "Cache-Control", "no-cache");
	http_header(req, "X-Content-Type-Options", "nosniff");
	http_reply_start(req, 200);
	x = xcalloc(1, sizeof *x);
	x->f = f;
	x->client = k;
	snprintf(x->hash, sizeof x->hash, "%s", hash);
	x->hold = http_hold_new_cb(req, follow_gone, x);
	x->sent = since;
	x->sse = sse;
	if (sse && (x->partial = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	LIST_INSERT_HEAD(&f->list, x, link);
	f->count++;
	follow_sse_state(x);
	if ((live = f->live(f->a, hash)) != NULL &&
	    (len = evbuffer_get_length(live)) > since) {
		p = evbuffer_pullup(live, -1);
		follow_send(x, (const char *)p + since, len - since);
	}
}

/* Sends a finished log: zstd as stored, or decompressed. */
static void
follow_stored(struct evhttp_request *req, const void *z, size_t zlen,
    size_t since)
{
	const char		*ae;
	struct evbuffer		*b;
	unsigned long long	 size;
	void			*plain;
	size_t			 n;

	ae = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept-Encoding");
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if (since == 0 && ae != NULL && strstr(ae, "zstd") != NULL) {
		evbuffer_add(b, z, zlen);
		http_header(req, "Content-Encoding", "zstd");
		http_header(req, "Vary", "Accept-Encoding");
		http_reply(req, 200, "text/plain; charset=utf-8", b);
		evbuffer_free(b);
		return;
	}
	size = ZSTD_getFrameContentSize(z, zlen);
	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size > FOLLOW_LOG_MAX) {
		evbuffer_free(b);
		http_reply_detail(req, 500, "Error: the stored log is damaged");
		return;
	}
	plain = xmalloc((size_t)size + 1);
	n = ZSTD_decompress(plain, (size_t)size + 1, z, zlen);
	if (ZSTD_isError(n)) {
		free(plain);
		evbuffer_free(b);
		http_reply_detail(req, 500, "Error: the stored log is damaged");
		return;
	}
	if (since < n)
		evbuffer_add(b, (char *)plain + since, n - since);
	free(plain);
	http_header(req, "Vary", "Accept-Encoding");
	http_reply(req, 200, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* Reads the state of a record. */
static void
follow_state_cb(const void *val, size_t len, void *arg)
{
	struct record	r;

	if (record_decode(val, len, &r) == 0)
		*(int *)arg = r.state;
}

/* GET /api/v1/build/{hash}/log */
void
follow_get(struct followers *f, struct evhttp_request *req, const char *hash)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	 kv;
	const char		*q, *v;
	void			*z = NULL;
	char			*cause = NULL;
	size_t			 zlen, since = 0;
	int			 state = 0, found;

	TAILQ_INIT(&kv);
	if (uri != NULL && (q = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(q, &kv) == 0 &&
	    (v = evhttp_find_header(&kv, "since")) != NULL)
		since = (size_t)strtoull(v, NULL, 10);
	evhttp_clear_headers(&kv);
	if (store_record_view(f->a->store, hash, follow_state_cb, &state,
	    &cause) == -1) {
		free(cause);
		state = 0;
	}
	if (state == RECORD_QUEUED) {
		follow_start(f, req, hash, since, 0);
		return;
	}
	found = state != 0 ? store_log_get(f->a->store, hash, &z, &zlen,
	    &cause) : 0;
	if (found != 1) {
		free(cause);
		http_reply_titled(req, 404, "Not Found",
		    "no log for this request hash");
		return;
	}
	follow_stored(req, z, zlen, since);
	free(z);
}

/* New output at offset: every follower of hash gets what it lacks. */
void
follow_append(struct followers *f, const char *hash, size_t offset,
    const char *buf, size_t len)
{
	struct follower	*x, *next;
	size_t		 skip;

	LIST_FOREACH_SAFE(x, &f->list, link, next) {
		if (strcmp(x->hash, hash) != 0 || x->sent >= offset + len)
			continue;
		skip = x->sent > offset ? x->sent - offset : 0;
		follow_send(x, buf + skip, len - skip);
	}
}

/* The build ended: the streams end (event streams with the last state). */
void
follow_end(struct followers *f, const char *hash)
{
	struct follower	*x, *next;

	LIST_FOREACH_SAFE(x, &f->list, link, next) {
		if (strcmp(x->hash, hash) != 0)
			continue;
		follow_sse_state(x);
		follow_finish(x);
	}
}

/* The state of hash changed: event streams say so. */
void
follow_state(struct followers *f, const char *hash)
{
	struct follower	*x, *next;

	LIST_FOREACH_SAFE(x, &f->list, link, next)
		if (x->sse && (hash == NULL || strcmp(x->hash, hash) == 0))
			follow_sse_state(x);
}

/* GET /api/v1/build/{hash}/events */
void
follow_events_get(struct followers *f, struct evhttp_request *req,
    const char *hash)
{
	struct follow_rec	 fr = { 0, NULL };
	struct evbuffer		*b;
	char			*cause = NULL, *state;

	if (store_record_view(f->a->store, hash, follow_rec_cb, &fr,
	    &cause) == -1)
		free(cause);
	free(fr.body);
	if (fr.state == 0) {
		http_reply_titled(req, 404, "Not Found",
		    "could not find provided request hash");
		return;
	}
	if (fr.state == RECORD_QUEUED) {
		follow_start(f, req, hash, 0, 1);
		return;
	}
	state = follow_state_json(f, hash);
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	evbuffer_add_printf(b, "event: state\ndata: %s\n\n", state);
	free(state);
	http_header(req, "Cache-Control", "no-cache");
	http_reply(req, 200, "text/event-stream", b);
	evbuffer_free(b);
}

/* Followers now. */
size_t
follow_count(const struct followers *f)
{
	return (f->count);
}

/* Ends every stream (at shutdown). */
void
follow_free(struct followers *f)
{
	struct follower	*x;

	if (f == NULL)
		return;
	while ((x = LIST_FIRST(&f->list)) != NULL)
		follow_finish(x);
	free(f);
}

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
#include <event2/event.h>
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

#define FOLLOW_LOG_MAX		(256 * 1024 * 1024)	/* a decompressed log */
#define FOLLOW_LINE_MAX		8192		/* one line in an event */
#define FOLLOW_WRITE_TIMEOUT	120		/* s without write progress */
#define FOLLOW_CHUNK		(64 * 1024)	/* a finished log's piece */
#define FOLLOW_ZSLICE		(32 * 1024)	/* compressed, read at once */
#define FOLLOW_ZWINDOW_LOG	24		/* largest window decoded */
#define FOLLOW_DSTREAM_GUESS	(2560 * 1024)	/* a decoder not yet sized */
#define FOLLOW_BUDGET		(64 * 1024 * 1024) /* all finished logs sent */
#define FOLLOW_SKIP_TURN	(4 * 1024 * 1024) /* ?since skipped per turn */

static const char follow_cut_mark[] = "\xe2\x80\xa6 [line cut]";

struct follower {
	struct followers	*f;
	struct http_hold	*hold;
	char			 hash[65];
	struct client_key	 client;	/* counted per client */
	size_t			 sent;		/* log offset sent so far */
	int			 sse;		/* an event stream */
	char			*line;		/* sse: a line not yet ended */
	size_t			 line_len;
	int			 line_cut;	/* sse: sent cut, skip to \n */
	char			*state;		/* sse: the last state sent */
	LIST_ENTRY(follower)	 link;
};

/* A finished log being sent in pieces as the client's socket drains. */
struct follow_stream {
	struct followers		*f;
	struct http_hold		*hold;
	struct event			*pump;	/* the next piece */
	char				 hash[65];
	int				 plain;	/* sent decompressed */
	int				 running; /* holds budget, else waits */
	ZSTD_DStream			*ds;
	char				*zbuf;	/* plain: a compressed slice */
	ZSTD_inBuffer			 in;
	size_t				 zoff;	/* compressed bytes read */
	size_t				 ztotal; /* its stored size */
	size_t				 skip;	/* plain bytes (since) */
	size_t				 cost;	/* bytes of the budget held */
	TAILQ_ENTRY(follow_stream)	 link;
};
TAILQ_HEAD(follow_streams, follow_stream);

struct followers {
	struct asud		*a;
	follow_live_cb		 live;
	size_t			 cap;
	LIST_HEAD(, follower)	 list;
	size_t			 count;
	struct event		*keepalive;
	struct follow_streams	 streams;	/* sending */
	struct follow_streams	 waiting;	/* for budget */
	size_t			 used;		/* budget held by streams */
};

static void	follow_keepalive_cb(evutil_socket_t, short, void *);
static void	follow_stream_pump_cb(evutil_socket_t, short, void *);
static void	follow_stream_free(struct follow_stream *);

/* The follower registry. */
struct followers *
follow_new(struct asud *a, follow_live_cb live, size_t cap, int keepalive)
{
	struct followers	*f;
	struct timeval		 tv = { keepalive, 0 };

	f = xcalloc(1, sizeof *f);
	f->a = a;
	f->live = live;
	f->cap = cap;
	LIST_INIT(&f->list);
	TAILQ_INIT(&f->streams);
	TAILQ_INIT(&f->waiting);
	if (keepalive > 0) {
		f->keepalive = event_new(a->base, -1, EV_PERSIST,
		    follow_keepalive_cb, f);
		if (f->keepalive == NULL || event_add(f->keepalive, &tv) == -1)
			fatalx("cannot install the keep-alive timer");
	}
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
	free(x->line);
	free(x->state);
	free(x);
}

/*
 * Ends a follower's stream and forgets it; forgotten first, as ending may
 * close the connection and call the hold's hook at once.
 */
static void
follow_finish(struct follower *x)
{
	struct evhttp_request	*req = http_hold_req(x->hold);

	follow_forget(x);
	if (req != NULL)
		evhttp_send_reply_end(req);
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

/* The length of s[0..n) without a UTF-8 sequence cut at its end. */
static size_t
follow_utf8_whole(const char *s, size_t n)
{
	size_t		 i, need;
	unsigned char	 c;

	for (i = n; i > 0 && n - i < 4; i--) {
		c = (unsigned char)s[i - 1];
		if ((c & 0xc0) == 0x80)
			continue;		/* a continuation byte */
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return (n - (i - 1) >= need ? n : i - 1);
	}
	return (n);
}

/*
 * Sends the pending line as one "event: log", cut with a marker when it
 * was too long. A CR would end the event's line in the browser and let the
 * build's output forge events: it is dropped at the end, a space within.
 */
static void
follow_sse_emit(struct follower *x, struct evbuffer *out, int cut)
{
	size_t	n = x->line_len, i;

	if (cut)
		n = follow_utf8_whole(x->line, n);
	else if (n > 0 && x->line[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++)
		if (x->line[i] == '\r')
			x->line[i] = ' ';
	evbuffer_add(out, "event: log\ndata: ", 17);
	evbuffer_add(out, x->line, n);
	if (cut)
		evbuffer_add(out, follow_cut_mark, sizeof follow_cut_mark - 1);
	evbuffer_add(out, "\n\n", 2);
	x->line_len = 0;
}

/*
 * Turns log bytes into "event: log" events, one per line. Each byte is
 * looked at once: a line is kept up to FOLLOW_LINE_MAX bytes, sent cut
 * when it grows past that, and the rest of it is skipped to its newline.
 */
static void
follow_sse_lines(struct follower *x, struct evbuffer *out, const char *buf,
    size_t len)
{
	const char	*nl;
	size_t		 n, room;

	while (len > 0) {
		nl = memchr(buf, '\n', len);
		n = nl != NULL ? (size_t)(nl - buf) : len;
		if (!x->line_cut) {
			room = FOLLOW_LINE_MAX - x->line_len;
			memcpy(x->line + x->line_len, buf, n < room ? n : room);
			x->line_len += n < room ? n : room;
			if (n > room) {
				follow_sse_emit(x, out, 1);
				x->line_cut = 1;
			}
		}
		if (nl == NULL)
			break;
		if (!x->line_cut)
			follow_sse_emit(x, out, 0);
		x->line_cut = 0;
		buf += n + 1;
		len -= n + 1;
	}
}

/*
 * Sends b to a follower, whose log offset is then sent; 0, or -1 when the
 * follower was cut off (too slow) and forgotten.
 */
static int
follow_push(struct follower *x, struct evbuffer *b, size_t sent)
{
	struct evhttp_request	*req = http_hold_req(x->hold);
	static const char	 cut[] = "\n[asud: this follower reads too "
				    "slowly and was cut off; resume with "
				    "?since=%zu]\n";

	if (req == NULL)
		return (0);
	if (follow_backlog(req) + evbuffer_get_length(b) > x->f->cap) {
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add_printf(b, cut, x->sent);
		evhttp_send_reply_chunk(req, b);
		log_info("log follower of %.12s cut off at %zu bytes", x->hash,
		    x->sent);
		follow_finish(x);
		return (-1);
	}
	evhttp_send_reply_chunk(req, b);
	x->sent = sent;
	return (0);
}

/* Sends log bytes to a follower; 0, or -1 when it was cut off. */
static int
follow_send(struct follower *x, const char *buf, size_t len)
{
	struct evbuffer	*b;
	int		 rc;

	if (http_hold_req(x->hold) == NULL)
		return (0);
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if (x->sse)
		follow_sse_lines(x, b, buf, len);
	else
		evbuffer_add(b, buf, len);
	rc = follow_push(x, b, x->sent + len);
	evbuffer_free(b);
	return (rc);
}

/* Sends an SSE comment to every event stream, so that none looks dead. */
static void
follow_keepalive_cb(evutil_socket_t fd, short events, void *arg)
{
	struct followers	*f = arg;
	struct follower		*x, *next;
	struct evbuffer		*b;
	static const char	 comment[] = ": keep-alive\n\n";

	(void)fd;
	(void)events;
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	LIST_FOREACH_SAFE(x, &f->list, link, next) {
		if (!x->sse || http_hold_req(x->hold) == NULL)
			continue;
		evbuffer_add(b, comment, sizeof comment - 1);
		follow_push(x, b, x->sent);
		evbuffer_drain(b, evbuffer_get_length(b));
	}
	evbuffer_free(b);
}

/* Reads the state of a record (and its body when it is finished). */
struct follow_rec {
	int	 state;
	char	*body;
};

/* Keeps the state and a copy of the body of a stored record. */
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
	const char		*lost;
	char			*cause = NULL;
	size_t			 len;

	if (sched_lost_answer(f->a->sched, hash, &lost, &len)) {
		fr.state = RECORD_FAILED;	/* not kept: see lost.h */
		fr.body = xmemdup(lost, len);
	} else if (store_record_view(f->a->store, hash, follow_rec_cb, &fr,
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

/*
 * A follower stays while its build runs, however long the build is silent:
 * no read timeout (the peer's close is watched by its hold) and a write
 * timeout only for output that does not drain. The connection closes
 * after the stream, so that these timeouts serve no later request.
 */
static void
follow_untimed(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct timeval			 tv = { FOLLOW_WRITE_TIMEOUT, 0 };

	if ((evcon = evhttp_request_get_connection(req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL)
		bufferevent_set_timeouts(bev, NULL, &tv);
}

/* Sends a new follower the live log from its offset, piece by piece. */
static void
follow_catch_up(struct follower *x, struct evbuffer *live)
{
	struct evbuffer_ptr	 at;
	struct evbuffer_iovec	*v;
	int			 n, i;

	if (evbuffer_get_length(live) <= x->sent ||
	    evbuffer_ptr_set(live, &at, x->sent, EVBUFFER_PTR_SET) == -1 ||
	    (n = evbuffer_peek(live, -1, &at, NULL, 0)) <= 0)
		return;
	v = xreallocarray(NULL, (size_t)n, sizeof *v);
	n = evbuffer_peek(live, -1, &at, v, n);
	for (i = 0; i < n; i++)
		if (follow_send(x, v[i].iov_base, v[i].iov_len) == -1)
			break;		/* cut off and forgotten */
	free(v);
}

/* Starts a chunked stream that follows the build of hash. */
static void
follow_start(struct followers *f, struct evhttp_request *req,
    const char *hash, size_t since, int sse)
{
	struct follower		*x;
	struct evbuffer		*live;
	struct client_key	 k;

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
	http_header(req, "Connection", "close");
	http_reply_start(req, 200);
	follow_untimed(req);
	x = xcalloc(1, sizeof *x);
	x->f = f;
	x->client = k;
	snprintf(x->hash, sizeof x->hash, "%s", hash);
	x->hold = http_hold_new_cb(req, follow_gone, x);
	x->sent = since;
	x->sse = sse;
	if (sse)
		x->line = xmalloc(FOLLOW_LINE_MAX);
	LIST_INSERT_HEAD(&f->list, x, link);
	f->count++;
	follow_sse_state(x);
	if ((live = f->live(f->a, hash)) != NULL)
		follow_catch_up(x, live);
}

/* What a stream holds of the budget: its piece, slice and decoder. */
static size_t
follow_stream_cost(const struct follow_stream *st)
{
	if (!st->plain)
		return (FOLLOW_CHUNK);
	return (FOLLOW_CHUNK + FOLLOW_ZSLICE + (st->ds != NULL ?
	    ZSTD_sizeof_DStream(st->ds) : FOLLOW_DSTREAM_GUESS));
}

/*
 * Starts waiting streams in arrival order while the budget allows; one
 * always runs, whatever its cost, so that every stream ends.
 */
static void
follow_stream_admit(struct followers *f)
{
	struct follow_stream	*st;
	size_t			 cost;

	while ((st = TAILQ_FIRST(&f->waiting)) != NULL) {
		cost = follow_stream_cost(st);
		if (f->used + cost > FOLLOW_BUDGET &&
		    !TAILQ_EMPTY(&f->streams))
			break;
		TAILQ_REMOVE(&f->waiting, st, link);
		TAILQ_INSERT_TAIL(&f->streams, st, link);
		st->running = 1;
		st->cost = cost;
		f->used += cost;
		if (st->plain) {
			if ((st->ds = ZSTD_createDStream()) == NULL)
				fatalx("ZSTD_createDStream: out of memory");
			if (ZSTD_isError(ZSTD_DCtx_setParameter(st->ds,
			    ZSTD_d_windowLogMax, FOLLOW_ZWINDOW_LOG)))
				fatalx("%s: ZSTD_d_windowLogMax", __func__);
			st->zbuf = xmalloc(FOLLOW_ZSLICE);
		}
		event_active(st->pump, EV_TIMEOUT, 1);
	}
}

/* Forgets a stream and gives its budget back. */
static void
follow_stream_free(struct follow_stream *st)
{
	struct followers	*f = st->f;

	TAILQ_REMOVE(st->running ? &f->streams : &f->waiting, st, link);
	f->used -= st->cost;
	http_hold_free(st->hold);
	event_free(st->pump);
	ZSTD_freeDStream(st->ds);
	free(st->zbuf);
	free(st);
}

/* The client of a stream went away: the next one may start. */
static void
follow_stream_gone(void *arg)
{
	struct follow_stream	*st = arg;
	struct followers	*f = st->f;

	follow_stream_free(st);
	follow_stream_admit(f);
}

/* The last piece was written to the socket: the next one follows. */
static void
follow_stream_sent_cb(struct evhttp_connection *evcon, void *arg)
{
	struct follow_stream	*st = arg;

	(void)evcon;
	event_active(st->pump, EV_TIMEOUT, 1);
}

/*
 * Copies the stream's next compressed bytes into buf (*len: its size, then
 * the bytes copied); -1 when the log is gone or was replaced meanwhile.
 */
static int
follow_stream_read(struct follow_stream *st, void *buf, size_t *len)
{
	char	*cause = NULL;
	size_t	 total = 0;
	int	 rc;

	rc = store_log_read(st->f->a->store, st->hash, st->zoff, buf, len,
	    &total, &cause);
	if (rc == -1)
		log_warnx("log of %.12s: %s", st->hash, cause);
	free(cause);
	if (rc != 1 || total != st->ztotal)
		return (-1);
	st->zoff += *len;
	return (0);
}

/* The next piece as stored; 1 when it is the last, -1 on failure. */
static int
follow_stream_zstd(struct follow_stream *st, struct evbuffer *b)
{
	struct evbuffer_iovec	v;
	size_t			n = FOLLOW_CHUNK;

	if (evbuffer_reserve_space(b, FOLLOW_CHUNK, &v, 1) < 1)
		fatalx("evbuffer_reserve_space: out of memory");
	if (follow_stream_read(st, v.iov_base, &n) == -1 || n == 0)
		return (-1);
	v.iov_len = n;
	evbuffer_commit_space(b, &v, 1);
	return (st->zoff >= st->ztotal);
}

/*
 * Decompresses the next piece (at most FOLLOW_CHUNK bytes, ?since bytes
 * dropped, at most FOLLOW_SKIP_TURN of them per call); 1 at the end of the
 * frame, -1 when the log is damaged.
 */
static int
follow_stream_plain(struct follow_stream *st, struct evbuffer *b)
{
	struct evbuffer_iovec	 v;
	ZSTD_outBuffer		 out;
	size_t			 r, n, before, inpos, skipped = 0;

	if (evbuffer_reserve_space(b, FOLLOW_CHUNK, &v, 1) < 1)
		fatalx("evbuffer_reserve_space: out of memory");
	out.dst = v.iov_base;
	out.size = FOLLOW_CHUNK;
	out.pos = 0;
	for (;;) {
		if (st->in.pos == st->in.size && st->zoff < st->ztotal) {
			n = FOLLOW_ZSLICE;
			if (follow_stream_read(st, st->zbuf, &n) == -1)
				return (-1);
			st->in.src = st->zbuf;
			st->in.size = n;
			st->in.pos = 0;
		}
		before = out.pos;
		inpos = st->in.pos;
		r = ZSTD_decompressStream(st->ds, &out, &st->in);
		if (ZSTD_isError(r) || (r != 0 && out.pos == before &&
		    st->in.pos == inpos))
			return (-1);
		if (st->skip > 0) {
			n = st->skip < out.pos ? st->skip : out.pos;
			memmove(out.dst, (char *)out.dst + n, out.pos - n);
			out.pos -= n;
			st->skip -= n;
			skipped += n;
		}
		if (r == 0 || out.pos == out.size ||
		    (out.pos == 0 && skipped >= FOLLOW_SKIP_TURN))
			break;
	}
	v.iov_len = out.pos;
	evbuffer_commit_space(b, &v, 1);
	return (r == 0);
}

/* The stream sent everything: its answer ends, waiting ones may start. */
static void
follow_stream_end(struct follow_stream *st)
{
	struct evhttp_request	*req = http_hold_req(st->hold);
	struct followers	*f = st->f;

	follow_stream_free(st);
	if (req != NULL)
		evhttp_send_reply_end(req);
	follow_stream_admit(f);
}

/* The log cannot be sent on: the connection closes, cutting it short. */
static void
follow_stream_abort(struct follow_stream *st)
{
	struct evhttp_request		*req = http_hold_req(st->hold);
	struct evhttp_connection	*evcon = NULL;
	struct followers		*f = st->f;

	log_warnx("log of %.12s: cannot read it on at byte %zu of %zu",
	    st->hash, st->zoff, st->ztotal);
	if (req != NULL)
		evcon = evhttp_request_get_connection(req);
	follow_stream_free(st);
	if (evcon != NULL)
		evhttp_connection_free(evcon);
	follow_stream_admit(f);
}

/*
 * Sends a stream's next piece; the next one follows when the socket has
 * taken it, so that a connection never has more than one piece queued.
 */
static void
follow_stream_pump_cb(evutil_socket_t fd, short events, void *arg)
{
	struct follow_stream	*st = arg;
	struct evhttp_request	*req = http_hold_req(st->hold);
	struct evbuffer		*b;
	size_t			 cost;
	int			 rc;

	(void)fd;
	(void)events;
	if (req == NULL)
		return;
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	rc = st->plain ? follow_stream_plain(st, b) : follow_stream_zstd(st, b);
	if (rc == -1) {
		evbuffer_free(b);
		follow_stream_abort(st);
		return;
	}
	if (evbuffer_get_length(b) > 0)
		evhttp_send_reply_chunk_with_cb(req, b, rc == 0 ?
		    follow_stream_sent_cb : NULL, st);
	else if (rc == 0)
		event_active(st->pump, EV_TIMEOUT, 1);	/* still skipping */
	evbuffer_free(b);
	if (rc == 1) {
		follow_stream_end(st);
		return;
	}
	cost = follow_stream_cost(st);
	st->f->used += cost - st->cost;
	st->cost = cost;
}

/* True when the client takes zstd. */
static int
follow_accepts_zstd(struct evhttp_request *req)
{
	const char	*ae;

	ae = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept-Encoding");
	return (ae != NULL && strstr(ae, "zstd") != NULL);
}

/*
 * Answers with a finished log, zstd as stored or decompressed, sent in
 * pieces as the client reads (waiting for budget first when many are
 * being sent); -1 when there is no log.
 */
static int
follow_stored(struct followers *f, struct evhttp_request *req,
    const char *hash, size_t since)
{
	struct follow_stream	*st;
	unsigned char		 head[32];
	unsigned long long	 size;
	char			*cause = NULL, len[32];
	size_t			 n = sizeof head, total = 0, length;
	int			 plain;

	if (store_log_read(f->a->store, hash, 0, head, &n, &total,
	    &cause) != 1) {
		free(cause);
		return (-1);
	}
	plain = since > 0 || !follow_accepts_zstd(req);
	size = ZSTD_getFrameContentSize(head, n);
	if (plain && (size == ZSTD_CONTENTSIZE_ERROR ||
	    size == ZSTD_CONTENTSIZE_UNKNOWN || size > FOLLOW_LOG_MAX)) {
		http_reply_detail(req, 500, "Error: the stored log is damaged");
		return (0);
	}
	length = !plain ? total : since < size ? (size_t)size - since : 0;
	if (!plain)
		http_header(req, "Content-Encoding", "zstd");
	http_header(req, "Vary", "Accept-Encoding");
	if (length == 0) {
		http_reply(req, 200, "text/plain; charset=utf-8", NULL);
		return (0);
	}
	http_header(req, "Access-Control-Allow-Origin", "*");
	http_header(req, "Content-Type", "text/plain; charset=utf-8");
	snprintf(len, sizeof len, "%zu", length);
	http_header(req, "Content-Length", len);
	http_reply_start(req, 200);
	st = xcalloc(1, sizeof *st);
	st->f = f;
	snprintf(st->hash, sizeof st->hash, "%s", hash);
	st->plain = plain;
	st->skip = plain ? since : 0;
	st->ztotal = total;
	st->hold = http_hold_new_cb(req, follow_stream_gone, st);
	if ((st->pump = event_new(f->a->base, -1, 0, follow_stream_pump_cb,
	    st)) == NULL)
		fatalx("event_new: out of memory");
	TAILQ_INSERT_TAIL(&f->waiting, st, link);
	follow_stream_admit(f);
	return (0);
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
follow_get(struct asud *a, struct evhttp_request *req, const char *hash)
{
	struct followers	*f = a->followers;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	 kv;
	const char		*q, *v;
	char			*cause = NULL;
	size_t			 since = 0;
	int			 state = 0;

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
	if (state == 0 || follow_stored(f, req, hash, since) == -1)
		http_reply_titled(req, 404, "Not Found",
		    "no log for this request hash");
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

/* The build ended without a last newline: its last line is sent too. */
static void
follow_sse_tail(struct follower *x)
{
	struct evhttp_request	*req = http_hold_req(x->hold);
	struct evbuffer		*b;

	if (req == NULL || !x->sse || x->line_len == 0 || x->line_cut)
		return;
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	follow_sse_emit(x, b, 0);
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
}

/* The build ended: the streams end (event streams with the last state). */
void
follow_end(struct followers *f, const char *hash)
{
	struct follower	*x, *next;

	LIST_FOREACH_SAFE(x, &f->list, link, next) {
		if (strcmp(x->hash, hash) != 0)
			continue;
		follow_sse_tail(x);
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
follow_events_get(struct asud *a, struct evhttp_request *req,
    const char *hash)
{
	struct followers	*f = a->followers;
	struct follow_rec	 fr = { 0, NULL };
	struct evbuffer		*b;
	char			*cause = NULL, *state;

	if (sched_lost_answer(f->a->sched, hash, NULL, NULL))
		fr.state = RECORD_FAILED;
	else if (store_record_view(f->a->store, hash, follow_rec_cb, &fr,
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
	struct follower		*x;
	struct follow_stream	*st;

	if (f == NULL)
		return;
	while ((x = LIST_FIRST(&f->list)) != NULL)
		follow_finish(x);
	while ((st = TAILQ_FIRST(&f->waiting)) != NULL)
		follow_stream_free(st);
	while ((st = TAILQ_FIRST(&f->streams)) != NULL)
		follow_stream_free(st);		/* http_free closes them */
	if (f->keepalive != NULL)
		event_free(f->keepalive);
	free(f);
}

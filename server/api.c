/*
 * api.c: the build API. A POST is parsed and hashed; a known hash is
 * answered from its record without validating again (the reference's
 * behaviour); a new one is validated against the catalog, committed and
 * queued before its 202. A status poll of a finished build is one LMDB
 * read and one reply.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "lib/log.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "store/store.h"
#include "server/anscache.h"
#include "server/api.h"
#include "server/asud.h"
#include "server/client.h"
#include "server/conf.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/meta.h"
#include "server/queue.h"
#include "server/record.h"
#include "server/reqhash.h"
#include "server/request.h"
#include "server/sched.h"
#include "server/stats.h"
#include "server/statsview.h"
#include "server/storefile.h"
#include "server/validate.h"
#include "server/wait.h"


struct api_view {
	struct anscache	*cache;
	const char	*hash;
	int		 cached;	/* DONE/FAILED: the body is in cache */
	int		 found;
	int		 state;
	int		 code;
	struct evbuffer	*body;		/* DONE/FAILED: the stored body */
	char		*request;	/* QUEUED: the request JSON */
	int64_t		 enqueued_ms;
};

/* True for 64 lower-case hex digits and nothing after them. */
static int
api_valid_hash(const char *s)
{
	return (text_is_hex64(s) && s[STORE_HASH_LEN] == '\0');
}

/* Reads what a poll needs out of the record, inside the read txn. */
static void
api_view_cb(const void *val, size_t len, void *arg)
{
	struct api_view	*v = arg;
	struct record	 r;

	if (record_decode(val, len, &r) == -1) {
		log_warnx("corrupt build record ignored");
		return;
	}
	if (r.state != RECORD_QUEUED && r.expires != 0 &&
	    r.expires <= time(NULL))
		return;		/* expired: as good as gone */
	v->found = 1;
	v->state = r.state;
	v->enqueued_ms = r.enqueued_ms;
	if (r.state == RECORD_QUEUED) {
		v->request = xmemdup(r.request, r.request_len);
		return;
	}
	v->code = r.state == RECORD_DONE ? 200 : 500;
	if (anscache_put(v->cache, v->hash, r.state, v->code,
	    (time_t)r.expires, r.body, r.body_len) == 0) {
		v->cached = 1;
		return;
	}
	if ((v->body = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	evbuffer_add(v->body, r.body, r.body_len);
}

/* The two headers every build answer carries. */
static void
api_build_headers(struct evhttp_request *req, const char *status,
    size_t position)
{
	char	pos[32];

	snprintf(pos, sizeof pos, "%zu", position);
	http_header(req, "X-Imagebuilder-Status", status);
	http_header(req, "X-Queue-Position", pos);
}

/* Answers a queued or running build from the scheduler's live state. */
static void
api_reply_live(struct asud *a, struct evhttp_request *req, const char *hash,
    struct api_view *v)
{
	struct sched_status	 st;
	yajl_gen		 g;
	yajl_val		 rq;
	char			*body, *cause = NULL, stamp[40];
	size_t			 len;

	if (!sched_status(a->sched, hash, &st)) {
		st.running = 0;
		st.phase = "queued";
		st.position = 0;
	}
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "detail", st.running ? "started" : "queued");
	jsonw_kv_str(g, "imagebuilder_status", st.phase);
	if (!st.running)
		jsonw_kv_int(g, "queue_position", (long long)st.position);
	jsonw_kv_int(g, "status", 202);
	jsonw_key(g, "request");
	rq = jsonw_parse(v->request, &cause);
	jsonw_tree(g, rq);
	yajl_tree_free(rq);
	free(cause);
	jsonw_time(v->enqueued_ms, stamp);
	jsonw_kv_str(g, "enqueued_at", stamp);
	jsonw_kv_str(g, "request_hash", hash);
	yajl_gen_map_close(g);
	body = jsonw_finish(g, &len);
	api_build_headers(req, st.running ? st.phase : "queued",
	    st.running ? 0 : st.position);
	http_reply_json(req, 202, body, len);
	free(body);
}

/* evhttp sent a kept answer (or dropped it): let go of its bytes. */
static void
api_cached_sent(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	anscache_release(arg);
}

/*
 * Answers a finished build from its answer kept in memory; returns its
 * state, 0 when none is kept.
 */
static int
api_reply_cached(struct asud *a, struct evhttp_request *req,
    const char *hash)
{
	struct anscache_hit	hit;

	if (!anscache_get(a->anscache, hash, time(NULL), &hit))
		return (0);
	api_build_headers(req, hit.tag == RECORD_DONE ? "done" : "failed", 0);
	anscache_hold(hit.blob);
	http_reply_ref(req, hit.code, "application/json", hit.data, hit.len,
	    api_cached_sent, hit.blob);
	return (hit.tag);
}

/*
 * Answers from the record of hash; returns its state (RECORD_*), 0 when
 * there is none (or it expired), -1 when the store failed (an answer was
 * sent).
 */
static int
api_reply_record(struct asud *a, struct evhttp_request *req,
    const char *hash)
{
	struct api_view	 v;
	const char	*lost;
	char		*cause = NULL;
	size_t		 len;
	int		 rc;

	if (sched_lost_answer(a->sched, hash, &lost, &len)) {
		api_build_headers(req, "failed", 0);
		http_reply_json(req, 500, lost, len);
		return (RECORD_FAILED);
	}
	if ((rc = api_reply_cached(a, req, hash)) != 0)
		return (rc);
	memset(&v, 0, sizeof v);
	v.cache = a->anscache;
	v.hash = hash;
	rc = store_record_view(a->store, hash, api_view_cb, &v, &cause);
	if (rc == -1) {
		log_warnx("store: %s", cause);
		free(cause);
		http_reply_detail(req, 500, "Error: the store cannot be read");
		return (-1);
	}
	if (!v.found)
		return (0);
	if (v.cached)
		return (api_reply_cached(a, req, hash)); /* 0: expired now */
	if (v.state == RECORD_QUEUED)
		api_reply_live(a, req, hash, &v);
	else {
		api_build_headers(req, v.state == RECORD_DONE ? "done" :
		    "failed", 0);
		http_reply(req, v.code, "application/json", v.body);
		evbuffer_free(v.body);
	}
	free(v.request);
	return (v.state);
}

/* Answers a status poll (also a long poll whose wait ended). */
void
api_wait_answer(struct asud *a, struct evhttp_request *req, const char *hash)
{
	if (api_valid_hash(hash) && api_reply_record(a, req, hash) != 0)
		return;
	http_reply_titled(req, 404, "Not Found",
	    "could not find provided request hash");
}

/* How long a poll asks to wait: ?wait=N or "Prefer: wait=N"; 0: not. */
static int
api_wait_seconds(struct asud *a, struct evhttp_request *req)
{
	const char	*prefer, *p;
	long long	 n;

	n = api_query_num(req, "wait", 0);
	prefer = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Prefer");
	if (n == 0 && prefer != NULL && (p = strstr(prefer, "wait=")) != NULL)
		n = strtoll(p + 5, NULL, 10);
	if (n <= 0)
		return (0);
	return (n > a->conf->max_wait ? a->conf->max_wait : (int)n);
}

/* True when the record of hash is a build still in progress. */
static void
api_in_progress_cb(const void *val, size_t len, void *arg)
{
	struct record	r;

	if (record_decode(val, len, &r) == 0 && r.state == RECORD_QUEUED)
		*(int *)arg = 1;
}

/* GET and HEAD /api/v1/build/{hash}, with optional long-polling. */
void
api_build_get(struct asud *a, struct evhttp_request *req, const char *hash)
{
	char	*cause = NULL;
	int	 wait, busy = 0;

	if (api_valid_hash(hash) && !sched_lost_answer(a->sched, hash, NULL,
	    NULL) && (wait = api_wait_seconds(a, req)) > 0) {
		if (store_record_view(a->store, hash, api_in_progress_cb, &busy,
		    &cause) == -1)
			free(cause);
		/* A client at max_waiters_per_client gets a plain poll. */
		if (busy && wait_add(a->waiters, req, hash, wait) == 0)
			return;
	}
	api_wait_answer(a, req, hash);
}

/* The body as one NUL-terminated string, or NULL when too large. */
char *
api_body(struct evhttp_request *req, size_t max, size_t *len)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 n = evbuffer_get_length(in);
	char		*buf;

	if (n > max)
		return (NULL);
	buf = xmalloc(n + 1);
	evbuffer_copyout(in, buf, n);
	buf[n] = '\0';
	*len = n;
	return (buf);
}

/* Sends the 503 of a build that cannot be stored now, naming why. */
static void
api_reply_unstored(struct evhttp_request *req, const char *what,
    const char *why)
{
	char	*detail;

	xasprintf(&detail, "Error: %s (%s); try again later", what, why);
	http_header(req, "Retry-After", "60");
	http_reply_detail(req, 503, detail);
	free(detail);
}

/* Sends the 529 of a full queue. */
static void
api_reply_overload(struct evhttp_request *req, size_t n)
{
	char	*detail;

	xasprintf(&detail, "server overload, queue contains too many build "
	    "requests: %zu", n);
	http_header(req, "Retry-After", "60");
	http_reply_titled(req, 529, "Server overloaded", detail);
	free(detail);
}

struct api_post {
	struct asud		*a;
	struct http_hold	*hold;
	struct request		 r;
	char			 hash[SHA256_HEX_LEN + 1];
	char			*user_agent;
};

/* Frees a POST that was waiting for its validation. */
static void
api_post_free(struct api_post *p)
{
	http_hold_free(p->hold);
	request_free(&p->r);
	free(p->user_agent);
	free(p);
}

/* Validation ended: answer 400/503, or commit, queue and answer 202. */
static void
api_post_validated(int code, const char *msg, const char *profile_id,
    const char *ib_dir, void *arg)
{
	struct api_post		*p = arg;
	struct asud		*a = p->a;
	struct evhttp_request	*req = http_hold_req(p->hold);
	const char		*full;
	char			*cause = NULL;
	size_t			 n;
	int			 klass;

	if (req == NULL)
		goto out;	/* the client went away: nothing to answer */
	if (code != 0) {
		if (code == 503)
			http_header(req, "Retry-After", "60");
		http_reply_detail(req, code, msg);
		goto out;
	}
	/* The reference refuses when the queue is longer than the limit. */
	if ((n = sched_queue_length(a->sched)) >
	    (size_t)a->conf->max_pending_jobs) {
		api_reply_overload(req, n);
		goto out;
	}
	/* A build would fail for lack of space: say so now, not later. */
	if ((full = sched_disk_full(a->sched)) != NULL) {
		api_reply_unstored(req, "the server's disk is full", full);
		goto out;
	}
	/* Counted only now: cache hits and refused requests are free. */
	if (client_build_check(a->clients, req, 1) == -1)
		goto out;
	klass = queue_class_of(p->r.client, p->user_agent);
	if (sched_submit(a->sched, p->hash, &p->r, profile_id, ib_dir, klass,
	    &cause) == -1) {
		log_warnx("cannot queue %.12s: %s", p->hash, cause);
		api_reply_unstored(req, "the build could not be stored",
		    cause);
		free(cause);
		goto out;
	}
	if (api_reply_record(a, req, p->hash) == 0)
		http_reply_detail(req, 500, "Error: the build record vanished");
out:
	api_post_free(p);
}

/* Starts the validation of a request that has no record yet. */
static void
api_build_new(struct asud *a, struct evhttp_request *req,
    struct request *r, const char *hash)
{
	struct api_post	*p;
	const char	*ua;

	/* Over the limit already: no validation work for it. */
	if (client_build_check(a->clients, req, 0) == -1)
		return;
	p = xcalloc(1, sizeof *p);
	p->a = a;
	p->r = *r;
	memset(r, 0, sizeof *r);	/* ownership moves to p */
	snprintf(p->hash, sizeof p->hash, "%s", hash);
	ua = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "User-Agent");
	p->user_agent = ua != NULL ? xstrdup(ua) : NULL;
	p->hold = http_hold_new(req);
	validate_start(a, &p->r, api_post_validated, p);
}

struct api_stale {
	int	 done;
	char	*revision;
};

/* Reads the state and revision of a record. */
static void
api_stale_cb(const void *val, size_t len, void *arg)
{
	struct api_stale	*st = arg;
	struct record		 r;

	if (record_decode(val, len, &r) == -1 || r.state != RECORD_DONE ||
	    (r.expires != 0 && r.expires <= time(NULL)))
		return;
	st->done = 1;
	if (r.revision != NULL && *r.revision != '\0')
		st->revision = xstrdup(r.revision);
}

/*
 * True when a finished result of an unpinned request was built from a
 * revision upstream no longer offers: it is built again, so that upgraded
 * packages reach users. A request that pinned version_code keeps its
 * image.
 */
static int
api_result_stale(struct asud *a, const char *hash, const struct request *r)
{
	struct api_stale	 st = { 0, NULL };
	const char		*now;
	char			*cause = NULL;
	int			 stale = 0;

	if (r->version_code != NULL && *r->version_code != '\0')
		return (0);
	if (store_record_view(a->store, hash, api_stale_cb, &st,
	    &cause) == -1) {
		free(cause);
		return (0);
	}
	if (st.done && st.revision != NULL && (now =
	    meta_upstream_revision(a, r->version, r->target)) != NULL &&
	    strcmp(now, st.revision) != 0) {
		log_info("build %.12s was made from %s, upstream offers %s: "
		    "building again", hash, st.revision, now);
		stale = 1;
	}
	free(st.revision);
	return (stale);
}

/* POST /api/v1/build */
void
api_build_post(struct asud *a, struct evhttp_request *req, const char *arg)
{
	struct request_limits	 lim;
	struct request		 r;
	struct request_error	 err;
	char			*body, hash[SHA256_HEX_LEN + 1], client[64];
	char			*cause = NULL;
	const char		*ua;
	size_t			 len;
	int			 state;

	body = api_body(req, (size_t)a->conf->max_request_body, &len);
	if (body == NULL) {
		http_reply_titled(req, 413, "Content Too Large",
		    "the request body is larger than the server accepts");
		return;
	}
	lim.max_defaults_length = a->conf->max_defaults_length;
	lim.max_custom_rootfs_size_mb = a->conf->max_custom_rootfs_size_mb;
	memset(&r, 0, sizeof r);
	memset(&err, 0, sizeof err);
	if (request_parse(body, len, &lim, &r, &err) == -1) {
		free(body);
		http_reply_json(req, err.status != 0 ? err.status : 422,
		    err.body, strlen(err.body));
		request_error_free(&err);
		return;
	}
	free(body);
	reqhash_compute(&r, hash);
	ua = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "User-Agent");
	stats_client_name(r.client, ua, client, sizeof client);
	stats_request(a->stats, time(NULL), client);
	/* A result that could not be kept is built again when asked again. */
	if (sched_lost_forget(a->sched, hash, &cause) == -1) {
		api_reply_unstored(req, "the build could not be stored", cause);
		free(cause);
		request_free(&r);
		return;
	}
	if (api_result_stale(a, hash, &r)) {
		stats_cache_miss(a->stats, time(NULL));
		api_build_new(a, req, &r, hash);
	} else if ((state = api_reply_record(a, req, hash)) == 0) {
		stats_cache_miss(a->stats, time(NULL));
		api_build_new(a, req, &r, hash);
	} else if (state == RECORD_DONE)
		stats_cache_hit(a->stats, time(NULL));
	request_free(&r);
}

/* True for a plain file name: no slash, no leading dot, safe bytes. */
static int
api_valid_file(const char *s)
{
	size_t	i;

	if (*s == '\0' || *s == '.' || strlen(s) > 255)
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._+,~-", s[i]) ==
		    NULL)
			return (0);
	return (1);
}

/* What the store handler needs of a record: is it a live result. */
struct api_result {
	int	 done;
	int64_t	 expires;
};

/* Reads whether the record is a finished result still alive. */
static void
api_result_cb(const void *val, size_t len, void *arg)
{
	struct api_result	*res = arg;
	struct record		 r;

	if (record_decode(val, len, &r) == -1 || r.state != RECORD_DONE ||
	    (r.expires != 0 && r.expires <= time(NULL)))
		return;
	res->done = 1;
	res->expires = r.expires;
}

/*
 * GET and HEAD /store/{hash}/{file}: the exact built bytes, while their
 * result lives (an expired one is gone even before the sweep removes its
 * files), with the headers of a static file server (storefile.c).
 */
void
api_store_get(struct asud *a, struct evhttp_request *req, const char *rest)
{
	struct api_result	 res = { 0, 0 };
	char			*decoded, *slash, *dir, *cause = NULL;
	size_t			 dlen;

	decoded = evhttp_uridecode(rest, 0, &dlen);
	if (decoded == NULL || strlen(decoded) != dlen ||
	    (slash = strchr(decoded, '/')) == NULL) {
		free(decoded);
		http_reply_json(req, 404, "{\"detail\":\"Not found\"}", 22);
		return;
	}
	*slash = '\0';
	if (api_valid_hash(decoded) && api_valid_file(slash + 1) &&
	    store_record_view(a->store, decoded, api_result_cb, &res,
	    &cause) == -1) {
		log_warnx("store: %s", cause);
		free(cause);
		free(decoded);
		http_reply_detail(req, 500, "Error: the store cannot be read");
		return;
	}
	if (!res.done) {
		free(decoded);
		http_reply_json(req, 404, "{\"detail\":\"Not found\"}", 22);
		return;
	}
	xasprintf(&dir, "%s/%s", a->store_dir, decoded);
	storefile_reply(a, req, decoded, dir, slash + 1, res.expires);
	free(dir);
	free(decoded);
}

/* GET /api/v1/stats: the queue length, as the reference. */
void
api_stats(struct asud *a, struct evhttp_request *req, const char *arg)
{
	char	body[64];
	int	n;

	n = snprintf(body, sizeof body, "{\"queue_length\":%zu}",
	    sched_queue_length(a->sched));
	http_reply_json(req, 200, body, (size_t)n);
}

/* A query parameter (the first), or NULL. */
char *
api_query(struct evhttp_request *req, const char *key)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	 kv;
	const char		*q, *v;
	char			*out = NULL;

	if (uri == NULL || (q = evhttp_uri_get_query(uri)) == NULL)
		return (NULL);
	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) == 0 &&
	    (v = evhttp_find_header(&kv, key)) != NULL && *v != '\0')
		out = xstrdup(v);
	evhttp_clear_headers(&kv);
	return (out);
}

/* A numeric query parameter with a default. */
long long
api_query_num(struct evhttp_request *req, const char *key, long long def)
{
	char		*v = api_query(req, key), *end;
	long long	 n;

	if (v == NULL)
		return (def);
	n = strtoll(v, &end, 10);
	if (*end != '\0' || end == v)
		n = def;
	free(v);
	return (n);
}

/* The reference's statistics endpoints, from the counters in LMDB. */
void
api_statistics(struct asud *a, struct evhttp_request *req, const char *which)
{
	char	*body = NULL, *branch, *cause = NULL;
	time_t	 now = time(NULL);
	int	 text = 0;

	branch = api_query(req, "branch");
	if (strcmp(which, "stats/summary") == 0)
		body = statsview_summary(a->stats, now,
		    sched_queue_length(a->sched), &cause);
	else if (strcmp(which, "stats/clients") == 0)
		body = statsview_top_clients(a->stats, now,
		    api_query_num(req, "n", 30), &cause);
	else if (strcmp(which, "builds-per-day") == 0)
		body = statsview_builds_per_day(a->stats, now, &cause);
	else if (strcmp(which, "builds-by-version") == 0)
		body = statsview_builds_by_version(a->stats, now, branch,
		    &cause);
	else if (strcmp(which, "top-packages") == 0)
		body = statsview_top_packages(a->stats, now, branch,
		    api_query_num(req, "n", 30), &cause);
	else if (strcmp(which, "build-errors") == 0) {
		body = statsview_build_errors(a->stats,
		    api_query_num(req, "n", 100), &cause);
		text = 1;
	}
	free(branch);
	if (body == NULL) {
		log_warnx("statistics: %s", cause != NULL ? cause : which);
		free(cause);
		http_reply_detail(req, 500, "Error: statistics unavailable");
		return;
	}
	http_reply_data(req, 200, text ? "text/plain; charset=utf-8" :
	    "application/json", body, strlen(body));
	free(body);
}

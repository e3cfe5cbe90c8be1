/*
 * api.c: the build API. A POST is parsed and hashed; a known hash is
 * answered from its record without validating again (the reference's
 * behaviour); a new one is validated against the catalog, committed and
 * queued before its 202. A status poll of a finished build is one LMDB
 * read and one reply.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "store/store.h"
#include "server/api.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/queue.h"
#include "server/record.h"
#include "server/reqhash.h"
#include "server/request.h"
#include "server/sched.h"

#define API_RESCAN_MS	2000

/* The reference's default branches; versions on disk add theirs. */
static const char *api_branches[] = {
	"SNAPSHOT", "25.12", "24.10", "23.05", "22.03", "21.02", NULL
};

struct api_view {
	int		 found;
	int		 state;
	int		 code;
	struct evbuffer	*body;		/* DONE/FAILED: the stored body */
	char		*request;	/* QUEUED: the request JSON */
	int64_t		 enqueued_ms;
};

/* True for 64 lower-case hex digits. */
static int
api_valid_hash(const char *s)
{
	size_t	i;

	for (i = 0; i < STORE_HASH_LEN; i++)
		if (!isdigit((unsigned char)s[i]) &&
		    (s[i] < 'a' || s[i] > 'f'))
			return (0);
	return (s[STORE_HASH_LEN] == '\0');
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

/*
 * Answers from the record of hash; returns 0 when there is none (or it
 * expired), -1 when the store failed (an answer was sent).
 */
static int
api_reply_record(struct asud *a, struct evhttp_request *req,
    const char *hash)
{
	struct api_view	 v;
	char		*cause = NULL;
	int		 rc;

	memset(&v, 0, sizeof v);
	rc = store_record_view(a->store, hash, api_view_cb, &v, &cause);
	if (rc == -1) {
		log_warnx("store: %s", cause);
		free(cause);
		http_reply_detail(req, 500, "Error: the store cannot be read");
		return (-1);
	}
	if (!v.found)
		return (0);
	if (v.state == RECORD_QUEUED)
		api_reply_live(a, req, hash, &v);
	else {
		api_build_headers(req, v.state == RECORD_DONE ? "done" :
		    "failed", 0);
		http_reply(req, v.code, "application/json", v.body);
		evbuffer_free(v.body);
	}
	free(v.request);
	return (1);
}

/* GET and HEAD /api/v1/build/{hash} */
void
api_build_get(struct asud *a, struct evhttp_request *req, const char *hash)
{
	if (api_valid_hash(hash) && api_reply_record(a, req, hash) != 0)
		return;
	http_reply_titled(req, 404, "Not Found",
	    "could not find provided request hash");
}

/* The body as one NUL-terminated string, or NULL when too large. */
static char *
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

/* The branch a version belongs to (reference/asu-api.md §3 item 4). */
static char *
api_branch_of(const char *version)
{
	const char	*cut;
	size_t		 i, vlen = strlen(version);

	for (i = 0; api_branches[i] != NULL; i++)
		if (strcmp(version, api_branches[i]) == 0)
			return (xstrdup(version));
	if (vlen > 9 && strcmp(version + vlen - 9, "-SNAPSHOT") == 0)
		cut = strrchr(version, '-');
	else
		cut = strrchr(version, '.');
	if (cut == NULL)
		return (xstrdup(version));
	return (xstrndup(version, (size_t)(cut - version)));
}

/* True when the branch is a default one or has a version on disk. */
static int
api_branch_known(struct asud *a, const char *branch)
{
	const char	*v;
	char		*b;
	size_t		 i;
	int		 known = 0;

	for (i = 0; api_branches[i] != NULL; i++)
		if (strcmp(branch, api_branches[i]) == 0)
			return (1);
	for (i = 0; !known &&
	    (v = catalog_version_at(a->catalog, i)) != NULL; i++) {
		b = api_branch_of(v);
		known = strcmp(b, branch) == 0;
		free(b);
	}
	return (known);
}

/* Rescans the ImageBuilders on disk, at most every API_RESCAN_MS. */
static int
api_rescan(struct asud *a)
{
	struct catalog	*c;
	char		*cause = NULL;
	long long	 now = sched_now_ms();

	if (now - a->catalog_scanned_ms < API_RESCAN_MS)
		return (0);
	a->catalog_scanned_ms = now;
	c = catalog_new();
	if (catalog_scan(c, a->conf->imagebuilder_dir, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		catalog_free(c);
		return (0);
	}
	catalog_free(a->catalog);
	a->catalog = c;
	return (1);
}

/*
 * Version, target and profile checks in the reference's order, each
 * retried once after a rescan. Returns 0 with the canonical profile and
 * the ImageBuilder directory, or -1 with the 400 message.
 */
static int
api_validate_target(struct asud *a, const struct request *r,
    const char **profile_id, const char **ib_dir, char **msg)
{
	const struct catalog_target	*t;
	int				 tries;

	for (tries = 0; tries < 2; tries++) {
		if (!catalog_has_version(a->catalog, r->version)) {
			if (tries == 0 && api_rescan(a))
				continue;
			xasprintf(msg, "Unsupported version: %s", r->version);
			return (-1);
		}
		t = catalog_target(a->catalog, r->version, r->target);
		if (t == NULL) {
			if (tries == 0 && api_rescan(a))
				continue;
			xasprintf(msg, "Unsupported target: %s. The requested "
			    "target was either dropped, is still being built or "
			    "is not supported by the selected version. Please "
			    "check the forums or try again later.", r->target);
			return (-1);
		}
		if ((*profile_id = catalog_resolve(t, r->profile)) == NULL) {
			if (tries == 0 && api_rescan(a))
				continue;
			xasprintf(msg, "Unsupported profile: %s. The requested "
			    "profile was either dropped or never existed. Please "
			    "check the forums for more information.",
			    r->profile);
			return (-1);
		}
		*ib_dir = catalog_target_dir(t);
		return (0);
	}
	xasprintf(msg, "Unsupported version: %s", r->version);
	return (-1);
}

/* The validation of reference/asu-api.md §3, in its order. */
static int
api_validate(struct asud *a, const struct request *r,
    const char **profile_id, const char **ib_dir, char **msg)
{
	char	*branch;
	int	 known;

	if (r->defaults != NULL && *r->defaults != '\0' &&
	    !a->conf->allow_defaults) {
		*msg = xstrdup("Handling `defaults` not enabled on server");
		return (-1);
	}
	if (r->repo_urls.n > 0) {
		/* The allow-list is empty until it is configurable. */
		xasprintf(msg, "Repository not allowed: %s", r->repo_urls.v[0]);
		return (-1);
	}
	if (strcmp(r->distro, "openwrt") != 0) {
		xasprintf(msg, "Unsupported distro: %s", r->distro);
		return (-1);
	}
	branch = api_branch_of(r->version);
	known = api_branch_known(a, branch);
	if (!known && api_rescan(a))
		known = api_branch_known(a, branch);
	free(branch);
	if (!known) {
		xasprintf(msg, "Unsupported branch: %s", r->version);
		return (-1);
	}
	return (api_validate_target(a, r, profile_id, ib_dir, msg));
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

/* Validates, commits and queues a new request, then answers. */
static void
api_build_new(struct asud *a, struct evhttp_request *req,
    const struct request *r, const char *hash)
{
	const char	*profile_id = NULL, *ib_dir = NULL, *ua;
	char		*msg = NULL;
	size_t		 n;
	int		 klass;

	if (api_validate(a, r, &profile_id, &ib_dir, &msg) == -1) {
		http_reply_detail(req, 400, msg);
		free(msg);
		return;
	}
	/* The reference refuses when the queue is longer than the limit. */
	if ((n = sched_queue_length(a->sched)) >
	    (size_t)a->conf->max_pending_jobs) {
		api_reply_overload(req, n);
		return;
	}
	ua = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "User-Agent");
	klass = queue_class_of(r->client, ua);
	if (sched_submit(a->sched, hash, r, profile_id, ib_dir, klass,
	    &msg) == -1) {
		log_warnx("cannot queue %.12s: %s", hash, msg);
		free(msg);
		http_header(req, "Retry-After", "60");
		http_reply_detail(req, 503, "Error: the build could not be "
		    "stored; try again later");
		return;
	}
	if (api_reply_record(a, req, hash) == 0)
		http_reply_detail(req, 500, "Error: the build record vanished");
}

/* POST /api/v1/build */
void
api_build_post(struct asud *a, struct evhttp_request *req)
{
	struct request_limits	 lim;
	struct request		 r;
	struct request_error	 err;
	char			*body, hash[SHA256_HEX_LEN + 1];
	size_t			 len;

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
	if (api_reply_record(a, req, hash) == 0)
		api_build_new(a, req, &r, hash);
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

/* GET and HEAD /store/{hash}/{file}: the exact built bytes. */
void
api_store_get(struct asud *a, struct evhttp_request *req, const char *rest)
{
	struct evbuffer	*b;
	struct stat	 st;
	char		*decoded, *slash, *path, *disp;
	size_t		 dlen;
	int		 fd;

	decoded = evhttp_uridecode(rest, 0, &dlen);
	if (decoded == NULL || strlen(decoded) != dlen ||
	    (slash = strchr(decoded, '/')) == NULL) {
		free(decoded);
		http_reply_json(req, 404, "{\"detail\":\"Not found\"}", 22);
		return;
	}
	*slash = '\0';
	if (!api_valid_hash(decoded) || !api_valid_file(slash + 1)) {
		free(decoded);
		http_reply_json(req, 404, "{\"detail\":\"Not found\"}", 22);
		return;
	}
	xasprintf(&path, "%s/%s/%s", a->store_dir, decoded, slash + 1);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fd != -1)
			close(fd);
		free(decoded);
		http_reply_json(req, 404, "{\"detail\":\"Not found\"}", 22);
		return;
	}
	xasprintf(&disp, "attachment; filename=\"%s\"", slash + 1);
	http_header(req, "Content-Disposition", disp);
	http_header(req, "X-Content-Type-Options", "nosniff");
	free(disp);
	free(decoded);
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if (http_is_head(req) || st.st_size == 0)
		close(fd);
	else if (evbuffer_add_file(b, fd, 0, st.st_size) == -1) {
		evbuffer_free(b);
		http_reply_detail(req, 500, "Error: cannot read the file");
		return;
	}
	if (http_is_head(req)) {
		char	len[32];

		snprintf(len, sizeof len, "%lld", (long long)st.st_size);
		http_header(req, "Content-Length", len);
		http_header(req, "Access-Control-Allow-Origin", "*");
		http_header(req, "Content-Type", "application/octet-stream");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else
		http_reply(req, 200, "application/octet-stream", b);
	evbuffer_free(b);
}

/* GET /api/v1/stats: the queue length, as the reference. */
void
api_stats(struct asud *a, struct evhttp_request *req)
{
	char	body[64];
	int	n;

	n = snprintf(body, sizeof body, "{\"queue_length\":%zu}",
	    sched_queue_length(a->sched));
	http_reply_json(req, 200, body, (size_t)n);
}

/*
 * dlview.c: GET /api/v1/stats/downloads: the most downloaded images,
 * with the version, target and profile of their stored request, and the
 * sum of the counts of all images still in the store.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/api.h"
#include "server/asud.h"
#include "server/dlview.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/record.h"

/* The n of the listing: its default and its bounds. */
#define DLVIEW_N_DEFAULT	10
#define DLVIEW_N_MAX		1000

/* One image's count, as listed. */
struct dlview_image {
	char		 hash[STORE_HASH_LEN + 1];
	char		*file;
	uint64_t	 count;
	int64_t		 last_ms;
};

/* Every count read from the store, and their sum. */
struct dlview_list {
	struct dlview_image	*v;
	size_t			 n;
	uint64_t		 sum;
};

/* What the listing needs of a record: the request of a live result. */
struct dlview_req {
	int	 done;
	char	*version;
	char	*target;
	char	*profile;
};

/* Collects one count of the store. */
static int
dlview_collect_cb(const char *hash, const char *file, uint64_t count,
    int64_t last_ms, void *arg)
{
	struct dlview_list	*l = arg;
	struct dlview_image	*im;

	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	im = &l->v[l->n++];
	memcpy(im->hash, hash, sizeof im->hash);
	im->file = xstrdup(file);
	im->count = count;
	im->last_ms = last_ms;
	l->sum += count;
	return (0);
}

/* Most downloaded first; then the latest; then by hash and name. */
static int
dlview_cmp(const void *pa, const void *pb)
{
	const struct dlview_image	*a = pa, *b = pb;
	int				 c;

	if (a->count != b->count)
		return (a->count > b->count ? -1 : 1);
	if (a->last_ms != b->last_ms)
		return (a->last_ms > b->last_ms ? -1 : 1);
	if ((c = strcmp(a->hash, b->hash)) != 0)
		return (c);
	return (strcmp(a->file, b->file));
}

/* A string member of the request, copied, or NULL. */
static char *
dlview_member(yajl_val req, const char *key)
{
	yajl_val	v = jsonw_get(req, key);

	return (YAJL_IS_STRING(v) ? xstrdup(YAJL_GET_STRING(v)) : NULL);
}

/* Reads the request of a finished result that has not expired. */
static void
dlview_req_cb(const void *val, size_t len, void *arg)
{
	struct dlview_req	*q = arg;
	struct record		 r;
	yajl_val		 req;
	char			*cause = NULL;

	if (record_decode(val, len, &r) == -1 || r.state != RECORD_DONE ||
	    (r.expires != 0 && r.expires <= time(NULL)))
		return;	/* gone, or as good as gone (expired) */
	if ((req = jsonw_parse(r.request, &cause)) == NULL) {
		free(cause);
		return;
	}
	q->done = 1;
	q->version = dlview_member(req, "version");
	q->target = dlview_member(req, "target");
	q->profile = dlview_member(req, "profile");
	yajl_tree_free(req);
}

/* A string, or null when it is not known. */
static void
dlview_kv(yajl_gen g, const char *key, const char *val)
{
	if (val != NULL)
		jsonw_kv_str(g, key, val);
	else
		jsonw_kv_null(g, key);
}

/* Writes one image of the listing; 0 when its result is gone. */
static int
dlview_image_json(struct asud *a, yajl_gen g, const struct dlview_image *im)
{
	struct dlview_req	 q;
	char			 stamp[40], *cause = NULL;

	memset(&q, 0, sizeof q);
	if (store_record_view(a->store, im->hash, dlview_req_cb, &q,
	    &cause) == -1) {
		log_warnx("downloads: %s", cause);
		free(cause);
	}
	if (q.done) {
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "request_hash", im->hash);
		jsonw_kv_str(g, "file", im->file);
		dlview_kv(g, "version", q.version);
		dlview_kv(g, "target", q.target);
		dlview_kv(g, "profile", q.profile);
		jsonw_kv_int(g, "downloads", (long long)im->count);
		jsonw_time(im->last_ms, stamp);
		jsonw_kv_str(g, "last_download", stamp);
		yajl_gen_map_close(g);
	}
	free(q.version);
	free(q.target);
	free(q.profile);
	return (q.done);
}

/* The listing's body: the total and the first n images. */
static char *
dlview_body(struct asud *a, struct dlview_list *l, long long n, size_t *len)
{
	yajl_gen	g;
	size_t		i;
	long long	shown = 0;

	if (l->n > 0)
		qsort(l->v, l->n, sizeof *l->v, dlview_cmp);
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_int(g, "total", (long long)l->sum);
	jsonw_key(g, "images");
	yajl_gen_array_open(g);
	for (i = 0; i < l->n && shown < n; i++)
		shown += dlview_image_json(a, g, &l->v[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return (jsonw_finish(g, len));
}

/*
 * Reads ?n=: absent is the default, else a decimal integer from 1 to
 * DLVIEW_N_MAX; -1 for anything else.
 */
static long long
dlview_n(struct evhttp_request *req)
{
	char		*v, *end;
	long long	 n;

	if ((v = api_query(req, "n")) == NULL)
		return (DLVIEW_N_DEFAULT);
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] < '0' ||
	    v[0] > '9' || n < 1 || n > DLVIEW_N_MAX)
		n = -1;
	free(v);
	return (n);
}

/* GET /api/v1/stats/downloads?n=: the most downloaded images. */
void
dlview_get(struct asud *a, struct evhttp_request *req, const char *arg)
{
	struct dlview_list	 l;
	char			*body, *cause = NULL;
	long long		 n;
	size_t			 len, i;

	(void)arg;
	if ((n = dlview_n(req)) == -1) {
		http_reply_detail(req, 400, "Invalid n: must be an integer "
		    "from 1 to 1000");
		return;
	}
	memset(&l, 0, sizeof l);
	if (store_download_foreach(a->store, dlview_collect_cb, &l,
	    &cause) == -1) {
		log_warnx("downloads: %s", cause);
		free(cause);
		body = NULL;
	} else
		body = dlview_body(a, &l, n, &len);
	for (i = 0; i < l.n; i++)
		free(l.v[i].file);
	free(l.v);
	if (body == NULL) {
		http_reply_detail(req, 500, "Error: statistics unavailable");
		return;
	}
	http_reply_data(req, 200, "application/json", body, len);
	free(body);
}

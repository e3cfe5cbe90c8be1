/*
 * metrics.c: the operators' counters and the Prometheus text exposition
 * of GET /metrics. Counters of this module live in memory and start at
 * zero with the process; the build totals come from stats (persisted).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/fetch.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/unpack.h"
#include "store/store.h"
#include "server/anscache.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/conn.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/wait.h"
#include "server/follow.h"
#include "server/sched.h"
#include "server/stats.h"
#include "server/upstream.h"

#define METRICS_STATUS_MIN	100
#define METRICS_STATUS_MAX	599

/* The route labels, by enum metrics_route. */
static const char *metrics_routes[METRICS_NROUTES] = {
	[METRICS_ROUTE_BUILD] = "/api/v1/build",
	[METRICS_ROUTE_BUILD_HASH] = "/api/v1/build/{hash}",
	[METRICS_ROUTE_BUILD_SUB] = "/api/v1/build/{hash}/{sub}",
	[METRICS_ROUTE_STORE] = "/store/{path}",
	[METRICS_ROUTE_STATS] = "/api/v1/stats",
	[METRICS_ROUTE_STATS_SUMMARY] = "/api/v1/stats/summary",
	[METRICS_ROUTE_STATS_CLIENTS] = "/api/v1/stats/clients",
	[METRICS_ROUTE_BUILDS_PER_DAY] = "/api/v1/builds-per-day",
	[METRICS_ROUTE_BUILDS_BY_VERSION] = "/api/v1/builds-by-version",
	[METRICS_ROUTE_TOP_PACKAGES] = "/api/v1/top-packages",
	[METRICS_ROUTE_BUILD_ERRORS] = "/api/v1/build-errors",
	[METRICS_ROUTE_JSON] = "/json/v1/{path}",
	[METRICS_ROUTE_REVISION] = "/api/v1/revision/{path}",
	[METRICS_ROUTE_OVERVIEW] = "/api/v1/overview",
	[METRICS_ROUTE_OVERVIEW_OLD] = "/overview",
	[METRICS_ROUTE_LATEST] = "/api/v1/latest",
	[METRICS_ROUTE_QUEUE] = "/api/v1/queue",
	[METRICS_ROUTE_METRICS] = "/metrics",
	[METRICS_ROUTE_PAGE] = "/",
	[METRICS_ROUTE_OTHER] = "other",
};
#define METRICS_NSTATUS	(METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1)

/* Upper bounds of the build duration buckets, in seconds (+Inf last). */
static const double metrics_buckets[] = {
	1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600
};
#define METRICS_NBUCKETS (sizeof metrics_buckets / sizeof metrics_buckets[0])

static uint64_t	 metrics_requests[METRICS_NROUTES][METRICS_NSTATUS];
static uint64_t	 metrics_bucket_counts[METRICS_NBUCKETS];
static uint64_t	 metrics_build_count;
static double	 metrics_build_sum;
static size_t	 metrics_waiter_gauge;
static uint64_t	 metrics_refusals[METRICS_NREFUSALS];

/* The reason labels of asud_refused_total, by enum metrics_refusal. */
static const char *metrics_refusal_labels[METRICS_NREFUSALS] = {
	"rate_limit_builds",
	"max_followers_per_client",
	"max_waiters_per_client",
	"client_table_full",
};
static size_t	 metrics_follower_gauge;

/* The index of a route label; anything out of range is "other". */
static size_t
metrics_route_index(enum metrics_route r)
{
	return ((size_t)r < METRICS_NROUTES ? (size_t)r : METRICS_ROUTE_OTHER);
}

/* The text of a route label. */
const char *
metrics_label(enum metrics_route r)
{
	return (metrics_routes[metrics_route_index(r)]);
}

/* Counts one reply by route and status. */
void
metrics_count(enum metrics_route r, int status)
{
	if (status < METRICS_STATUS_MIN || status > METRICS_STATUS_MAX)
		return;
	metrics_requests[metrics_route_index(r)][status - METRICS_STATUS_MIN]++;
}

/* Counts one build's duration into the histogram. */
void
metrics_build_seconds(double seconds)
{
	size_t	i;

	if (!(seconds >= 0))
		seconds = 0;
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		if (seconds <= metrics_buckets[i])
			metrics_bucket_counts[i]++;
	}
	metrics_build_count++;
	metrics_build_sum += seconds;
}

/* Sets the number of long-poll waiters. */
void
metrics_set_waiters(size_t n)
{
	metrics_waiter_gauge = n;
}

/* The number of long-poll waiters. */
size_t
metrics_waiters(void)
{
	return (metrics_waiter_gauge);
}

/* Sets the number of log followers. */
void
metrics_set_followers(size_t n)
{
	metrics_follower_gauge = n;
}

/* The number of log followers. */
size_t
metrics_followers(void)
{
	return (metrics_follower_gauge);
}

/* Counts one refused request (or one poll not held) by reason. */
void
metrics_refused(enum metrics_refusal why)
{
	if (why < METRICS_NREFUSALS)
		metrics_refusals[why]++;
}

/* Forgets every counter, for unit tests. */
void
metrics_reset(void)
{
	memset(metrics_requests, 0, sizeof metrics_requests);
	memset(metrics_bucket_counts, 0, sizeof metrics_bucket_counts);
	memset(metrics_refusals, 0, sizeof metrics_refusals);
	metrics_build_count = 0;
	metrics_build_sum = 0;
	metrics_waiter_gauge = 0;
	metrics_follower_gauge = 0;
}

/* Writes the HELP and TYPE lines of one metric. */
static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* Writes one sample of a metric with one label. */
static void
metrics_sample(struct evbuffer *b, const char *name, const char *key,
    const char *value, uint64_t n)
{
	evbuffer_add_printf(b, "%s{%s=\"%s\"} %" PRIu64 "\n", name, key, value,
	    n);
}

/* Writes one metric without labels. */
static void
metrics_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t value)
{
	metrics_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %" PRIu64 "\n", name, value);
}

/* Reads one ".asud-size" file; 0 when missing or not a number. */
static uint64_t
metrics_size_file(int dirfd, const char *name)
{
	struct stat		 st;
	char			 buf[32];
	char			*end;
	ssize_t			 n;
	unsigned long long	 v;
	int			 fd;

	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return (0);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (0);
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n'))
		return (0);
	return (v);
}

/*
 * Sums the unpacked sizes under dir, depth levels down
 * (<version>/<target>/<subtarget>); symbolic links are not followed.
 */
static uint64_t
metrics_walk(int dirfd, int depth)
{
	DIR		*d;
	struct dirent	*de;
	uint64_t	 sum = 0;
	int		 fd;

	if (depth == 0)
		return (metrics_size_file(dirfd, UNPACK_SIZE_FILE));
	fd = dup(dirfd);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			continue;
		sum += metrics_walk(fd, depth - 1);
		close(fd);
	}
	closedir(d);
	return (sum);
}

/* The bytes of the unpacked ImageBuilders under root. */
static uint64_t
metrics_cache_bytes(const char *root)
{
	uint64_t	sum;
	int		fd;

	if (root == NULL)
		return (0);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return (0);
	sum = metrics_walk(fd, 3);
	close(fd);
	return (sum);
}

/* Counts one running build of the queue walk. */
static void
metrics_running_cb(const struct sched_view *v, void *arg)
{
	size_t	*n = arg;

	if (v->running)
		(*n)++;
}

/* Builds running now (an ImageBuilder download counts). */
static size_t
metrics_running(struct sched *s)
{
	size_t	n = 0;

	sched_foreach(s, metrics_running_cb, &n);
	return (n);
}

/* The request counters by route and status. */
static void
metrics_text_requests(struct evbuffer *b)
{
	size_t	r, s;

	metrics_head(b, "asud_http_requests_total", "counter",
	    "HTTP replies by route and status.");
	for (r = 0; r < METRICS_NROUTES; r++) {
		for (s = 0; s < METRICS_NSTATUS; s++) {
			if (metrics_requests[r][s] == 0)
				continue;
			evbuffer_add_printf(b, "asud_http_requests_total"
			    "{route=\"%s\",status=\"%zu\"} %" PRIu64 "\n",
			    metrics_routes[r], s + METRICS_STATUS_MIN,
			    metrics_requests[r][s]);
		}
	}
}

/* The refusals by reason, every reason listed. */
static void
metrics_text_refusals(struct evbuffer *b)
{
	size_t	i;

	metrics_head(b, "asud_refused_total", "counter",
	    "Requests refused (or polls not held) by a limit per client.");
	for (i = 0; i < METRICS_NREFUSALS; i++)
		metrics_sample(b, "asud_refused_total", "reason",
		    metrics_refusal_labels[i], metrics_refusals[i]);
}

/* The build duration histogram. */
static void
metrics_text_histogram(struct evbuffer *b)
{
	char	le[32];
	size_t	i;

	metrics_head(b, "asud_build_duration_seconds", "histogram",
	    "Duration of finished builds.");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		snprintf(le, sizeof le, "%g", metrics_buckets[i]);
		metrics_sample(b, "asud_build_duration_seconds_bucket", "le",
		    le, metrics_bucket_counts[i]);
	}
	metrics_sample(b, "asud_build_duration_seconds_bucket", "le", "+Inf",
	    metrics_build_count);
	evbuffer_add_printf(b, "asud_build_duration_seconds_sum %.3f\n",
	    metrics_build_sum);
	evbuffer_add_printf(b, "asud_build_duration_seconds_count %" PRIu64
	    "\n", metrics_build_count);
}

/* What the other modules know: stats totals, queue, downloads. */
static void
metrics_text_daemon(struct evbuffer *b, struct asud *a)
{
	uint64_t	req = 0, hits = 0, misses = 0, ok = 0, failed = 0;

	if (a->stats != NULL)
		stats_totals(a->stats, &req, &hits, &misses, &ok, &failed);
	metrics_one(b, "asud_build_requests_total", "counter",
	    "Build requests that passed the schema check.", req);
	metrics_one(b, "asud_cache_hits_total", "counter",
	    "Build requests answered from a finished build.", hits);
	metrics_one(b, "asud_cache_misses_total", "counter",
	    "Build requests that needed a build.", misses);
	metrics_head(b, "asud_builds_total", "counter",
	    "Finished builds by outcome.");
	metrics_sample(b, "asud_builds_total", "outcome", "success", ok);
	metrics_sample(b, "asud_builds_total", "outcome", "failure", failed);
	metrics_head(b, "asud_queue_length", "gauge",
	    "Builds in the queue by state.");
	metrics_sample(b, "asud_queue_length", "state", "queued",
	    a->sched != NULL ? sched_queue_length(a->sched) : 0);
	metrics_sample(b, "asud_queue_length", "state", "running",
	    a->sched != NULL ? metrics_running(a->sched) : 0);
	metrics_one(b, "asud_imagebuilder_downloads_total", "counter",
	    "ImageBuilder downloads started.",
	    a->ibcache != NULL ? ibcache_downloads(a->ibcache) : 0);
	metrics_one(b, "asud_imagebuilder_cache_bytes", "gauge",
	    "Unpacked size of the cached ImageBuilders.",
	    metrics_cache_bytes(a->conf != NULL ?
	    a->conf->imagebuilder_dir : NULL));
	metrics_one(b, "asud_upstream_fetch_errors_total", "counter",
	    "Upstream metadata fetches that failed.",
	    a->upstream != NULL ? upstream_errors(a->upstream) : 0);
	metrics_one(b, "asud_fetches_in_flight", "gauge",
	    "Upstream transfers in progress.", fetch_active());
	metrics_one(b, "asud_answer_cache_entries", "gauge",
	    "Finished build answers kept in memory.",
	    a->anscache != NULL ? anscache_count(a->anscache) : 0);
	metrics_one(b, "asud_answer_cache_bytes", "gauge",
	    "Bytes of the finished build answers kept in memory.",
	    a->anscache != NULL ? anscache_bytes(a->anscache) : 0);
	metrics_one(b, "asud_disk_full", "gauge",
	    "1 while the disk of the state directory or the store is full.",
	    a->sched != NULL && sched_disk_full(a->sched) != NULL);
	metrics_one(b, "asud_store_write_failures_total", "counter",
	    "Write transactions of the store that failed.",
	    a->store != NULL ? store_write_failures(a->store) : 0);
}

/* The connections: open now, refused heads, deadlines, the listener. */
static void
metrics_text_conn(struct evbuffer *b)
{
	struct conn_counts	c;

	conn_counts(&c);
	metrics_one(b, "asud_connections", "gauge",
	    "Open HTTP connections.", c.open);
	metrics_one(b, "asud_connections_max", "gauge",
	    "max_connections in effect.", c.max);
	metrics_one(b, "asud_http_heads_refused_total", "counter",
	    "Request heads refused with 400 by the strict check.", c.refused);
	metrics_one(b, "asud_connections_timed_out_total", "counter",
	    "Connections closed by request_timeout or keepalive_timeout.",
	    c.timed_out);
	metrics_one(b, "asud_connections_shed_total", "counter",
	    "Connections accepted and closed at once, out of descriptors.",
	    c.shed);
	metrics_one(b, "asud_accept_pauses_total", "counter",
	    "Times the listener paused (descriptors or max_connections).",
	    c.paused);
}

/* The whole exposition text. */
char *
metrics_text(struct asud *a, size_t *len)
{
	struct evbuffer	*b;
	char		*out;
	size_t		 n;

	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if (a != NULL) {
		/* The live gauges, read where they are kept. */
		metrics_set_waiters(a->waiters != NULL ?
		    wait_count(a->waiters) : 0);
		metrics_set_followers(a->followers != NULL ?
		    follow_count(a->followers) : 0);
	}
	metrics_text_requests(b);
	metrics_text_refusals(b);
	metrics_text_histogram(b);
	metrics_one(b, "asud_waiters", "gauge",
	    "Clients waiting on a long poll.", metrics_waiter_gauge);
	metrics_one(b, "asud_log_followers", "gauge",
	    "Clients following a build log.", metrics_follower_gauge);
	if (a != NULL) {
		metrics_text_daemon(b, a);
		metrics_text_conn(b);
	}
	n = evbuffer_get_length(b);
	out = xmalloc(n + 1);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	if (len != NULL)
		*len = n;
	return (out);
}

/* GET /metrics. */
void
metrics_get(struct asud *a, struct evhttp_request *req, const char *arg)
{
	char	*text;
	size_t	 len;

	text = metrics_text(a, &len);
	http_header(req, "Cache-Control", "no-store");
	http_reply_data(req, 200, METRICS_CONTENT_TYPE, text, len);
	free(text);
}

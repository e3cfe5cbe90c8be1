/*
 * metrics.c: the operators' counters and the Prometheus text exposition
 * of GET /metrics. Counters of this module live in memory and start at
 * zero with the process; the build totals come from stats (persisted).
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/metrics.h"

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
	[METRICS_ROUTE_STATS_DOWNLOADS] = "/api/v1/stats/downloads",
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
	[METRICS_ROUTE_UPGRADE_CHECK] = "/api/v1/upgrade-check",
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
static uint64_t	 metrics_failures[METRICS_NFAILURES];

/* The reason labels of failed builds, by enum metrics_failure. */
static const char *metrics_failure_labels[METRICS_NFAILURES] = {
	[METRICS_FAILED_OTHER] = "other",
	[METRICS_FAILED_PACKAGES] = "package_selection",
	[METRICS_FAILED_TOO_BIG] = "too_big",
	[METRICS_FAILED_PROFILE] = "profile",
	[METRICS_FAILED_VERSION] = "version",
	[METRICS_FAILED_IMAGEBUILDER] = "imagebuilder",
	[METRICS_FAILED_TIMEOUT] = "timeout",
	[METRICS_FAILED_DISK_FULL] = "disk_full",
	[METRICS_FAILED_LOST] = "lost",
};

static uint64_t	 metrics_removals[METRICS_NREMOVALS];

/* The cause labels of asud_store_removals_total, by enum metrics_removal. */
static const char *metrics_removal_labels[METRICS_NREMOVALS] = {
	[METRICS_REMOVED_EXPIRED] = "expired",
	[METRICS_REMOVED_BUDGET] = "budget",
};

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

/* The index of a failure reason; anything out of range is "other". */
static size_t
metrics_failure_index(enum metrics_failure why)
{
	return ((size_t)why < METRICS_NFAILURES ? (size_t)why :
	    METRICS_FAILED_OTHER);
}

/* Counts one failed build by reason. */
void
metrics_build_failed(enum metrics_failure why)
{
	metrics_failures[metrics_failure_index(why)]++;
}

/* The reason label of a failure. */
const char *
metrics_failure_label(enum metrics_failure why)
{
	return (metrics_failure_labels[metrics_failure_index(why)]);
}

/* Counts one result removed from the store, by cause. */
void
metrics_store_removed(enum metrics_removal why)
{
	if ((size_t)why < METRICS_NREMOVALS)
		metrics_removals[why]++;
}

/* Forgets every counter, for unit tests. */
void
metrics_reset(void)
{
	memset(metrics_requests, 0, sizeof metrics_requests);
	memset(metrics_bucket_counts, 0, sizeof metrics_bucket_counts);
	memset(metrics_refusals, 0, sizeof metrics_refusals);
	memset(metrics_failures, 0, sizeof metrics_failures);
	memset(metrics_removals, 0, sizeof metrics_removals);
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

/* The results removed from the store by cause, every cause listed. */
static void
metrics_text_removals(struct evbuffer *b)
{
	size_t	i;

	metrics_head(b, "asud_store_removals_total", "counter",
	    "Results removed from the store, by cause.");
	for (i = 0; i < METRICS_NREMOVALS; i++)
		metrics_sample(b, "asud_store_removals_total", "cause",
		    metrics_removal_labels[i], metrics_removals[i]);
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

/*
 * The failed builds by reason, every reason listed, as more samples of
 * asud_builds_total: {outcome="failure",reason="..."}.
 */
static void
metrics_text_failures(struct evbuffer *b)
{
	size_t	i;

	for (i = 0; i < METRICS_NFAILURES; i++)
		evbuffer_add_printf(b, "asud_builds_total{outcome=\"failure\","
		    "reason=\"%s\"} %" PRIu64 "\n", metrics_failure_labels[i],
		    metrics_failures[i]);
}

/* One sample of the readings: a new metric when type is set. */
struct metrics_row {
	const char	*name;
	const char	*type;		/* NULL: one more sample of the last */
	const char	*help;
	const char	*key;		/* the label, or NULL */
	const char	*value;
	size_t		 off;		/* of the uint64_t in the readings */
};

#define METRICS_AT(f)	offsetof(struct metrics_readings, f)

/*
 * What the readings hold, in the order a scrape lists them: these, the
 * failures by reason, then metrics_rows_tail.
 */
static const struct metrics_row metrics_rows[] = {
	{ "asud_build_requests_total", "counter",
	    "Build requests that passed the schema check.",
	    NULL, NULL, METRICS_AT(build_requests) },
	{ "asud_cache_hits_total", "counter",
	    "Build requests answered from a finished build.",
	    NULL, NULL, METRICS_AT(cache_hits) },
	{ "asud_cache_misses_total", "counter",
	    "Build requests that needed a build.",
	    NULL, NULL, METRICS_AT(cache_misses) },
	{ "asud_builds_total", "counter",
	    "Finished builds by outcome, failures by reason.",
	    "outcome", "success", METRICS_AT(builds_ok) },
};

/* The readings after the failures by reason. */
static const struct metrics_row metrics_rows_tail[] = {
	{ "asud_queue_length", "gauge", "Builds in the queue by state.",
	    "state", "queued", METRICS_AT(queued) },
	{ "asud_queue_length", NULL, NULL,
	    "state", "running", METRICS_AT(running) },
	{ "asud_imagebuilder_downloads_total", "counter",
	    "ImageBuilder downloads started.",
	    NULL, NULL, METRICS_AT(ib_downloads) },
	{ "asud_imagebuilder_cache_bytes", "gauge",
	    "Unpacked size of the cached ImageBuilders.",
	    NULL, NULL, METRICS_AT(ib_cache_bytes) },
	{ "asud_upstream_fetch_errors_total", "counter",
	    "Upstream metadata fetches that failed.",
	    NULL, NULL, METRICS_AT(upstream_errors) },
	{ "asud_fetches_in_flight", "gauge",
	    "Upstream transfers in progress.",
	    NULL, NULL, METRICS_AT(fetches) },
	{ "asud_answer_cache_entries", "gauge",
	    "Finished build answers kept in memory.",
	    NULL, NULL, METRICS_AT(answers) },
	{ "asud_answer_cache_bytes", "gauge",
	    "Bytes of the finished build answers kept in memory.",
	    NULL, NULL, METRICS_AT(answer_bytes) },
	{ "asud_disk_full", "gauge",
	    "1 while the disk of the state directory or the store is full.",
	    NULL, NULL, METRICS_AT(disk_full) },
	{ "asud_store_write_failures_total", "counter",
	    "Write transactions of the store that failed.",
	    NULL, NULL, METRICS_AT(store_write_failures) },
	{ "asud_connections", "gauge", "Open HTTP connections.",
	    NULL, NULL, METRICS_AT(conn_open) },
	{ "asud_connections_max", "gauge", "max_connections in effect.",
	    NULL, NULL, METRICS_AT(conn_max) },
	{ "asud_http_heads_refused_total", "counter",
	    "Request heads refused with 400 by the strict check.",
	    NULL, NULL, METRICS_AT(heads_refused) },
	{ "asud_connections_timed_out_total", "counter",
	    "Connections closed by request_timeout or keepalive_timeout.",
	    NULL, NULL, METRICS_AT(conn_timed_out) },
	{ "asud_connections_shed_total", "counter",
	    "Connections accepted and closed at once, out of descriptors.",
	    NULL, NULL, METRICS_AT(conn_shed) },
	{ "asud_accept_pauses_total", "counter",
	    "Times the listener paused (descriptors or max_connections).",
	    NULL, NULL, METRICS_AT(accept_pauses) },
	{ "asud_store_bytes", "gauge",
	    "Bytes of the files of the results in the store.",
	    NULL, NULL, METRICS_AT(store_bytes) },
	{ "asud_image_downloads_total", "counter",
	    "Image downloads counted (kept across restarts).",
	    NULL, NULL, METRICS_AT(image_downloads) },
};

/* Writes n rows of the readings. */
static void
metrics_text_rows(struct evbuffer *b, const struct metrics_readings *r,
    const struct metrics_row *rows, size_t n)
{
	const struct metrics_row	*row;
	uint64_t			 v;
	size_t				 i;

	for (i = 0; i < n; i++) {
		row = &rows[i];
		memcpy(&v, (const char *)r + row->off, sizeof v);
		if (row->type != NULL)
			metrics_head(b, row->name, row->type, row->help);
		if (row->key != NULL)
			metrics_sample(b, row->name, row->key, row->value, v);
		else
			evbuffer_add_printf(b, "%s %" PRIu64 "\n", row->name,
			    v);
	}
}

/* The readings: the daemon's totals and gauges, the connections. */
static void
metrics_text_readings(struct evbuffer *b, const struct metrics_readings *r)
{
	metrics_text_rows(b, r, metrics_rows, nitems(metrics_rows));
	metrics_text_failures(b);
	metrics_text_rows(b, r, metrics_rows_tail, nitems(metrics_rows_tail));
}

/* The whole exposition text. */
char *
metrics_text(const struct metrics_readings *r, size_t *len)
{
	struct evbuffer	*b;
	char		*out;
	size_t		 n;

	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	if (r != NULL) {
		metrics_set_waiters((size_t)r->waiters);
		metrics_set_followers((size_t)r->followers);
	}
	metrics_text_requests(b);
	metrics_text_refusals(b);
	metrics_text_removals(b);
	metrics_text_histogram(b);
	metrics_one(b, "asud_waiters", "gauge",
	    "Clients waiting on a long poll.", metrics_waiter_gauge);
	metrics_one(b, "asud_log_followers", "gauge",
	    "Clients following a build log.", metrics_follower_gauge);
	if (r != NULL)
		metrics_text_readings(b, r);
	n = evbuffer_get_length(b);
	out = xmalloc(n + 1);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	if (len != NULL)
		*len = n;
	return (out);
}

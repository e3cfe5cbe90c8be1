/*
 * metrics.h: counters the daemon keeps for operators, and the body of
 * GET /metrics in the Prometheus text exposition format 0.0.4.
 *
 * The HTTP layer counts every reply with metrics_count; the scheduler
 * reports build durations with metrics_build_seconds; the long-poll and
 * log-follow code sets its gauges. Everything else is read at scrape time
 * from the modules that own it.
 */
#ifndef ASUD_METRICS_H
#define ASUD_METRICS_H

#include <stddef.h>

struct asud;
struct evhttp_request;

/* The Content-Type of a scrape. */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/*
 * Counts one reply. path is the request's path as sent (may be NULL); it
 * is folded into a fixed set of route labels, so no client can make the
 * label set grow.
 */
void	metrics_count(const char *path, int status);
/* The route label a path is counted under ("/api/v1/build/{hash}"...). */
const char *metrics_route(const char *path);
/* Counts one finished build's duration in the histogram. */
void	metrics_build_seconds(double seconds);
/* Gauges fed by their owners: long-poll waiters, log followers. */
void	metrics_set_waiters(size_t n);
size_t	metrics_waiters(void);
void	metrics_set_followers(size_t n);
size_t	metrics_followers(void);
/* Why a request was refused or not held (asud_refused_total{reason}). */
enum metrics_refusal {
	METRICS_REFUSED_BUILD_RATE,	/* rate_limit_builds: 429 */
	METRICS_REFUSED_FOLLOWERS,	/* max_followers_per_client: 429 */
	METRICS_REFUSED_WAITERS,	/* max_waiters_per_client: answered */
	METRICS_REFUSED_CLIENT_TABLE,	/* no room for one more client */
	METRICS_NREFUSALS
};
/* Counts one refusal. */
void	metrics_refused(enum metrics_refusal);
/* Forgets every counter (tests). */
void	metrics_reset(void);
/*
 * The whole exposition, allocated (the caller frees it). a may be NULL:
 * then only the module's own counters are written.
 */
char	*metrics_text(struct asud *a, size_t *len);
/* GET /metrics. */
void	metrics_get(struct asud *a, struct evhttp_request *req);

#endif

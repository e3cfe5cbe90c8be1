/*
 * metrics.h: counters the daemon keeps for operators, and the body of
 * GET /metrics in the Prometheus text exposition format 0.0.4.
 *
 * The router counts every reply with metrics_count under the label of
 * the route it took; the scheduler reports build durations with
 * metrics_build_seconds; the long-poll and log-follow code sets its
 * gauges. Everything else is read at scrape time from the modules that
 * own it (scrape.c) and handed over as struct metrics_readings, so this
 * module needs none of them.
 */
#ifndef ASUD_METRICS_H
#define ASUD_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* The Content-Type of a scrape. */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/*
 * The route labels replies are counted under, in the order a scrape lists
 * them. The set is fixed, so no client can make it grow; what no route
 * takes is METRICS_ROUTE_OTHER.
 */
enum metrics_route {
	METRICS_ROUTE_BUILD,		/* /api/v1/build */
	METRICS_ROUTE_BUILD_HASH,	/* /api/v1/build/{hash} */
	METRICS_ROUTE_BUILD_SUB,	/* /api/v1/build/{hash}/{sub} */
	METRICS_ROUTE_STORE,		/* /store/{path} */
	METRICS_ROUTE_STATS,		/* /api/v1/stats */
	METRICS_ROUTE_STATS_SUMMARY,	/* /api/v1/stats/summary */
	METRICS_ROUTE_STATS_CLIENTS,	/* /api/v1/stats/clients */
	METRICS_ROUTE_STATS_DOWNLOADS,	/* /api/v1/stats/downloads */
	METRICS_ROUTE_BUILDS_PER_DAY,	/* /api/v1/builds-per-day */
	METRICS_ROUTE_BUILDS_BY_VERSION, /* /api/v1/builds-by-version */
	METRICS_ROUTE_TOP_PACKAGES,	/* /api/v1/top-packages */
	METRICS_ROUTE_BUILD_ERRORS,	/* /api/v1/build-errors */
	METRICS_ROUTE_JSON,		/* /json/v1/{path} */
	METRICS_ROUTE_REVISION,		/* /api/v1/revision/{path} */
	METRICS_ROUTE_OVERVIEW,		/* /api/v1/overview */
	METRICS_ROUTE_OVERVIEW_OLD,	/* /overview */
	METRICS_ROUTE_LATEST,		/* /api/v1/latest */
	METRICS_ROUTE_QUEUE,		/* /api/v1/queue */
	METRICS_ROUTE_METRICS,		/* /metrics */
	METRICS_ROUTE_PAGE,		/* / */
	METRICS_ROUTE_UPGRADE_CHECK,	/* /api/v1/upgrade-check */
	METRICS_ROUTE_OTHER,		/* other */
	METRICS_NROUTES
};

/* Counts one reply by route label and status (100 to 599; others not). */
void	metrics_count(enum metrics_route, int status);
/* The text of a route label ("/api/v1/build/{hash}"...). */
const char *metrics_label(enum metrics_route);
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
/*
 * Why a build failed (asud_builds_total{outcome="failure",reason}), as
 * outcome_classify tells. The first ones are the request's fault; from
 * METRICS_FAILED_IMAGEBUILDER on the server's.
 */
enum metrics_failure {
	METRICS_FAILED_OTHER,		/* "other": none of the below */
	METRICS_FAILED_PACKAGES,	/* "package_selection" */
	METRICS_FAILED_TOO_BIG,		/* "too_big": exceeds the storage */
	METRICS_FAILED_PROFILE,		/* "profile": not in profiles.json */
	METRICS_FAILED_VERSION,		/* "version": version_code differs */
	METRICS_FAILED_IMAGEBUILDER,	/* "imagebuilder": download, unpack */
	METRICS_FAILED_TIMEOUT,		/* "timeout": job_timeout reached */
	METRICS_FAILED_DISK_FULL,	/* "disk_full" */
	METRICS_FAILED_LOST,		/* "lost": the build machine lost */
	METRICS_NFAILURES
};
/* Counts one failed build by reason (since the start, in memory). */
void	metrics_build_failed(enum metrics_failure);
/* The reason label of a failure ("timeout"...). */
const char *metrics_failure_label(enum metrics_failure);
/* Why a result left the store (asud_store_removals_total{cause}). */
enum metrics_removal {
	METRICS_REMOVED_EXPIRED,	/* "expired": its time was up */
	METRICS_REMOVED_BUDGET,		/* "budget": store_max exceeded */
	METRICS_NREMOVALS
};
/* Counts one result removed from the store, by cause. */
void	metrics_store_removed(enum metrics_removal);
/* Forgets every counter (tests). */
void	metrics_reset(void);
/*
 * What a scrape reads from the modules that keep it, every number as a
 * uint64_t so that one table names them all.
 */
struct metrics_readings {
	uint64_t	waiters;	/* long polls held */
	uint64_t	followers;	/* logs followed */
	uint64_t	build_requests;
	uint64_t	cache_hits;
	uint64_t	cache_misses;
	uint64_t	builds_ok;
	uint64_t	queued;
	uint64_t	running;	/* a download counts */
	uint64_t	ib_downloads;
	uint64_t	ib_cache_bytes;	/* unpacked ImageBuilders */
	uint64_t	upstream_errors;
	uint64_t	fetches;	/* transfers in flight */
	uint64_t	answers;	/* answer cache entries */
	uint64_t	answer_bytes;
	uint64_t	disk_full;	/* 1 or 0 */
	uint64_t	store_write_failures;
	uint64_t	conn_open;
	uint64_t	conn_max;	/* max_connections in effect */
	uint64_t	heads_refused;
	uint64_t	conn_timed_out;
	uint64_t	conn_shed;
	uint64_t	accept_pauses;
	uint64_t	store_bytes;	/* the results' files */
	uint64_t	image_downloads;	/* ever, kept in the store */
};
/*
 * The whole exposition, allocated (the caller frees it). r may be NULL:
 * then only the module's own counters are written.
 */
char	*metrics_text(const struct metrics_readings *r, size_t *len);

#endif

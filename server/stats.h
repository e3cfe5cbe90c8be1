/*
 * stats.h: build statistics kept as counters in the store's meta database,
 * in UTC day buckets, for the reference server's statistics endpoints
 * (builds-per-day, builds-by-version, top-packages, build-errors,
 * stats/summary), whose bodies statsview.h renders from these buckets.
 *
 * Events carry the time given by the caller. They are gathered in memory
 * and written with the store's next record write (a build accepted or
 * ended: one commit carries both), else in one short transaction by
 * stats_flush, which the daemon calls every STATS_FLUSH_SECS from a timer
 * and once at a clean stop; an event also flushes when the oldest pending
 * change is that old, or when many are pending. A crash loses at most
 * those few seconds. The outputs
 * flush first (stats_sync), so they include every event recorded so far.
 *
 * Layout (names in the meta database; counters are STORE_META_ADD's):
 *   stats:t:<counter>			totals since the first start
 *   stats:d:<YYYYMMDD>:<counter>	per UTC day (31 days kept)
 *   stats:h:<YYYYMMDDHH>:successes	per UTC hour (2 days kept)
 *   stats:v:<YYYYMMDD>:<version>	successful builds (183 days kept)
 *   stats:p:<YYYYMMDD>:<branch>:<pkg>	requested extra packages (31 days)
 *   stats:c:<YYYYMMDD>:<client>	requests per client (31 days)
 *   stats:e:<16 hex digits>		the last STATS_ERRORS_MAX error lines
 *   stats:e-seq			the number of error lines ever written
 * where <counter> is requests, cache-hits, cache-misses, successes,
 * failures or build-seconds. Old buckets are pruned once a UTC day.
 */
#ifndef ASUD_STATS_H
#define ASUD_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct strv;
struct stats;

#define STATS_FLUSH_SECS	5	/* the flush timer's period */
#define STATS_ERRORS_MAX	5000	/* build error lines kept */
#define STATS_CLIENT_MAX	64	/* bytes of a client name kept */
#define STATS_DAYS		30	/* builds-per-day and the top lists */
#define STATS_WEEKS		26	/* builds-by-version */

/* The counters, in the order of their names in the layout above. */
enum stats_counter {
	STATS_REQUESTS,
	STATS_HITS,
	STATS_MISSES,
	STATS_SUCCESSES,
	STATS_FAILURES,
	STATS_SECONDS,
	STATS_NCOUNTERS
};

/*
 * Loads the totals and the error ring position from s (which must outlive
 * the stats). NULL with *cause on a store error.
 */
struct stats	*stats_new(struct store *s, char **cause);
/* Flushes (a failure is logged) and frees; call before store_close. */
void		 stats_free(struct stats *);
/* Writes every pending change in one transaction; prunes once a day. */
int		 stats_flush(struct stats *, char **cause);

/*
 * The reference's client name, into out (len bytes, always terminated):
 * the request's client field when not empty; else a User-Agent starting
 * with "auc", with " (" turned into "/" and ")" dropped ("auc (0.3.2)"
 * gives "auc/0.3.2"); else "unknown/0". Either argument may be NULL.
 */
void		 stats_client_name(const char *client, const char *user_agent,
		    char *out, size_t len);

/*
 * Events. They never fail: a store error is logged and the changes stay
 * pending for the next flush. Strings stay the caller's.
 */
/* A build request that passed the schema check, from client. */
void		 stats_request(struct stats *, time_t now, const char *client);
/* A request answered from a finished build. */
void		 stats_cache_hit(struct stats *, time_t now);
/* A request that needed a build. */
void		 stats_cache_miss(struct stats *, time_t now);
/* A build that succeeded, and how long it took. */
void		 stats_success(struct stats *, time_t now, const char *version,
		    const char *target, const char *profile,
		    long long duration_seconds);
/* A build that failed; message goes into the error ring, cleaned. */
void		 stats_failure(struct stats *, time_t now, const char *version,
		    const char *target, const char *profile,
		    const char *message);
/*
 * The packages of one build that are not in the defaults or the profile;
 * names starting with "-" are skipped, duplicates counted once.
 */
void		 stats_packages(struct stats *, time_t now, const char *branch,
		    const struct strv *extra_packages);

/* Totals since the first start, pending events included. */
void		 stats_totals(struct stats *, uint64_t *requests,
		    uint64_t *hits, uint64_t *misses, uint64_t *successes,
		    uint64_t *failures);
/* The seconds spent in successful builds, since the first start. */
uint64_t	 stats_build_seconds(struct stats *);

/*
 * For the outputs: writes every pending change (a failure is logged and
 * the changes stay pending) and returns the store to read the buckets
 * from, so that they include every event recorded so far.
 */
struct store	*stats_sync(struct stats *);
/* The <counter> part of the names of counter c. */
const char	*stats_counter_name(enum stats_counter c);

/* The day number of t in bucket names: UTC days since 1970-01-01. */
long		 stats_day(time_t);
/* The hour number of t: its day number * 24 + its UTC hour. */
long		 stats_hour(time_t);
/* Reads the YYYYMMDD at p into *day; -1 when it is not a date. */
int		 stats_day_parse(const char *p, long *day);
/* Reads the YYYYMMDDHH at p into *hour; -1 when it is not one. */
int		 stats_hour_parse(const char *p, long *hour);
/* Formats day as the outputs' label, "YYYY-MM-DDZ" (len bytes). */
void		 stats_day_label(long day, char *out, size_t len);

#endif

/*
 * statsview.h: the bodies of the reference server's statistics endpoints
 * (builds-per-day, builds-by-version, top-packages, stats/clients,
 * build-errors, stats/summary), read from the buckets that stats.c keeps
 * in the store's meta database.
 *
 * Each body is allocated (the caller frees it), NULL with *cause on a
 * store error. Every one first writes the pending events, so that it
 * includes every event recorded so far. "now" picks the buckets; branch
 * may be NULL (absent).
 */
#ifndef ASUD_STATSVIEW_H
#define ASUD_STATSVIEW_H

#include <stddef.h>
#include <time.h>

struct stats;

/* {"labels":[30 "YYYY-MM-DDZ"],"datasets":[Requests, Cache-Hits, Failures]} */
char	*statsview_builds_per_day(struct stats *, time_t now, char **cause);
/* 26 weekly labels; one dataset per branch, or per version of branch. */
char	*statsview_builds_by_version(struct stats *, time_t now,
	    const char *branch, char **cause);
/* {"packages":[{"name","count"}],"branch":..,"days":30}; n capped to 100. */
char	*statsview_top_packages(struct stats *, time_t now,
	    const char *branch, long long n, char **cause);
/* {"clients":[{"name","count"}],"days":30}; n capped to 100. */
char	*statsview_top_clients(struct stats *, time_t now, long long n,
	    char **cause);
/* The text/plain build-errors summary of the n (1 to 500) newest lines. */
char	*statsview_build_errors(struct stats *, long long n, char **cause);
/* {"queue_length":N,"builds_24h":M} (M: this hour and the 23 before). */
char	*statsview_summary(struct stats *, time_t now, size_t queue_length,
	    char **cause);

#endif

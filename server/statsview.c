/*
 * statsview.c: the statistics endpoints' bodies. Each walks one kind of
 * bucket in the meta database (the layout is in stats.h) and renders what
 * it gathered as the reference server does: JSON through jsonw, or the
 * text of build-errors.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/jsonw.h"
#include "server/stats.h"
#include "server/statsview.h"
#include "server/tally.h"
#include "store/store.h"

#define STATSVIEW_PREFIX_LEN	8	/* "stats:?:" */
#define STATSVIEW_TOP_MAX	100
#define STATSVIEW_ERRORS_MAX	500

/* The builds-per-day walk. */
struct statsview_days {
	long		 first;
	uint64_t	 data[3][STATS_DAYS];
};

/* One dataset of builds-by-version. */
struct statsview_series {
	char		*label;
	uint64_t	 data[STATS_WEEKS];
};

/* The builds-by-version walk. */
struct statsview_versions {
	long			 start;
	const char		*branch;
	struct statsview_series	*v;
	size_t			 n;
};

/* The top-packages and top-clients walks. */
struct statsview_top {
	long		 first;
	const char	*branch;	/* NULL or "": every branch */
	int		 packages;	/* names carry a branch */
	struct tally	 tally;
};

/* The build-errors walk: the newest lines in a ring. */
struct statsview_ring {
	char		**line;
	size_t		  cap;
	size_t		  count;
};

/* The summary walk over hour buckets. */
struct statsview_hours {
	long		 first;
	long		 last;
	uint64_t	 sum;
};

/* A dataset of builds-per-day: which day counter, its label and colour. */
struct statsview_dayset {
	enum stats_counter	 counter;
	const char		*label;
	const char		*color;
};

static const struct statsview_dayset statsview_day_sets[3] = {
	{ STATS_REQUESTS, "Requests", "green" },
	{ STATS_HITS, "Cache-Hits", "orange" },
	{ STATS_FAILURES, "Failures", "red" }
};

static long long	 statsview_clamp(long long, long long, long long);
static const char	*statsview_bucket(const char *, long, long, long *);
static void		 statsview_gen_labels(yajl_gen, long, long, int);
static void		 statsview_gen_data(yajl_gen, const uint64_t *, size_t);
static int		 statsview_days_cb(const char *, const void *, size_t,
			    void *);
static struct statsview_series *statsview_series_get(
			    struct statsview_versions *, const char *, size_t);
static int		 statsview_series_cmp(const void *, const void *);
static int		 statsview_versions_cb(const char *, const void *,
			    size_t, void *);
static int		 statsview_top_cb(const char *, const void *, size_t,
			    void *);
static int		 statsview_top_cmp(const void *, const void *);
static char		*statsview_top(struct stats *, time_t, const char *,
			    int, long long, char **);
static int		 statsview_ring_cb(const char *, const void *, size_t,
			    void *);
static void		 statsview_ring_time(const char *, char *, size_t);
static int		 statsview_hours_cb(const char *, const void *, size_t,
			    void *);

/* n brought into [lo, hi]. */
static long long
statsview_clamp(long long n, long long lo, long long hi)
{
	if (n > hi)
		return (hi);
	if (n < lo)
		return (lo);
	return (n);
}

/*
 * The part after "stats:?:YYYYMMDD:" of a bucket name whose day is one of
 * the n from first (*day set), or NULL for any other name.
 */
static const char *
statsview_bucket(const char *name, long first, long n, long *day)
{
	const char	*p = name + STATSVIEW_PREFIX_LEN;

	if (strlen(p) < 10 || stats_day_parse(p, day) != 0 || p[8] != ':' ||
	    *day < first || *day >= first + n)
		return (NULL);
	return (p + 9);
}

/* Emits "labels": n "YYYY-MM-DDZ" dates, step days apart from first. */
static void
statsview_gen_labels(yajl_gen g, long first, long n, int step)
{
	char	label[32];
	long	i;

	jsonw_key(g, "labels");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		stats_day_label(first + i * step, label, sizeof label);
		jsonw_str(g, label);
	}
	yajl_gen_array_close(g);
}

/* Emits "data": an array of counts. */
static void
statsview_gen_data(yajl_gen g, const uint64_t *data, size_t n)
{
	size_t	i;

	jsonw_key(g, "data");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		yajl_gen_integer(g, (long long)data[i]);
	yajl_gen_array_close(g);
}

/* Adds a stats:d: bucket to its day and dataset, if shown. */
static int
statsview_days_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct statsview_days	*w = arg;
	const char		*counter;
	long			 day;
	size_t			 i;

	if ((counter = statsview_bucket(name, w->first, STATS_DAYS,
	    &day)) == NULL)
		return (0);
	for (i = 0; i < nitems(statsview_day_sets); i++) {
		if (strcmp(counter,
		    stats_counter_name(statsview_day_sets[i].counter)) == 0)
			w->data[i][day - w->first] +=
			    store_meta_counter(val, len);
	}
	return (0);
}

/* The last 30 UTC days of requests, cache hits and failures. */
char *
statsview_builds_per_day(struct stats *s, time_t now, char **cause)
{
	struct statsview_days	w;
	yajl_gen		g;
	size_t			i;

	memset(&w, 0, sizeof w);
	w.first = stats_day(now) - STATS_DAYS + 1;
	if (store_meta_foreach(stats_sync(s), "stats:d:", statsview_days_cb,
	    &w, cause) != 0)
		return (NULL);
	g = jsonw_new();
	yajl_gen_map_open(g);
	statsview_gen_labels(g, w.first, STATS_DAYS, 1);
	jsonw_key(g, "datasets");
	yajl_gen_array_open(g);
	for (i = 0; i < nitems(statsview_day_sets); i++) {
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "label", statsview_day_sets[i].label);
		statsview_gen_data(g, w.data[i], STATS_DAYS);
		jsonw_kv_str(g, "color", statsview_day_sets[i].color);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return (jsonw_finish(g, NULL));
}

/* Finds or adds the dataset of a label (len bytes of label). */
static struct statsview_series *
statsview_series_get(struct statsview_versions *w, const char *label,
    size_t len)
{
	size_t	i;

	for (i = 0; i < w->n; i++) {
		if (strlen(w->v[i].label) == len &&
		    strncmp(w->v[i].label, label, len) == 0)
			return (&w->v[i]);
	}
	w->v = xreallocarray(w->v, w->n + 1, sizeof *w->v);
	memset(&w->v[w->n], 0, sizeof w->v[w->n]);
	w->v[w->n].label = xstrndup(label, len);
	return (&w->v[w->n++]);
}

/* Orders datasets by label, as Python's sorted() on strings. */
static int
statsview_series_cmp(const void *a, const void *b)
{
	const struct statsview_series	*x = a, *y = b;

	return (strcmp(x->label, y->label));
}

/*
 * Adds a stats:v: bucket to its week. As the reference: with no branch a
 * version with a dot is cut to 5 characters (its branch); with a branch
 * only versions starting with it count, each under its own name.
 */
static int
statsview_versions_cb(const char *name, const void *val, size_t len,
    void *arg)
{
	struct statsview_versions	*w = arg;
	struct statsview_series		*v;
	const char			*version;
	size_t				 vlen;
	long				 day;

	if ((version = statsview_bucket(name, w->start, STATS_WEEKS * 7,
	    &day)) == NULL)
		return (0);
	vlen = strlen(version);
	if (w->branch != NULL) {
		if (strncmp(version, w->branch, strlen(w->branch)) != 0)
			return (0);
	} else if (strchr(version, '.') != NULL && vlen > 5)
		vlen = 5;
	v = statsview_series_get(w, version, vlen);
	v->data[(day - w->start) / 7] += store_meta_counter(val, len);
	return (0);
}

/* Successful builds per week over 26 weeks, by branch or by version. */
char *
statsview_builds_by_version(struct stats *s, time_t now, const char *branch,
    char **cause)
{
	struct statsview_versions	w;
	yajl_gen			g;
	size_t				i;
	char				*out = NULL;

	memset(&w, 0, sizeof w);
	w.start = stats_day(now) + 1 - STATS_WEEKS * 7;
	w.branch = branch;
	if (store_meta_foreach(stats_sync(s), "stats:v:",
	    statsview_versions_cb, &w, cause) != 0)
		goto out;
	if (w.n > 0)
		qsort(w.v, w.n, sizeof *w.v, statsview_series_cmp);
	g = jsonw_new();
	yajl_gen_map_open(g);
	statsview_gen_labels(g, w.start, STATS_WEEKS, 7);
	jsonw_key(g, "datasets");
	yajl_gen_array_open(g);
	for (i = 0; i < w.n; i++) {
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "label", w.v[i].label);
		statsview_gen_data(g, w.v[i].data, STATS_WEEKS);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	out = jsonw_finish(g, NULL);
out:
	for (i = 0; i < w.n; i++)
		free(w.v[i].label);
	free(w.v);
	return (out);
}

/* Adds a stats:p: or stats:c: bucket of the window to the tally. */
static int
statsview_top_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct statsview_top	*w = arg;
	const char		*what, *colon;
	long			 day;

	if ((what = statsview_bucket(name, w->first, STATS_DAYS,
	    &day)) == NULL)
		return (0);
	if (w->packages) {
		if ((colon = strchr(what, ':')) == NULL)
			return (0);
		if (w->branch != NULL && *w->branch != '\0' &&
		    (strlen(w->branch) != (size_t)(colon - what) ||
		    strncmp(what, w->branch, colon - what) != 0))
			return (0);
		what = colon + 1;
	}
	if (*what != '\0')
		tally_add(&w->tally, what, store_meta_counter(val, len));
	return (0);
}

/* Most counted first; ties by name, so that the order is stable. */
static int
statsview_top_cmp(const void *a, const void *b)
{
	const struct tally_entry	*x = *(struct tally_entry * const *)a;
	const struct tally_entry	*y = *(struct tally_entry * const *)b;

	if (x->count != y->count)
		return (x->count > y->count ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* The n most requested packages (or clients) of the last 30 days. */
static char *
statsview_top(struct stats *s, time_t now, const char *branch, int packages,
    long long n, char **cause)
{
	struct statsview_top	  w;
	struct tally_entry	**list = NULL;
	yajl_gen		  g;
	size_t			  i, shown;
	char			 *out = NULL;

	shown = (size_t)statsview_clamp(n, 0, STATSVIEW_TOP_MAX);
	memset(&w, 0, sizeof w);
	w.first = stats_day(now) - STATS_DAYS + 1;
	w.branch = branch;
	w.packages = packages;
	tally_init(&w.tally);
	if (store_meta_foreach(stats_sync(s), packages ? "stats:p:" :
	    "stats:c:", statsview_top_cb, &w, cause) != 0)
		goto out;
	list = tally_list(&w.tally);
	if (w.tally.n > 0)
		qsort(list, w.tally.n, sizeof *list, statsview_top_cmp);
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_key(g, packages ? "packages" : "clients");
	yajl_gen_array_open(g);
	for (i = 0; i < w.tally.n && i < shown; i++) {
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "name", list[i]->name);
		jsonw_kv_int(g, "count", (long long)list[i]->count);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (packages)
		jsonw_kv_str(g, "branch", branch);
	jsonw_kv_int(g, "days", STATS_DAYS);
	yajl_gen_map_close(g);
	out = jsonw_finish(g, NULL);
out:
	free(list);
	tally_free(&w.tally);
	return (out);
}

/* The n most requested extra packages of the last 30 days. */
char *
statsview_top_packages(struct stats *s, time_t now, const char *branch,
    long long n, char **cause)
{
	return (statsview_top(s, now, branch, 1, n, cause));
}

/* The n busiest clients of the last 30 days. */
char *
statsview_top_clients(struct stats *s, time_t now, long long n,
    char **cause)
{
	return (statsview_top(s, now, NULL, 0, n, cause));
}

/* Keeps the newest cap error lines seen so far. */
static int
statsview_ring_cb(__unused const char *name, const void *val, size_t len,
    void *arg)
{
	struct statsview_ring	*r = arg;
	size_t			 slot = r->count % r->cap;

	free(r->line[slot]);
	r->line[slot] = xstrndup(val, len);
	r->count++;
	return (0);
}

/* The first two space-separated fields of a line, or "unknown". */
static void
statsview_ring_time(const char *line, char *out, size_t len)
{
	const char	*sp, *end;

	if ((sp = strchr(line, ' ')) == NULL) {
		snprintf(out, len, "unknown");
		return;
	}
	if ((end = strchr(sp + 1, ' ')) == NULL)
		end = sp + strlen(sp);
	snprintf(out, len, "%.*s", (int)(end - line), line);
}

/* The reference's text summary of the newest n build errors. */
char *
statsview_build_errors(struct stats *s, long long n, char **cause)
{
	struct statsview_ring	 r;
	struct strv		 lines = STRV_INITIALIZER;
	char			 oldest[64], newest[64], *out = NULL;
	size_t			 shown, i;

	memset(&r, 0, sizeof r);
	r.cap = (size_t)statsview_clamp(n, 1, STATSVIEW_ERRORS_MAX);
	r.line = xcalloc(r.cap, sizeof *r.line);
	if (store_meta_foreach(stats_sync(s), "stats:e:", statsview_ring_cb,
	    &r, cause) != 0)
		goto out;
	if (r.count == 0) {
		out = xstrdup("No build errors recorded.");
		goto out;
	}
	shown = r.count < r.cap ? r.count : r.cap;
	statsview_ring_time(r.line[(r.count - shown) % r.cap], oldest,
	    sizeof oldest);
	statsview_ring_time(r.line[(r.count - 1) % r.cap], newest,
	    sizeof newest);
	strv_addf(&lines, "Build Errors: %zu entries", shown);
	strv_addf(&lines, "Time range: %s to %s", oldest, newest);
	strv_add(&lines, "");
	strv_add(&lines, "Recent errors:");
	strv_addf(&lines, "%.60s", "------------------------------------------"
	    "------------------");
	for (i = 1; i <= shown; i++)
		strv_add(&lines, r.line[(r.count - i) % r.cap]);
	out = strv_join(&lines, "\n");
out:
	for (i = 0; i < r.cap; i++)
		free(r.line[i]);
	free(r.line);
	strv_clear(&lines);
	return (out);
}

/* Adds a stats:h: bucket of the last 24 hours. */
static int
statsview_hours_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct statsview_hours	*w = arg;
	const char		*p = name + STATSVIEW_PREFIX_LEN;
	long			 hour;

	if (strlen(p) < 12 || stats_hour_parse(p, &hour) != 0 ||
	    p[10] != ':' || strcmp(p + 11, "successes") != 0)
		return (0);
	if (hour >= w->first && hour <= w->last)
		w->sum += store_meta_counter(val, len);
	return (0);
}

/* The queue length and the successful builds of the last 24 hours. */
char *
statsview_summary(struct stats *s, time_t now, size_t queue_length,
    char **cause)
{
	struct statsview_hours	w;
	yajl_gen		g;

	memset(&w, 0, sizeof w);
	w.last = stats_hour(now);
	w.first = w.last - 23;
	if (store_meta_foreach(stats_sync(s), "stats:h:", statsview_hours_cb,
	    &w, cause) != 0)
		return (NULL);
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_int(g, "queue_length", (long long)queue_length);
	jsonw_kv_int(g, "builds_24h", (long long)w.sum);
	yajl_gen_map_close(g);
	return (jsonw_finish(g, NULL));
}

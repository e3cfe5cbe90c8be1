/*
 * stats.c: build statistics for the reference's statistics endpoints,
 * kept as counters in UTC day (and hour) buckets in the store's meta
 * database so that they survive restarts. Events only touch memory: a
 * table of pending counter deltas and a list of pending error lines, which
 * stats_flush writes in one transaction. The layout is in stats.h.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/jsonw.h"
#include "server/stats.h"
#include "store/store.h"

#define STATS_DAY		86400
#define STATS_DAYS		30	/* builds-per-day and the top lists */
#define STATS_WEEKS		26	/* builds-by-version */
#define STATS_KEEP_DAYS		31
#define STATS_KEEP_VERSION_DAYS	(STATS_WEEKS * 7 + 1)
#define STATS_KEEP_HOUR_DAYS	2
#define STATS_PEND_MAX		1000	/* pending names that force a flush */
#define STATS_PEND_ERRORS	100	/* pending error lines that do too */
#define STATS_PEND_DROP		50000	/* past this, failed writes are lost */
#define STATS_NAME_MAX		200	/* the store's limit on meta names */
#define STATS_FIELD_MAX		128	/* bytes of version/target/profile */
#define STATS_MSG_CHARS		200	/* characters of an error message */
#define STATS_TOP_MAX		100
#define STATS_ERRORS_SHOW_MAX	500
#define STATS_PRUNE_CHUNK	1000	/* deletes per prune transaction */
#define STATS_HEX_RUN		64	/* a job id in an error message */
#define STATS_SEQ_NAME		"stats:e-seq"

enum stats_counter {
	STATS_REQUESTS,
	STATS_HITS,
	STATS_MISSES,
	STATS_SUCCESSES,
	STATS_FAILURES,
	STATS_SECONDS,
	STATS_NCOUNTERS
};

static const char *stats_counter_names[STATS_NCOUNTERS] = {
	"requests", "cache-hits", "cache-misses", "successes", "failures",
	"build-seconds"
};

/* The shapes in which times appear in names and outputs. */
enum stats_format {
	STATS_FMT_DAY,		/* YYYYMMDD */
	STATS_FMT_HOUR,		/* YYYYMMDDHH */
	STATS_FMT_LABEL,	/* YYYY-MM-DDZ */
	STATS_FMT_STAMP		/* YYYY-MM-DD HH:MM:SS */
};

/* One name and its count: a pending delta, or a row of a top list. */
struct stats_entry {
	char			*name;
	uint64_t		 count;
	struct stats_entry	*next;
};

/* A chained hash table of counts by name. */
struct stats_tally {
	struct stats_entry	**tab;
	size_t			  size;	/* buckets, a power of two */
	size_t			  n;
};

struct stats {
	struct store		*store;
	struct stats_tally	 pend;		/* meta name -> delta */
	struct strv		 errors;	/* error lines to write */
	time_t			 first_pend;	/* the oldest pending change */
	time_t			 now;		/* the latest time seen */
	long			 pruned_day;	/* -1: not pruned yet */
	uint64_t		 seq;		/* the next error ring slot */
	uint64_t		 total[STATS_NCOUNTERS];
};

/* A walk that deletes the names under prefix that sort before cutoff. */
struct stats_prune {
	const char	*prefix;
	size_t		 plen;
	char		 cutoff[20];
	struct strv	 names;
};

/* The builds-per-day walk. */
struct stats_days {
	long		 first;
	uint64_t	 data[3][STATS_DAYS];
};

/* One dataset of builds-by-version. */
struct stats_series {
	char		*label;
	uint64_t	 data[STATS_WEEKS];
};

/* The builds-by-version walk. */
struct stats_versions {
	long			 start;
	const char		*branch;
	struct stats_series	*v;
	size_t			 n;
};

/* The top-packages and top-clients walks. */
struct stats_top {
	long			 first;
	const char		*branch;	/* NULL or "": every branch */
	int			 packages;	/* names carry a branch */
	struct stats_tally	 tally;
};

/* The build-errors walk: the newest lines in a ring. */
struct stats_ring {
	char		**line;
	size_t		  cap;
	size_t		  count;
};

/* The summary walk over hour buckets. */
struct stats_hours {
	long		 first;
	long		 last;
	uint64_t	 sum;
};

/* A dataset of builds-per-day: which day counter, its label and colour. */
struct stats_dayset {
	int		 counter;
	const char	*label;
	const char	*color;
};

/* How long each kind of bucket is kept, in days. */
struct stats_keep {
	const char	*prefix;
	long		 days;
};

static const struct stats_dayset stats_day_sets[3] = {
	{ STATS_REQUESTS, "Requests", "green" },
	{ STATS_HITS, "Cache-Hits", "orange" },
	{ STATS_FAILURES, "Failures", "red" }
};

static uint32_t	stats_hash(const char *);
static void	stats_tally_init(struct stats_tally *);
static void	stats_tally_grow(struct stats_tally *);
static void	stats_tally_add(struct stats_tally *, const char *, uint64_t);
static struct stats_entry **stats_tally_list(const struct stats_tally *);
static void	stats_tally_clear(struct stats_tally *);
static long	stats_day(time_t);
static void	stats_time_fmt(time_t, int, char *, size_t);
static void	stats_day_fmt(long, int, char *, size_t);
static int	stats_digits(const char *, int, int *);
static int	stats_day_parse(const char *, long *);
static void	stats_pend(struct stats *, uint64_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	stats_begin(struct stats *, time_t);
static void	stats_end(struct stats *, time_t);
static void	stats_count(struct stats *, time_t, int, uint64_t);
static int	stats_load_cb(const char *, const void *, size_t, void *);
static int	stats_load(struct stats *, char **);
static void	stats_pend_drop(struct stats *);
static void	stats_write_errors(struct stats *, struct store_meta_op *,
		    size_t *, struct strv *);
static int	stats_write(struct stats *, char **);
static int	stats_prune_cb(const char *, const void *, size_t, void *);
static int	stats_prune_delete(struct stats *, struct strv *, char **);
static int	stats_prune_one(struct stats *, const char *, const char *,
		    char **);
static int	stats_prune(struct stats *, char **);
static void	stats_sync(struct stats *);
static void	stats_field(const char *, char *, size_t);
static size_t	stats_space_len(const unsigned char *);
static char	*stats_scrub(const char *);
static char	*stats_clean_message(const char *);
static void	stats_gen_labels(yajl_gen, long, long, int);
static void	stats_gen_data(yajl_gen, const uint64_t *, size_t);
static int	stats_days_cb(const char *, const void *, size_t, void *);
static struct stats_series *stats_series_get(struct stats_versions *,
		    const char *, size_t);
static int	stats_series_cmp(const void *, const void *);
static int	stats_versions_cb(const char *, const void *, size_t, void *);
static int	stats_top_cb(const char *, const void *, size_t, void *);
static int	stats_top_cmp(const void *, const void *);
static char	*stats_top(struct stats *, time_t, const char *, int,
		    long long, char **);
static int	stats_ring_cb(const char *, const void *, size_t, void *);
static void	stats_ring_time(const char *, char *, size_t);
static int	stats_hours_cb(const char *, const void *, size_t, void *);

/* FNV-1a: a small, good enough hash for counter names. */
static uint32_t
stats_hash(const char *s)
{
	uint32_t	h = 2166136261U;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	return (h);
}

/* Starts an empty table. */
static void
stats_tally_init(struct stats_tally *t)
{
	t->size = 64;
	t->n = 0;
	t->tab = xcalloc(t->size, sizeof *t->tab);
}

/* Doubles the buckets so that chains stay short. */
static void
stats_tally_grow(struct stats_tally *t)
{
	struct stats_entry	**tab, *e, *next;
	size_t			  size = t->size * 2, i, b;

	tab = xcalloc(size, sizeof *tab);
	for (i = 0; i < t->size; i++) {
		for (e = t->tab[i]; e != NULL; e = next) {
			next = e->next;
			b = stats_hash(e->name) & (size - 1);
			e->next = tab[b];
			tab[b] = e;
		}
	}
	free(t->tab);
	t->tab = tab;
	t->size = size;
}

/* Adds delta to the count of name, creating it at 0. */
static void
stats_tally_add(struct stats_tally *t, const char *name, uint64_t delta)
{
	struct stats_entry	*e;
	size_t			 b;

	b = stats_hash(name) & (t->size - 1);
	for (e = t->tab[b]; e != NULL; e = e->next) {
		if (strcmp(e->name, name) == 0) {
			e->count += delta;
			return;
		}
	}
	e = xcalloc(1, sizeof *e);
	e->name = xstrdup(name);
	e->count = delta;
	e->next = t->tab[b];
	t->tab[b] = e;
	if (++t->n > t->size * 2)
		stats_tally_grow(t);
}

/* The entries as an array of t->n pointers (owned by the table). */
static struct stats_entry **
stats_tally_list(const struct stats_tally *t)
{
	struct stats_entry	**list, *e;
	size_t			  i, k = 0;

	list = xcalloc(t->n + 1, sizeof *list);
	for (i = 0; i < t->size; i++) {
		for (e = t->tab[i]; e != NULL; e = e->next)
			list[k++] = e;
	}
	return (list);
}

/* Frees every entry; the table stays usable. */
static void
stats_tally_clear(struct stats_tally *t)
{
	struct stats_entry	*e, *next;
	size_t			 i;

	for (i = 0; i < t->size; i++) {
		for (e = t->tab[i]; e != NULL; e = next) {
			next = e->next;
			free(e->name);
			free(e);
		}
		t->tab[i] = NULL;
	}
	t->n = 0;
}

/* The UTC day number of t (days since 1970-01-01). */
static long
stats_day(time_t t)
{
	long	d = (long)(t / STATS_DAY);

	if (t < 0 && t % STATS_DAY != 0)
		d--;
	return (d);
}

/* Formats a time in UTC in one of the stats_format shapes. */
static void
stats_time_fmt(time_t t, int how, char *out, size_t len)
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "?");
		return;
	}
	tm.tm_year += 1900;
	tm.tm_mon++;
	switch (how) {
	case STATS_FMT_DAY:
		snprintf(out, len, "%04d%02d%02d", tm.tm_year, tm.tm_mon,
		    tm.tm_mday);
		break;
	case STATS_FMT_HOUR:
		snprintf(out, len, "%04d%02d%02d%02d", tm.tm_year, tm.tm_mon,
		    tm.tm_mday, tm.tm_hour);
		break;
	case STATS_FMT_LABEL:
		snprintf(out, len, "%04d-%02d-%02dZ", tm.tm_year, tm.tm_mon,
		    tm.tm_mday);
		break;
	default:
		snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d",
		    tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
		break;
	}
}

/* Formats the midnight that starts day. */
static void
stats_day_fmt(long day, int how, char *out, size_t len)
{
	stats_time_fmt((time_t)day * STATS_DAY, how, out, len);
}

/* Reads n decimal digits; -1 when one is not a digit. */
static int
stats_digits(const char *p, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return (-1);
		*v = *v * 10 + (p[i] - '0');
	}
	return (0);
}

/* Reads a YYYYMMDD day into a day number. */
static int
stats_day_parse(const char *p, long *day)
{
	struct tm	tm;
	int		y, m, d;
	time_t		t;

	if (stats_digits(p, 4, &y) != 0 || stats_digits(p + 4, 2, &m) != 0 ||
	    stats_digits(p + 6, 2, &d) != 0 || m < 1 || m > 12 || d < 1 ||
	    d > 31)
		return (-1);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	if ((t = timegm(&tm)) == (time_t)-1)
		return (-1);
	*day = stats_day(t);
	return (0);
}

/* Adds delta to the pending change of a formatted meta name. */
static void
stats_pend(struct stats *s, uint64_t delta, const char *fmt, ...)
{
	char	name[STATS_NAME_MAX + 1];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof name) {
		log_debug("stats: name too long, not counted: %.60s...", name);
		return;
	}
	stats_tally_add(&s->pend, name, delta);
}

/* Notes the time of an event before its changes are added. */
static void
stats_begin(struct stats *s, time_t now)
{
	if (s->pend.n == 0 && s->errors.n == 0)
		s->first_pend = now;
	if (now > s->now)
		s->now = now;
}

/* Flushes after an event when enough has piled up or waited long enough. */
static void
stats_end(struct stats *s, time_t now)
{
	char	*cause = NULL;

	if (s->pend.n < STATS_PEND_MAX && s->errors.n < STATS_PEND_ERRORS &&
	    now >= s->first_pend && now - s->first_pend < STATS_FLUSH_SECS)
		return;
	if (stats_flush(s, &cause) != 0) {
		log_warnx("stats: %s", cause);
		free(cause);
	}
}

/* Counts one event in the totals and in its day bucket. */
static void
stats_count(struct stats *s, time_t now, int c, uint64_t delta)
{
	char	day[16];

	stats_day_fmt(stats_day(now), STATS_FMT_DAY, day, sizeof day);
	s->total[c] += delta;
	stats_pend(s, delta, "stats:t:%s", stats_counter_names[c]);
	stats_pend(s, delta, "stats:d:%s:%s", day, stats_counter_names[c]);
}

/* Picks the totals out of the stats:t: names. */
static int
stats_load_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct stats	*s = arg;
	int		 i;

	for (i = 0; i < STATS_NCOUNTERS; i++) {
		if (strcmp(name + strlen("stats:t:"),
		    stats_counter_names[i]) == 0)
			s->total[i] = store_meta_counter(val, len);
	}
	return (0);
}

/* Reads the totals and the error ring position. */
static int
stats_load(struct stats *s, char **cause)
{
	void	*val = NULL;
	size_t	 len = 0;
	int	 found;

	if (store_meta_foreach(s->store, "stats:t:", stats_load_cb, s,
	    cause) != 0)
		return (-1);
	found = store_meta_get(s->store, STATS_SEQ_NAME, &val, &len, cause);
	if (found == -1)
		return (-1);
	if (found)
		s->seq = store_meta_counter(val, len);
	free(val);
	return (0);
}

/* Loads what was counted before this start. */
struct stats *
stats_new(struct store *store, char **cause)
{
	struct stats	*s;

	s = xcalloc(1, sizeof *s);
	s->store = store;
	s->pruned_day = -1;
	stats_tally_init(&s->pend);
	if (stats_load(s, cause) != 0) {
		stats_tally_clear(&s->pend);
		free(s->pend.tab);
		free(s);
		return (NULL);
	}
	return (s);
}

/* Writes what is pending and frees; nothing is lost on a clean stop. */
void
stats_free(struct stats *s)
{
	char	*cause = NULL;

	if (s == NULL)
		return;
	if (stats_flush(s, &cause) != 0) {
		log_warnx("stats: %s; %zu counters and %zu error lines lost",
		    cause, s->pend.n, s->errors.n);
		free(cause);
	}
	stats_tally_clear(&s->pend);
	free(s->pend.tab);
	strv_clear(&s->errors);
	free(s);
}

/* Gives up on pending changes the store keeps refusing. */
static void
stats_pend_drop(struct stats *s)
{
	log_warnx("stats: dropping %zu pending counters and %zu error lines "
	    "that could not be written", s->pend.n, s->errors.n);
	stats_tally_clear(&s->pend);
	strv_clear(&s->errors);
}

/* Adds the ops that write the pending error lines into the ring. */
static void
stats_write_errors(struct stats *s, struct store_meta_op *ops, size_t *k,
    struct strv *keys)
{
	uint64_t	seq;
	size_t		i;

	for (i = 0; i < s->errors.n; i++) {
		seq = s->seq + i;
		strv_addf(keys, "stats:e:%016llx", (unsigned long long)seq);
		ops[*k].op = STORE_META_PUT;
		ops[*k].name = keys->v[keys->n - 1];
		ops[*k].val = s->errors.v[i];
		ops[*k].len = strlen(s->errors.v[i]);
		(*k)++;
		if (seq < STATS_ERRORS_MAX)
			continue;
		strv_addf(keys, "stats:e:%016llx",
		    (unsigned long long)(seq - STATS_ERRORS_MAX));
		ops[*k].op = STORE_META_DEL;
		ops[*k].name = keys->v[keys->n - 1];
		(*k)++;
	}
	if (s->errors.n > 0) {
		ops[*k].op = STORE_META_ADD;
		ops[*k].name = STATS_SEQ_NAME;
		ops[*k].delta = s->errors.n;
		(*k)++;
	}
}

/* Writes the pending deltas and error lines in one transaction. */
static int
stats_write(struct stats *s, char **cause)
{
	struct store_meta_op	 *ops;
	struct stats_entry	**list;
	struct strv		  keys = STRV_INITIALIZER;
	size_t			  i, k = 0;
	int			  rc;

	if (s->pend.n == 0 && s->errors.n == 0)
		return (0);
	ops = xcalloc(s->pend.n + 2 * s->errors.n + 1, sizeof *ops);
	list = stats_tally_list(&s->pend);
	for (i = 0; i < s->pend.n; i++, k++) {
		ops[k].op = STORE_META_ADD;
		ops[k].name = list[i]->name;
		ops[k].delta = list[i]->count;
	}
	stats_write_errors(s, ops, &k, &keys);
	rc = store_meta_apply(s->store, ops, k, cause);
	free(ops);
	free(list);
	strv_clear(&keys);
	if (rc != 0) {
		s->first_pend = s->now;
		if (s->pend.n + s->errors.n > STATS_PEND_DROP)
			stats_pend_drop(s);
		return (-1);
	}
	s->seq += s->errors.n;
	stats_tally_clear(&s->pend);
	strv_clear(&s->errors);
	return (0);
}

/* Collects names below the cutoff; names are sorted, so stop past it. */
static int
stats_prune_cb(const char *name, __unused const void *val,
    __unused size_t len, void *arg)
{
	struct stats_prune	*p = arg;

	if (strncmp(name + p->plen, p->cutoff, strlen(p->cutoff)) >= 0)
		return (1);
	strv_add(&p->names, name);
	return (0);
}

/* Deletes the collected names, a bounded number per transaction. */
static int
stats_prune_delete(struct stats *s, struct strv *names, char **cause)
{
	struct store_meta_op	*ops;
	size_t			 i, k;
	int			 rc = 0;

	ops = xcalloc(STATS_PRUNE_CHUNK, sizeof *ops);
	for (i = 0; i < names->n && rc == 0; i += k) {
		for (k = 0; k < STATS_PRUNE_CHUNK && i + k < names->n; k++) {
			ops[k].op = STORE_META_DEL;
			ops[k].name = names->v[i + k];
		}
		rc = store_meta_apply(s->store, ops, k, cause);
	}
	free(ops);
	return (rc);
}

/* Deletes the names under prefix whose key part sorts before cutoff. */
static int
stats_prune_one(struct stats *s, const char *prefix, const char *cutoff,
    char **cause)
{
	struct stats_prune	p;
	int			rc;

	memset(&p, 0, sizeof p);
	p.prefix = prefix;
	p.plen = strlen(prefix);
	snprintf(p.cutoff, sizeof p.cutoff, "%s", cutoff);
	rc = store_meta_foreach(s->store, prefix, stats_prune_cb, &p, cause);
	if (rc == 0 && p.names.n > 0) {
		log_debug("stats: pruning %zu names under %s", p.names.n,
		    prefix);
		rc = stats_prune_delete(s, &p.names, cause);
	}
	strv_clear(&p.names);
	return (rc);
}

/* Forgets the buckets too old for any output, and stray error lines. */
static int
stats_prune(struct stats *s, char **cause)
{
	static const struct stats_keep	 buckets[] = {
		{ "stats:d:", STATS_KEEP_DAYS },
		{ "stats:h:", STATS_KEEP_HOUR_DAYS },
		{ "stats:v:", STATS_KEEP_VERSION_DAYS },
		{ "stats:p:", STATS_KEEP_DAYS },
		{ "stats:c:", STATS_KEEP_DAYS }
	};
	char				 cutoff[20];
	long				 today = stats_day(s->now);
	size_t				 i;

	for (i = 0; i < nitems(buckets); i++) {
		stats_day_fmt(today - buckets[i].days + 1, STATS_FMT_DAY,
		    cutoff, sizeof cutoff);
		if (stats_prune_one(s, buckets[i].prefix, cutoff, cause) != 0)
			return (-1);
	}
	if (s->seq > STATS_ERRORS_MAX) {
		snprintf(cutoff, sizeof cutoff, "%016llx",
		    (unsigned long long)(s->seq - STATS_ERRORS_MAX));
		if (stats_prune_one(s, "stats:e:", cutoff, cause) != 0)
			return (-1);
	}
	return (0);
}

/* Writes what is pending; once per UTC day also prunes old buckets. */
int
stats_flush(struct stats *s, char **cause)
{
	long	today;

	if (stats_write(s, cause) != 0)
		return (-1);
	if (s->now <= 0 || (today = stats_day(s->now)) == s->pruned_day)
		return (0);
	if (stats_prune(s, cause) != 0)
		return (-1);
	s->pruned_day = today;
	return (0);
}

/*
 * Before an output: write what is pending so that it shows. Outputs do not
 * move the pruning clock; only events do.
 */
static void
stats_sync(struct stats *s)
{
	char	*cause = NULL;

	if (stats_flush(s, &cause) != 0) {
		log_warnx("stats: %s", cause);
		free(cause);
	}
}

/* The reference's client naming, with a missing User-Agent allowed. */
void
stats_client_name(const char *client, const char *user_agent, char *out,
    size_t len)
{
	const char	*p;
	size_t		 o = 0;

	if (len == 0)
		return;
	if (client != NULL && *client != '\0') {
		snprintf(out, len, "%s", client);
		return;
	}
	if (user_agent == NULL || strncmp(user_agent, "auc", 3) != 0) {
		snprintf(out, len, "unknown/0");
		return;
	}
	for (p = user_agent; *p != '\0' && o + 1 < len; p++) {
		if (p[0] == ' ' && p[1] == '(') {
			out[o++] = '/';
			p++;
		} else if (*p != ')')
			out[o++] = *p;
	}
	out[o] = '\0';
}

/* Counts a build request and its client. */
void
stats_request(struct stats *s, time_t now, const char *client)
{
	char	day[16];

	stats_begin(s, now);
	stats_count(s, now, STATS_REQUESTS, 1);
	stats_day_fmt(stats_day(now), STATS_FMT_DAY, day, sizeof day);
	stats_pend(s, 1, "stats:c:%s:%.*s", day, STATS_CLIENT_MAX,
	    client != NULL && *client != '\0' ? client : "unknown/0");
	stats_end(s, now);
}

/* Counts a request answered from a finished build. */
void
stats_cache_hit(struct stats *s, time_t now)
{
	stats_begin(s, now);
	stats_count(s, now, STATS_HITS, 1);
	stats_end(s, now);
}

/* Counts a request that needed a build. */
void
stats_cache_miss(struct stats *s, time_t now)
{
	stats_begin(s, now);
	stats_count(s, now, STATS_MISSES, 1);
	stats_end(s, now);
}

/* Counts a successful build by day, hour and version, and its time. */
void
stats_success(struct stats *s, time_t now, const char *version,
    __unused const char *target, __unused const char *profile,
    long long duration_seconds)
{
	char	day[16], hour[16];

	stats_begin(s, now);
	stats_count(s, now, STATS_SUCCESSES, 1);
	if (duration_seconds > 0)
		stats_count(s, now, STATS_SECONDS,
		    (uint64_t)duration_seconds);
	stats_day_fmt(stats_day(now), STATS_FMT_DAY, day, sizeof day);
	stats_time_fmt(now, STATS_FMT_HOUR, hour, sizeof hour);
	stats_pend(s, 1, "stats:h:%s:successes", hour);
	if (version != NULL && *version != '\0')
		stats_pend(s, 1, "stats:v:%s:%s", day, version);
	stats_end(s, now);
}

/* Copies an identifier for an error line, control characters replaced. */
static void
stats_field(const char *in, char *out, size_t len)
{
	size_t	i;

	snprintf(out, len, "%s", in != NULL ? in : "");
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	}
}

/*
 * The length of the whitespace character at p, or 0: what Python's
 * str.split() splits on, in UTF-8.
 */
static size_t
stats_space_len(const unsigned char *p)
{
	if (*p == ' ' || (*p >= '\t' && *p <= '\r') ||
	    (*p >= 0x1c && *p <= 0x1f))
		return (1);
	if (p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return (2);
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
		return (3);
	if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) ||
	    p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return (3);
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
		return (3);
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return (3);
	return (0);
}

/* Replaces every run of 64 lowercase hex digits with "[job-id]". */
static char *
stats_scrub(const char *msg)
{
	size_t	 len = strlen(msg), i, j, o = 0;
	char	*out;

	out = xmalloc(len + 1);
	for (i = 0; i < len;) {
		for (j = 0; j < STATS_HEX_RUN && i + j < len; j++) {
			if ((msg[i + j] < '0' || msg[i + j] > '9') &&
			    (msg[i + j] < 'a' || msg[i + j] > 'f'))
				break;
		}
		if (j == STATS_HEX_RUN) {
			/* Shorter than what it replaces: out stays big enough. */
			memcpy(out + o, "[job-id]", 8);
			o += 8;
			i += STATS_HEX_RUN;
		} else
			out[o++] = msg[i++];
	}
	out[o] = '\0';
	return (out);
}

/*
 * The reference's cleaning of an error message: job ids scrubbed,
 * whitespace runs turned into one space (none at the ends), and the result
 * cut to 200 characters.
 */
static char *
stats_clean_message(const char *msg)
{
	const unsigned char	*p;
	char			*scrubbed, *out;
	size_t			 o = 0, n, chars = 0;
	int			 gap = 0;

	scrubbed = stats_scrub(msg != NULL ? msg : "");
	out = xmalloc(strlen(scrubbed) + 1);
	for (p = (const unsigned char *)scrubbed; *p != '\0';) {
		if ((n = stats_space_len(p)) > 0) {
			gap = o > 0;
			p += n;
			continue;
		}
		if ((*p & 0xc0) != 0x80) {
			if (gap && chars < STATS_MSG_CHARS) {
				out[o++] = ' ';
				chars++;
			}
			gap = 0;
			if (chars++ >= STATS_MSG_CHARS)
				break;
		}
		out[o++] = (char)*p++;
	}
	out[o] = '\0';
	free(scrubbed);
	return (out);
}

/* Counts a failed build and keeps its error line. */
void
stats_failure(struct stats *s, time_t now, const char *version,
    const char *target, const char *profile, const char *message)
{
	char	when[32], v[STATS_FIELD_MAX], t[STATS_FIELD_MAX];
	char	p[STATS_FIELD_MAX], *clean;

	stats_begin(s, now);
	stats_count(s, now, STATS_FAILURES, 1);
	stats_time_fmt(now, STATS_FMT_STAMP, when, sizeof when);
	stats_field(version, v, sizeof v);
	stats_field(target, t, sizeof t);
	stats_field(profile, p, sizeof p);
	clean = stats_clean_message(message);
	strv_addf(&s->errors, "%s %s:%s:%s %s", when, v, t, p, clean);
	free(clean);
	stats_end(s, now);
}

/* Counts the extra packages of one build, each once, for its branch. */
void
stats_packages(struct stats *s, time_t now, const char *branch,
    const struct strv *extra)
{
	struct strv	uniq = STRV_INITIALIZER;
	char		day[16];
	size_t		i;

	if (branch == NULL || *branch == '\0' || strchr(branch, ':') != NULL ||
	    extra == NULL || extra->n == 0)
		return;
	stats_begin(s, now);
	stats_day_fmt(stats_day(now), STATS_FMT_DAY, day, sizeof day);
	strv_copy(&uniq, extra);
	strv_sort_unique(&uniq);
	for (i = 0; i < uniq.n; i++) {
		if (uniq.v[i][0] == '-' || uniq.v[i][0] == '\0')
			continue;
		stats_pend(s, 1, "stats:p:%s:%s:%s", day, branch, uniq.v[i]);
	}
	strv_clear(&uniq);
	stats_end(s, now);
}

/* The totals since the first start, as counted in memory. */
void
stats_totals(struct stats *s, uint64_t *requests, uint64_t *hits,
    uint64_t *misses, uint64_t *successes, uint64_t *failures)
{
	*requests = s->total[STATS_REQUESTS];
	*hits = s->total[STATS_HITS];
	*misses = s->total[STATS_MISSES];
	*successes = s->total[STATS_SUCCESSES];
	*failures = s->total[STATS_FAILURES];
}

/* The seconds spent in successful builds since the first start. */
uint64_t
stats_build_seconds(struct stats *s)
{
	return (s->total[STATS_SECONDS]);
}

/* Emits "labels": n "YYYY-MM-DDZ" dates, step days apart from first. */
static void
stats_gen_labels(yajl_gen g, long first, long n, int step)
{
	char	label[32];
	long	i;

	jsonw_key(g, "labels");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		stats_day_fmt(first + i * step, STATS_FMT_LABEL, label,
		    sizeof label);
		jsonw_str(g, label);
	}
	yajl_gen_array_close(g);
}

/* Emits "data": an array of counts. */
static void
stats_gen_data(yajl_gen g, const uint64_t *data, size_t n)
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
stats_days_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct stats_days	*w = arg;
	const char		*p = name + strlen("stats:d:");
	long			 day;
	size_t			 i;

	if (strlen(p) < 10 || stats_day_parse(p, &day) != 0 || p[8] != ':' ||
	    day < w->first || day >= w->first + STATS_DAYS)
		return (0);
	for (i = 0; i < nitems(stats_day_sets); i++) {
		if (strcmp(p + 9,
		    stats_counter_names[stats_day_sets[i].counter]) == 0)
			w->data[i][day - w->first] +=
			    store_meta_counter(val, len);
	}
	return (0);
}

/* The last 30 UTC days of requests, cache hits and failures. */
char *
stats_builds_per_day(struct stats *s, time_t now, char **cause)
{
	struct stats_days	w;
	yajl_gen		g;
	size_t			i;

	stats_sync(s);
	memset(&w, 0, sizeof w);
	w.first = stats_day(now) - STATS_DAYS + 1;
	if (store_meta_foreach(s->store, "stats:d:", stats_days_cb, &w,
	    cause) != 0)
		return (NULL);
	g = jsonw_new();
	yajl_gen_map_open(g);
	stats_gen_labels(g, w.first, STATS_DAYS, 1);
	jsonw_key(g, "datasets");
	yajl_gen_array_open(g);
	for (i = 0; i < nitems(stats_day_sets); i++) {
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "label", stats_day_sets[i].label);
		stats_gen_data(g, w.data[i], STATS_DAYS);
		jsonw_kv_str(g, "color", stats_day_sets[i].color);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return (jsonw_finish(g, NULL));
}

/* Finds or adds the dataset of a label (len bytes of label). */
static struct stats_series *
stats_series_get(struct stats_versions *w, const char *label, size_t len)
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
stats_series_cmp(const void *a, const void *b)
{
	const struct stats_series	*x = a, *y = b;

	return (strcmp(x->label, y->label));
}

/*
 * Adds a stats:v: bucket to its week. As the reference: with no branch a
 * version with a dot is cut to 5 characters (its branch); with a branch
 * only versions starting with it count, each under its own name.
 */
static int
stats_versions_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct stats_versions	*w = arg;
	struct stats_series	*v;
	const char		*p = name + strlen("stats:v:"), *version;
	size_t			 vlen;
	long			 day;

	if (strlen(p) < 10 || stats_day_parse(p, &day) != 0 || p[8] != ':' ||
	    day < w->start || day >= w->start + STATS_WEEKS * 7)
		return (0);
	version = p + 9;
	vlen = strlen(version);
	if (w->branch != NULL) {
		if (strncmp(version, w->branch, strlen(w->branch)) != 0)
			return (0);
	} else if (strchr(version, '.') != NULL && vlen > 5)
		vlen = 5;
	v = stats_series_get(w, version, vlen);
	v->data[(day - w->start) / 7] += store_meta_counter(val, len);
	return (0);
}

/* Successful builds per week over 26 weeks, by branch or by version. */
char *
stats_builds_by_version(struct stats *s, time_t now, const char *branch,
    char **cause)
{
	struct stats_versions	w;
	yajl_gen		g;
	size_t			i;
	char			*out = NULL;

	stats_sync(s);
	memset(&w, 0, sizeof w);
	w.start = stats_day(now) + 1 - STATS_WEEKS * 7;
	w.branch = branch;
	if (store_meta_foreach(s->store, "stats:v:", stats_versions_cb, &w,
	    cause) != 0)
		goto out;
	if (w.n > 0)
		qsort(w.v, w.n, sizeof *w.v, stats_series_cmp);
	g = jsonw_new();
	yajl_gen_map_open(g);
	stats_gen_labels(g, w.start, STATS_WEEKS, 7);
	jsonw_key(g, "datasets");
	yajl_gen_array_open(g);
	for (i = 0; i < w.n; i++) {
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "label", w.v[i].label);
		stats_gen_data(g, w.v[i].data, STATS_WEEKS);
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
stats_top_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct stats_top	*w = arg;
	const char		*p = name + 8, *what, *colon;	/* stats:?: */
	long			 day;

	if (strlen(p) < 10 || stats_day_parse(p, &day) != 0 || p[8] != ':' ||
	    day < w->first || day >= w->first + STATS_DAYS)
		return (0);
	what = p + 9;
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
		stats_tally_add(&w->tally, what, store_meta_counter(val, len));
	return (0);
}

/* Most counted first; ties by name, so that the order is stable. */
static int
stats_top_cmp(const void *a, const void *b)
{
	const struct stats_entry	*x = *(struct stats_entry * const *)a;
	const struct stats_entry	*y = *(struct stats_entry * const *)b;

	if (x->count != y->count)
		return (x->count > y->count ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* The n most requested packages (or clients) of the last 30 days. */
static char *
stats_top(struct stats *s, time_t now, const char *branch, int packages,
    long long n, char **cause)
{
	struct stats_top	  w;
	struct stats_entry	**list = NULL;
	yajl_gen		  g;
	size_t			  i;
	char			 *out = NULL;

	stats_sync(s);
	if (n > STATS_TOP_MAX)
		n = STATS_TOP_MAX;
	if (n < 0)
		n = 0;
	memset(&w, 0, sizeof w);
	w.first = stats_day(now) - STATS_DAYS + 1;
	w.branch = branch;
	w.packages = packages;
	stats_tally_init(&w.tally);
	if (store_meta_foreach(s->store, packages ? "stats:p:" : "stats:c:",
	    stats_top_cb, &w, cause) != 0)
		goto out;
	list = stats_tally_list(&w.tally);
	if (w.tally.n > 0)
		qsort(list, w.tally.n, sizeof *list, stats_top_cmp);
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_key(g, packages ? "packages" : "clients");
	yajl_gen_array_open(g);
	for (i = 0; i < w.tally.n && i < (size_t)n; i++) {
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
	stats_tally_clear(&w.tally);
	free(w.tally.tab);
	return (out);
}

/* The n most requested extra packages of the last 30 days. */
char *
stats_top_packages(struct stats *s, time_t now, const char *branch,
    long long n, char **cause)
{
	return (stats_top(s, now, branch, 1, n, cause));
}

/* The n busiest clients of the last 30 days. */
char *
stats_top_clients(struct stats *s, time_t now, long long n, char **cause)
{
	return (stats_top(s, now, NULL, 0, n, cause));
}

/* Keeps the newest cap error lines seen so far. */
static int
stats_ring_cb(__unused const char *name, const void *val, size_t len,
    void *arg)
{
	struct stats_ring	*r = arg;
	size_t			 slot = r->count % r->cap;

	free(r->line[slot]);
	r->line[slot] = xstrndup(val, len);
	r->count++;
	return (0);
}

/* The first two space-separated fields of a line, or "unknown". */
static void
stats_ring_time(const char *line, char *out, size_t len)
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
stats_build_errors(struct stats *s, long long n, char **cause)
{
	struct stats_ring	 r;
	struct strv		 lines = STRV_INITIALIZER;
	char			 oldest[64], newest[64], *out = NULL;
	size_t			 shown, i;

	stats_sync(s);
	if (n > STATS_ERRORS_SHOW_MAX)
		n = STATS_ERRORS_SHOW_MAX;
	if (n < 1)
		n = 1;
	memset(&r, 0, sizeof r);
	r.cap = (size_t)n;
	r.line = xcalloc(r.cap, sizeof *r.line);
	if (store_meta_foreach(s->store, "stats:e:", stats_ring_cb, &r,
	    cause) != 0)
		goto out;
	if (r.count == 0) {
		out = xstrdup("No build errors recorded.");
		goto out;
	}
	shown = r.count < r.cap ? r.count : r.cap;
	stats_ring_time(r.line[(r.count - shown) % r.cap], oldest,
	    sizeof oldest);
	stats_ring_time(r.line[(r.count - 1) % r.cap], newest, sizeof newest);
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
stats_hours_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct stats_hours	*w = arg;
	const char		*p = name + strlen("stats:h:");
	long			 day, hour;
	int			 hh;

	if (strlen(p) < 12 || stats_day_parse(p, &day) != 0 ||
	    stats_digits(p + 8, 2, &hh) != 0 || hh > 23 || p[10] != ':' ||
	    strcmp(p + 11, "successes") != 0)
		return (0);
	hour = day * 24 + hh;
	if (hour >= w->first && hour <= w->last)
		w->sum += store_meta_counter(val, len);
	return (0);
}

/* The queue length and the successful builds of the last 24 hours. */
char *
stats_summary(struct stats *s, time_t now, size_t queue_length,
    char **cause)
{
	struct stats_hours	w;
	yajl_gen		g;

	stats_sync(s);
	memset(&w, 0, sizeof w);
	w.last = stats_day(now) * 24 + (long)((now - (time_t)stats_day(now) *
	    STATS_DAY) / 3600);
	w.first = w.last - 23;
	if (store_meta_foreach(s->store, "stats:h:", stats_hours_cb, &w,
	    cause) != 0)
		return (NULL);
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_int(g, "queue_length", (long long)queue_length);
	jsonw_kv_int(g, "builds_24h", (long long)w.sum);
	yajl_gen_map_close(g);
	return (jsonw_finish(g, NULL));
}

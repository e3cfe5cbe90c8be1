/*
 * stats.c: build statistics for the reference's statistics endpoints,
 * kept as counters in UTC day (and hour) buckets in the store's meta
 * database so that they survive restarts. Events only touch memory: a
 * table of pending counter deltas and a list of pending error lines, which
 * stats_flush writes in one transaction. The layout is in stats.h; the
 * endpoints' bodies are rendered by statsview.c.
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
#include "server/stats.h"
#include "server/tally.h"
#include "store/store.h"

#define STATS_DAY		86400
#define STATS_KEEP_DAYS		31
#define STATS_KEEP_VERSION_DAYS	(STATS_WEEKS * 7 + 1)
#define STATS_KEEP_HOUR_DAYS	2
#define STATS_PEND_MAX		1000	/* pending names that force a flush */
#define STATS_PEND_ERRORS	100	/* pending error lines that do too */
#define STATS_PEND_DROP		50000	/* past this, failed writes are lost */
#define STATS_NAME_MAX		200	/* the store's limit on meta names */
#define STATS_FIELD_MAX		128	/* bytes of version/target/profile */
#define STATS_MSG_CHARS		200	/* characters of an error message */
#define STATS_PRUNE_CHUNK	1000	/* deletes per prune transaction */
#define STATS_HEX_RUN		64	/* a job id in an error message */
#define STATS_SEQ_NAME		"stats:e-seq"

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

struct stats {
	struct store		*store;
	struct tally		 pend;		/* meta name -> delta */
	struct strv		 errors;	/* error lines to write */
	time_t			 first_pend;	/* the oldest pending change */
	time_t			 now;		/* the latest time seen */
	long			 pruned_day;	/* -1: not pruned yet */
	uint64_t		 seq;		/* the next error ring slot */
	uint64_t		 total[STATS_NCOUNTERS];
	/* A batch handed to a record write (stats_ride), until done. */
	struct store_meta_op	*ride_ops;
	struct tally_entry	**ride_list;
	struct strv		 ride_keys;
};

/* A walk that deletes the names under prefix that sort before cutoff. */
struct stats_prune {
	const char	*prefix;
	size_t		 plen;
	char		 cutoff[20];
	struct strv	 names;
};

/* How long each kind of bucket is kept, in days. */
struct stats_keep {
	const char	*prefix;
	long		 days;
};

static void	stats_time_fmt(time_t, int, char *, size_t);
static void	stats_day_fmt(long, int, char *, size_t);
static int	stats_digits(const char *, int, int *);
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
static size_t	stats_ride_get(void *, const struct store_meta_op **);
static void	stats_ride_done(void *, int);
static int	stats_prune_cb(const char *, const void *, size_t, void *);
static int	stats_prune_delete(struct stats *, struct strv *, char **);
static int	stats_prune_one(struct stats *, const char *, const char *,
		    char **);
static int	stats_prune(struct stats *, char **);
static void	stats_field(const char *, char *, size_t);
static size_t	stats_space_len(const unsigned char *);
static char	*stats_scrub(const char *);
static char	*stats_clean_message(const char *);

/* The name of a counter in the meta database. */
const char *
stats_counter_name(enum stats_counter c)
{
	return (stats_counter_names[c]);
}

/* The UTC day number of t (days since 1970-01-01). */
long
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

/* The UTC hour number of t: its day * 24 plus the hour of that day. */
long
stats_hour(time_t t)
{
	return (stats_day(t) * 24 + (long)((t - (time_t)stats_day(t) *
	    STATS_DAY) / 3600));
}

/* Formats the midnight that starts day. */
static void
stats_day_fmt(long day, int how, char *out, size_t len)
{
	stats_time_fmt((time_t)day * STATS_DAY, how, out, len);
}

/* Formats day as an output's label, "YYYY-MM-DDZ". */
void
stats_day_label(long day, char *out, size_t len)
{
	stats_day_fmt(day, STATS_FMT_LABEL, out, len);
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
int
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

/* Reads a YYYYMMDDHH hour into an hour number. */
int
stats_hour_parse(const char *p, long *hour)
{
	long	day;
	int	hh;

	if (stats_day_parse(p, &day) != 0 || stats_digits(p + 8, 2, &hh) != 0 ||
	    hh > 23)
		return (-1);
	*hour = day * 24 + hh;
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
	tally_add(&s->pend, name, delta);
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
	if (s->pend.n < STATS_PEND_MAX && s->errors.n < STATS_PEND_ERRORS &&
	    now >= s->first_pend && now - s->first_pend < STATS_FLUSH_SECS)
		return;
	stats_sync(s);
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
	tally_init(&s->pend);
	if (stats_load(s, cause) != 0) {
		tally_free(&s->pend);
		free(s);
		return (NULL);
	}
	store_set_rider(store, stats_ride_get, stats_ride_done, s);
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
	store_set_rider(s->store, NULL, NULL, NULL);
	tally_free(&s->pend);
	strv_clear(&s->errors);
	free(s);
}

/* Gives up on pending changes the store keeps refusing. */
static void
stats_pend_drop(struct stats *s)
{
	log_warnx("stats: dropping %zu pending counters and %zu error lines "
	    "that could not be written", s->pend.n, s->errors.n);
	tally_clear(&s->pend);
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

/*
 * The pending deltas and error lines as one batch of meta changes, in
 * s->ride_*; how many there are.
 */
static size_t
stats_batch(struct stats *s)
{
	size_t	i, k = 0;

	s->ride_ops = xcalloc(s->pend.n + 2 * s->errors.n + 1,
	    sizeof *s->ride_ops);
	s->ride_list = tally_list(&s->pend);
	for (i = 0; i < s->pend.n; i++, k++) {
		s->ride_ops[k].op = STORE_META_ADD;
		s->ride_ops[k].name = s->ride_list[i]->name;
		s->ride_ops[k].delta = s->ride_list[i]->count;
	}
	stats_write_errors(s, s->ride_ops, &k, &s->ride_keys);
	return (k);
}

/* The batch was written (or not): what it held is no longer pending. */
static void
stats_batch_done(struct stats *s, int committed)
{
	free(s->ride_ops);
	free(s->ride_list);
	strv_clear(&s->ride_keys);
	s->ride_ops = NULL;
	s->ride_list = NULL;
	if (!committed)
		return;
	s->seq += s->errors.n;
	tally_clear(&s->pend);
	strv_clear(&s->errors);
}

/* The store asks for what may ride along with a record write. */
static size_t
stats_ride_get(void *arg, const struct store_meta_op **ops)
{
	struct stats	*s = arg;
	size_t		 n;

	if (s->pend.n == 0 && s->errors.n == 0)
		return (0);
	n = stats_batch(s);
	*ops = s->ride_ops;
	return (n);
}

/* The record write that carried the batch ended. */
static void
stats_ride_done(void *arg, int committed)
{
	stats_batch_done(arg, committed);
}

/* Writes the pending deltas and error lines in one transaction. */
static int
stats_write(struct stats *s, char **cause)
{
	size_t	n;
	int	rc;

	if (s->pend.n == 0 && s->errors.n == 0)
		return (0);
	n = stats_batch(s);
	rc = store_meta_apply(s->store, s->ride_ops, n, cause);
	stats_batch_done(s, rc == 0);
	if (rc != 0) {
		s->first_pend = s->now;
		if (s->pend.n + s->errors.n > STATS_PEND_DROP)
			stats_pend_drop(s);
		return (-1);
	}
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
struct store *
stats_sync(struct stats *s)
{
	char	*cause = NULL;

	if (stats_flush(s, &cause) != 0) {
		log_warnx("stats: %s", cause);
		free(cause);
	}
	return (s->store);
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
			/* Shorter than the run: out stays big enough. */
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

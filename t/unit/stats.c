/*
 * stats.c: unit tests of the build statistics: client naming, counters
 * over several simulated UTC days, the exact bodies of the statistics
 * endpoints, the error ring, batching, pruning and a restart.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/jsonw.h"
#include "server/stats.h"
#include "server/statsview.h"
#include "store/store.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

#define DAY	86400
/* 2024-03-10 12:00:00 UTC: "today" of the tests (2024 is a leap year). */
#define NOW	((time_t)1710072000)
#define HEX64	"eee08b3b7b072f2ba82559c6e61da9b8" \
		"4e00cdbc35a4d99392fec36c0bf64356"

struct test_count {
	const char	*prefix;
	int		 n;
};

static char	*test_root;

/* Opens the store in root/name, or bails out. */
static struct store *
test_store(const char *name)
{
	struct store	*st;
	char		*dir, *cause = NULL;

	xasprintf(&dir, "%s/%s", test_root, name);
	if (store_open(&st, dir, 64 << 20, &cause) != 0) {
		printf("Bail out! %s\n", cause);
		exit(1);
	}
	free(dir);
	return (st);
}

/* Opens the stats of a store, or bails out. */
static struct stats *
test_stats(struct store *st)
{
	struct stats	*s;
	char		*cause = NULL;

	if ((s = stats_new(st, &cause)) == NULL) {
		printf("Bail out! %s\n", cause);
		exit(1);
	}
	return (s);
}

/* Counts names under a prefix. */
static int
test_count_cb(__attribute__((unused)) const char *name,
    __attribute__((unused)) const void *val,
    __attribute__((unused)) size_t len, void *arg)
{
	struct test_count	*c = arg;

	c->n++;
	return (0);
}

/* How many meta names start with prefix. */
static int
test_count(struct store *st, const char *prefix)
{
	struct test_count	c;
	char			*cause = NULL;

	c.prefix = prefix;
	c.n = 0;
	if (store_meta_foreach(st, prefix, test_count_cb, &c, &cause) != 0) {
		free(cause);
		return (-1);
	}
	return (c.n);
}

/* The integer at data[i] of dataset k of a chart body; -1 if absent. */
static long long
test_point(yajl_val root, size_t k, size_t i)
{
	yajl_val	sets, data;

	sets = jsonw_get(root, "datasets");
	if (!YAJL_IS_ARRAY(sets) || k >= sets->u.array.len)
		return (-1);
	data = jsonw_get(sets->u.array.values[k], "data");
	if (!YAJL_IS_ARRAY(data) || i >= data->u.array.len ||
	    !YAJL_IS_INTEGER(data->u.array.values[i]))
		return (-1);
	return (YAJL_GET_INTEGER(data->u.array.values[i]));
}

/* The sum of dataset k of a chart body. */
static long long
test_sum(yajl_val root, size_t k)
{
	yajl_val	sets, data;
	long long	sum = 0;
	size_t		i;

	sets = jsonw_get(root, "datasets");
	if (!YAJL_IS_ARRAY(sets) || k >= sets->u.array.len)
		return (-1);
	data = jsonw_get(sets->u.array.values[k], "data");
	if (!YAJL_IS_ARRAY(data))
		return (-1);
	for (i = 0; i < data->u.array.len; i++)
		sum += YAJL_GET_INTEGER(data->u.array.values[i]);
	return (sum);
}

/* A string member of dataset k ("label", "color"); NULL if absent. */
static const char *
test_set_str(yajl_val root, size_t k, const char *key)
{
	yajl_val	sets;

	sets = jsonw_get(root, "datasets");
	if (!YAJL_IS_ARRAY(sets) || k >= sets->u.array.len)
		return (NULL);
	return (YAJL_GET_STRING(jsonw_get(sets->u.array.values[k], key)));
}

/* The number of points of dataset k; -1 if absent. */
static long long
test_set_len(yajl_val root, size_t k)
{
	yajl_val	sets, data;

	sets = jsonw_get(root, "datasets");
	if (!YAJL_IS_ARRAY(sets) || k >= sets->u.array.len)
		return (-1);
	data = jsonw_get(sets->u.array.values[k], "data");
	return (YAJL_IS_ARRAY(data) ? (long long)data->u.array.len : -1);
}

/* Length of an array member; -1 when it is not an array. */
static long long
test_len(yajl_val root, const char *key)
{
	yajl_val	v = jsonw_get(root, key);

	return (YAJL_IS_ARRAY(v) ? (long long)v->u.array.len : -1);
}

/* Label i of a chart body. */
static const char *
test_label(yajl_val root, size_t i)
{
	yajl_val	v = jsonw_get(root, "labels");

	if (!YAJL_IS_ARRAY(v) || i >= v->u.array.len)
		return (NULL);
	return (YAJL_GET_STRING(v->u.array.values[i]));
}

/* Parses a body, or returns NULL and says why. */
static yajl_val
test_parse(const char *body)
{
	yajl_val	 root;
	char		*cause = NULL;

	if (body == NULL)
		return (NULL);
	if ((root = jsonw_parse(body, &cause)) == NULL) {
		printf("# %s\n", cause);
		free(cause);
	}
	return (root);
}

/* The reference's client names, and the missing User-Agent it breaks on. */
static void
test_client_name(void)
{
	char	out[STATS_CLIENT_MAX + 1], small[8];

	stats_client_name("luci/git-22.073.39928-701ea94", "auc (0.3.2)", out,
	    sizeof out);
	is_str(out, "luci/git-22.073.39928-701ea94", "client field wins");
	stats_client_name(NULL, NULL, out, sizeof out);
	is_str(out, "unknown/0", "no client, no User-Agent: unknown/0");
	stats_client_name("", "curl/8.0", out, sizeof out);
	is_str(out, "unknown/0", "empty client, other agent: unknown/0");
	stats_client_name(NULL, "auc (0.3.2)", out, sizeof out);
	is_str(out, "auc/0.3.2", "auc (0.3.2) becomes auc/0.3.2");
	stats_client_name("", "auc/0.3.2", out, sizeof out);
	is_str(out, "auc/0.3.2", "auc/0.3.2 stays");
	stats_client_name(NULL, "aucx (1) (2)", out, sizeof out);
	is_str(out, "aucx/1/2", "every \" (\" and \")\" replaced");
	stats_client_name(NULL, "Auc (1)", out, sizeof out);
	is_str(out, "unknown/0", "the auc prefix is case-sensitive");
	stats_client_name(NULL, "auc (0.3.2-long)", small, sizeof small);
	is_str(small, "auc/0.3", "cut to the buffer");
	stats_client_name("a-very-long-client", NULL, small, sizeof small);
	is_str(small, "a-very-", "client cut to the buffer");
}

/* Empty statistics: every body has its shape with zeros. */
static void
test_empty(struct stats *s)
{
	yajl_val	 root;
	char		*body, *cause = NULL;

	body = statsview_build_errors(s, 100, &cause);
	is_str(body, "No build errors recorded.", "no errors yet");
	free(body);
	body = statsview_summary(s, NOW, 0, &cause);
	is_str(body, "{\"queue_length\":0,\"builds_24h\":0}", "empty summary");
	free(body);
	body = statsview_top_packages(s, NOW, NULL, 30, &cause);
	is_str(body, "{\"packages\":[],\"branch\":null,\"days\":30}",
	    "empty top packages");
	free(body);
	body = statsview_builds_by_version(s, NOW, NULL, &cause);
	root = test_parse(body);
	ok(root != NULL && test_len(root, "labels") == 26 &&
	    test_len(root, "datasets") == 0, "empty builds-by-version");
	yajl_tree_free(root);
	free(body);
	body = statsview_builds_per_day(s, NOW, &cause);
	root = test_parse(body);
	ok(root != NULL && test_sum(root, 0) == 0 && test_sum(root, 1) == 0 &&
	    test_sum(root, 2) == 0, "empty builds-per-day: all zero");
	yajl_tree_free(root);
	free(body);
}

/*
 * Events are gathered in memory and written once STATS_FLUSH_SECS have
 * passed since the oldest, or by an explicit flush.
 */
static void
test_batching(struct stats *s, struct store *st)
{
	char	*cause = NULL;
	time_t	 t = NOW - 40 * DAY;

	stats_request(s, t, "unknown/0");
	stats_cache_miss(s, t);
	is_int(tutil_counter(st, "stats:t:requests"), -1,
	    "an event alone is not written yet");
	stats_success(s, t + STATS_FLUSH_SECS - 1, "21.02.7", "x86/64",
	    "generic", 10);
	is_int(tutil_counter(st, "stats:t:requests"), -1,
	    "nor before the flush period");
	stats_request(s, t + STATS_FLUSH_SECS, "unknown/0");
	is_int(tutil_counter(st, "stats:t:requests"), 2,
	    "an event after the flush period writes everything");
	is_int(tutil_counter(st, "stats:d:20240130:requests"), 2,
	    "day bucket named by UTC date");
	stats_cache_hit(s, t + STATS_FLUSH_SECS);
	is_int(stats_flush(s, &cause), 0, "explicit flush");
	is_int(tutil_counter(st, "stats:t:cache-hits"), 1,
	    "explicit flush writes what is pending");
	is_int(tutil_counter(st, "stats:v:20240130:21.02.7"), 1,
	    "version bucket written");
	is_int(tutil_counter(st, "stats:h:2024013012:successes"), 1,
	    "hour bucket written");
	is_int(tutil_counter(st, "stats:c:20240130:unknown/0"), 2,
	    "client bucket written");
	is_int(tutil_counter(st, "stats:t:build-seconds"), 10,
	    "build seconds written");
}

/*
 * Pending events ride along with the store's next record write: a build
 * accepted or ended carries them in its commit, and the flush after has
 * nothing left to add.
 */
static void
test_ride(void)
{
	struct store	*st = test_store("ride");
	struct stats	*s = test_stats(st);
	const char	*hash = "0123456789abcdef0123456789abcdef"
			    "0123456789abcdef0123456789abcdef";
	char		*cause = NULL;

	stats_request(s, NOW, "unknown/0");
	stats_cache_miss(s, NOW);
	is_int(tutil_counter(st, "stats:t:requests"), -1,
	    "ride: pending before the record write");
	is_int(store_enqueue(st, hash, "q", 1, 1, &cause), 0,
	    "ride: a build is accepted");
	is_int(tutil_counter(st, "stats:t:requests"), 1,
	    "ride: its commit carried the request");
	is_int(tutil_counter(st, "stats:t:cache-misses"), 1,
	    "ride: and the miss");
	stats_success(s, NOW, "21.02.7", "x86/64", "generic", 7);
	is_int(store_finish(st, hash, 1, "d", 1, NULL, 0, &cause), 0,
	    "ride: the build ends");
	is_int(tutil_counter(st, "stats:t:successes"), 1,
	    "ride: its commit carried the success");
	is_int(stats_flush(s, &cause), 0, "ride: a flush after");
	is_int(tutil_counter(st, "stats:t:requests"), 1,
	    "ride: writes nothing twice");
	is_int(tutil_counter(st, "stats:t:build-seconds"), 7,
	    "ride: build seconds once");
	stats_free(s);
	store_close(st);
}

/* Records the main scenario: three days before NOW and NOW itself. */
static void
test_record(struct stats *s)
{
	struct strv	 pk = STRV_INITIALIZER;
	time_t		 d2 = NOW - 2 * DAY - 3 * 3600;	/* 03-08 09:00 */
	time_t		 d1 = NOW - DAY + 3600;		/* 03-09 13:00 */
	char		 longname[260];

	/* 2024-03-08: 3 requests, 1 hit, 2 misses: 1 success, 1 failure */
	stats_request(s, d2, "luci/git-22.073.39928-701ea94");
	stats_cache_miss(s, d2);
	stats_success(s, d2, "23.05.4", "ath79/generic", "tplink_c7", 120);
	stats_request(s, d2, "luci/git-22.073.39928-701ea94");
	stats_cache_hit(s, d2);
	stats_request(s, d2, "unknown/0");
	stats_cache_miss(s, d2);
	stats_failure(s, d2, "23.05.4", "ath79/generic",
	    "tplink_archer-c7-v5", "  Error:\tImpossible   package\n "
	    "selection in " HEX64 " here  ");
	strv_add(&pk, "luci");
	strv_add(&pk, "luci-app-x");
	strv_add(&pk, "-ppp");
	strv_add(&pk, "luci");
	strv_add(&pk, "");
	stats_packages(s, d2, "23.05", &pk);
	strv_clear(&pk);
	/* 2024-03-09: 2 requests, 2 misses, 2 successes */
	stats_request(s, d1, "auc/0.3.2");
	stats_cache_miss(s, d1);
	stats_success(s, d1, "23.05.3", "x86/64", "generic", 60);
	stats_request(s, d1, "auc/0.3.2");
	stats_cache_miss(s, d1);
	stats_success(s, d1, "SNAPSHOT", "x86/64", "generic", 30);
	strv_add(&pk, "luci");
	stats_packages(s, d1, "23.05", &pk);
	strv_add(&pk, "tcpdump");
	memset(longname, 'p', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	strv_add(&pk, longname);
	stats_packages(s, d1, "SNAPSHOT", &pk);
	stats_packages(s, d1, "bad:branch", &pk);
	strv_clear(&pk);
	/* An older success in the 26 weeks, one before them. */
	stats_request(s, NOW - 100 * DAY, "unknown/0");
	stats_cache_miss(s, NOW - 100 * DAY);
	stats_success(s, NOW - 100 * DAY, "22.03.5", "x86/64", "generic", 0);
	stats_request(s, NOW - 200 * DAY, "unknown/0");
	stats_cache_miss(s, NOW - 200 * DAY);
	stats_success(s, NOW - 200 * DAY, "21.02.1", "x86/64", "generic", 0);
	/* 2024-03-10: 1 request answered from the cache, at 11:00 */
	stats_request(s, NOW - 3600, "luci/git-22.073.39928-701ea94");
	stats_cache_hit(s, NOW - 3600);
}

/* The invariants of the reference hold for events recorded its way. */
static void
test_totals(struct stats *s)
{
	uint64_t	req, hit, miss, ok_, fail;

	stats_totals(s, &req, &hit, &miss, &ok_, &fail);
	is_int(req, 10, "total requests (older days included)");
	is_int(hit, 3, "total cache hits");
	is_int(miss, 7, "total cache misses");
	is_int(ok_, 6, "total successes");
	is_int(fail, 1, "total failures");
	is_int(req, hit + miss, "requests = hits + misses");
	is_int(miss, ok_ + fail, "misses = successes + failures");
	is_int(stats_build_seconds(s), 10 + 120 + 60 + 30,
	    "build seconds total");
}

/* builds-per-day: 30 UTC days ending today, three datasets. */
static void
test_per_day(struct stats *s)
{
	yajl_val	 root;
	const char	*want;
	char		*body, *cause = NULL;

	body = statsview_builds_per_day(s, NOW, &cause);
	want = "{\"labels\":[\"2024-02-10Z\",\"2024-02-11Z\",";
	ok(body != NULL && strncmp(body, want, strlen(want)) == 0,
	    "per day: starts with the labels");
	root = test_parse(body);
	ok(root != NULL, "per day: valid JSON");
	is_int(test_len(root, "labels"), 30, "per day: 30 labels");
	is_str(test_label(root, 0), "2024-02-10Z", "per day: oldest first");
	is_str(test_label(root, 19), "2024-02-29Z", "per day: leap day");
	is_str(test_label(root, 29), "2024-03-10Z", "per day: today last");
	is_int(test_len(root, "datasets"), 3, "per day: three datasets");
	is_str(test_set_str(root, 0, "label"), "Requests", "label Requests");
	is_str(test_set_str(root, 0, "color"), "green", "color green");
	is_str(test_set_str(root, 1, "label"), "Cache-Hits",
	    "label Cache-Hits");
	is_str(test_set_str(root, 1, "color"), "orange", "color orange");
	is_str(test_set_str(root, 2, "label"), "Failures", "label Failures");
	is_str(test_set_str(root, 2, "color"), "red", "color red");
	ok(test_point(root, 0, 27) == 3 && test_point(root, 0, 28) == 2 &&
	    test_point(root, 0, 29) == 1, "per day: requests by day");
	is_int(test_sum(root, 0), 6, "per day: 40 days ago is outside");
	ok(test_point(root, 1, 27) == 1 && test_point(root, 1, 28) == 0 &&
	    test_point(root, 1, 29) == 1, "per day: cache hits by day");
	ok(test_point(root, 2, 27) == 1 && test_sum(root, 2) == 1,
	    "per day: failures by day");
	ok(test_set_len(root, 0) == 30 && test_set_len(root, 1) == 30 &&
	    test_set_len(root, 2) == 30, "per day: 30 points each");
	yajl_tree_free(root);
	free(body);

	body = statsview_builds_per_day(s, NOW - DAY, &cause);
	root = test_parse(body);
	ok(root != NULL && test_point(root, 0, 29) == 2 &&
	    test_point(root, 0, 28) == 3 && test_sum(root, 0) == 5,
	    "per day: a day earlier, today's request is not shown");
	yajl_tree_free(root);
	free(body);

	body = statsview_builds_per_day(s, NOW + DAY, &cause);
	root = test_parse(body);
	ok(root != NULL && test_point(root, 0, 28) == 1 &&
	    test_point(root, 0, 26) == 3 &&
	    strcmp(test_label(root, 29), "2024-03-11Z") == 0,
	    "per day: a day later everything moves one left");
	yajl_tree_free(root);
	free(body);
}

/* builds-by-version: 26 weeks ending today, by branch or by version. */
static void
test_by_version(struct stats *s)
{
	yajl_val	 root;
	char		*body, *cause = NULL;

	body = statsview_builds_by_version(s, NOW, NULL, &cause);
	root = test_parse(body);
	ok(root != NULL, "by version: valid JSON");
	is_int(test_len(root, "labels"), 26, "by version: 26 labels");
	is_str(test_label(root, 0), "2023-09-11Z", "by version: first week");
	is_str(test_label(root, 25), "2024-03-04Z",
	    "by version: last week ends today");
	is_int(test_len(root, "datasets"), 4, "by version: four branches");
	is_str(test_set_str(root, 0, "label"), "21.02", "branch 21.02");
	is_str(test_set_str(root, 1, "label"), "22.03", "branch 22.03");
	is_str(test_set_str(root, 2, "label"), "23.05", "branch 23.05");
	is_str(test_set_str(root, 3, "label"), "SNAPSHOT", "SNAPSHOT whole");
	ok(test_point(root, 0, 20) == 1 && test_sum(root, 0) == 1,
	    "by version: 21.02 in week 20 (200 days ago is outside)");
	ok(test_point(root, 1, 11) == 1 && test_sum(root, 1) == 1,
	    "by version: 22.03 in week 11");
	ok(test_point(root, 2, 25) == 2 && test_sum(root, 2) == 2,
	    "by version: 23.05 has two builds in the last week");
	ok(test_point(root, 3, 25) == 1 && test_sum(root, 3) == 1,
	    "by version: SNAPSHOT has one");
	ok(test_set_len(root, 0) == 26 && test_set_len(root, 3) == 26,
	    "by version: 26 points each");
	ok(test_set_str(root, 0, "color") == NULL,
	    "by version: datasets have no color");
	yajl_tree_free(root);
	free(body);

	body = statsview_builds_by_version(s, NOW, "23.05", &cause);
	root = test_parse(body);
	ok(root != NULL && test_len(root, "datasets") == 2 &&
	    strcmp(test_set_str(root, 0, "label"), "23.05.3") == 0 &&
	    strcmp(test_set_str(root, 1, "label"), "23.05.4") == 0 &&
	    test_point(root, 0, 25) == 1 && test_point(root, 1, 25) == 1,
	    "by version: a branch gives its versions");
	yajl_tree_free(root);
	free(body);

	body = statsview_builds_by_version(s, NOW, "", &cause);
	root = test_parse(body);
	ok(root != NULL && test_len(root, "datasets") == 5 &&
	    strcmp(test_set_str(root, 0, "label"), "21.02.7") == 0 &&
	    strcmp(test_set_str(root, 4, "label"), "SNAPSHOT") == 0,
	    "by version: an empty branch gives every version uncut");
	yajl_tree_free(root);
	free(body);

	body = statsview_builds_by_version(s, NOW, "1.2", &cause);
	root = test_parse(body);
	ok(root != NULL && test_len(root, "datasets") == 0 &&
	    test_len(root, "labels") == 26,
	    "by version: an unknown branch gives no datasets");
	yajl_tree_free(root);
	free(body);
}

/* top-packages and the client list. */
static void
test_top(struct stats *s)
{
	struct strv	 pk = STRV_INITIALIZER;
	yajl_val	 root;
	char		*body, *cause = NULL;
	int		 i;

	body = statsview_top_packages(s, NOW, NULL, 30, &cause);
	is_str(body, "{\"packages\":[{\"name\":\"luci\",\"count\":3},"
	    "{\"name\":\"luci-app-x\",\"count\":1},"
	    "{\"name\":\"tcpdump\",\"count\":1}],\"branch\":null,\"days\":30}",
	    "top packages of every branch");
	free(body);
	body = statsview_top_packages(s, NOW, "23.05", 30, &cause);
	is_str(body, "{\"packages\":[{\"name\":\"luci\",\"count\":2},"
	    "{\"name\":\"luci-app-x\",\"count\":1}],\"branch\":\"23.05\","
	    "\"days\":30}", "top packages of one branch");
	free(body);
	body = statsview_top_packages(s, NOW, "23.0", 30, &cause);
	is_str(body, "{\"packages\":[],\"branch\":\"23.0\",\"days\":30}",
	    "branch is matched exactly");
	free(body);
	body = statsview_top_packages(s, NOW, NULL, 1, &cause);
	is_str(body, "{\"packages\":[{\"name\":\"luci\",\"count\":3}],"
	    "\"branch\":null,\"days\":30}", "n limits the list");
	free(body);
	body = statsview_top_packages(s, NOW + 29 * DAY, NULL, 30, &cause);
	is_str(body, "{\"packages\":[],\"branch\":null,\"days\":30}",
	    "packages older than 30 days do not count");
	free(body);

	for (i = 0; i < 150; i++)
		strv_addf(&pk, "pkg%03d", i);
	stats_packages(s, NOW, "cap", &pk);
	strv_clear(&pk);
	body = statsview_top_packages(s, NOW, "cap", 1000, &cause);
	root = test_parse(body);
	is_int(test_len(root, "packages"), 100, "n is capped at 100");
	yajl_tree_free(root);
	free(body);
	body = statsview_top_packages(s, NOW - DAY, "cap", 30, &cause);
	is_str(body, "{\"packages\":[],\"branch\":\"cap\",\"days\":30}",
	    "packages after the window do not count");
	free(body);
	body = statsview_top_packages(s, NOW, "cap", -5, &cause);
	is_str(body, "{\"packages\":[],\"branch\":\"cap\",\"days\":30}",
	    "a negative n gives an empty list");
	free(body);

	body = statsview_top_clients(s, NOW, 10, &cause);
	is_str(body, "{\"clients\":[{\"name\":"
	    "\"luci/git-22.073.39928-701ea94\","
	    "\"count\":3},{\"name\":\"auc/0.3.2\",\"count\":2},"
	    "{\"name\":\"unknown/0\",\"count\":1}],\"days\":30}",
	    "clients of the last 30 days");
	free(body);
}

/* The build-errors text, cleaning of messages, n limits. */
static void
test_errors(struct stats *s)
{
	struct strv	 lines = STRV_INITIALIZER;
	char		*body, *cause = NULL, msg[700], want[700];
	int		 i;

	body = statsview_build_errors(s, 100, &cause);
	is_str(body, "Build Errors: 1 entries\n"
	    "Time range: 2024-03-08 09:00:00 to 2024-03-08 09:00:00\n"
	    "\n"
	    "Recent errors:\n"
	    "------------------------------------------------------------\n"
	    "2024-03-08 09:00:00 23.05.4:ath79/generic:tplink_archer-c7-v5 "
	    "Error: Impossible package selection in [job-id] here",
	    "one error: the reference's text, job id scrubbed");
	free(body);

	stats_failure(s, NOW, "23.05.4", "x86/64", "gen\neric",
	    "ID " HEX64 "0 and " HEX64 HEX64 " and 0123456789abcdef0123"
	    "456789abcdef0123456789abcdef0123456789abcde and "
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	    " a\xc2\xa0\xe2\x80\x83" "b\x1f\x0b" "c");
	body = statsview_build_errors(s, 1, &cause);
	is_str(body, "Build Errors: 1 entries\n"
	    "Time range: 2024-03-10 12:00:00 to 2024-03-10 12:00:00\n\n"
	    "Recent errors:\n"
	    "------------------------------------------------------------\n"
	    "2024-03-10 12:00:00 23.05.4:x86/64:gen?eric ID [job-id]0 and "
	    "[job-id][job-id] and 0123456789abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcde and 0123456789ABCDEF0123456789ABCDEF"
	    "0123456789ABCDEF0123456789ABCDEF a b c",
	    "hex runs of 64 only, lowercase only; unicode spaces collapse; "
	    "control characters in names replaced");
	free(body);

	memset(msg, 'x', 300);
	msg[300] = '\0';
	stats_failure(s, NOW, "v", "t", "p", msg);
	body = statsview_build_errors(s, 1, &cause);
	snprintf(want, sizeof want, "2024-03-10 12:00:00 v:t:p %.200s", msg);
	ok(body != NULL && strstr(body, want) != NULL &&
	    strlen(strstr(body, want)) == strlen(want),
	    "message cut to 200 characters");
	free(body);

	for (i = 0; i < 300; i++)
		memcpy(msg + 2 * i, "\xc3\xa9", 2);
	msg[600] = '\0';
	stats_failure(s, NOW, "v", "t", "p", msg);
	body = statsview_build_errors(s, 1, &cause);
	snprintf(want, sizeof want, "2024-03-10 12:00:00 v:t:p %.400s", msg);
	ok(body != NULL && strstr(body, want) != NULL &&
	    strlen(strstr(body, want)) == strlen(want),
	    "cut counts characters, not bytes");
	free(body);

	memset(msg, 'x', 199);
	snprintf(msg + 199, sizeof msg - 199, "   y z");
	stats_failure(s, NOW, "v", "t", "p", msg);
	body = statsview_build_errors(s, 1, &cause);
	memset(want, 'x', 199);
	snprintf(want + 199, sizeof want - 199, " ");
	ok(body != NULL && strlen(body) > 200 &&
	    strcmp(body + strlen(body) - 200, want) == 0,
	    "cut after collapsing: a space at the cut stays");
	free(body);

	stats_failure(s, NOW, "v", "t", "p", NULL);
	body = statsview_build_errors(s, 1, &cause);
	ok(body != NULL && strlen(body) > 26 &&
	    strcmp(body + strlen(body) - 26, "2024-03-10 12:00:00 v:t:p ") == 0,
	    "no message: the line ends after the names");
	free(body);

	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof msg, "Error %d", i);
		stats_failure(s, NOW + i, "1.2.3", "testtarget/testsubtarget",
		    "testprofile", msg);
	}
	body = statsview_build_errors(s, 3, &cause);
	strv_split(&lines, body, "\n");
	ok(lines.n == 7 && strcmp(lines.v[0], "Build Errors: 3 entries") == 0,
	    "n=3 gives three entries");
	is_str(lines.n == 7 ? lines.v[1] : NULL,
	    "Time range: 2024-03-10 12:00:07 to 2024-03-10 12:00:09",
	    "time range of the entries shown");
	is_str(lines.n == 7 ? lines.v[4] : NULL,
	    "2024-03-10 12:00:09 1.2.3:testtarget/testsubtarget:testprofile "
	    "Error 9", "newest first");
	is_str(lines.n == 7 ? lines.v[6] : NULL,
	    "2024-03-10 12:00:07 1.2.3:testtarget/testsubtarget:testprofile "
	    "Error 7", "oldest shown last");
	strv_clear(&lines);
	free(body);
	body = statsview_build_errors(s, 0, &cause);
	ok(body != NULL && strncmp(body, "Build Errors: 1 entries\n", 24) == 0,
	    "n=0 shows one entry");
	free(body);
	body = statsview_build_errors(s, -3, &cause);
	ok(body != NULL && strncmp(body, "Build Errors: 1 entries\n", 24) == 0,
	    "a negative n shows one entry");
	free(body);
	body = statsview_build_errors(s, 100, &cause);
	ok(body != NULL && strncmp(body, "Build Errors: 16 entries\n", 25) == 0,
	    "n above the count shows all");
	free(body);
}

/* The ring keeps the last 5000 lines; at most 500 are shown. */
static void
test_error_cap(struct stats *s, struct store *st)
{
	char	*body, *cause = NULL, msg[32];
	size_t	 len;
	int	 i;

	for (i = 0; i < STATS_ERRORS_MAX + 10; i++) {
		snprintf(msg, sizeof msg, "cap %d", i);
		stats_failure(s, NOW + 60, "v", "t", "p", msg);
	}
	is_int(stats_flush(s, &cause), 0, "flush after 5010 errors");
	is_int(test_count(st, "stats:e:"), STATS_ERRORS_MAX,
	    "the ring holds 5000 lines");
	body = statsview_build_errors(s, 600, &cause);
	ok(body != NULL && strncmp(body, "Build Errors: 500 entries\n", 26) ==
	    0, "n is capped at 500");
	ok(body != NULL && strstr(body, "v:t:p cap 5009\n") != NULL &&
	    strstr(body, "v:t:p cap 4510") != NULL &&
	    strstr(body, "v:t:p cap 4509") == NULL, "the newest 500 shown");
	free(body);
	free(cause);
	cause = NULL;
	body = NULL;
	ok(store_meta_get(st, "stats:e:000000000000001a", (void **)&body,
	    &len, &cause) == 0, "the 27 oldest lines left the ring");
	ok(store_meta_get(st, "stats:e:000000000000001b", (void **)&body,
	    &len, &cause) == 1 && body != NULL &&
	    strcmp(body, "2024-03-10 12:01:00 v:t:p cap 10") == 0,
	    "the oldest line kept is the 28th");
	free(body);
}

/* stats/summary: successes of this hour and the 23 before. */
static void
test_summary(struct stats *s)
{
	char	*body, *cause = NULL;

	/* 03-09 13:00 (two), 03-08 09:00 (one) are in the store already. */
	body = statsview_summary(s, NOW, 7, &cause);
	is_str(body, "{\"queue_length\":7,\"builds_24h\":2}",
	    "summary: the builds of the last 24 hours");
	free(body);
	stats_success(s, NOW, "23.05.4", "x86/64", "generic", 1);
	stats_success(s, NOW - 24 * 3600, "23.05.4", "x86/64", "generic", 1);
	body = statsview_summary(s, NOW, 0, &cause);
	is_str(body, "{\"queue_length\":0,\"builds_24h\":3}",
	    "summary: this hour counts, 24 hours ago does not");
	free(body);
	body = statsview_summary(s, NOW + 10 * 3600, 0, &cause);
	is_str(body, "{\"queue_length\":0,\"builds_24h\":1}",
	    "summary: ten hours later only today's build is left");
	free(body);
}

/* Everything is still there after stats_free, store_close and reopen. */
static void
test_restart(struct stats **sp, struct store **stp)
{
	char		*before[4], *after[4], *cause = NULL, hits[200];
	uint64_t	 t1[5], t2[5];
	size_t		 n;
	int		 i, same = 1;

	stats_request(*sp, NOW, "unknown/0");
	stats_cache_hit(*sp, NOW);
	stats_failure(*sp, NOW, "v", "t", "p", "pending at stop");
	stats_totals(*sp, &t1[0], &t1[1], &t1[2], &t1[3], &t1[4]);
	before[0] = statsview_builds_per_day(*sp, NOW, &cause);
	before[1] = statsview_builds_by_version(*sp, NOW, NULL, &cause);
	before[2] = statsview_top_packages(*sp, NOW, NULL, 100, &cause);
	before[3] = statsview_build_errors(*sp, 500, &cause);
	stats_request(*sp, NOW, "unknown/0");
	stats_cache_hit(*sp, NOW);
	stats_free(*sp);
	store_close(*stp);

	*stp = test_store("main");
	*sp = test_stats(*stp);
	stats_totals(*sp, &t2[0], &t2[1], &t2[2], &t2[3], &t2[4]);
	ok(t2[0] == t1[0] + 1 && t2[1] == t1[1] + 1 && t2[2] == t1[2] &&
	    t2[3] == t1[3] && t2[4] == t1[4],
	    "restart: totals kept, pending events of the stop included");
	after[0] = statsview_builds_per_day(*sp, NOW, &cause);
	after[1] = statsview_builds_by_version(*sp, NOW, NULL, &cause);
	after[2] = statsview_top_packages(*sp, NOW, NULL, 100, &cause);
	after[3] = statsview_build_errors(*sp, 500, &cause);
	ok(before[3] != NULL && strstr(before[3], "pending at stop") != NULL,
	    "outputs include events not yet flushed");
	for (i = 1; i < 4; i++)
		same &= before[i] != NULL && after[i] != NULL &&
		    strcmp(before[i], after[i]) == 0;
	ok(same, "restart: by version, top packages and errors unchanged");
	n = snprintf(hits, sizeof hits, "{\"label\":\"Cache-Hits\",\"data\":[");
	for (i = 0; i < 27; i++)
		n += snprintf(hits + n, sizeof hits - n, "0,");
	snprintf(hits + n, sizeof hits - n, "1,0,3],");
	ok(after[0] != NULL && before[0] != NULL &&
	    strcmp(after[0], before[0]) != 0 && strstr(after[0], hits) != NULL,
	    "restart: per day kept, with the hit after the outputs");
	for (i = 0; i < 4; i++) {
		free(before[i]);
		free(after[i]);
	}
}

/* Buckets too old for any output are deleted once a day. */
static void
test_prune(struct stats *s, struct store *st)
{
	char	*cause = NULL;

	is_int(tutil_counter(st, "stats:d:20240130:requests"), -1,
	    "prune: day bucket of 40 days ago deleted");
	is_int(tutil_counter(st, "stats:c:20240130:unknown/0"), -1,
	    "prune: client bucket of 40 days ago deleted");
	is_int(tutil_counter(st, "stats:h:2024013012:successes"), -1,
	    "prune: hour bucket of 40 days ago deleted");
	is_int(tutil_counter(st, "stats:v:20240130:21.02.7"), 1,
	    "prune: version bucket of 40 days ago kept");
	is_int(test_count(st, "stats:v:2023082"), 0,
	    "prune: version bucket of 200 days ago deleted");
	is_int(tutil_counter(st, "stats:t:requests") > 0, 1,
	    "prune: totals are never deleted");
	ok(test_count(st, "stats:d:20240308") == 6 &&
	    test_count(st, "stats:p:20240308:") == 2,
	    "prune: recent buckets kept");

	stats_cache_hit(s, NOW + 31 * DAY);
	is_int(stats_flush(s, &cause), 0, "flush 31 days later");
	is_int(test_count(st, "stats:d:20240308"), 0,
	    "prune: 31 days later the old days are gone");
	is_int(test_count(st, "stats:p:"), 0,
	    "prune: and so are the old packages");
	is_int(test_count(st, "stats:h:"), 0, "prune: and the hours");
	ok(test_count(st, "stats:v:") > 0, "prune: versions stay for 26 weeks");
	is_int(test_count(st, "stats:d:"), 1,
	    "prune: only the new day is left");
}

/* A fresh store and stats for the batching checks, another for the rest. */
int
main(void)
{
	struct store	*st;
	struct stats	*s;
	int		 rc;

	test_root = tutil_scratch("stats-test");
	test_client_name();

	st = test_store("main");
	s = test_stats(st);
	test_empty(s);
	test_batching(s, st);
	test_ride();
	test_record(s);
	test_totals(s);
	test_per_day(s);
	test_by_version(s);
	test_top(s);
	test_errors(s);
	test_summary(s);
	test_restart(&s, &st);
	test_prune(s, st);
	test_error_cap(s, st);
	stats_free(s);
	store_close(st);

	rc = done_testing();
	fs_rmtree(test_root);
	free(test_root);
	return (rc);
}

/*
 * metrics.c: route folding, reply counting, the duration histogram and
 * the shape of the exposition text, without a daemon.
 */
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"
#include "server/route.h"
#include "t/unit/tap.h"

/* The label the replies to path are counted under, as text. */
static const char *
metrics_test_label(const char *path)
{
	return (metrics_label(route_label(path)));
}

/* Counts one reply to path, as the HTTP layer's hook does. */
static void
metrics_test_count(const char *path, int status)
{
	metrics_count(route_label(path), status);
}

/* True when text holds line as a whole line. */
static int
metrics_test_has(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return (1);
		p += n;
	}
	return (0);
}

/* Runs the checks. */
int
main(void)
{
	struct metrics_readings	 r;
	char			*text;
	size_t			 len;
	int			 i;

	is_str(metrics_test_label("/api/v1/build"), "/api/v1/build", "build");
	is_str(metrics_test_label("/api/v1/build/"), "/api/v1/build",
	    "build/");
	is_str(metrics_test_label("/api/v1/build/abc"),
	    "/api/v1/build/{hash}", "build hash");
	is_str(metrics_test_label("/api/v1/build/abc/log"),
	    "/api/v1/build/{hash}/{sub}", "build hash sub");
	is_str(metrics_test_label("/store/x/y.bin"), "/store/{path}", "store");
	is_str(metrics_test_label("/metrics"), "/metrics", "metrics");
	is_str(metrics_test_label("/index.html"), "/", "index");
	is_str(metrics_test_label("/nope\"\n"), "other",
	    "hostile path is other");
	is_str(metrics_test_label(NULL), "other", "NULL path");
	is_str(metrics_test_label("/store"), "other",
	    "a prefix is not the route");
	is_str(metrics_label(METRICS_NROUTES), "other", "a label out of range");

	metrics_reset();
	for (i = 0; i < 3; i++)
		metrics_test_count("/api/v1/build", 202);
	metrics_test_count("/api/v1/build/", 202);
	metrics_test_count("/whatever", 404);
	metrics_test_count("/whatever", 99);
	metrics_test_count("/whatever", 600);
	metrics_count(METRICS_NROUTES + 3, 500);
	metrics_build_seconds(0.5);
	metrics_build_seconds(7);
	metrics_build_seconds(100000);
	metrics_build_seconds(-1);
	metrics_set_waiters(5);
	metrics_set_followers(2);
	is_int((int)metrics_waiters(), 5, "waiters");
	is_int((int)metrics_followers(), 2, "followers");

	text = metrics_text(NULL, &len);
	is_int((int)strlen(text), (int)len, "length");
	ok(metrics_test_has(text, "asud_http_requests_total"
	    "{route=\"/api/v1/build\",status=\"202\"} 4"), "202 counted");
	ok(metrics_test_has(text, "asud_http_requests_total"
	    "{route=\"other\",status=\"404\"} 1"), "404 counted");
	ok(metrics_test_has(text, "asud_http_requests_total"
	    "{route=\"other\",status=\"500\"} 1"), "a bad label is other");
	ok(strstr(text, "status=\"99\"") == NULL &&
	    strstr(text, "status=\"600\"") == NULL, "bad statuses dropped");
	ok(metrics_test_has(text,
	    "# TYPE asud_build_duration_seconds histogram"), "histogram type");
	ok(metrics_test_has(text,
	    "asud_build_duration_seconds_bucket{le=\"1\"} 2"), "le 1");
	ok(metrics_test_has(text,
	    "asud_build_duration_seconds_bucket{le=\"10\"} 3"), "le 10");
	ok(metrics_test_has(text,
	    "asud_build_duration_seconds_bucket{le=\"3600\"} 3"), "le 3600");
	ok(metrics_test_has(text,
	    "asud_build_duration_seconds_bucket{le=\"+Inf\"} 4"), "+Inf");
	ok(metrics_test_has(text, "asud_build_duration_seconds_count 4"),
	    "count");
	ok(metrics_test_has(text, "asud_build_duration_seconds_sum 100007.500"),
	    "sum");
	ok(metrics_test_has(text, "asud_waiters 5"), "waiters sample");
	ok(metrics_test_has(text, "# HELP asud_log_followers "
	    "Clients following a build log."), "followers help");
	ok(text[len - 1] == '\n', "ends with a newline");
	free(text);

	metrics_reset();
	text = metrics_text(NULL, NULL);
	ok(strstr(text, "asud_http_requests_total{") == NULL, "reset");
	free(text);

	memset(&r, 0, sizeof r);
	r.waiters = 7;
	r.cache_hits = 11;
	r.running = 3;
	r.ib_cache_bytes = 4096;
	r.disk_full = 1;
	r.conn_shed = 13;
	text = metrics_text(&r, NULL);
	ok(metrics_test_has(text, "asud_waiters 7"), "readings: waiters");
	ok(metrics_test_has(text, "asud_cache_hits_total 11"),
	    "readings: cache hits");
	ok(metrics_test_has(text, "asud_queue_length{state=\"running\"} 3"),
	    "readings: running");
	ok(metrics_test_has(text, "asud_imagebuilder_cache_bytes 4096"),
	    "readings: ImageBuilder bytes");
	ok(metrics_test_has(text, "asud_disk_full 1"), "readings: disk full");
	ok(metrics_test_has(text, "asud_connections_shed_total 13"),
	    "readings: connections shed");
	ok(!metrics_test_has(text, "asud_builds_total{outcome=\"failure\"} "),
	    "readings: failures only by reason (a sum counts each once)");
	ok(metrics_test_has(text, "asud_builds_total{outcome=\"failure\","
	    "reason=\"timeout\"} 0"), "readings: every reason listed");
	free(text);

	metrics_build_failed(METRICS_FAILED_TIMEOUT);
	metrics_build_failed(METRICS_FAILED_TIMEOUT);
	metrics_build_failed(METRICS_FAILED_PACKAGES);
	metrics_build_failed(METRICS_NFAILURES + 3);
	text = metrics_text(&r, NULL);
	ok(metrics_test_has(text, "asud_builds_total{outcome=\"failure\","
	    "reason=\"timeout\"} 2"), "failures: timeout");
	ok(metrics_test_has(text, "asud_builds_total{outcome=\"failure\","
	    "reason=\"package_selection\"} 1"), "failures: packages");
	ok(metrics_test_has(text, "asud_builds_total{outcome=\"failure\","
	    "reason=\"other\"} 1"), "failures: out of range is other");
	ok(strstr(text, "reason=\"lost\"} 0\n# HELP asud_queue_length") !=
	    NULL, "failures: listed with asud_builds_total");
	ok(strcmp(metrics_failure_label(METRICS_FAILED_DISK_FULL),
	    "disk_full") == 0, "failures: a label");
	free(text);
	return (done_testing());
}

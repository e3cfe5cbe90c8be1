/*
 * fetch.c: tests for imagebuilder/fetch.c against t/unit/fetchd.pl (a small
 * HTTP server started here) and files in a scratch directory: statuses,
 * conditional requests, redirects, transport failures, size limits,
 * streaming, concurrency, cancellation, re-entrant callbacks, and a loop
 * that keeps running while transfers are slow.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "imagebuilder/fetch.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

#define TF_SERVER	ASUD_SRCDIR "/t/unit/fetchd.pl"
#define TF_BIG		(5 * 1024 * 1024)
#define TF_MANY		20

/* What one transfer reported, copied out of its result. */
struct tf {
	struct fetch	*fetch;
	int		 ndone;
	long		 status;
	int		 not_modified;
	char		*error;
	char		*body;
	size_t		 len;
	char		*etag;
	char		*last_modified;
	char		*url;

	/* streaming */
	struct sha256	*sha;
	size_t		 streamed;
	int		 nchunks;
	int		 refuse_after;	/* chunks before returning -1, or 0 */
	int		 cancel_self;	/* fetch_cancel from data_cb */

	/* re-entrancy */
	struct tf	*cancel_other;
	struct tf	*start_other;
	const char	*start_url;
};

static struct event_base	*tf_base;
static int			 tf_port;
static pid_t			 tf_server = -1;
static int			 tf_server_in = -1;
static int			 tf_ticks;
static char			*tf_dir;

/* Forgets what an earlier use of a record saw. */
static void
tf_reset(struct tf *t)
{
	free(t->error);
	free(t->body);
	free(t->etag);
	free(t->last_modified);
	free(t->url);
	memset(t, 0, sizeof *t);
}

/* Duplicates a string that may be NULL. */
static char *
tf_dup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/* The done callback: copies the result; may start or cancel others. */
static void
tf_done(const struct fetch_result *r, void *arg)
{
	struct tf	*t = arg;
	char		*cause = NULL;

	t->ndone++;
	t->status = r->status;
	t->not_modified = r->not_modified;
	t->error = tf_dup(r->error);
	t->body = r->body != NULL ? xmemdup(r->body, r->len + 1) : NULL;
	t->len = r->len;
	t->etag = tf_dup(r->etag);
	t->last_modified = tf_dup(r->last_modified);
	t->url = tf_dup(r->effective_url);
	if (t->cancel_other != NULL) {
		fetch_cancel(t->cancel_other->fetch);
		t->cancel_other->fetch = NULL;
	}
	if (t->start_other != NULL && t->start_other->fetch == NULL &&
	    t->start_other->ndone == 0) {
		t->start_other->fetch = fetch_start(t->start_url, NULL,
		    tf_done, t->start_other, &cause);
		free(cause);
	}
}

/* The data callback: hashes and counts; may refuse or cancel. */
static int
tf_data(const char *buf, size_t len, void *arg)
{
	struct tf	*t = arg;
	char		*cause = NULL;

	t->nchunks++;
	t->streamed += len;
	if (t->sha != NULL)
		sha256_update(t->sha, buf, len);
	if (t->start_other != NULL && t->start_other->fetch == NULL &&
	    t->start_other->ndone == 0) {
		t->start_other->fetch = fetch_start(t->start_url, NULL,
		    tf_done, t->start_other, &cause);
		free(cause);
	}
	if (t->cancel_self && t->fetch != NULL) {
		fetch_cancel(t->fetch);
		t->fetch = NULL;
	}
	if (t->refuse_after != 0 && t->nchunks >= t->refuse_after)
		return (-1);
	return (0);
}

/* Runs the loop until a set of transfers reported or time ran out. */
static int
tf_wait(struct tf *t, size_t n, double seconds)
{
	return (tutil_wait_all(t, n, sizeof *t, offsetof(struct tf, ndone),
	    seconds));
}

/* Wakes the loop regularly; counts how often it could. */
static void
tf_tick(evutil_socket_t fd __unused, short ev __unused, void *arg __unused)
{
	tf_ticks++;
}

/* A URL on the test server. */
static char *
tf_url(const char *path)
{
	char	*url;

	xasprintf(&url, "http://127.0.0.1:%d%s", tf_port, path);
	return (url);
}

/* Starts url into t and waits for it; 0 when the callback came. */
static int
tf_get(struct tf *t, const char *url, const struct fetch_options *opts,
    double seconds)
{
	char	*cause = NULL;

	t->fetch = fetch_start(url, opts, tf_done, t, &cause);
	if (t->fetch == NULL) {
		printf("# fetch_start %s: %s\n", url, cause);
		free(cause);
		return (-1);
	}
	return (tf_wait(t, 1, seconds));
}

/* Fetches a path of the test server; 0 when the callback came. */
static int
tf_get_path(struct tf *t, const char *path, const struct fetch_options *opts,
    double seconds)
{
	char	*url = tf_url(path);
	int	 rc;

	rc = tf_get(t, url, opts, seconds);
	free(url);
	return (rc);
}

/* Whether s (maybe NULL) starts with prefix. */
static int
tf_prefix(const char *s, const char *prefix)
{
	return (s != NULL && strncmp(s, prefix, strlen(prefix)) == 0);
}

/* Starts fetchd.pl in its own process group and reads its port. */
static int
tf_server_start(void)
{
	int	 in[2], out[2];
	FILE	*fp;
	char	 line[64];

	if (pipe(in) == -1 || pipe(out) == -1)
		return (-1);
	if ((tf_server = fork()) == -1)
		return (-1);
	if (tf_server == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp("perl", "perl", TF_SERVER, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	tf_server_in = in[1];
	fcntl(tf_server_in, F_SETFD, FD_CLOEXEC);
	if ((fp = fdopen(out[0], "r")) == NULL)
		return (-1);
	if (fgets(line, sizeof line, fp) == NULL ||
	    sscanf(line, "port %d", &tf_port) != 1) {
		fclose(fp);
		return (-1);
	}
	fclose(fp);
	return (0);
}

/* Stops the server and every connection child it still has. */
static void
tf_server_stop(void)
{
	if (tf_server_in != -1)
		close(tf_server_in);
	if (tf_server > 0) {
		kill(-tf_server, SIGKILL);
		kill(tf_server, SIGKILL);
		waitpid(tf_server, NULL, 0);
	}
}

/*
 * A local port nobody listens on: bound without listening, and kept so
 * (*fd) until the caller closes it, so that no other test can take it.
 */
static int
tf_closed_port(int *fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			port = 0;

	if ((*fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(*fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(*fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	return (port);
}

/* The hash of the first n bytes of fetchd.pl's /bytes pattern. */
static void
tf_pattern_hash(size_t n, char out[SHA256_HEX_LEN + 1])
{
	struct sha256	*sha = sha256_new();
	unsigned char	 buf[251 * 64];
	size_t		 i, k;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i % 251);
	for (i = 0; i < n; i += k) {
		k = n - i < sizeof buf ? n - i : sizeof buf;
		sha256_update(sha, buf, k);
	}
	sha256_final(sha, out);
}

/* Writes a file of the scratch directory; returns its path. */
static char *
tf_file(const char *name, const void *buf, size_t len)
{
	char	*path;

	xasprintf(&path, "%s/%s", tf_dir, name);
	if (fs_write_file(path, buf, len, 0644) == -1)
		printf("# cannot write %s\n", path);
	return (path);
}

/* A start that must be refused, with the start of its cause. */
struct tf_refusal {
	const char	*url;
	const char	*etag;		/* options, or both NULL for none */
	const char	*last_modified;
	const char	*cause;
	const char	*name;
};

static const struct tf_refusal tf_refusals[] = {
	{ "ftp://127.0.0.1/x", NULL, NULL, "unsupported URL scheme",
	    "ftp:// refused" },
	{ "http://", NULL, NULL, "", "malformed URL refused" },
	{ "http://127.0.0.1/", "\"x\"\r\nX-Injected: 1", NULL,
	    "bad If-None-Match", "ETag with CR LF refused" },
	{ "http://127.0.0.1/", NULL, "Wed\n", "bad If-Modified-Since",
	    "Last-Modified with LF refused" },
};

/* Argument checks that need no transfer. */
static void
test_refused_arguments(void)
{
	const struct tf_refusal	*r;
	struct fetch_options	 o;
	char			*cause;
	struct fetch		*f;
	size_t			 i;

	for (i = 0; i < nitems(tf_refusals); i++) {
		r = &tf_refusals[i];
		memset(&o, 0, sizeof o);
		o.etag = r->etag;
		o.last_modified = r->last_modified;
		cause = NULL;
		f = fetch_start(r->url, r->etag != NULL ||
		    r->last_modified != NULL ? &o : NULL, tf_done, NULL,
		    &cause);
		ok(f == NULL && tf_prefix(cause, r->cause), r->name);
		free(cause);
	}
	is_int(fetch_active(), 0, "nothing in flight after refusals");
}

/* 200, 304, 404, 500, headers sent. */
static void
test_statuses(void)
{
	struct fetch_options	 o;
	struct tf		 t;
	char			*cause = NULL, *url, *want;

	memset(&t, 0, sizeof t);
	url = tf_url("/ok");
	t.fetch = fetch_start(url, NULL, tf_done, &t, &cause);
	ok(t.fetch != NULL, "fetch_start http");
	is_int(t.ndone, 0, "no callback inside fetch_start");
	is_int(fetch_active(), 1, "one transfer in flight");
	is_int(tf_wait(&t, 1, 10), 0, "200: done");
	is_int(t.ndone, 1, "200: one callback");
	is_int(t.status, 200, "200: status");
	is_str(t.error, NULL, "200: no error");
	is_str(t.body, "hello, fetch\n", "200: body");
	is_int(t.len, 13, "200: length");
	is_str(t.etag, "\"v1\"", "200: ETag");
	is_str(t.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT",
	    "200: Last-Modified");
	is_str(t.url, url, "200: effective URL");
	ok(!t.not_modified, "200: not not_modified");
	is_int(fetch_active(), 0, "nothing in flight after the callback");
	free(url);

	tf_reset(&t);
	memset(&o, 0, sizeof o);
	o.etag = "\"v1\"";
	tf_get_path(&t, "/ok", &o, 10);
	is_int(t.status, 304, "If-None-Match: 304");
	ok(t.not_modified, "If-None-Match: not_modified");
	ok(t.error == NULL && t.body == NULL, "304: no error, no body");

	tf_reset(&t);
	memset(&o, 0, sizeof o);
	o.last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
	tf_get_path(&t, "/ok", &o, 10);
	ok(t.status == 304 && t.not_modified, "If-Modified-Since: 304");

	tf_reset(&t);
	memset(&o, 0, sizeof o);
	o.etag = "\"v0\"";
	tf_get_path(&t, "/ok", &o, 10);
	ok(t.status == 200 && !t.not_modified && t.len == 13,
	    "If-None-Match with an old tag: 200 and the body");

	tf_reset(&t);
	tf_get_path(&t, "/missing", NULL, 10);
	is_int(t.status, 404, "404: status");
	is_str(t.error, NULL, "404: not an error");
	is_str(t.body, "not found\n", "404: body kept");

	tf_reset(&t);
	tf_get_path(&t, "/error", NULL, 10);
	is_int(t.status, 500, "500: status");
	is_str(t.error, NULL, "500: not an error");

	tf_reset(&t);
	tf_get_path(&t, "/headers", NULL, 10);
	xasprintf(&want, "\r\nUser-Agent: asud/%s\r\n", PACKAGE_VERSION);
	ok(t.body != NULL && strstr(t.body, want) != NULL,
	    "User-Agent asud/<version> sent");
	ok(t.body != NULL && strstr(t.body, "If-None-Match") == NULL,
	    "no conditional header without options");
	free(want);
	tf_reset(&t);
}

/* Redirects: followed to http, refused to file://, limited in number. */
static void
test_redirects(void)
{
	struct tf	 t;
	char		*secret, *path, *want;

	memset(&t, 0, sizeof t);
	tf_get_path(&t, "/redirect", NULL, 10);
	is_int(t.status, 200, "redirect: followed to a 200");
	is_str(t.body, "hello, fetch\n", "redirect: the target's body only");
	is_str(t.etag, "\"v1\"", "redirect: the target's ETag");
	want = tf_url("/ok");
	is_str(t.url, want, "redirect: effective URL is the target");
	free(want);

	tf_reset(&t);
	secret = tf_file("secret", "do not serve\n", 13);
	xasprintf(&path, "/redirect-file?%s", secret);
	tf_get_path(&t, path, NULL, 10);
	ok(tf_prefix(t.error, "redirect refused"),
	    "redirect to file:// refused");
	ok(t.body == NULL || strstr(t.body, "do not serve") == NULL,
	    "redirect to file://: the file is not read");
	free(path);
	free(secret);

	tf_reset(&t);
	tf_get_path(&t, "/loop", NULL, 10);
	ok(tf_prefix(t.error, "too many redirects"),
	    "a redirect loop ends with too many redirects");
	tf_reset(&t);
}

/* A transfer that fails with a readable cause, and its options. */
struct tf_failure {
	const char	*path;
	int		 timeout;
	int		 low_speed_time;
	size_t		 max_size;
	const char	*error;
	const char	*name;
};

static const struct tf_failure tf_failures[] = {
	{ "/hang", 1, 0, 0, "timed out after 1 s", "silent server: timed out" },
	{ "/slow?n=50&ms=100", 0, 1, 0, "too slow: under 1 KiB/s for 1 s",
	    "trickling server: too slow" },
	{ "/bytes?n=100000", 0, 0, 1000, "body larger than 1000 bytes",
	    "Content-Length over max_size refused" },
	{ "/bytes?n=100000&nolen=1", 0, 0, 1000,
	    "body larger than 1000 bytes",
	    "unannounced body over max_size refused" },
	{ "/truncated", 0, 0, 0, "truncated transfer",
	    "short body: truncated transfer" },
};

/* Transport failures become readable causes. */
static void
test_failures(void)
{
	const struct tf_failure	*f;
	struct fetch_options	 o;
	struct tf		 t;
	char			*url, name[128];
	size_t			 i;
	int			 fd = -1;

	memset(&t, 0, sizeof t);
	xasprintf(&url, "http://127.0.0.1:%d/", tf_closed_port(&fd));
	tf_get(&t, url, NULL, 10);
	is_str(t.error, "connection refused",
	    "closed port: connection refused");
	is_int(t.status, 0, "closed port: no status");
	free(url);
	if (fd != -1)
		close(fd);

	for (i = 0; i < nitems(tf_failures); i++) {
		f = &tf_failures[i];
		tf_reset(&t);
		memset(&o, 0, sizeof o);
		o.timeout = f->timeout;
		o.low_speed_time = f->low_speed_time;
		o.max_size = f->max_size;
		tf_get_path(&t, f->path, &o, 10);
		is_str(t.error, f->error, f->name);
		snprintf(name, sizeof name, "%s: no body", f->name);
		ok(t.body == NULL, name);
	}

	tf_reset(&t);
	memset(&o, 0, sizeof o);
	o.max_size = 1000;
	tf_get_path(&t, "/bytes?n=1000&nolen=1", &o, 10);
	ok(t.error == NULL && t.len == 1000, "a body of exactly max_size");
	tf_reset(&t);
}

/* Streaming gets every byte; -1 and self-cancel stop it. */
static void
test_streaming(void)
{
	struct fetch_options	 o;
	struct tf		 t;
	char			 want[SHA256_HEX_LEN + 1];
	char			 got[SHA256_HEX_LEN + 1], *path, *url;
	char			*cause = NULL;

	tf_pattern_hash(TF_BIG, want);
	memset(&t, 0, sizeof t);
	memset(&o, 0, sizeof o);
	o.data_cb = tf_data;
	o.max_size = 1000;	/* not applied when streaming */
	t.sha = sha256_new();
	xasprintf(&path, "/bytes?n=%d", TF_BIG);
	tf_get_path(&t, path, &o, 30);
	free(path);
	sha256_final(t.sha, got);
	t.sha = NULL;
	ok(t.error == NULL && t.status == 200, "stream: 200, no error");
	is_int(t.streamed, TF_BIG, "stream: every byte");
	is_str(got, want, "stream: sha256 of the bytes");
	ok(t.nchunks > 1, "stream: in several chunks");
	ok(t.body == NULL && t.len == 0, "stream: nothing buffered");

	tf_reset(&t);
	memset(&o, 0, sizeof o);
	o.data_cb = tf_data;
	t.refuse_after = 1;
	xasprintf(&path, "/bytes?n=%d", TF_BIG);
	tf_get_path(&t, path, &o, 30);
	ok(tf_prefix(t.error, "aborted: "), "stream: -1 aborts");
	is_int(t.nchunks, 1, "stream: no chunk after -1");

	tf_reset(&t);
	t.cancel_self = 1;
	url = tf_url(path);
	t.fetch = fetch_start(url, &o, tf_done, &t, &cause);
	ok(t.fetch != NULL, "stream: started again");
	free(cause);
	free(url);
	free(path);
	tutil_spin(1);
	is_int(t.ndone, 0, "stream: cancelled from its data callback, "
	    "no done callback");
	is_int(t.nchunks, 1, "stream: no chunk after the cancel");
	is_int(fetch_active(), 0, "stream: nothing left in flight");

	tf_reset(&t);
	t.sha = NULL;
	tf_get_path(&t, "/missing", &o, 10);
	ok(t.status == 404 && t.error == NULL && t.nchunks == 0,
	    "stream: a 404 body is not streamed");
	tf_reset(&t);
}

/* Many transfers at once all complete. */
static void
test_concurrent(void)
{
	struct tf	t[TF_MANY];
	char		*url, *cause = NULL;
	int		i, good = 0, started = 0;

	memset(t, 0, sizeof t);
	url = tf_url("/bytes?n=100000");
	for (i = 0; i < TF_MANY; i++) {
		t[i].fetch = fetch_start(url, NULL, tf_done, &t[i], &cause);
		if (t[i].fetch != NULL)
			started++;
		free(cause);
		cause = NULL;
	}
	free(url);
	is_int(started, TF_MANY, "concurrent: all started");
	is_int(fetch_active(), TF_MANY, "concurrent: all in flight");
	is_int(tf_wait(t, TF_MANY, 30), 0, "concurrent: all done");
	for (i = 0; i < TF_MANY; i++) {
		if (t[i].ndone == 1 && t[i].status == 200 &&
		    t[i].error == NULL && t[i].len == 100000)
			good++;
		tf_reset(&t[i]);
	}
	is_int(good, TF_MANY, "concurrent: every one a full 200");
	is_int(fetch_active(), 0, "concurrent: nothing left in flight");
}

/* A cancelled transfer never calls back, however early. */
static void
test_cancel(void)
{
	struct tf	 t, u;
	char		*url, *cause = NULL, *file;

	memset(&t, 0, sizeof t);
	memset(&u, 0, sizeof u);
	url = tf_url("/slow?n=20&ms=100");
	t.fetch = fetch_start(url, NULL, tf_done, &t, &cause);
	tutil_spin(0.3);
	fetch_cancel(t.fetch);
	is_int(fetch_active(), 0, "cancel mid-transfer: none in flight");
	u.fetch = fetch_start(url, NULL, tf_done, &u, &cause);
	fetch_cancel(u.fetch);
	file = tf_file("cancelled", "x", 1);
	free(url);
	xasprintf(&url, "file://%s", file);
	u.fetch = fetch_start(url, NULL, tf_done, &u, &cause);
	fetch_cancel(u.fetch);
	tutil_spin(2.5);
	is_int(t.ndone, 0, "cancel mid-transfer: no callback");
	is_int(u.ndone, 0, "cancel before the start: no callback");
	free(url);
	free(file);
}

/* The loop keeps running during a slow transfer. */
static void
test_not_blocking(void)
{
	struct fetch_options	 o;
	struct event		*tick;
	struct timeval		 tv = { 0, 100000 };
	struct tf		 t;
	double			 start;

	memset(&t, 0, sizeof t);
	memset(&o, 0, sizeof o);
	o.timeout = 10;
	tick = event_new(tf_base, -1, EV_PERSIST, tf_tick, NULL);
	event_add(tick, &tv);
	tf_ticks = 0;
	start = tutil_now();
	tf_get_path(&t, "/slow?n=20&ms=100", &o, 10);
	ok(t.status == 200 && t.len == 20, "slow transfer completes");
	ok(tutil_now() - start >= 1.8, "slow transfer took its time");
	ok(tf_ticks >= 12, "a 0.1 s timer kept firing during it");
	printf("# %d ticks in %.2f s\n", tf_ticks, tutil_now() - start);
	event_free(tick);
	tf_reset(&t);
}

/* Callbacks start and cancel other transfers. */
static void
test_reentrancy(void)
{
	struct fetch_options	 o;
	struct tf		 a, b, c;
	char			*url, *cause = NULL;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&c, 0, sizeof c);
	url = tf_url("/slow?n=50&ms=100");
	b.fetch = fetch_start(url, NULL, tf_done, &b, &cause);
	free(url);
	a.cancel_other = &b;
	a.start_other = &c;
	a.start_url = url = tf_url("/ok");
	tf_get(&a, url, NULL, 10);
	is_int(tf_wait(&c, 1, 10), 0,
	    "a transfer started from a done callback completes");
	is_str(c.body, "hello, fetch\n", "its body");
	tutil_spin(0.5);
	is_int(b.ndone, 0, "a transfer cancelled from a done callback is "
	    "silent");
	is_int(fetch_active(), 0, "nothing left in flight");
	free(url);
	tf_reset(&a);
	tf_reset(&b);
	tf_reset(&c);

	a.cancel_other = &a;
	tf_get_path(&a, "/ok", NULL, 10);
	tutil_spin(0.2);
	is_int(a.ndone, 1, "fetch_cancel of itself in its done callback: "
	    "harmless");

	tf_reset(&a);
	memset(&o, 0, sizeof o);
	o.data_cb = tf_data;
	a.start_other = &c;
	a.start_url = url = tf_url("/ok");
	tf_get_path(&a, "/bytes?n=100000", &o, 10);
	is_int(a.streamed, 100000, "a stream that starts another transfer");
	is_int(tf_wait(&c, 1, 10), 0,
	    "a transfer started from a data callback completes");
	is_int(c.status, 200, "its status");
	free(url);
	tf_reset(&a);
	tf_reset(&c);
}

/* file:// sources: present, missing, conditional, limited, streamed. */
static void
test_files(void)
{
	struct fetch_options	 o;
	struct tf		 t;
	char			*path, *url, *big, *lm, *dir;
	char			 want[SHA256_HEX_LEN + 1];
	char			 got[SHA256_HEX_LEN + 1];
	size_t			 i;

	memset(&t, 0, sizeof t);
	path = tf_file("with space.json", "{\"a\": 1}\n", 10);
	xasprintf(&url, "file://%s/with%%20space.json", tf_dir);
	tf_get(&t, url, NULL, 10);
	is_int(t.status, 200, "file: 200");
	is_str(t.error, NULL, "file: no error");
	is_str(t.body, "{\"a\": 1}\n", "file: body (percent-decoded path)");
	ok(t.last_modified != NULL && strlen(t.last_modified) == 29 &&
	    strstr(t.last_modified, " GMT") != NULL, "file: Last-Modified");
	is_str(t.url, url, "file: effective URL");
	lm = t.last_modified != NULL ? xstrdup(t.last_modified) : NULL;

	/* Rewritten within the same second, same size: read again. */
	free(tf_file("with space.json", "{\"a\": 2}\n", 10));
	tf_reset(&t);
	memset(&o, 0, sizeof o);
	o.last_modified = lm;
	tf_get(&t, url, &o, 10);
	ok(t.status == 200 && !t.not_modified,
	    "file: If-Modified-Since its old mtime: read again");
	is_str(t.body, "{\"a\": 2}\n", "file: rewritten: the new body");
	free(lm);
	free(url);

	tf_reset(&t);
	xasprintf(&url, "file://%s/absent.json", tf_dir);
	tf_get(&t, url, NULL, 10);
	is_int(t.status, 404, "file missing: 404");
	is_str(t.error, NULL, "file missing: not an error");
	free(url);

	tf_reset(&t);
	xasprintf(&dir, "%s/adir", tf_dir);
	mkdir(dir, 0755);
	xasprintf(&url, "file://%s", dir);
	tf_get(&t, url, NULL, 10);
	is_str(t.error, "not a regular file", "file: a directory refused");
	free(url);
	free(dir);

	tf_reset(&t);
	xasprintf(&url, "file://localhost%s/with%%20space.json", tf_dir);
	memset(&o, 0, sizeof o);
	o.max_size = 5;
	tf_get(&t, url, &o, 10);
	is_str(t.error, "body larger than 5 bytes", "file: max_size");
	free(url);
	free(path);

	tf_reset(&t);
	big = xmalloc(TF_BIG);
	for (i = 0; i < TF_BIG; i++)
		big[i] = (char)(i % 251);
	path = tf_file("big", big, TF_BIG);
	free(big);
	tf_pattern_hash(TF_BIG, want);
	xasprintf(&url, "file://%s", path);
	memset(&o, 0, sizeof o);
	o.data_cb = tf_data;
	t.sha = sha256_new();
	tf_get(&t, url, &o, 10);
	sha256_final(t.sha, got);
	t.sha = NULL;
	ok(t.status == 200 && t.error == NULL, "file stream: 200");
	is_int(t.streamed, TF_BIG, "file stream: every byte");
	is_str(got, want, "file stream: sha256");
	ok(t.nchunks >= TF_BIG / (256 * 1024), "file stream: in chunks");

	tf_reset(&t);
	t.refuse_after = 2;
	tf_get(&t, url, &o, 10);
	ok(tf_prefix(t.error, "aborted: "), "file stream: -1 aborts");
	is_int(t.nchunks, 2, "file stream: no chunk after -1");
	free(url);
	free(path);
	tf_reset(&t);
}

/* Shutdown drops transfers silently; fetch_init works again after. */
static void
test_shutdown(void)
{
	struct tf	 t, u;
	char		*url, *cause = NULL;

	memset(&t, 0, sizeof t);
	memset(&u, 0, sizeof u);
	url = tf_url("/hang");
	t.fetch = fetch_start(url, NULL, tf_done, &t, &cause);
	free(url);
	tutil_spin(0.2);
	fetch_shutdown();
	tutil_spin(0.2);
	is_int(t.ndone, 0, "shutdown: no callback");
	is_int(fetch_active(), 0, "shutdown: nothing in flight");
	url = tf_url("/ok");
	ok(fetch_start(url, NULL, tf_done, &u, &cause) == NULL && cause,
	    "fetch_start after shutdown refused");
	free(cause);
	cause = NULL;
	is_int(fetch_init(tf_base, &cause), 0, "fetch_init again");
	tf_get(&u, url, NULL, 10);
	is_int(u.status, 200, "a transfer after a restart");
	free(url);
	tf_reset(&u);
}

/* Runs every case on one event loop, as the daemon would. */
int
main(void)
{
	struct tf	 t;
	char		*cause = NULL;

	signal(SIGPIPE, SIG_IGN);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	tf_dir = tutil_scratch("fetch-test");
	if (tf_server_start() == -1) {
		printf("Bail out! cannot start %s\n", TF_SERVER);
		tf_server_stop();
		return (1);
	}
	tf_base = tutil_loop_init(50000, NULL);

	memset(&t, 0, sizeof t);
	ok(fetch_start("http://127.0.0.1/", NULL, tf_done, &t, &cause) ==
	    NULL && cause != NULL, "fetch_start before fetch_init refused");
	free(cause);
	cause = NULL;
	is_int(fetch_init(tf_base, &cause), 0, "fetch_init");

	test_refused_arguments();
	test_statuses();
	test_redirects();
	test_failures();
	test_streaming();
	test_concurrent();
	test_cancel();
	test_not_blocking();
	test_reentrancy();
	test_files();
	test_shutdown();

	fetch_shutdown();
	tutil_loop_free();
	tf_server_stop();
	fs_rmtree(tf_dir);
	free(tf_dir);
	return (done_testing());
}

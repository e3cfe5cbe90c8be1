/*
 * fetch.c: upstream downloads on the daemon's event loop. http:// and
 * https:// transfers run in one libcurl multi handle driven by libevent:
 * curl tells us which sockets to watch (one event each) and when to wake
 * it (one timer), and we hand every readiness back through
 * curl_multi_socket_action. file:// is read here, one chunk per loop
 * iteration, because libcurl would read a whole local file (an
 * ImageBuilder tarball of hundreds of MB) in a single call.
 *
 * Nothing calls back from inside fetch_start or fetch_cancel: starting is
 * deferred to a zero-timeout "kick" event, and a transfer cancelled from
 * inside a libcurl call (a data callback) is only marked, then freed once
 * libcurl has returned.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/fetch.h"

#define FETCH_MAX_SIZE		(16 * 1024 * 1024)
#define FETCH_TIMEOUT		60
#define FETCH_CONNECT_TIMEOUT	10
#define FETCH_LOW_SPEED_TIME	30
#define FETCH_LOW_SPEED_LIMIT	1024L
#define FETCH_MAX_REDIRS	5L
/* Bytes of a file:// body read per loop iteration. */
#define FETCH_FILE_CHUNK	(256 * 1024)
/* The longest header value sent or kept (ETag, Last-Modified). */
#define FETCH_HEADER_MAX	1024
/* The first allocation of a buffered body. */
#define FETCH_BODY_START	16384
#define FETCH_USER_AGENT	"asud/" PACKAGE_VERSION
#define FETCH_ABORTED		"aborted: the receiver refused the data"

enum fetch_kind {
	FETCH_HTTP,
	FETCH_FILE
};

struct fetch {
	enum fetch_kind		 kind;
	int			 started;	/* begun by the kick event */
	int			 added;		/* in the multi handle */
	int			 cancelled;	/* no more callbacks */
	int			 busy;		/* in one of its callbacks */
	int			 too_big;
	int			 refused;	/* data_cb returned -1 */

	size_t			 max_size;
	int			 timeout;
	int			 connect_timeout;
	long			 low_speed_time;
	fetch_data_cb		 data_cb;
	fetch_done_cb		 done_cb;
	void			*arg;

	CURL			*easy;		/* http, https */
	struct curl_slist	*headers;
	char			 errbuf[CURL_ERROR_SIZE];

	char			*path;		/* file:// */
	int			 fd;
	struct event		*chunk;

	struct fetch_result	 res;		/* built as answers arrive */
	size_t			 cap;		/* allocated for res.body */

	TAILQ_ENTRY(fetch)	 entry;
};

/* A socket libcurl asked us to watch. */
struct fetch_sock {
	struct event		*ev;
	LIST_ENTRY(fetch_sock)	 entry;
};

static struct event_base	*fetch_base;
static CURLM			*fetch_multi;
static struct event		*fetch_timer;	/* libcurl's timeout */
static struct event		*fetch_kick;	/* starts and reaps transfers */
static int			 fetch_depth;	/* inside libcurl calls */
static char			 fetch_chunk_buf[FETCH_FILE_CHUNK];
static TAILQ_HEAD(, fetch)	 fetch_list =
    TAILQ_HEAD_INITIALIZER(fetch_list);
static LIST_HEAD(, fetch_sock)	 fetch_socks =
    LIST_HEAD_INITIALIZER(fetch_socks);

static void	fetch_kick_cb(evutil_socket_t, short, void *);
static void	fetch_timeout_cb(evutil_socket_t, short, void *);
static void	fetch_event_cb(evutil_socket_t, short, void *);
static void	fetch_chunk_cb(evutil_socket_t, short, void *);

/* Fires ev on the next loop iteration, after polling for I/O. */
static void
fetch_schedule(struct event *ev)
{
	struct timeval	tv = { 0, 0 };

	evtimer_add(ev, &tv);
}

/* Releases a transfer and everything it holds, with no callback. */
static void
fetch_free(struct fetch *f)
{
	TAILQ_REMOVE(&fetch_list, f, entry);
	if (f->easy != NULL) {
		if (f->added)
			curl_multi_remove_handle(fetch_multi, f->easy);
		curl_easy_cleanup(f->easy);
	}
	curl_slist_free_all(f->headers);
	if (f->chunk != NULL)
		event_free(f->chunk);
	if (f->fd != -1)
		close(f->fd);
	free(f->path);
	free(f->res.error);
	free(f->res.body);
	free(f->res.etag);
	free(f->res.last_modified);
	free(f->res.effective_url);
	free(f);
}

/* Hands the result over (unless cancelled), then frees the transfer. */
static void
fetch_finish(struct fetch *f)
{
	if (f->res.error != NULL || f->res.len == 0) {
		free(f->res.body);
		f->res.body = NULL;
		f->res.len = 0;
	}
	if (!f->cancelled && f->done_cb != NULL) {
		f->busy++;
		f->done_cb(&f->res, f->arg);
		f->busy--;
	}
	fetch_free(f);
}

/* Sets the cause of a failed transfer (the first one wins). */
static void __attribute__((format(printf, 2, 3)))
fetch_fail(struct fetch *f, const char *fmt, ...)
{
	va_list	ap;

	if (f->res.error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&f->res.error, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

/* Takes one piece of a body: to the data callback, or into the buffer. */
static int
fetch_append(struct fetch *f, const char *buf, size_t n)
{
	size_t	cap;
	int	rc;

	if (n == 0)
		return (0);
	if (f->data_cb != NULL) {
		f->busy++;
		rc = f->data_cb(buf, n, f->arg);
		f->busy--;
		if (rc < 0)
			f->refused = 1;
		return (rc < 0 || f->cancelled ? -1 : 0);
	}
	if (n > f->max_size - f->res.len) {
		f->too_big = 1;
		return (-1);
	}
	if (f->res.len + n + 1 > f->cap) {
		cap = f->cap != 0 ? f->cap : FETCH_BODY_START;
		while (cap < f->res.len + n + 1)
			cap *= 2;
		if (cap > f->max_size + 1)
			cap = f->max_size + 1;
		f->res.body = xreallocarray(f->res.body, 1, cap);
		f->cap = cap;
	}
	memcpy(f->res.body + f->res.len, buf, n);
	f->res.len += n;
	f->res.body[f->res.len] = '\0';
	return (0);
}

/* Formats a time as an HTTP date, whatever the locale. */
static char *
fetch_http_date(time_t t)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	tm;
	char		*s;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return (NULL);
	xasprintf(&s, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return (s);
}

/* Whether a header value is safe to send or keep: printable ASCII only. */
static int
fetch_header_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > FETCH_HEADER_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return (0);
	return (1);
}

/* The value of header line "Name: value" if it is name and sane. */
static char *
fetch_header_value(const char *line, size_t len, const char *name)
{
	size_t		 nlen = strlen(name);
	const char	*s, *e;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 ||
	    line[nlen] != ':')
		return (NULL);
	s = line + nlen + 1;
	e = line + len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	if (!fetch_header_ok(s, (size_t)(e - s)))
		return (NULL);
	return (xstrndup(s, (size_t)(e - s)));
}

/* libcurl: one response header line; a status line starts a new answer. */
static size_t
fetch_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * nitems;
	char		*v;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* An interim or redirect answer is forgotten. */
		free(f->res.etag);
		free(f->res.last_modified);
		f->res.etag = f->res.last_modified = NULL;
		f->res.len = 0;
		if (f->res.body != NULL)
			f->res.body[0] = '\0';
	} else if ((v = fetch_header_value(buf, len, "ETag")) != NULL) {
		free(f->res.etag);
		f->res.etag = v;
	} else if ((v = fetch_header_value(buf, len, "Last-Modified")) !=
	    NULL) {
		free(f->res.last_modified);
		f->res.last_modified = v;
	}
	return (len);
}

/* libcurl: a piece of the body. A stream only gets 2xx bodies. */
static size_t
fetch_write_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * nitems;
	long		 status = 0;

	if (f->cancelled)
		return (0);
	if (f->data_cb != NULL) {
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299)
			return (len);
	}
	if (fetch_append(f, buf, len) == -1)
		return (0);
	return (len);
}

/* Turns a timeout into the limit that struck. */
static void
fetch_http_timeout(struct fetch *f)
{
	curl_off_t	total = 0, connect = 0;

	curl_easy_getinfo(f->easy, CURLINFO_TOTAL_TIME_T, &total);
	curl_easy_getinfo(f->easy, CURLINFO_CONNECT_TIME_T, &connect);
	if (total >= (curl_off_t)f->timeout * 1000000 - 100000)
		fetch_fail(f, "timed out after %d s", f->timeout);
	else if (connect == 0)
		fetch_fail(f, "connection timed out after %d s",
		    f->connect_timeout);
	else
		fetch_fail(f, "too slow: under 1 KiB/s for %ld s",
		    f->low_speed_time);
}

/* Turns a libcurl failure into a readable cause. */
static void
fetch_http_error(struct fetch *f, CURLcode code)
{
	const char	*detail;
	long		 oserr = 0;

	detail = f->errbuf[0] != '\0' ? f->errbuf : curl_easy_strerror(code);
	switch (code) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(f->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED)
			fetch_fail(f, "connection refused");
		else
			fetch_fail(f, "cannot connect: %s", oserr != 0 ?
			    strerror((int)oserr) : detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		fetch_http_timeout(f);
		break;
	case CURLE_PARTIAL_FILE:
		fetch_fail(f, "truncated transfer");
		break;
	case CURLE_FILESIZE_EXCEEDED:
		fetch_fail(f, "body larger than %zu bytes", f->max_size);
		break;
	case CURLE_WRITE_ERROR:
		if (f->too_big)
			fetch_fail(f, "body larger than %zu bytes",
			    f->max_size);
		else if (f->refused)
			fetch_fail(f, FETCH_ABORTED);
		else
			fetch_fail(f, "%s", detail);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		fetch_fail(f, "too many redirects (more than %ld)",
		    FETCH_MAX_REDIRS);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		fetch_fail(f, "redirect refused: only http and https are "
		    "followed");
		break;
	case CURLE_GOT_NOTHING:
		fetch_fail(f, "empty reply from server");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		fetch_fail(f, "TLS certificate verification failed: %s",
		    detail);
		break;
	default:
		fetch_fail(f, "%s", detail);
		break;
	}
}

/* Collects what libcurl knows about a finished transfer. */
static void
fetch_http_done(struct fetch *f, CURLcode code)
{
	char	*url = NULL;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->res.status);
	if (curl_easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url) ==
	    CURLE_OK && url != NULL) {
		free(f->res.effective_url);
		f->res.effective_url = xstrdup(url);
	}
	if (code != CURLE_OK)
		fetch_http_error(f, code);
	else if (f->res.status == 304)
		f->res.not_modified = 1;
}

/* Reports every transfer libcurl has finished, one at a time. */
static void
fetch_check_info(void)
{
	CURLMsg		*msg;
	CURLcode	 code;
	CURL		*easy;
	struct fetch	*f;
	char		*p;
	int		 left;

	/*
	 * A done callback may cancel another finished transfer; removing
	 * its handle drops its queued message, so read one at a time.
	 */
	while ((msg = curl_multi_info_read(fetch_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		code = msg->data.result;
		p = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
		if ((f = (struct fetch *)p) == NULL)
			fatalx("%s: a transfer without its fetch", __func__);
		curl_multi_remove_handle(fetch_multi, easy);
		f->added = 0;
		if (!f->cancelled)
			fetch_http_done(f, code);
		fetch_finish(f);
	}
}

/* Lets libcurl act on a socket (or its timeout), then reaps. */
static void
fetch_action(curl_socket_t fd, int flags)
{
	CURLMcode	mc;
	int		running;

	fetch_depth++;
	mc = curl_multi_socket_action(fetch_multi, fd, flags, &running);
	fetch_depth--;
	if (mc != CURLM_OK)
		log_warnx("%s: %s", __func__, curl_multi_strerror(mc));
	fetch_check_info();
}

/* libevent: a socket libcurl watches is ready. */
static void
fetch_event_cb(evutil_socket_t fd, short what, void *arg __unused)
{
	int	flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	fetch_action(fd, flags);
}

/* libevent: libcurl's timer expired. */
static void
fetch_timeout_cb(evutil_socket_t fd __unused, short what __unused,
    void *arg __unused)
{
	fetch_action(CURL_SOCKET_TIMEOUT, 0);
}

/* Stops watching a socket. */
static void
fetch_sock_free(struct fetch_sock *fs)
{
	LIST_REMOVE(fs, entry);
	event_free(fs->ev);
	free(fs);
}

/* libcurl: watch s for what (or stop watching it). */
static int
fetch_socket_cb(CURL *easy __unused, curl_socket_t s, int what,
    void *arg __unused, void *sockp)
{
	struct fetch_sock	*fs = sockp;
	short			 events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL)
			fetch_sock_free(fs);
		return (0);
	}
	if (fs == NULL) {
		fs = xcalloc(1, sizeof *fs);
		LIST_INSERT_HEAD(&fetch_socks, fs, entry);
		curl_multi_assign(fetch_multi, s, fs);
	} else
		event_free(fs->ev);
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	fs->ev = event_new(fetch_base, s, events, fetch_event_cb, NULL);
	if (fs->ev == NULL)
		fatalx("out of memory");
	event_add(fs->ev, NULL);
	return (0);
}

/* libcurl: call back in ms milliseconds (-1: never). */
static int
fetch_timer_cb(CURLM *multi __unused, long ms, void *arg __unused)
{
	struct timeval	tv;

	if (ms < 0) {
		evtimer_del(fetch_timer);
		return (0);
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(fetch_timer, &tv);
	return (0);
}

/* Reads the next piece of a file:// body; one per loop iteration. */
static void
fetch_chunk_cb(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct fetch	*f = arg;
	ssize_t		 n;

	n = read(f->fd, fetch_chunk_buf, sizeof fetch_chunk_buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN)) {
		fetch_schedule(f->chunk);
		return;
	}
	if (n == -1)
		fetch_fail(f, "read error: %s", strerror(errno));
	else if (n > 0 && fetch_append(f, fetch_chunk_buf, (size_t)n) == -1) {
		if (f->cancelled)
			return;		/* the kick event frees it */
		if (f->too_big)
			fetch_fail(f, "body larger than %zu bytes",
			    f->max_size);
		else
			fetch_fail(f, FETCH_ABORTED);
	} else if (n > 0) {
		fetch_schedule(f->chunk);
		return;
	}
	fetch_finish(f);
}

/* Opens a file:// source; -1 when the transfer already ended. */
static int
fetch_file_begin(struct fetch *f)
{
	struct stat	st;

	f->fd = open(f->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (f->fd == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			f->res.status = 404;
		else
			fetch_fail(f, "cannot open: %s", strerror(errno));
		return (-1);
	}
	if (fstat(f->fd, &st) == -1) {
		fetch_fail(f, "cannot stat: %s", strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		fetch_fail(f, "not a regular file");
		return (-1);
	}
	/*
	 * A local file is always read, never answered "not modified": its
	 * time stamps have coarse steps, so a file rewritten within one of
	 * them would look unchanged and stay stale.  Reading it costs little.
	 */
	f->res.last_modified = fetch_http_date(st.st_mtime);
	if (f->data_cb == NULL && (uintmax_t)st.st_size > f->max_size) {
		fetch_fail(f, "body larger than %zu bytes", f->max_size);
		return (-1);
	}
	f->res.status = 200;
	f->chunk = evtimer_new(fetch_base, fetch_chunk_cb, f);
	if (f->chunk == NULL)
		fatalx("out of memory");
	fetch_schedule(f->chunk);
	return (0);
}

/* Starts a transfer for real; -1 when it already ended. */
static int
fetch_begin(struct fetch *f)
{
	CURLMcode	mc;

	if (f->kind == FETCH_FILE)
		return (fetch_file_begin(f));
	mc = curl_multi_add_handle(fetch_multi, f->easy);
	if (mc != CURLM_OK) {
		fetch_fail(f, "cannot start the transfer: %s",
		    curl_multi_strerror(mc));
		return (-1);
	}
	f->added = 1;
	return (0);
}

/* libevent: starts new transfers and frees cancelled ones. */
static void
fetch_kick_cb(evutil_socket_t fd __unused, short what __unused,
    void *arg __unused)
{
	struct fetch	*f;

again:
	TAILQ_FOREACH(f, &fetch_list, entry) {
		if (f->busy)
			continue;
		if (f->cancelled) {
			fetch_free(f);
			goto again;
		}
		if (!f->started) {
			f->started = 1;
			if (fetch_begin(f) == -1) {
				/* Its callback may change the list. */
				fetch_finish(f);
				goto again;
			}
		}
	}
}

/* Sets the options every http(s) transfer has; -1 if libcurl refuses. */
static int
fetch_http_options(struct fetch *f, const char *url)
{
	CURL	*e = f->easy;
	int	 bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, f) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
	    "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRS) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, FETCH_USER_AGENT) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, f) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, f) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)f->timeout) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    (long)f->connect_timeout) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
	    FETCH_LOW_SPEED_LIMIT) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
	    f->low_speed_time) != CURLE_OK;
	if (f->headers != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers) !=
		    CURLE_OK;
	if (f->data_cb == NULL) {
		/* Buffered metadata may come compressed; streams stay exact. */
		bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") !=
		    CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)f->max_size) != CURLE_OK;
	}
	return (bad ? -1 : 0);
}

/* Adds a conditional request header, refusing values that could inject. */
static int
fetch_http_header(struct fetch *f, const char *name, const char *value,
    char **cause)
{
	struct curl_slist	*l;
	char			*line;

	if (value == NULL)
		return (0);
	if (!fetch_header_ok(value, strlen(value))) {
		xasprintf(cause, "bad %s value", name);
		return (-1);
	}
	xasprintf(&line, "%s: %s", name, value);
	l = curl_slist_append(f->headers, line);
	free(line);
	if (l == NULL)
		fatalx("out of memory");
	f->headers = l;
	return (0);
}

/* Prepares an http(s) transfer. */
static int
fetch_http_setup(struct fetch *f, const char *url,
    const struct fetch_options *opts, char **cause)
{
	if (fetch_http_header(f, "If-None-Match", opts->etag, cause) == -1 ||
	    fetch_http_header(f, "If-Modified-Since", opts->last_modified,
	    cause) == -1)
		return (-1);
	if ((f->easy = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot create a transfer");
		return (-1);
	}
	if (fetch_http_options(f, url) == -1) {
		*cause = xstrdup("libcurl refused an option");
		return (-1);
	}
	return (0);
}

/* Prepares a file:// transfer from the URL's decoded path. */
static int
fetch_file_setup(struct fetch *f, CURLU *u, char **cause)
{
	char	*path = NULL;
	size_t	 i;

	if (curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) !=
	    CURLUE_OK || path == NULL || path[0] != '/') {
		curl_free(path);
		*cause = xstrdup("bad file:// URL");
		return (-1);
	}
	for (i = 0; path[i] != '\0'; i++) {
		if ((unsigned char)path[i] < 0x20) {
			curl_free(path);
			*cause = xstrdup("bad file:// URL");
			return (-1);
		}
	}
	f->path = xstrdup(path);
	curl_free(path);
	return (0);
}

/* Checks the URL and picks http(s) or file; -1 for anything else. */
static int
fetch_setup(struct fetch *f, const char *url,
    const struct fetch_options *opts, char **cause)
{
	CURLU	*u;
	char	*scheme = NULL;
	int	 rc = -1;

	if ((u = curl_url()) == NULL)
		fatalx("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		*cause = xstrdup("malformed URL");
		goto out;
	}
	if (strcasecmp(scheme, "file") == 0) {
		f->kind = FETCH_FILE;
		rc = fetch_file_setup(f, u, cause);
	} else if (strcasecmp(scheme, "http") == 0 ||
	    strcasecmp(scheme, "https") == 0) {
		f->kind = FETCH_HTTP;
		rc = fetch_http_setup(f, url, opts, cause);
	} else
		xasprintf(cause, "unsupported URL scheme %s", scheme);
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return (rc);
}

/* Prepares a transfer; the kick event starts it on the loop. */
struct fetch *
fetch_start(const char *url, const struct fetch_options *opts,
    fetch_done_cb done_cb, void *arg, char **cause)
{
	static const struct fetch_options	 defaults;
	struct fetch				*f;

	if (fetch_multi == NULL) {
		*cause = xstrdup("fetch_init was not called");
		return (NULL);
	}
	if (opts == NULL)
		opts = &defaults;
	f = xcalloc(1, sizeof *f);
	f->fd = -1;
	f->max_size = opts->max_size != 0 ? opts->max_size : FETCH_MAX_SIZE;
	if (f->max_size > SIZE_MAX / 4)
		f->max_size = SIZE_MAX / 4;
	f->timeout = opts->timeout > 0 ? opts->timeout : FETCH_TIMEOUT;
	f->connect_timeout = opts->connect_timeout > 0 ?
	    opts->connect_timeout : FETCH_CONNECT_TIMEOUT;
	f->low_speed_time = opts->low_speed_time > 0 ?
	    opts->low_speed_time : FETCH_LOW_SPEED_TIME;
	f->data_cb = opts->data_cb;
	f->done_cb = done_cb;
	f->arg = arg;
	f->res.effective_url = xstrdup(url);
	TAILQ_INSERT_TAIL(&fetch_list, f, entry);
	if (fetch_setup(f, url, opts, cause) == -1) {
		fetch_free(f);
		return (NULL);
	}
	fetch_schedule(fetch_kick);
	return (f);
}

/* Stops a transfer now, or once libcurl or its own callback returns. */
void
fetch_cancel(struct fetch *f)
{
	if (f == NULL)
		return;
	f->cancelled = 1;
	if (f->busy || fetch_depth > 0) {
		fetch_schedule(fetch_kick);
		return;
	}
	fetch_free(f);
}

/* Counts the transfers still to report. */
size_t
fetch_active(void)
{
	struct fetch	*f;
	size_t		 n = 0;

	TAILQ_FOREACH(f, &fetch_list, entry)
		if (!f->cancelled)
			n++;
	return (n);
}

/* Sets libcurl up and ties its multi handle to the daemon's loop. */
int
fetch_init(struct event_base *base, char **cause)
{
	CURLcode	code;

	if (fetch_multi != NULL)
		return (0);
	if ((code = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		xasprintf(cause, "libcurl: %s", curl_easy_strerror(code));
		return (-1);
	}
	if ((fetch_multi = curl_multi_init()) == NULL) {
		curl_global_cleanup();
		*cause = xstrdup("libcurl: cannot create a multi handle");
		return (-1);
	}
	fetch_base = base;
	fetch_timer = evtimer_new(base, fetch_timeout_cb, NULL);
	fetch_kick = evtimer_new(base, fetch_kick_cb, NULL);
	if (fetch_timer == NULL || fetch_kick == NULL)
		fatalx("out of memory");
	curl_multi_setopt(fetch_multi, CURLMOPT_SOCKETFUNCTION,
	    fetch_socket_cb);
	curl_multi_setopt(fetch_multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	log_debug("libcurl %s", curl_version());
	return (0);
}

/* Drops every transfer without callbacks and releases libcurl. */
void
fetch_shutdown(void)
{
	struct fetch	*f;

	if (fetch_multi == NULL)
		return;
	while ((f = TAILQ_FIRST(&fetch_list)) != NULL) {
		f->cancelled = 1;
		fetch_free(f);
	}
	curl_multi_cleanup(fetch_multi);
	fetch_multi = NULL;
	while (!LIST_EMPTY(&fetch_socks))
		fetch_sock_free(LIST_FIRST(&fetch_socks));
	event_free(fetch_timer);
	event_free(fetch_kick);
	fetch_timer = fetch_kick = NULL;
	fetch_base = NULL;
	curl_global_cleanup();
}

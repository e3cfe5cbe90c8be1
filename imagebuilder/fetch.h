/*
 * fetch.h: upstream downloads on the daemon's event loop. http:// and
 * https:// go through libcurl's multi interface driven by libevent (one
 * event per socket, one timer); file:// (a local mirror) is read in chunks,
 * one per loop iteration. Nothing here ever blocks the loop, and no
 * callback ever runs inside fetch_start or fetch_cancel.
 */
#ifndef ASUD_FETCH_H
#define ASUD_FETCH_H

#include <stddef.h>

struct event_base;
struct fetch;

/*
 * The end of a transfer. error NULL means a whole answer arrived, whatever
 * its status: a 404 or a 500 is not an error. With an error, status is
 * what the server said before the failure (0 if nothing) and there is no
 * body. Everything is owned by fetch and freed when the done callback
 * returns.
 */
struct fetch_result {
	long		 status;	/* HTTP status; file://: 200, 404 when
					   missing, 304; 0 when no answer */
	int		 not_modified;	/* 304 to a conditional request */
	char		*error;		/* NULL, or a readable cause:
					   "connection refused", "timed out
					   after 30 s", "body larger than N
					   bytes", "truncated transfer"... */
	char		*body;		/* NUL-terminated; NULL when streaming,
					   on error or when the body is empty */
	size_t		 len;
	char		*etag;		/* response ETag, or NULL */
	char		*last_modified;	/* Last-Modified (file://: mtime), or
					   NULL */
	char		*effective_url;	/* after redirects */
};

/* The end of a transfer; the result is freed after it returns. */
typedef void (*fetch_done_cb)(const struct fetch_result *, void *arg);
/*
 * Streaming: each chunk of a 2xx (or file://) body, in order, never
 * buffered; the bodies of other statuses are dropped. Return 0 to go on,
 * -1 to abort: the done callback then reports the error "aborted: the
 * receiver refused the data".
 */
typedef int (*fetch_data_cb)(const char *buf, size_t len, void *arg);

struct fetch_options {
	const char	*etag;		/* If-None-Match, or NULL */
	const char	*last_modified;	/* If-Modified-Since, or NULL */
	size_t		 max_size;	/* refuse larger bodies (0: 16 MiB);
					   not applied when streaming */
	int		 timeout;	/* total seconds (0: 60) */
	int		 connect_timeout; /* seconds (0: 10) */
	long		 low_speed_time; /* abort when under 1 KiB/s for this
					   many seconds (0: 30) */
	fetch_data_cb	 data_cb;	/* non-NULL: stream instead of
					   buffering */
};

/*
 * Once, at start, with the daemon's base: initialises libcurl. Returns -1
 * with *cause set if libcurl cannot be set up.
 */
int	fetch_init(struct event_base *, char **cause);
/*
 * At exit, outside any callback: cancels every transfer without calling
 * back and releases libcurl. fetch_init may be called again afterwards.
 */
void	fetch_shutdown(void);
/*
 * Starts fetching url (http, https or file; redirects, at most 5, only to
 * http and https). opts may be NULL for the defaults; its strings are
 * copied. Returns NULL with *cause set for an unsupported or malformed URL
 * or option (a header value with control characters, say). Otherwise
 * done_cb is called exactly once from the event loop, unless fetch_cancel
 * comes first. The done and data callbacks may start and cancel other
 * transfers. The struct fetch is invalid once done_cb returns.
 * http(s): User-Agent asud/<version>, TLS verified, the proxy environment
 * variables honoured. file://: an absolute local path (file:///p or
 * file://localhost/p), answered 200 with its mtime as Last-Modified, 304
 * when not newer than opts->last_modified, 404 when missing; the timeouts
 * do not apply.
 */
struct fetch *fetch_start(const char *url, const struct fetch_options *opts,
	    fetch_done_cb done_cb, void *arg, char **cause);
/*
 * Stops a transfer; neither of its callbacks is called after this. Safe
 * from any callback, including the transfer's own data callback.
 */
void	fetch_cancel(struct fetch *);
/* Transfers started and neither finished nor cancelled (for metrics). */
size_t	fetch_active(void);

#endif

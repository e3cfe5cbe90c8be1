/*
 * http.h: the HTTP transport: evhttp setup, the listener, reply helpers
 * that put the common headers (CORS) on every answer, and held requests.
 * Which handler answers a path is the router's business (route.h), given
 * to http_init with the counting hook of /metrics; no handler is named
 * here.
 */
#ifndef ASUD_HTTP_H
#define ASUD_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct asud;
struct evhttp_request;
struct evbuffer;

/* What the transport calls out to; route must be set. */
struct http_hooks {
	/*
	 * Answers a request whose head passed the checks; path starts with
	 * '/' and has no query string.
	 */
	void	(*route)(struct asud *, struct evhttp_request *,
		    const char *path);
	/* Sees the status of every reply as it starts (may be NULL). */
	void	(*count)(struct evhttp_request *, int code);
};

/*
 * Binds listen ("ADDR:PORT", port 0 picks one), installs the hooks (they
 * are copied) and writes "listening on ADDR:PORT" to stderr. Returns -1
 * with *cause.
 */
int	http_init(struct asud *, const char *listen,
	    const struct http_hooks *, char **cause);
void	http_free(void);

/* Sends body (may be NULL) with code and content type. */
void	http_reply(struct evhttp_request *, int code, const char *ctype,
	    struct evbuffer *body);
/*
 * Sends len bytes at data without copying them: cleanup(data, len, arg)
 * runs once they are sent or the connection is gone (at once for HEAD).
 */
void	http_reply_ref(struct evhttp_request *, int code, const char *ctype,
	    const void *data, size_t len,
	    void (*cleanup)(const void *, size_t, void *), void *arg);
/* Answers a HEAD with code, content type and the length a GET would have. */
void	http_reply_head(struct evhttp_request *, int code, const char *ctype,
	    uintmax_t length);
/* Starts a chunked answer (evhttp_send_reply_chunk/_end go on with it). */
void	http_reply_start(struct evhttp_request *, int code);
/*
 * Before a long answer (a download) is sent on req: no read timeout while
 * it is written, so that a slow reader is not cut off; a stalled one is.
 */
void	http_long_answer(struct evhttp_request *);
/* Sends a copy of len bytes at data. */
void	http_reply_data(struct evhttp_request *, int code, const char *ctype,
	    const void *data, size_t len);
/* Sends JSON text. */
void	http_reply_json(struct evhttp_request *, int code, const char *json,
	    size_t len);
/* Sends {"detail": detail, "status": code}. */
void	http_reply_detail(struct evhttp_request *, int code,
	    const char *detail);
/* Sends {"status": code, "title": title, "detail": detail}. */
void	http_reply_titled(struct evhttp_request *, int code,
	    const char *title, const char *detail);
/* Sends 301 with Location: to, a path of this server. */
void	http_redirect(struct evhttp_request *, const char *to);
/* Sets a response header. */
void	http_header(struct evhttp_request *, const char *name,
	    const char *value);
/*
 * A request answered later (after an upstream fetch, say). If the client
 * goes away meanwhile, http_hold_req returns NULL and the answer is
 * dropped; the hold itself must always be freed.
 */
struct http_hold;
struct http_hold	*http_hold_new(struct evhttp_request *);
struct http_hold	*http_hold_new_cb(struct evhttp_request *,
			    void (*gone)(void *), void *arg);
struct evhttp_request	*http_hold_req(struct http_hold *);
void			 http_hold_free(struct http_hold *);

/* True for HEAD requests. */
int	http_is_head(struct evhttp_request *);

#endif

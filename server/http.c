/*
 * http.c: the HTTP transport: evhttp setup, the listener, replies with
 * the headers every answer carries, and held requests. Every request is
 * handed to the router with its path, without the query string (LuCI
 * appends "?<milliseconds>" to every URL).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/conn.h"
#include "server/http.h"
#include "server/jsonw.h"

/* The most written to one socket per wakeup (see http_bev_cb). */
#define HTTP_MAX_SINGLE_WRITE	(256 * 1024)
/* The longest request head (line and headers) taken. */
#define HTTP_MAX_HEAD		(64 * 1024)
/* evhttp's own timeout of a stalled read or write, at least. */
#define HTTP_IO_TIMEOUT		120

static struct evhttp		*http_server;
static struct asud		*http_asud;
static struct http_hooks	 http_hook;
/* The timeout evhttp was given (http_init). */
static int			 http_io = HTTP_IO_TIMEOUT;

struct http_hold {
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	void				(*gone)(void *);
	void				*arg;
	struct event			*watch;		/* peer close (held) */
	LIST_ENTRY(http_hold)		 link;
};
static LIST_HEAD(, http_hold)	 http_holds = LIST_HEAD_INITIALIZER(http_holds);

/* A connection closed: its held requests can no longer be answered. */
static void
http_hold_closed(struct evhttp_connection *evcon)
{
	struct http_hold	*h, *next;

	if (LIST_EMPTY(&http_holds))
		return;		/* the common case: nothing held */
	LIST_FOREACH_SAFE(h, &http_holds, link, next) {
		if (h->evcon != evcon)
			continue;
		h->req = NULL;
		h->evcon = NULL;
		if (h->gone != NULL)
			h->gone(h->arg);	/* may free h */
	}
}

/* Holds a request to answer it later. */
struct http_hold *
http_hold_new(struct evhttp_request *req)
{
	struct http_hold	*h;

	h = xcalloc(1, sizeof *h);
	h->req = req;
	h->evcon = evhttp_request_get_connection(req);
	LIST_INSERT_HEAD(&http_holds, h, link);
	return (h);
}

/*
 * evhttp does not read a connection while its request is being answered,
 * so it would not see the client leave: a held request's socket is
 * watched here, and a peer that closed ends the connection at once.
 */
static void
http_hold_watch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_hold	*h = arg;
	char			 c;
	ssize_t			 n;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return;		/* a pipelined request: stop watching */
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		event_add(h->watch, NULL);
		return;
	}
	if (h->evcon != NULL)
		evhttp_connection_free(h->evcon);	/* runs the gone hook */
}

/* Holds a request; gone(arg) runs at once if its client goes away. */
struct http_hold *
http_hold_new_cb(struct evhttp_request *req, void (*gone)(void *), void *arg)
{
	struct http_hold	*h;
	struct bufferevent	*bev;
	evutil_socket_t		 fd;

	h = http_hold_new(req);
	h->gone = gone;
	h->arg = arg;
	if (h->evcon != NULL &&
	    (bev = evhttp_connection_get_bufferevent(h->evcon)) != NULL &&
	    (fd = bufferevent_getfd(bev)) != -1) {
		h->watch = event_new(http_asud->base, fd, EV_READ,
		    http_hold_watch_cb, h);
		if (h->watch == NULL)
			fatalx("event_new: out of memory");
		event_add(h->watch, NULL);
	}
	return (h);
}

/* The held request, or NULL when its client went away. */
struct evhttp_request *
http_hold_req(struct http_hold *h)
{
	return (h->req);
}

/* Forgets a hold (after answering, or when giving up). */
void
http_hold_free(struct http_hold *h)
{
	if (h == NULL)
		return;
	LIST_REMOVE(h, link);
	if (h->watch != NULL)
		event_free(h->watch);
	free(h);
}

/* The reason phrase of the status codes asud sends. */
static const char *
http_reason(int code)
{
	switch (code) {
	case 200: return ("OK");
	case 202: return ("Accepted");
	case 204: return ("No Content");
	case 206: return ("Partial Content");
	case 301: return ("Moved Permanently");
	case 304: return ("Not Modified");
	case 400: return ("Bad Request");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 413: return ("Content Too Large");
	case 416: return ("Range Not Satisfiable");
	case 422: return ("Unprocessable Entity");
	case 429: return ("Too Many Requests");
	case 500: return ("Internal Server Error");
	case 503: return ("Service Unavailable");
	case 529: return ("Site is overloaded");
	default: return ("Unknown");
	}
}

/* Sets one header, replacing an earlier value. */
void
http_header(struct evhttp_request *req, const char *name, const char *value)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_remove_header(h, name);
	evhttp_add_header(h, name, value);
}

/* True when the request is a HEAD. */
int
http_is_head(struct evhttp_request *req)
{
	return (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD);
}

/* Shows an answer to the counting hook. */
static void
http_count(struct evhttp_request *req, int code)
{
	if (http_hook.count != NULL)
		http_hook.count(req, code);
}

/* Answers a HEAD: evhttp sends no body and no length for it, so say it. */
void
http_reply_head(struct evhttp_request *req, int code, const char *ctype,
    uintmax_t length)
{
	char	len[32];

	http_count(req, code);
	http_header(req, "Access-Control-Allow-Origin", "*");
	if (ctype != NULL)
		http_header(req, "Content-Type", ctype);
	snprintf(len, sizeof len, "%ju", length);
	http_header(req, "Content-Length", len);
	evhttp_send_reply(req, code, http_reason(code), NULL);
}

/* Starts a chunked answer; the caller has set its headers. */
void
http_reply_start(struct evhttp_request *req, int code)
{
	http_count(req, code);
	evhttp_send_reply_start(req, code, http_reason(code));
}

/*
 * Lets the answer about to be sent on req take as long as its reader
 * needs: while evhttp writes it also reads (to see a close), under its
 * read timeout, which would cut off a download that lasts longer. The
 * write timeout stays: a reader that takes nothing for that long is cut.
 */
void
http_long_answer(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct timeval			 tv = { http_io, 0 };

	if ((evcon = evhttp_request_get_connection(req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL)
		bufferevent_set_timeouts(bev, NULL, &tv);
}

/* Sends a reply with the headers every answer carries. */
void
http_reply(struct evhttp_request *req, int code, const char *ctype,
    struct evbuffer *body)
{
	if (http_is_head(req)) {
		http_reply_head(req, code, ctype,
		    body != NULL ? evbuffer_get_length(body) : 0);
		return;
	}
	http_count(req, code);
	http_header(req, "Access-Control-Allow-Origin", "*");
	if (ctype != NULL)
		http_header(req, "Content-Type", ctype);
	evhttp_send_reply(req, code, http_reason(code), body);
}

/* Sends bytes by reference: the socket is written from them directly. */
void
http_reply_ref(struct evhttp_request *req, int code, const char *ctype,
    const void *data, size_t len,
    void (*cleanup)(const void *, size_t, void *), void *arg)
{
	if (http_is_head(req)) {
		http_reply_head(req, code, ctype, len);
		cleanup(data, len, arg);
		return;
	}
	if (evbuffer_add_reference(evhttp_request_get_output_buffer(req),
	    data, len, cleanup, arg) == -1)
		fatalx("evbuffer_add_reference: out of memory");
	http_reply(req, code, ctype, NULL);
}

/* Sends a copy of len bytes. */
void
http_reply_data(struct evhttp_request *req, int code, const char *ctype,
    const void *data, size_t len)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	evbuffer_add(b, data, len);
	http_reply(req, code, ctype, b);
	evbuffer_free(b);
}

/* Sends JSON text. */
void
http_reply_json(struct evhttp_request *req, int code, const char *json,
    size_t len)
{
	http_reply_data(req, code, "application/json", json, len);
}

/*
 * Sends one of the reference's two error shapes: {"detail", "status"}
 * without a title, {"status", "title", "detail"} with one.
 */
static void
http_reply_error(struct evhttp_request *req, int code, const char *title,
    const char *detail)
{
	yajl_gen	 g;
	char		*body;
	size_t		 len;

	g = jsonw_new();
	yajl_gen_map_open(g);
	if (title == NULL) {
		jsonw_kv_str(g, "detail", detail);
		jsonw_kv_int(g, "status", code);
	} else {
		jsonw_kv_int(g, "status", code);
		jsonw_kv_str(g, "title", title);
		jsonw_kv_str(g, "detail", detail);
	}
	yajl_gen_map_close(g);
	body = jsonw_finish(g, &len);
	http_reply_json(req, code, body, len);
	free(body);
}

/* Sends the reference's {"detail", "status"} error shape. */
void
http_reply_detail(struct evhttp_request *req, int code, const char *detail)
{
	http_reply_error(req, code, NULL, detail);
}

/* Sends the reference's {"status", "title", "detail"} shape. */
void
http_reply_titled(struct evhttp_request *req, int code, const char *title,
    const char *detail)
{
	http_reply_error(req, code, title, detail);
}

/* 301 to another path of this server. */
void
http_redirect(struct evhttp_request *req, const char *to)
{
	http_header(req, "Location", to);
	http_reply_detail(req, 301, "Moved Permanently");
}

/* The one evhttp callback: every request comes here. */
static void
http_gencb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = NULL, *raw, *why;

	if ((why = conn_request(req)) != NULL) {
		http_header(req, "Connection", "close");
		http_reply_detail(req, 400, why);
		return;
	}
	if (uri != NULL)
		path = evhttp_uri_get_path(uri);
	raw = evhttp_request_get_uri(req);
	if (raw != NULL && raw[0] == '/' && raw[1] == '/') {
		/* "//path" repairs to "/path" (the reference does the same). */
		while (raw[1] == '/')
			raw++;
		if (strpbrk(raw, "\r\n") == NULL && strlen(raw) < 4096) {
			http_redirect(req, raw);
			return;
		}
	}
	if (path == NULL || *path != '/') {
		http_reply_detail(req, 400, "Bad request path");
		return;
	}
	http_hook.route(http_asud, req, path);
}

/* Splits "ADDR:PORT" (the address may be [v6]). */
static int
http_split_listen(const char *listen, char **addr, int *port, char **cause)
{
	const char	*colon;
	char		*end;
	long		 p;

	if ((colon = strrchr(listen, ':')) == NULL || colon == listen)
		goto bad;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
		goto bad;
	if (listen[0] == '[' && colon[-1] == ']')
		*addr = xstrndup(listen + 1, (size_t)(colon - listen) - 2);
	else
		*addr = xstrndup(listen, (size_t)(colon - listen));
	*port = (int)p;
	return (0);
bad:
	xasprintf(cause, "listen: '%s' is not ADDR:PORT", listen);
	return (-1);
}

/* Reports the bound address and port as the kernel has them. */
static void
http_say_listening(struct evhttp_bound_socket *bound)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	char			host[INET6_ADDRSTRLEN];
	int			port = 0;

	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&ss, &len) == -1)
		fatal("getsockname");
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		port = ntohs(s6->sin6_port);
		fprintf(stderr, "listening on [%s]:%d\n", host, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		fprintf(stderr, "listening on %s:%d\n", host, port);
	}
	fflush(stderr);
}

/*
 * The bufferevent of each connection. libevent writes at most 16 kB per
 * wakeup by default, so a build answer of 20 kB took two writes and two
 * trips through the loop; the kernel's socket buffer is the only limit
 * worth having.
 */
static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;

	(void)arg;
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("bufferevent_socket_new: out of memory");
	bufferevent_set_max_single_write(bev, HTTP_MAX_SINGLE_WRITE);
	conn_attach(bev);
	return (bev);
}

/* Starts the connection module with the configured deadlines. */
static void
http_conn_init(struct asud *a)
{
	struct conn_settings	s;

	memset(&s, 0, sizeof s);
	s.request_timeout = a->conf->request_timeout;
	s.keepalive_timeout = a->conf->keepalive_timeout;
	s.max_connections = a->conf->max_connections;
	s.max_head = HTTP_MAX_HEAD;
	conn_init(a->base, &s, http_hold_closed);
}

/* Creates the server, binds and installs the callback. */
int
http_init(struct asud *a, const char *listen, const struct http_hooks *hooks,
    char **cause)
{
	struct evhttp_bound_socket	*bound;
	char				*addr;
	int				 port, one, io;
	ev_ssize_t			 hard;

	if (http_split_listen(listen, &addr, &port, cause) == -1)
		return (-1);
	http_asud = a;
	http_hook = *hooks;
	http_conn_init(a);
	if ((http_server = evhttp_new(a->base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_allowed_methods(http_server, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
	/*
	 * Bodies up to max_request_body get a JSON 413 from the handler;
	 * evhttp itself refuses anything four times larger before reading it.
	 */
	hard = (ev_ssize_t)a->conf->max_request_body * 4;
	evhttp_set_max_body_size(http_server, hard);
	evhttp_set_max_headers_size(http_server, HTTP_MAX_HEAD);
	/*
	 * The deadlines are conn.c's; evhttp's own timeout (any stalled read
	 * or write) stays longer than both, so it cuts neither short.
	 */
	io = HTTP_IO_TIMEOUT;
	if (a->conf->request_timeout >= io)
		io = a->conf->request_timeout + 1;
	if (a->conf->keepalive_timeout >= io)
		io = a->conf->keepalive_timeout + 1;
	evhttp_set_timeout(http_server, io);
	http_io = io;
	evhttp_set_gencb(http_server, http_gencb, NULL);
	evhttp_set_bevcb(http_server, http_bev_cb, NULL);
	bound = evhttp_bind_socket_with_handle(http_server, addr,
	    (ev_uint16_t)port);
	if (bound == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", listen,
		    strerror(errno));
		free(addr);
		return (-1);
	}
	free(addr);
	/*
	 * Accepted sockets inherit TCP_NODELAY from the listener: without it
	 * a keep-alive client waits out Nagle and delayed ACKs (40 ms) for
	 * every answer.
	 */
	one = 1;
	if (setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof one) == -1)
		log_warn("TCP_NODELAY");
	conn_listen(evhttp_bound_socket_get_listener(bound));
	http_say_listening(bound);
	return (0);
}

/* Closes the listener and every connection. */
void
http_free(void)
{
	conn_listen(NULL);	/* evhttp_free frees the listener first */
	if (http_server != NULL)
		evhttp_free(http_server);
	http_server = NULL;
	conn_free();
}

/*
 * conn.c: each HTTP connection below evhttp.
 *
 * evhttp 2.1 reads a request head leniently (the first of two
 * Content-Lengths wins, "Transfer-Encoding : chunked" is another header,
 * a NUL ends a value early, "HTTP/1.1111" is version 1.87): behind a proxy
 * that reads the same bytes differently, a second request can be smuggled
 * in the body of the first. So the bytes of each head are checked here, in
 * a callback on the connection's input buffer that runs before evhttp sees
 * them. A head that is not whole yet is moved aside (by reference, no copy)
 * until it is; a head that passes is left for evhttp; one that fails is
 * replaced with a stand-in request that conn_request recognises, so the
 * HTTP layer answers 400 in its own shape and closes, and nothing after the
 * bad head is read.
 *
 * The same callback sees a request's first byte, which starts its deadline
 * (request_timeout); the request's completion starts the keep-alive one.
 * A request being answered (a long poll, a log follower) has none.
 *
 * At the descriptor limit accept() fails at once and the listener stays
 * readable, so libevent would retry it for ever: the listener pauses
 * instead, a spare descriptor is given up to accept and close what waits,
 * and it resumes after a moment or when a connection closes.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/conn.h"

/* The request evhttp is given in place of a refused head. */
#define CONN_STANDIN \
	"GET / HTTP/1.1\r\nHost: asud\r\nConnection: close\r\n\r\n"
/* Descriptors kept for everything but connections, when derived. */
#define CONN_RESERVE	64
/* How long the listener rests after an accept error. */
#define CONN_PAUSE_SECS	1
/* Seconds between two log lines about the listener pausing. */
#define CONN_LOG_SECS	10
/* Bytes a client may send ahead while its request is answered. */
#define CONN_PIPELINED_MAX	(256 * 1024)
/* Connections accepted and closed at once while out of descriptors. */
#define CONN_SHED_MAX	64

enum conn_phase {
	CONN_IDLE,		/* between requests: keepalive_timeout */
	CONN_HEAD,		/* a head is arriving: request_timeout */
	CONN_BODY,		/* the head passed; evhttp reads the body */
	CONN_ANSWER,		/* handed over: no deadline */
	CONN_BAD		/* refused: evhttp reads the stand-in */
};

struct conn {
	struct bufferevent		*bev;		/* our own reference */
	struct evhttp_connection	*evcon;		/* once adopted */
	struct evbuffer_cb_entry	*cbent;
	struct evbuffer			*stage;		/* a partial head */
	struct event			*timer;
	enum conn_phase			 phase;
	int				 fd;
	int				 busy;		/* moving bytes */
	size_t				 scan;		/* bytes searched */
	int				 eol;		/* at a line's start */
	size_t				 standin_left;	/* unread by evhttp */
	const char			*bad;
	LIST_ENTRY(conn)		 pending;
	int				 is_pending;
};

/* What one head says about its framing. */
struct conn_head {
	int	http11;
	int	content_length;
	int	transfer_encoding;
	int	host;
};

static struct event_base	*conn_base;
static struct conn_settings	 conn_set;
static void			(*conn_closed_hook)(struct evhttp_connection *);
static struct conn		**conn_table;
static size_t			 conn_ntable;
static LIST_HEAD(, conn)	 conn_pendings =
				    LIST_HEAD_INITIALIZER(conn_pendings);
static struct event		*conn_adopt_ev;
static struct event		*conn_resume_ev;
static struct evconnlistener	*conn_lev;
static int			 conn_paused;
static int			 conn_spare = -1;
static time_t			 conn_logged;
static struct conn		*conn_freeing;
static struct conn_counts	 conn_stat;

static void	conn_adopt(struct conn *);
static void	conn_drop(struct conn *);
static void	conn_head(struct conn *);

/* The characters of an HTTP token (a method, a header name). */
static int
conn_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z'))
		return (1);
	return (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Why a line holds a byte no head may hold, or NULL. */
static const char *
conn_check_bytes(const char *p, size_t n)
{
	size_t		i;
	unsigned char	ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)p[i];
		if (ch == '\0')
			return ("NUL byte in the request head");
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return ("Control character in the request head");
	}
	return (NULL);
}

/* Checks "METHOD SP TARGET SP HTTP/1.x", nothing more or less. */
static const char *
conn_check_request_line(const char *p, size_t n, struct conn_head *h)
{
	size_t	i = 0, t;

	while (i < n && conn_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return ("Bad request line");
	t = ++i;
	while (i < n && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
		i++;
	if (i == t || i == n || p[i] != ' ')
		return ("Bad request line");
	i++;
	if (n - i == 8 && memcmp(p + i, "HTTP/1.1", 8) == 0)
		h->http11 = 1;
	else if (n - i != 8 || memcmp(p + i, "HTTP/1.0", 8) != 0)
		return ("HTTP version not supported");
	return (NULL);
}

/* The value as evhttp keeps it: leading spaces and trailing blanks cut. */
static void
conn_value(const char **v, size_t *n)
{
	while (*n > 0 && **v == ' ') {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* Content-Length: once, and digits only (no sign, no blanks inside). */
static const char *
conn_header_length(struct conn_head *h, const char *v, size_t n)
{
	size_t	i;

	if (h->content_length++ > 0)
		return ("More than one Content-Length");
	if (n == 0 || n > 18)
		return ("Bad Content-Length");
	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return ("Bad Content-Length");
	return (NULL);
}

/* Transfer-Encoding: once, and exactly "chunked" (evhttp knows no more). */
static const char *
conn_header_encoding(struct conn_head *h, const char *v, size_t n)
{
	if (h->transfer_encoding++ > 0)
		return ("More than one Transfer-Encoding");
	if (n != 7 || strncasecmp(v, "chunked", 7) != 0)
		return ("Unsupported Transfer-Encoding");
	return (NULL);
}

/* Host: counted (HTTP/1.1 needs exactly one). */
static const char *
conn_header_host(struct conn_head *h, const char *v, size_t n)
{
	(void)v;
	(void)n;
	h->host++;
	return (NULL);
}

/* The headers whose values decide where a request ends. */
static const struct {
	const char	*name;
	const char	*(*check)(struct conn_head *, const char *, size_t);
} conn_headers[] = {
	{ "Content-Length", conn_header_length },
	{ "Transfer-Encoding", conn_header_encoding },
	{ "Host", conn_header_host },
};

/* Checks one header line: a token, a colon, a value. */
static const char *
conn_check_header(const char *p, size_t n, struct conn_head *h)
{
	const char	*v;
	size_t		 i = 0, j, vn;

	if (p[0] == ' ' || p[0] == '\t')
		return ("Folded header line");
	while (i < n && conn_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return ("Bad header name");
	v = p + i + 1;
	vn = n - i - 1;
	conn_value(&v, &vn);
	for (j = 0; j < nitems(conn_headers); j++) {
		if (strlen(conn_headers[j].name) == i &&
		    strncasecmp(p, conn_headers[j].name, i) == 0)
			return (conn_headers[j].check(h, v, vn));
	}
	return (NULL);
}

/* Checks what the headers say together. */
static const char *
conn_check_framing(const struct conn_head *h)
{
	if (h->content_length > 0 && h->transfer_encoding > 0)
		return ("Both Content-Length and Transfer-Encoding");
	if (h->host > 1)
		return ("More than one Host");
	if (h->http11 && h->host == 0)
		return ("HTTP/1.1 request without Host");
	return (NULL);
}

/*
 * Why a whole head (ending in an empty line) is refused, or NULL. Lines end
 * in LF, with an optional CR before it, as evhttp reads them.
 */
const char *
conn_head_check(const char *p, size_t len)
{
	struct conn_head	 h;
	const char		*nl, *why;
	size_t			 n;
	int			 first = 1;

	memset(&h, 0, sizeof h);
	for (;;) {
		if (len == 0 || (nl = memchr(p, '\n', len)) == NULL)
			return ("Incomplete request head");
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!first && n == 0)
			break;
		if ((why = conn_check_bytes(p, n)) != NULL)
			return (why);
		if (first)
			why = conn_check_request_line(p, n, &h);
		else
			why = conn_check_header(p, n, &h);
		if (why != NULL)
			return (why);
		first = 0;
		len -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	return (conn_check_framing(&h));
}

/*
 * Searches buf for the empty line that ends a head, from where the last
 * search stopped. Returns 1 with *end (the head's length), 0 when it has
 * not arrived.
 */
static int
conn_head_end(struct conn *c, struct evbuffer *buf, size_t *end)
{
	struct evbuffer_ptr	 pos;
	struct evbuffer_iovec	 v[8];
	const unsigned char	*p;
	size_t			 len = evbuffer_get_length(buf), j;
	int			 i, n;

	while (c->scan < len && c->scan <= conn_set.max_head) {
		if (evbuffer_ptr_set(buf, &pos, c->scan,
		    EVBUFFER_PTR_SET) == -1)
			fatalx("%s: evbuffer_ptr_set", __func__);
		n = evbuffer_peek(buf, (ev_ssize_t)(len - c->scan), &pos, v,
		    (int)nitems(v));
		if (n > (int)nitems(v))
			n = (int)nitems(v);
		for (i = 0; i < n; i++) {
			p = v[i].iov_base;
			for (j = 0; j < v[i].iov_len && c->scan < len; j++) {
				c->scan++;
				if (p[j] == '\n' && c->eol) {
					*end = c->scan;
					return (1);
				}
				if (p[j] == '\n')
					c->eol = 1;
				else if (p[j] == '\r' && c->eol == 1)
					c->eol = 2;
				else
					c->eol = 0;
			}
		}
	}
	return (0);
}

/* Moves every byte of from to the end of to, without looking at them. */
static void
conn_move(struct conn *c, struct evbuffer *to, struct evbuffer *from)
{
	c->busy = 1;
	if (evbuffer_add_buffer(to, from) == -1)
		fatalx("%s: evbuffer_add_buffer", __func__);
	c->busy = 0;
}

/* Refuses the head: evhttp reads the stand-in and nothing after it. */
static void
conn_refuse(struct conn *c, const char *why)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);

	c->busy = 1;
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->stage != NULL)
		evbuffer_drain(c->stage, evbuffer_get_length(c->stage));
	evbuffer_add(in, CONN_STANDIN, sizeof CONN_STANDIN - 1);
	c->busy = 0;
	c->standin_left = sizeof CONN_STANDIN - 1;
	c->bad = why;
	c->phase = CONN_BAD;
	conn_stat.refused++;
	log_debug("refused a request head: %s", why);
}

/* Drops what a refused client sends after its bad head. */
static void
conn_bad_drain(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 left = c->standin_left;

	if (evbuffer_get_length(in) <= left)
		return;
	c->busy = 1;
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, CONN_STANDIN + sizeof CONN_STANDIN - 1 - left, left);
	c->busy = 0;
}

/* Checks the head being received, once it is whole. */
static void
conn_head(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev), *buf = in;
	const char	*why = NULL;
	unsigned char	*p;
	size_t		 end;

	if (c->stage != NULL && evbuffer_get_length(c->stage) > 0) {
		conn_move(c, c->stage, in);
		buf = c->stage;
	}
	if (!conn_head_end(c, buf, &end)) {
		if (evbuffer_get_length(buf) > conn_set.max_head) {
			conn_refuse(c, "Request head too large");
			return;
		}
		if (buf == in) {
			if (c->stage == NULL && (c->stage = evbuffer_new()) ==
			    NULL)
				fatalx("evbuffer_new: out of memory");
			conn_move(c, c->stage, in);
		}
		return;
	}
	if (end > conn_set.max_head)
		why = "Request head too large";
	else if ((p = evbuffer_pullup(buf, (ev_ssize_t)end)) == NULL)
		fatalx("evbuffer_pullup: out of memory");
	else
		why = conn_head_check((const char *)p, end);
	if (why != NULL) {
		conn_refuse(c, why);
		return;
	}
	c->phase = CONN_BODY;
	if (buf != in)
		conn_move(c, in, buf);
}

/* (Re)starts the connection's one deadline. */
static void
conn_arm(struct conn *c, int secs)
{
	struct timeval	tv = { secs, 0 };

	if (evtimer_add(c->timer, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
}

/* A new request begins with bytes already here, or later. */
static void
conn_next(struct conn *c)
{
	c->scan = 0;
	c->eol = 0;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		c->phase = CONN_IDLE;
		conn_arm(c, conn_set.keepalive_timeout);
		return;
	}
	c->phase = CONN_HEAD;
	conn_arm(c, conn_set.request_timeout);
	conn_head(c);
}

/* Sees every change to a connection's input, before evhttp reads it. */
static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn	*c = arg;
	size_t		 d;

	if (c->busy)
		return;
	if (info->n_deleted > 0 && c->phase == CONN_BAD) {
		d = info->n_deleted;
		c->standin_left -= d < c->standin_left ? d : c->standin_left;
	}
	if (info->n_added == 0)
		return;
	if (c->is_pending) {
		conn_adopt(c);		/* reads the bytes too */
		return;
	}
	switch (c->phase) {
	case CONN_IDLE:
		conn_next(c);
		break;
	case CONN_HEAD:
		conn_head(c);
		break;
	case CONN_BAD:
		conn_bad_drain(c);
		break;
	case CONN_ANSWER:
		/*
		 * evhttp reads on while it writes an answer (to see the
		 * client leave); what a client pipelines meanwhile is
		 * held to a bound.
		 */
		if (evbuffer_get_length(buf) > CONN_PIPELINED_MAX)
			bufferevent_disable(c->bev, EV_READ);
		break;
	case CONN_BODY:
		break;
	}
}

/* True while evhttp still has the connection (it may free it unseen). */
static int
conn_alive(struct conn *c)
{
	void	*arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	return (arg != NULL);
}

/* A deadline passed: the connection is closed. */
static void
conn_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)events;
	if (!conn_alive(c) || c->evcon == NULL) {
		conn_drop(c);
		return;
	}
	if (c->phase == CONN_ANSWER)
		return;
	conn_stat.timed_out++;
	log_debug("closing a connection: %s",
	    c->phase == CONN_IDLE ? "idle" : "request too slow");
	conn_freeing = c;
	evhttp_connection_free(c->evcon);	/* its close hook drops c */
	if (conn_freeing == c)
		conn_drop(c);
	conn_freeing = NULL;
}

/* Remembers the connection by descriptor, for conn_request. */
static void
conn_table_set(int fd, struct conn *c)
{
	size_t	n;

	if (fd < 0)
		return;
	if ((size_t)fd >= conn_ntable) {
		n = conn_ntable * 2 > (size_t)fd + 1 ? conn_ntable * 2 :
		    (size_t)fd + 64;
		conn_table = xreallocarray(conn_table, n, sizeof *conn_table);
		memset(conn_table + conn_ntable, 0,
		    (n - conn_ntable) * sizeof *conn_table);
		conn_ntable = n;
	}
	conn_table[fd] = c;
}

/* Tries to take the listener up again. */
static void
conn_resume(void)
{
	if (!conn_paused || conn_lev == NULL || conn_stat.open >= conn_stat.max)
		return;
	conn_paused = 0;
	evconnlistener_enable(conn_lev);
}

/* evhttp frees a connection: forget it. */
static void
conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	if (conn_closed_hook != NULL)
		conn_closed_hook(evcon);
	conn_drop(arg);
}

/* Forgets a connection and gives back our reference to its bufferevent. */
static void
conn_drop(struct conn *c)
{
	if (conn_freeing == c)
		conn_freeing = NULL;
	if (c->is_pending)
		LIST_REMOVE(c, pending);
	if (c->fd >= 0 && (size_t)c->fd < conn_ntable &&
	    conn_table[c->fd] == c)
		conn_table[c->fd] = NULL;
	if (c->evcon != NULL && conn_alive(c))
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->cbent);
	event_free(c->timer);
	if (c->stage != NULL)
		evbuffer_free(c->stage);
	bufferevent_decref(c->bev);
	free(c);
	conn_stat.open--;
	conn_resume();
}

/* Links a new bufferevent with the evhttp connection now holding it. */
static void
conn_adopt(struct conn *c)
{
	void	*arg = NULL;

	LIST_REMOVE(c, pending);
	c->is_pending = 0;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	if (arg == NULL) {
		conn_drop(c);		/* evhttp gave up on it already */
		return;
	}
	c->evcon = arg;
	c->fd = bufferevent_getfd(c->bev);
	conn_table_set(c->fd, c);
	evhttp_connection_set_closecb(c->evcon, conn_close_cb, c);
	conn_next(c);
}

/* Runs after the accept that created connections: adopts them. */
static void
conn_adopt_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c;

	(void)fd;
	(void)events;
	(void)arg;
	while ((c = LIST_FIRST(&conn_pendings)) != NULL)
		conn_adopt(c);
}

/* Says, at most once in a while, why the listener rests. */
static void
conn_pause_log(int err)
{
	time_t	now = time(NULL);

	if (now - conn_logged < CONN_LOG_SECS && conn_logged != 0)
		return;
	conn_logged = now;
	if (err == EMFILE || err == ENFILE)
		log_warnx("out of file descriptors: not accepting for a moment"
		    " (%zu connections)", conn_stat.open);
	else if (err == 0)
		log_warnx("max_connections (%zu) reached: not accepting for a"
		    " moment", conn_stat.max);
	else
		log_warnx("accept: %s: not accepting for a moment",
		    strerror(err));
}

/* Stops accepting; err is accept's errno, 0 at max_connections. */
static void
conn_pause(int err)
{
	struct timeval	tv = { CONN_PAUSE_SECS, 0 };

	conn_pause_log(err);
	if (conn_lev == NULL)
		return;
	if (!conn_paused)
		conn_stat.paused++;
	conn_paused = 1;
	evconnlistener_disable(conn_lev);
	if (err != 0 && evtimer_add(conn_resume_ev, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
}

/* Out of descriptors: the spare one accepts and closes who waits. */
static void
conn_shed(struct evconnlistener *lev)
{
	int	fd, s, i;

	if (conn_spare == -1)
		return;
	close(conn_spare);
	conn_spare = -1;
	fd = evconnlistener_get_fd(lev);
	for (i = 0; i < CONN_SHED_MAX; i++) {
		if ((s = accept(fd, NULL, NULL)) == -1)
			break;
		close(s);
		conn_stat.shed++;
	}
	conn_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* accept() failed for another reason than "try again". */
static void
conn_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int	err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (err == 0)
		err = EIO;
	conn_pause(err);
	if (err == EMFILE || err == ENFILE)
		conn_shed(lev);
}

/* The pause is over. */
static void
conn_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	conn_resume();
}

/* The default max_connections: the descriptor limit less a reserve. */
static size_t
conn_derived_max(void)
{
	struct rlimit	rl;
	rlim_t		n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return (100000);
	n = rl.rlim_cur;
	if (n > 2 * CONN_RESERVE)
		n -= CONN_RESERVE;
	else
		n /= 2;
	return (n > 100000 ? 100000 : (size_t)n);
}

/* Starts the module. */
void
conn_init(struct event_base *base, const struct conn_settings *s,
    void (*closed)(struct evhttp_connection *))
{
	conn_base = base;
	conn_set = *s;
	conn_closed_hook = closed;
	conn_stat.max = s->max_connections > 0 ?
	    (size_t)s->max_connections : conn_derived_max();
	conn_adopt_ev = event_new(base, -1, 0, conn_adopt_cb, NULL);
	conn_resume_ev = evtimer_new(base, conn_resume_cb, NULL);
	if (conn_adopt_ev == NULL || conn_resume_ev == NULL)
		fatalx("event_new: out of memory");
	if ((conn_spare = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("/dev/null (a spare descriptor)");
	log_info("at most %zu connections", conn_stat.max);
}

/* Watches the listener (NULL: it is about to go). */
void
conn_listen(struct evconnlistener *lev)
{
	conn_lev = lev;
	if (lev != NULL)
		evconnlistener_set_error_cb(lev, conn_accept_error_cb);
	else if (conn_resume_ev != NULL)
		evtimer_del(conn_resume_ev);
}

/* Takes charge of a new connection's bufferevent. */
void
conn_attach(struct bufferevent *bev)
{
	struct conn	*c;

	c = xcalloc(1, sizeof *c);
	c->bev = bev;
	c->fd = -1;
	bufferevent_incref(bev);
	c->cbent = evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb,
	    c);
	c->timer = evtimer_new(conn_base, conn_timer_cb, c);
	if (c->cbent == NULL || c->timer == NULL)
		fatalx("%s: out of memory", __func__);
	LIST_INSERT_HEAD(&conn_pendings, c, pending);
	c->is_pending = 1;
	event_active(conn_adopt_ev, EV_TIMEOUT, 1);
	if (++conn_stat.open >= conn_stat.max)
		conn_pause(0);
}

/* A request was sent whole: the next one starts its own deadline. */
static void
conn_complete_cb(struct evhttp_request *req, void *arg)
{
	struct conn	*c = arg;

	(void)req;
	if (c->phase != CONN_BAD)
		conn_next(c);
}

/* A request is handed over: no deadline while it is answered. */
const char *
conn_request(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct conn			*c;
	int				 fd;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) < 0 || (size_t)fd >= conn_ntable ||
	    (c = conn_table[fd]) == NULL || c->bev != bev)
		return (NULL);
	evtimer_del(c->timer);
	evhttp_request_set_on_complete_cb(req, conn_complete_cb, c);
	if (c->phase == CONN_BAD)
		return (c->bad);
	c->phase = CONN_ANSWER;
	return (NULL);
}

/* The counters. */
void
conn_counts(struct conn_counts *c)
{
	*c = conn_stat;
}

/* Frees what is left after evhttp_free. */
void
conn_free(void)
{
	struct conn	*c;

	conn_lev = NULL;
	while ((c = LIST_FIRST(&conn_pendings)) != NULL)
		conn_drop(c);
	free(conn_table);
	conn_table = NULL;
	conn_ntable = 0;
	if (conn_adopt_ev != NULL)
		event_free(conn_adopt_ev);
	if (conn_resume_ev != NULL)
		event_free(conn_resume_ev);
	conn_adopt_ev = conn_resume_ev = NULL;
	if (conn_spare != -1)
		close(conn_spare);
	conn_spare = -1;
}

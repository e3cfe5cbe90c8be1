/*
 * conn.h: each HTTP connection below evhttp. The head of every request is
 * checked strictly before evhttp parses it (a head evhttp would read
 * differently from a proxy in front is refused with 400 and the
 * connection closed), a request must arrive whole within request_timeout,
 * an idle keep-alive connection is closed after keepalive_timeout, and the
 * listener pauses when descriptors or max_connections run out.
 */
#ifndef ASUD_CONN_H
#define ASUD_CONN_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct event_base;
struct evconnlistener;
struct evhttp_connection;
struct evhttp_request;

struct conn_settings {
	int	request_timeout;	/* seconds, head and body */
	int	keepalive_timeout;	/* seconds idle between requests */
	int	max_connections;	/* 0: from the descriptor limit */
	size_t	max_head;		/* bytes of request line and headers */
};

/* What /metrics shows. */
struct conn_counts {
	size_t		open;		/* connections now */
	size_t		max;		/* max_connections in effect */
	uint64_t	refused;	/* heads refused with 400 */
	uint64_t	timed_out;	/* closed by a deadline */
	uint64_t	shed;		/* accepted and closed at the limit */
	uint64_t	paused;		/* times the listener paused */
};

/*
 * Starts the module. closed(evcon) runs for every connection that goes
 * away (the HTTP layer's held requests); the settings are copied.
 */
void	conn_init(struct event_base *base, const struct conn_settings *s,
	    void (*closed)(struct evhttp_connection *));
/* Watches the listener for accept errors and the connection count. */
void	conn_listen(struct evconnlistener *lev);
/* Takes charge of a new connection's bufferevent (from evhttp's bevcb). */
void	conn_attach(struct bufferevent *bev);
/*
 * Called first for each request evhttp hands over: ends its deadline.
 * Returns NULL, or why its head was refused (the caller answers 400 and
 * closes).
 */
const char *conn_request(struct evhttp_request *req);
/*
 * Why a whole request head (request line, headers and the empty line, LF
 * or CRLF ends) would be refused, or NULL when it passes. Reads len bytes
 * of head, which need not be NUL-terminated.
 */
const char *conn_head_check(const char *head, size_t len);
/* The counters. */
void	conn_counts(struct conn_counts *c);
/* Frees what is left (after evhttp_free). */
void	conn_free(void);

#endif

/*
 * route.h: the routes of the HTTP API in one table: the shape of each
 * path, the methods it takes, its handler and the label /metrics counts
 * its replies under. The Allow list of a 405 and the methods a CORS
 * preflight names are derived from the table.
 */
#ifndef ASUD_ROUTE_H
#define ASUD_ROUTE_H

#include <stddef.h>

#include "server/metrics.h"

struct asud;
struct evhttp_request;

/* How a route's pattern matches a path (paths carry no query string). */
enum route_shape {
	ROUTE_EXACT,		/* the path is the pattern */
	ROUTE_PREFIX,		/* the pattern and anything after it */
	ROUTE_HASH,		/* the pattern and one segment: no '/' */
	ROUTE_HASH_SUB		/* the pattern, 64 hex digits, '/', sub */
};

/* methods of a route that takes any method (a redirect): never a 405. */
#define ROUTE_ANY	0

/*
 * A handler. arg is the route's arg for ROUTE_EXACT, the hash for
 * ROUTE_HASH_SUB, and what follows the pattern for the other shapes.
 */
typedef void	(*route_fn)(struct asud *, struct evhttp_request *,
		    const char *arg);

struct route {
	const char		*pattern;
	enum route_shape	 shape;
	const char		*sub;		/* ROUTE_HASH_SUB: after '/' */
	int			 methods;	/* EVHTTP_REQ_* or ROUTE_ANY */
	route_fn		 fn;
	const char		*arg;		/* ROUTE_EXACT: fn's arg */
	enum metrics_route	 label;		/* counted under */
};

/* The longest list of methods route_methods writes, with its NUL. */
#define ROUTE_METHODS_MAX	64

/* The table, in the order paths are matched; *n is set to its length. */
const struct route	*route_table(size_t *n);
/*
 * The first route path matches, or NULL. *arg is set to what its handler
 * gets; for ROUTE_HASH_SUB it points into hash.
 */
const struct route	*route_find(const char *path, char hash[65],
			    const char **arg);
/* The label the replies to path are counted under (path may be NULL). */
enum metrics_route	 route_label(const char *path);
/*
 * Writes methods (EVHTTP_REQ_* bits) as an Allow list, "GET, HEAD,
 * OPTIONS", into buf of ROUTE_METHODS_MAX bytes: OPTIONS is always last,
 * since every path answers a preflight.
 */
void			 route_methods(int methods, char *buf);
/* The methods a preflight names: those of every route that lists some. */
int			 route_preflight_methods(void);
/*
 * The router given to the HTTP layer: answers a request for path with
 * the preflight, its route's handler, a 405 or a 404.
 */
void			 route_dispatch(struct asud *, struct evhttp_request *,
			    const char *path);
/* The counting hook given to the HTTP layer: one reply for /metrics. */
void			 route_count(struct evhttp_request *, int code);

#endif

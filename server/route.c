/*
 * route.c: the routing table and what is derived from it: the handler a
 * request goes to, the 405 a wrong method gets, the CORS preflight every
 * path answers, and the label /metrics counts each reply under.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "lib/compat.h"
#include "lib/text.h"
#include "server/api.h"
#include "server/apijson.h"
#include "server/dlview.h"
#include "server/follow.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/opsview.h"
#include "server/page.h"
#include "server/route.h"
#include "server/scrape.h"
#include "server/upcheck.h"

/* The methods of the routes that read: GET and HEAD. */
#define ROUTE_READ	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

static void	route_redirect(struct asud *, struct evhttp_request *,
		    const char *);

/* Every route, in the order paths are matched. */
static const struct route route_routes[] = {
	{ "/api/v1/build", ROUTE_EXACT, NULL, EVHTTP_REQ_POST,
	    api_build_post, NULL, METRICS_ROUTE_BUILD },
	{ "/api/v1/build/", ROUTE_EXACT, NULL, EVHTTP_REQ_POST,
	    api_build_post, NULL, METRICS_ROUTE_BUILD },
	{ "/api/v1/build/", ROUTE_HASH, NULL, ROUTE_READ,
	    api_build_get, NULL, METRICS_ROUTE_BUILD_HASH },
	{ "/api/v1/build/", ROUTE_HASH_SUB, "log", EVHTTP_REQ_GET,
	    follow_get, NULL, METRICS_ROUTE_BUILD_SUB },
	{ "/api/v1/build/", ROUTE_HASH_SUB, "events", EVHTTP_REQ_GET,
	    follow_events_get, NULL, METRICS_ROUTE_BUILD_SUB },
	{ "/api/v1/build/", ROUTE_PREFIX, NULL, ROUTE_READ,
	    api_build_get, NULL, METRICS_ROUTE_BUILD_SUB },
	{ "/api/v1/upgrade-check", ROUTE_EXACT, NULL, EVHTTP_REQ_POST,
	    upcheck_post, NULL, METRICS_ROUTE_UPGRADE_CHECK },
	{ "/store/", ROUTE_PREFIX, NULL, ROUTE_READ,
	    api_store_get, NULL, METRICS_ROUTE_STORE },
	{ "/api/v1/stats", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_stats, NULL, METRICS_ROUTE_STATS },
	{ "/api/v1/stats/summary", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_statistics, "stats/summary", METRICS_ROUTE_STATS_SUMMARY },
	{ "/api/v1/stats/clients", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_statistics, "stats/clients", METRICS_ROUTE_STATS_CLIENTS },
	{ "/api/v1/stats/downloads", ROUTE_EXACT, NULL, ROUTE_READ,
	    dlview_get, NULL, METRICS_ROUTE_STATS_DOWNLOADS },
	{ "/api/v1/builds-per-day", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_statistics, "builds-per-day", METRICS_ROUTE_BUILDS_PER_DAY },
	{ "/api/v1/builds-by-version", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_statistics, "builds-by-version",
	    METRICS_ROUTE_BUILDS_BY_VERSION },
	{ "/api/v1/top-packages", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_statistics, "top-packages", METRICS_ROUTE_TOP_PACKAGES },
	{ "/api/v1/build-errors", ROUTE_EXACT, NULL, ROUTE_READ,
	    api_statistics, "build-errors", METRICS_ROUTE_BUILD_ERRORS },
	{ "/json/v1/", ROUTE_PREFIX, NULL, ROUTE_READ,
	    apijson_get, NULL, METRICS_ROUTE_JSON },
	{ "/api/v1/revision/", ROUTE_PREFIX, NULL, ROUTE_READ,
	    apijson_revision, NULL, METRICS_ROUTE_REVISION },
	{ "/api/v1/overview", ROUTE_EXACT, NULL, ROUTE_ANY,
	    route_redirect, "/json/v1/overview.json", METRICS_ROUTE_OVERVIEW },
	{ "/overview", ROUTE_EXACT, NULL, ROUTE_ANY,
	    route_redirect, "/json/v1/overview.json",
	    METRICS_ROUTE_OVERVIEW_OLD },
	{ "/api/v1/latest", ROUTE_EXACT, NULL, ROUTE_ANY,
	    route_redirect, "/json/v1/latest.json", METRICS_ROUTE_LATEST },
	{ "/api/v1/queue", ROUTE_EXACT, NULL, ROUTE_READ,
	    opsview_queue, NULL, METRICS_ROUTE_QUEUE },
	{ "/metrics", ROUTE_EXACT, NULL, ROUTE_READ,
	    scrape_get, NULL, METRICS_ROUTE_METRICS },
	{ "/", ROUTE_EXACT, NULL, ROUTE_READ,
	    page_get, NULL, METRICS_ROUTE_PAGE },
	{ "/index.html", ROUTE_EXACT, NULL, ROUTE_READ,
	    page_get, NULL, METRICS_ROUTE_PAGE },
};

/* A method an Allow list can name: its EVHTTP_REQ_ bit and its name. */
#define ROUTE_METHOD(m)	{ EVHTTP_REQ_ ## m, #m }

/* The methods an Allow list can name, in its order. */
static const struct route_method {
	int		 bit;
	const char	*name;
} route_method_names[] = {
	ROUTE_METHOD(GET),
	ROUTE_METHOD(HEAD),
	ROUTE_METHOD(POST),
	ROUTE_METHOD(PUT),
	ROUTE_METHOD(DELETE),
	ROUTE_METHOD(PATCH),
};

/* A redirect route: 301 to its arg. */
static void
route_redirect(struct asud *a, struct evhttp_request *req, const char *to)
{
	http_redirect(req, to);
}

/* The table and its length. */
const struct route *
route_table(size_t *n)
{
	*n = nitems(route_routes);
	return (route_routes);
}

/* Whether rest is "<64 hex>/sub"; the hash is copied out. */
static int
route_hash_sub(const char *rest, const char *sub, char hash[65])
{
	if (!text_is_hex64(rest) || rest[64] != '/' ||
	    strcmp(rest + 65, sub) != 0)
		return (0);
	memcpy(hash, rest, 64);
	hash[64] = '\0';
	return (1);
}

/* Whether route r takes path; *arg is set as route_find says. */
static int
route_match(const struct route *r, const char *path, char hash[65],
    const char **arg)
{
	size_t		 n = strlen(r->pattern);
	const char	*rest = path + n;

	if (strncmp(path, r->pattern, n) != 0)
		return (0);
	*arg = rest;
	switch (r->shape) {
	case ROUTE_EXACT:
		*arg = r->arg;
		return (*rest == '\0');
	case ROUTE_PREFIX:
		return (1);
	case ROUTE_HASH:
		return (*rest != '\0' && strchr(rest, '/') == NULL);
	case ROUTE_HASH_SUB:
		*arg = hash;
		return (route_hash_sub(rest, r->sub, hash));
	}
	return (0);
}

/* The first route that takes path. */
const struct route *
route_find(const char *path, char hash[65], const char **arg)
{
	size_t	i;

	for (i = 0; i < nitems(route_routes); i++) {
		if (route_match(&route_routes[i], path, hash, arg))
			return (&route_routes[i]);
	}
	return (NULL);
}

/* The label of the route path takes; "other" when none does. */
enum metrics_route
route_label(const char *path)
{
	const struct route	*r;
	const char		*arg;
	char			 hash[65];

	if (path == NULL || (r = route_find(path, hash, &arg)) == NULL)
		return (METRICS_ROUTE_OTHER);
	return (r->label);
}

/* Writes the names of the methods, then OPTIONS. */
void
route_methods(int methods, char *buf)
{
	size_t	i, off = 0;

	for (i = 0; i < nitems(route_method_names); i++) {
		if (methods & route_method_names[i].bit)
			off += (size_t)snprintf(buf + off,
			    ROUTE_METHODS_MAX - off, "%s, ",
			    route_method_names[i].name);
	}
	snprintf(buf + off, ROUTE_METHODS_MAX - off, "OPTIONS");
}

/* The union of the methods the routes list (ROUTE_ANY adds none). */
int
route_preflight_methods(void)
{
	size_t	i;
	int	methods = 0;

	for (i = 0; i < nitems(route_routes); i++)
		methods |= route_routes[i].methods;
	return (methods);
}

/* Answers a CORS preflight, the same for every path. */
static void
route_preflight(struct evhttp_request *req)
{
	const char	*want;
	char		 allow[ROUTE_METHODS_MAX];

	want = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Access-Control-Request-Headers");
	route_methods(route_preflight_methods(), allow);
	http_header(req, "Access-Control-Allow-Methods", allow);
	http_header(req, "Access-Control-Allow-Headers",
	    want != NULL && *want != '\0' && strlen(want) < 1024 &&
	    strpbrk(want, "\r\n") == NULL ? want : "*");
	http_header(req, "Access-Control-Max-Age", "86400");
	http_reply(req, 204, NULL, NULL);
}

/* 405 with the methods the route takes. */
static void
route_not_allowed(struct evhttp_request *req, int methods)
{
	char	allow[ROUTE_METHODS_MAX];

	route_methods(methods, allow);
	http_header(req, "Allow", allow);
	http_reply_detail(req, 405, "Method Not Allowed");
}

/* Routes one request by path and method. */
void
route_dispatch(struct asud *a, struct evhttp_request *req, const char *path)
{
	const struct route	*r;
	const char		*arg = NULL;
	char			 hash[65];
	int			 cmd = (int)evhttp_request_get_command(req);

	if (cmd == EVHTTP_REQ_OPTIONS)
		route_preflight(req);
	else if ((r = route_find(path, hash, &arg)) == NULL)
		http_reply_detail(req, 404, "Not Found");
	else if (r->methods != ROUTE_ANY && (r->methods & cmd) == 0)
		route_not_allowed(req, r->methods);
	else
		r->fn(a, req, arg);
}

/* Counts a reply under the label of the route its path takes. */
void
route_count(struct evhttp_request *req, int code)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);

	metrics_count(route_label(uri != NULL ? evhttp_uri_get_path(uri) :
	    NULL), code);
}

/*
 * route.c: the routing table. Every route takes a path of its shape (no
 * route before it shadows it) and hands its handler the right argument;
 * the Allow lists and the preflight's methods are derived from the
 * methods of the table. With --list it writes, for t/http.t, a line
 * "OPTIONS<tab><the preflight's methods>" and then one line a route:
 * "<its Allow list, or any><tab><a path it takes>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "server/route.h"
#include "t/unit/tap.h"

/* A request hash for the <hash>/<sub> shapes. */
#define ROUTE_TEST_HASH \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* What a path made for r leaves its handler, for the shapes with a rest. */
#define ROUTE_TEST_PREFIX_REST	"x/y"
#define ROUTE_TEST_HASH_REST	"x"

/* A path route r takes, and what its handler should be given. */
static const char *
route_test_sample(const struct route *r, char *buf, size_t len)
{
	switch (r->shape) {
	case ROUTE_EXACT:
		snprintf(buf, len, "%s", r->pattern);
		return (r->arg);
	case ROUTE_PREFIX:
		snprintf(buf, len, "%s%s", r->pattern, ROUTE_TEST_PREFIX_REST);
		return (ROUTE_TEST_PREFIX_REST);
	case ROUTE_HASH:
		snprintf(buf, len, "%s%s", r->pattern, ROUTE_TEST_HASH_REST);
		return (ROUTE_TEST_HASH_REST);
	case ROUTE_HASH_SUB:
		snprintf(buf, len, "%s%s/%s", r->pattern, ROUTE_TEST_HASH,
		    r->sub);
		return (ROUTE_TEST_HASH);
	}
	return (NULL);
}

/* Writes the table for t/http.t. */
static int
route_test_list(void)
{
	const struct route	*t;
	char			 path[256], allow[ROUTE_METHODS_MAX];
	size_t			 i, n;

	t = route_table(&n);
	route_methods(route_preflight_methods(), allow);
	printf("OPTIONS\t%s\n", allow);
	for (i = 0; i < n; i++) {
		route_test_sample(&t[i], path, sizeof path);
		route_methods(t[i].methods, allow);
		printf("%s\t%s\n", t[i].methods == ROUTE_ANY ? "any" : allow,
		    path);
	}
	return (0);
}

/* Checks one route of the table. */
static void
route_test_one(const struct route *r)
{
	const struct route	*got;
	const char		*want, *arg = NULL;
	char			 path[256], name[320], hash[65];

	want = route_test_sample(r, path, sizeof path);
	got = route_find(path, hash, &arg);
	snprintf(name, sizeof name, "%s: its route takes it", path);
	ok(got == r, name);
	snprintf(name, sizeof name, "%s: the handler's argument", path);
	is_str(arg, want, name);
	snprintf(name, sizeof name, "%s: a handler and a label", path);
	ok(r->fn != NULL && r->label < METRICS_ROUTE_OTHER &&
	    (r->shape != ROUTE_HASH_SUB || r->sub != NULL), name);
	snprintf(name, sizeof name, "%s: counted under its label", path);
	is_int(route_label(path), r->label, name);
}

/* Paths that only look like a route, and the route they take instead. */
static void
route_test_near(void)
{
	const struct route	*r;
	const char		*arg;
	char			 hash[65];

	r = route_find("/api/v1/build/" ROUTE_TEST_HASH "/log/", hash, &arg);
	ok(r != NULL && r->shape == ROUTE_PREFIX &&
	    r->label == METRICS_ROUTE_BUILD_SUB, "log/ is not the log route");
	r = route_find("/api/v1/build/0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef/log", hash, &arg);
	ok(r != NULL && r->shape == ROUTE_PREFIX,
	    "upper-case hex is not the log route");
	r = route_find("/api/v1/build/0123/log", hash, &arg);
	ok(r != NULL && r->shape == ROUTE_PREFIX && strcmp(arg, "0123/log") ==
	    0, "a short hash is not the log route");
	r = route_find("/api/v1/build/" ROUTE_TEST_HASH, hash, &arg);
	ok(r != NULL && r->shape == ROUTE_HASH &&
	    strcmp(arg, ROUTE_TEST_HASH) == 0, "a build's status");
	r = route_find("/api/v1/build/", hash, &arg);
	ok(r != NULL && r->methods == EVHTTP_REQ_POST, "build/ is a POST");
	ok(route_find("/store", hash, &arg) == NULL, "/store is no route");
	ok(route_find("/nope", hash, &arg) == NULL, "/nope is no route");
	ok(route_find("", hash, &arg) == NULL, "the empty path is no route");
	is_int(route_label(NULL), METRICS_ROUTE_OTHER, "no path: other");
}

/* The Allow lists, spelt as the answers always had them. */
static void
route_test_methods(void)
{
	char	buf[ROUTE_METHODS_MAX];

	route_methods(EVHTTP_REQ_POST, buf);
	is_str(buf, "POST, OPTIONS", "POST");
	route_methods(EVHTTP_REQ_GET, buf);
	is_str(buf, "GET, OPTIONS", "GET");
	route_methods(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, buf);
	is_str(buf, "GET, HEAD, OPTIONS", "GET and HEAD");
	route_methods(ROUTE_ANY, buf);
	is_str(buf, "OPTIONS", "none");
	route_methods(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH, buf);
	is_str(buf, "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS", "all");
	route_methods(route_preflight_methods(), buf);
	is_str(buf, "GET, HEAD, POST, OPTIONS", "the preflight's methods");
}

/* Runs the checks, or lists the table. */
int
main(int argc, char **argv)
{
	const struct route	*t;
	size_t			 i, n;

	if (argc == 2 && strcmp(argv[1], "--list") == 0)
		return (route_test_list());
	t = route_table(&n);
	ok(n >= 20, "the table has its routes");
	for (i = 0; i < n; i++)
		route_test_one(&t[i]);
	route_test_near();
	route_test_methods();
	return (done_testing());
}

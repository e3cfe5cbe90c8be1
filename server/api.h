/*
 * api.h: the ASU API handlers: build requests, their status, downloads
 * from the store.
 */
#ifndef ASUD_API_H
#define ASUD_API_H

#include <stddef.h>

struct asud;
struct evhttp_request;

/*
 * The handlers take the route's argument (see route.h); the ones that
 * need none ignore it.
 */
/* POST /api/v1/build */
void	api_build_post(struct asud *, struct evhttp_request *,
	    const char *arg);
/* GET and HEAD /api/v1/build/{hash} */
void	api_build_get(struct asud *, struct evhttp_request *,
	    const char *hash);
/* GET and HEAD /store/{hash}/{file} */
void	api_store_get(struct asud *, struct evhttp_request *,
	    const char *rest);
/*
 * GET /api/v1/{stats/summary,stats/clients,builds-per-day,
 * builds-by-version,top-packages,build-errors}; which is the part after
 * "/api/v1/".
 */
void	api_statistics(struct asud *, struct evhttp_request *,
	    const char *which);
/* Answers a status poll of hash as it stands. */
void	api_wait_answer(struct asud *, struct evhttp_request *,
	    const char *hash);
/* A query parameter (allocated), or NULL; a number with a default. */
char	*api_query(struct evhttp_request *, const char *key);
long long api_query_num(struct evhttp_request *, const char *key,
	    long long def);
/* A request's body, NUL-terminated, or NULL when over max bytes. */
char	*api_body(struct evhttp_request *, size_t max, size_t *len);
/* GET /api/v1/stats */
void	api_stats(struct asud *, struct evhttp_request *, const char *arg);

#endif

/*
 * client.h: limits per client address. A request's client is its peer's
 * address, or, when the peer is one of trusted_proxies, the right-most
 * address of X-Forwarded-For that is not itself a trusted proxy. An IPv4
 * address counts as itself, an IPv6 address as its /64 (what one site or
 * one customer is usually given). Per client asud keeps a rate of new
 * builds (rate_limit_builds a minute, a token bucket) and the number of
 * log followers and long-poll waiters it holds, in a table of bounded
 * size whose idle entries expire.
 */
#ifndef ASUD_CLIENT_H
#define ASUD_CLIENT_H

#include <stdint.h>

struct clients;
struct conf;
struct evhttp_request;
struct sockaddr;

/* A client as counted: an IPv4 address (v4-mapped) or an IPv6 /64. */
struct client_key {
	unsigned char	b[16];
};

/* What a client may hold a number of. */
enum client_kind {
	CLIENT_FOLLOWER,	/* max_followers_per_client */
	CLIENT_WAITER,		/* max_waiters_per_client */
	CLIENT_NKINDS
};

/* Retry-After of a follower refused for the cap (seconds). */
#define CLIENT_FOLLOWER_RETRY	10

/*
 * The limits of conf (rate_limit_builds, max_followers_per_client,
 * max_waiters_per_client, trusted_proxies, already checked). now_us is
 * the clock (NULL: the monotonic clock), for tests.
 */
struct clients	*client_new(const struct conf *, int64_t (*now_us)(void));
void		 client_free(struct clients *);
/*
 * The client of a peer address and the X-Forwarded-For values (all of
 * them joined with commas, in order; may be NULL).
 */
void		 client_resolve(const struct clients *, const struct sockaddr *,
		    const char *xff, struct client_key *);
/* The client of a request. */
void		 client_of(const struct clients *, struct evhttp_request *,
		    struct client_key *);
/* A key as text ("192.0.2.1", "2001:db8::/64"), into buf of 64. */
const char	*client_key_text(const struct client_key *, char buf[64]);
/*
 * Whether one more new build of key is allowed now: 0, or -1 with
 * *retry_after (seconds until one is), or -2 when take found no room in
 * the table (every entry holds followers or waiters). With take, an
 * allowed build is counted.
 */
int		 client_build_admit(struct clients *, const struct client_key *,
		    int take, int *retry_after);
/*
 * The same for the client of req; a refused request is answered 429
 * with Retry-After here. Returns 0 (go on) or -1 (answered).
 */
int		 client_build_check(struct clients *, struct evhttp_request *,
		    int take);
/*
 * Counts one follower or waiter of the client of req into *key: 0, or -1
 * when the client holds its maximum already (nothing counted).
 */
int		 client_hold(struct clients *, struct evhttp_request *,
		    enum client_kind, struct client_key *key);
/* The same with a key. */
int		 client_hold_key(struct clients *, const struct client_key *,
		    enum client_kind);
/* Forgets one follower or waiter of key counted by client_hold. */
void		 client_release(struct clients *, const struct client_key *,
		    enum client_kind);
/* What key holds of kind now (tests). */
unsigned int	 client_holds(const struct clients *,
		    const struct client_key *, enum client_kind);
/* Clients in the table now (tests, metrics). */
size_t		 client_count(const struct clients *);
/* Answers 429 with Retry-After and the reference's {"detail", "status"}. */
void		 client_reply_limited(struct evhttp_request *, int retry_after,
		    const char *detail);

#endif

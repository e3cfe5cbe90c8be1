/*
 * client.c: limits per client address. The table is a hash of entries
 * keyed by client (with a random seed, so that nobody can choose
 * addresses that collide), at most CLIENT_MAX of them. An entry that
 * holds no follower or waiter sits on a least-recently-used list: it
 * expires once its bucket is full again (it then says nothing a new entry
 * would not), and when the table is full the least recently used one
 * makes room. Entries that hold connections are never dropped; there are
 * no more of them than connections.
 *
 * The rate is a token bucket kept as one number, the generic cell rate
 * algorithm's theoretical arrival time: a client may start
 * rate_limit_builds builds at once, then one each 60 / rate_limit_builds
 * seconds.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "lib/addr.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/client.h"
#include "server/conf.h"
#include "server/http.h"
#include "server/metrics.h"

#define CLIENT_MAX		65536	/* entries in the table */
#define CLIENT_BUCKETS		16384	/* hash chains */
#define CLIENT_EXPIRE_STEP	8	/* expired entries freed per lookup */
#define CLIENT_XFF_HOPS		64	/* X-Forwarded-For entries looked at */
#define CLIENT_XFF_MAX		8192	/* bytes of X-Forwarded-For kept */
#define CLIENT_MINUTE_US	60000000LL

struct client {
	struct client_key	 key;
	int64_t			 tat;	/* when the bucket is full again */
	unsigned int		 holds[CLIENT_NKINDS];
	int			 idle;	/* holds nothing: on the LRU list */
	LIST_ENTRY(client)	 chain;
	TAILQ_ENTRY(client)	 lru;
};

struct clients {
	int64_t			 (*now)(void);
	int64_t			 interval;	/* us between builds */
	int64_t			 burst;		/* us of tolerance */
	int			 rate;		/* builds a minute; 0: none */
	unsigned int		 max[CLIENT_NKINDS];	/* 0: no cap */
	struct addr_prefix	*proxies;
	size_t			 nproxies;
	uint32_t		 seed;
	size_t			 count;
	LIST_HEAD(, client)	 chains[CLIENT_BUCKETS];
	TAILQ_HEAD(, client)	 lru;
};

static const enum metrics_refusal client_refusal[CLIENT_NKINDS] = {
	METRICS_REFUSED_FOLLOWERS,
	METRICS_REFUSED_WAITERS,
};

/* The monotonic clock in microseconds: rates must not jump with the date. */
static int64_t
client_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* A random seed for the hash: chains cannot be made long on purpose. */
static uint32_t
client_seed(void)
{
	uint32_t	s;

	if (getrandom(&s, sizeof s, GRND_NONBLOCK) != sizeof s)
		s = (uint32_t)client_clock() ^ (uint32_t)getpid();
	return (s);
}

/* The limits of the configuration. */
struct clients *
client_new(const struct conf *conf, int64_t (*now_us)(void))
{
	struct clients	*c;
	char		*cause = NULL;
	size_t		 i;

	c = xcalloc(1, sizeof *c);
	c->now = now_us != NULL ? now_us : client_clock;
	c->rate = conf->rate_limit_builds;
	if (c->rate > 0) {
		c->interval = CLIENT_MINUTE_US / c->rate;
		c->burst = c->interval * (c->rate - 1);
	}
	c->max[CLIENT_FOLLOWER] = (unsigned int)conf->max_followers_per_client;
	c->max[CLIENT_WAITER] = (unsigned int)conf->max_waiters_per_client;
	c->nproxies = conf->trusted_proxies.n;
	c->proxies = xcalloc(c->nproxies + 1, sizeof *c->proxies);
	for (i = 0; i < c->nproxies; i++)
		if (addr_parse_prefix("trusted_proxies",
		    conf->trusted_proxies.v[i], &c->proxies[i], &cause) == -1)
			fatalx("%s: %s", __func__, cause);
	c->seed = client_seed();
	for (i = 0; i < CLIENT_BUCKETS; i++)
		LIST_INIT(&c->chains[i]);
	TAILQ_INIT(&c->lru);
	return (c);
}

/* Frees the table (followers and waiters are gone by then). */
void
client_free(struct clients *c)
{
	struct client	*e;
	size_t		 i;

	if (c == NULL)
		return;
	for (i = 0; i < CLIENT_BUCKETS; i++)
		while ((e = LIST_FIRST(&c->chains[i])) != NULL) {
			LIST_REMOVE(e, chain);
			free(e);
		}
	free(c->proxies);
	free(c);
}

/* True when addr is one of trusted_proxies. */
static int
client_trusted(const struct clients *c, const unsigned char addr[16])
{
	size_t	i;

	for (i = 0; i < c->nproxies; i++)
		if (addr_in_prefix(addr, &c->proxies[i]))
			return (1);
	return (0);
}

/* The key of an address: itself for IPv4, its /64 for IPv6. */
static void
client_key_set(struct client_key *k, const unsigned char addr[16])
{
	memcpy(k->b, addr, 16);
	if (!IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)addr))
		memset(k->b + 8, 0, 8);
}

/*
 * Parses one X-Forwarded-For entry: an address, "[v6]" or "[v6]:port",
 * or "v4:port" (spaces around are allowed).
 */
static int
client_parse_hop(const char *s, size_t len, unsigned char addr[16])
{
	char		 buf[INET6_ADDRSTRLEN + 8], *p, *colon;
	int		 v4;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof buf)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	p = buf;
	if (*p == '[') {
		if ((colon = strchr(p, ']')) == NULL ||
		    (colon[1] != '\0' && colon[1] != ':'))
			return (-1);
		*colon = '\0';
		p++;
	} else if ((colon = strchr(p, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL)
		*colon = '\0';		/* v4:port */
	return (addr_parse(p, addr, &v4));
}

/*
 * The client behind trusted proxies: walking X-Forwarded-For from the
 * right, the first entry that is not a trusted proxy. An entry that does
 * not parse stops the walk: the last good hop is the client then, so
 * garbage cannot make up a client.
 */
void
client_resolve(const struct clients *c, const struct sockaddr *peer,
    const char *xff, struct client_key *k)
{
	unsigned char	 addr[16], hop[16];
	const char	*end, *comma;
	int		 n;

	addr_of_sockaddr(peer, addr);
	if (xff != NULL && client_trusted(c, addr)) {
		end = xff + strlen(xff);
		for (n = 0; n < CLIENT_XFF_HOPS && end > xff; n++) {
			for (comma = end; comma > xff && comma[-1] != ',';
			    comma--)
				;
			if (client_parse_hop(comma, (size_t)(end - comma),
			    hop) == -1)
				break;
			memcpy(addr, hop, sizeof addr);
			if (!client_trusted(c, addr))
				break;
			end = comma > xff ? comma - 1 : xff;
		}
	}
	client_key_set(k, addr);
}

/*
 * Every X-Forwarded-For of req joined with commas, in one pass; only the
 * right-most CLIENT_XFF_MAX bytes are kept. NULL when there is none.
 */
static char *
client_xff(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	char			*all;
	size_t			 len = 0, n;

	TAILQ_FOREACH(kv, h, next)
		if (strcasecmp(kv->key, "X-Forwarded-For") == 0)
			len += strlen(kv->value) + 1;
	if (len == 0)
		return (NULL);
	all = xmalloc(len);
	len = 0;
	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
			continue;
		if (len > 0)
			all[len++] = ',';
		n = strlen(kv->value);
		memcpy(all + len, kv->value, n);
		len += n;
	}
	all[len] = '\0';
	if (len > CLIENT_XFF_MAX)
		memmove(all, all + len - CLIENT_XFF_MAX, CLIENT_XFF_MAX + 1);
	return (all);
}

/* The client of a request. */
void
client_of(const struct clients *c, struct evhttp_request *req,
    struct client_key *k)
{
	struct evhttp_connection	*evcon;
	const struct sockaddr		*peer = NULL;
	unsigned char			 addr[16];
	char				*xff = NULL;

	memset(k, 0, sizeof *k);
	if (c == NULL)
		return;
	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		peer = evhttp_connection_get_addr(evcon);
	addr_of_sockaddr(peer, addr);
	if (client_trusted(c, addr))
		xff = client_xff(req);	/* nobody else is believed */
	client_resolve(c, peer, xff, k);
	free(xff);
}

/* A key as text, for the log. */
const char *
client_key_text(const struct client_key *k, char buf[64])
{
	char	a[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)k->b))
		inet_ntop(AF_INET, k->b + 12, buf, 64);
	else {
		inet_ntop(AF_INET6, k->b, a, sizeof a);
		snprintf(buf, 64, "%s/64", a);
	}
	return (buf);
}

/* FNV-1a of a key with the table's seed. */
static unsigned int
client_chain(const struct clients *c, const struct client_key *k)
{
	uint32_t	h = 2166136261u ^ c->seed;
	size_t		i;

	for (i = 0; i < sizeof k->b; i++)
		h = (h ^ k->b[i]) * 16777619u;
	return (h % CLIENT_BUCKETS);
}

/* Drops an entry. */
static void
client_drop(struct clients *c, struct client *e)
{
	LIST_REMOVE(e, chain);
	if (e->idle)
		TAILQ_REMOVE(&c->lru, e, lru);
	c->count--;
	free(e);
}

/* Frees a few entries that hold nothing and whose bucket is full. */
static void
client_expire(struct clients *c, int64_t now)
{
	struct client	*e;
	int		 i;

	for (i = 0; i < CLIENT_EXPIRE_STEP; i++) {
		if ((e = TAILQ_FIRST(&c->lru)) == NULL || e->tat > now)
			return;
		client_drop(c, e);
	}
}

/* The entry of a key, or NULL. */
static struct client *
client_find(const struct clients *c, const struct client_key *k)
{
	struct client	*e;

	LIST_FOREACH(e, &c->chains[client_chain(c, k)], chain)
		if (memcmp(e->key.b, k->b, sizeof k->b) == 0)
			return (e);
	return (NULL);
}

/* Puts an entry on or off the LRU list by what it holds; marks it used. */
static void
client_touch(struct clients *c, struct client *e)
{
	size_t	i;
	int	idle = 1;

	for (i = 0; i < CLIENT_NKINDS; i++)
		if (e->holds[i] != 0)
			idle = 0;
	if (e->idle)
		TAILQ_REMOVE(&c->lru, e, lru);
	if (idle)
		TAILQ_INSERT_TAIL(&c->lru, e, lru);
	e->idle = idle;
}

/*
 * The entry of a key, made when missing; NULL when the table is full of
 * entries that hold connections.
 */
static struct client *
client_get(struct clients *c, const struct client_key *k, int64_t now)
{
	struct client	*e;

	client_expire(c, now);
	if ((e = client_find(c, k)) != NULL)
		return (e);
	if (c->count >= CLIENT_MAX) {
		if ((e = TAILQ_FIRST(&c->lru)) == NULL) {
			metrics_refused(METRICS_REFUSED_CLIENT_TABLE);
			return (NULL);
		}
		client_drop(c, e);
	}
	e = xcalloc(1, sizeof *e);
	e->key = *k;
	LIST_INSERT_HEAD(&c->chains[client_chain(c, k)], e, chain);
	c->count++;
	return (e);
}

/* Whether key may start one more build now; take counts it. */
int
client_build_admit(struct clients *c, const struct client_key *k, int take,
    int *retry_after)
{
	struct client	*e;
	int64_t		 now, tat, wait;

	*retry_after = 0;
	if (c == NULL || c->rate == 0)
		return (0);
	now = c->now();
	if (take)
		e = client_get(c, k, now);
	else {
		client_expire(c, now);
		e = client_find(c, k);
	}
	tat = e != NULL && e->tat > now ? e->tat : now;
	if ((wait = tat - now - c->burst) > 0) {
		*retry_after = (int)((wait + 999999) / 1000000);
		if (e != NULL)
			client_touch(c, e);
		return (-1);
	}
	if (take && e == NULL) {
		*retry_after = 60;	/* the table is full of holders */
		return (-2);
	}
	if (take)
		e->tat = tat + c->interval;
	if (e != NULL)
		client_touch(c, e);
	return (0);
}

/* Answers 429 in the reference's error shape. */
void
client_reply_limited(struct evhttp_request *req, int retry_after,
    const char *detail)
{
	char	ra[16];

	snprintf(ra, sizeof ra, "%d", retry_after > 0 ? retry_after : 1);
	http_header(req, "Retry-After", ra);
	http_reply_detail(req, 429, detail);
}

/* The rate limit for the client of req; a refusal is answered here. */
int
client_build_check(struct clients *c, struct evhttp_request *req, int take)
{
	struct client_key	 k;
	char			*detail, who[64];
	int			 retry, rc;

	if (c == NULL || c->rate == 0)
		return (0);
	client_of(c, req, &k);
	if ((rc = client_build_admit(c, &k, take, &retry)) == 0)
		return (0);
	log_debug("new builds of %s refused for %d s",
	    client_key_text(&k, who), retry);
	if (rc == -1) {
		metrics_refused(METRICS_REFUSED_BUILD_RATE);
		xasprintf(&detail, "Error: too many new build requests from "
		    "this address (at most %d a minute); try again in %d "
		    "seconds", c->rate, retry);
	} else
		xasprintf(&detail, "Error: too many clients at once; try "
		    "again in %d seconds", retry);
	client_reply_limited(req, retry, detail);
	free(detail);
	return (-1);
}

/* Counts one follower or waiter of key unless it has its maximum. */
int
client_hold_key(struct clients *c, const struct client_key *k,
    enum client_kind kind)
{
	struct client	*e;

	if (c == NULL)
		return (0);
	if ((e = client_get(c, k, c->now())) == NULL)
		return (-1);
	if (c->max[kind] != 0 && e->holds[kind] >= c->max[kind]) {
		metrics_refused(client_refusal[kind]);
		client_touch(c, e);
		return (-1);
	}
	e->holds[kind]++;
	client_touch(c, e);
	return (0);
}

/* Counts one follower or waiter of the client of req. */
int
client_hold(struct clients *c, struct evhttp_request *req,
    enum client_kind kind, struct client_key *k)
{
	client_of(c, req, k);
	return (client_hold_key(c, k, kind));
}

/* Forgets one follower or waiter of key. */
void
client_release(struct clients *c, const struct client_key *k,
    enum client_kind kind)
{
	struct client	*e;

	if (c == NULL)
		return;
	if ((e = client_find(c, k)) == NULL || e->holds[kind] == 0)
		fatalx("%s: nothing held", __func__);
	e->holds[kind]--;
	client_touch(c, e);
}

/* What key holds of kind now. */
unsigned int
client_holds(const struct clients *c, const struct client_key *k,
    enum client_kind kind)
{
	struct client	*e;

	if (c == NULL || (e = client_find(c, k)) == NULL)
		return (0);
	return (e->holds[kind]);
}

/* Entries in the table now. */
size_t
client_count(const struct clients *c)
{
	return (c != NULL ? c->count : 0);
}

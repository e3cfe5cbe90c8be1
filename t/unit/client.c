/*
 * client.c: limits per client address: who the client is behind trusted
 * proxies, the build rate, the caps on followers and waiters, and the
 * bounded table.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "server/client.h"
#include "server/conf.h"
#include "server/metrics.h"
#include "t/unit/tap.h"

static int64_t	client_test_now = 1000000000;

/* The test's clock. */
static int64_t
client_test_clock(void)
{
	return (client_test_now);
}

/* The key of a peer and X-Forwarded-For, as text. */
static const char *
client_test_peer(struct clients *c, const char *peer, const char *xff)
{
	static char		 buf[64];
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	struct client_key	 k;

	memset(&s4, 0, sizeof s4);
	memset(&s6, 0, sizeof s6);
	if (inet_pton(AF_INET, peer, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		client_resolve(c, (struct sockaddr *)&s4, xff, &k);
	} else {
		inet_pton(AF_INET6, peer, &s6.sin6_addr);
		s6.sin6_family = AF_INET6;
		client_resolve(c, (struct sockaddr *)&s6, xff, &k);
	}
	return (client_key_text(&k, buf));
}

/* Whether trusted_proxies = value is accepted. */
static int
client_test_proxies_ok(const char *value)
{
	struct conf	 c;
	char		*cause = NULL;
	int		 rc;

	conf_defaults(&c);
	rc = conf_set(&c, "trusted_proxies", value, &cause);
	free(cause);
	conf_free(&c);
	return (rc == 0);
}

/* The key of an address without proxies. */
static struct client_key
client_test_key(struct clients *c, const char *addr)
{
	struct sockaddr_in	s4;
	struct client_key	k;

	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, addr, &s4.sin_addr);
	client_resolve(c, (struct sockaddr *)&s4, NULL, &k);
	return (k);
}

/* A trusted_proxies value and whether it is accepted. */
struct client_test_proxies {
	const char	*value;
	int		 ok;
	const char	*name;
};

static const struct client_test_proxies client_test_proxy_lists[] = {
	{ "127.0.0.1 10.0.0.0/8, ::1 2001:db8::/32", 1,
	    "addresses and prefixes, v4 and v6, spaces or commas" },
	{ "", 1, "an empty list" },
	{ "10.0.0.0/33", 0, "a v4 prefix over 32 is refused" },
	{ "::/129", 0, "a v6 prefix over 128 is refused" },
	{ "10.0.0.0/", 0, "an empty prefix length is refused" },
	{ "10.0.0.0/-1", 0, "a negative one too" },
	{ "localhost", 0, "a name is refused" },
	{ "127.0.0.1 300.1.1.1", 0, "a bad second entry too" },
};

/* A peer, its X-Forwarded-For (or NULL), and who the client is. */
struct client_test_who {
	const char	*peer;
	const char	*xff;
	const char	*want;
	const char	*name;
};

static const struct client_test_who client_test_whos[] = {
	{ "192.0.2.7", "198.51.100.1", "192.0.2.7",
	    "X-Forwarded-For from an untrusted peer is ignored" },
	{ "127.0.0.1", NULL, "127.0.0.1",
	    "a trusted peer without the header is the client" },
	{ "127.0.0.1", "198.51.100.1", "198.51.100.1",
	    "behind a trusted proxy: the address it appended" },
	{ "127.0.0.1", "203.0.113.9, 198.51.100.1", "198.51.100.1",
	    "what the client forged on the left is ignored" },
	{ "127.0.0.1", "203.0.113.9, 198.51.100.1, 10.2.3.4", "198.51.100.1",
	    "a chain of trusted proxies is walked" },
	{ "10.9.9.9", "198.51.100.1 , 10.2.3.4", "198.51.100.1",
	    "a prefix trusts its addresses; spaces are fine" },
	{ "127.0.0.1", "10.2.3.4", "10.2.3.4", "all trusted: the left-most" },
	{ "127.0.0.1", "198.51.100.1, garbage", "127.0.0.1",
	    "an entry that does not parse stops the walk at the last hop" },
	{ "127.0.0.1", "garbage, 10.2.3.4", "10.2.3.4",
	    "garbage left of a trusted hop leaves that hop" },
	{ "127.0.0.1", "", "127.0.0.1", "an empty header" },
	{ "127.0.0.1", "198.51.100.1:4711", "198.51.100.1", "v4:port" },
	{ "127.0.0.1", "[2001:db8:1:2::5]:443", "2001:db8:1:2::/64",
	    "[v6]:port, counted as its /64" },
	{ "127.0.0.1", "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64",
	    "one /64 is one client" },
	{ "127.0.0.1", "2001:db8:1:3::1", "2001:db8:1:3::/64",
	    "the next /64 is another" },
	{ "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1",
	    "a v4-mapped peer is its IPv4 address" },
	{ "fd00::1", "198.51.100.1", "198.51.100.1", "a trusted v6 prefix" },
	{ "2001:db8::1", NULL, "2001:db8::/64", "a v6 peer is its /64" },
};

/* trusted_proxies: what it accepts, and who the client is behind it. */
static void
test_proxies(void)
{
	const struct client_test_who	*w;
	struct conf			 conf;
	struct clients			*c;
	char				*cause = NULL;
	size_t				 i;

	for (i = 0; i < nitems(client_test_proxy_lists); i++)
		is_int(client_test_proxies_ok(client_test_proxy_lists[i].value),
		    client_test_proxy_lists[i].ok,
		    client_test_proxy_lists[i].name);

	conf_defaults(&conf);
	if (conf_set(&conf, "trusted_proxies", "127.0.0.1 10.0.0.0/8 fd00::/8",
	    &cause) == -1)
		printf("# %s\n", cause);
	c = client_new(&conf, client_test_clock);
	for (i = 0; i < nitems(client_test_whos); i++) {
		w = &client_test_whos[i];
		is_str(client_test_peer(c, w->peer, w->xff), w->want, w->name);
	}
	client_free(c);
	conf_free(&conf);
}

/* The build rate per client, and the expiry of idle clients. */
static void
test_rate(void)
{
	struct conf		 conf;
	struct clients		*c;
	struct client_key	 a, b;
	int			 retry, i, n;

	conf_defaults(&conf);
	conf.rate_limit_builds = 2;
	c = client_new(&conf, client_test_clock);
	a = client_test_key(c, "192.0.2.1");
	b = client_test_key(c, "192.0.2.2");
	is_int(client_build_admit(c, &a, 0, &retry), 0, "a peek is allowed");
	is_int(client_count(c), 0, "and makes no entry");
	is_int(client_build_admit(c, &a, 1, &retry), 0, "first build");
	is_int(client_build_admit(c, &a, 0, &retry), 0,
	    "peeks do not count");
	is_int(client_build_admit(c, &a, 1, &retry), 0, "second build");
	is_int(client_build_admit(c, &a, 0, &retry), -1,
	    "the third is refused, on a peek");
	is_int(client_build_admit(c, &a, 1, &retry), -1, "and on a take");
	is_int(retry, 30, "Retry-After: the 30 s until a slot frees");
	is_int(client_build_admit(c, &b, 1, &retry), 0,
	    "another address has its own limit");
	client_test_now += 10 * 1000000LL;
	client_build_admit(c, &a, 1, &retry);
	is_int(retry, 20, "10 s later: 20 s to wait");
	client_test_now += 20 * 1000000LL;
	is_int(client_build_admit(c, &a, 1, &retry), 0,
	    "one more once the slot freed");
	is_int(client_build_admit(c, &a, 1, &retry), -1,
	    "and only one");
	client_test_now += 61 * 1000000LL;
	client_build_admit(c, &b, 0, &retry);
	is_int(client_count(c), 0, "idle clients expire");
	for (i = n = 0; i < 5; i++)
		n += client_build_admit(c, &a, 1, &retry) == 0;
	is_int(n, 2, "after a quiet minute, a burst of the limit again");
	client_free(c);

	conf.rate_limit_builds = 0;
	c = client_new(&conf, client_test_clock);
	for (i = n = 0; i < 1000; i++)
		n += client_build_admit(c, &a, 1, &retry) == 0;
	is_int(n, 1000, "rate_limit_builds = 0: no limit");
	is_int(client_count(c), 0, "and no entries");
	client_free(c);
	conf_free(&conf);
}

/* The caps on followers and waiters, and the bounded table. */
static void
test_holds(void)
{
	struct conf		 conf;
	struct clients		*c;
	struct client_key	 a, b, k;
	uint32_t		 i;
	char			*text;
	int			 n;

	conf_defaults(&conf);
	conf.max_followers_per_client = 2;
	conf.max_waiters_per_client = 1;
	c = client_new(&conf, client_test_clock);
	a = client_test_key(c, "192.0.2.1");
	b = client_test_key(c, "192.0.2.2");
	is_int(client_hold_key(c, &a, CLIENT_FOLLOWER), 0, "follower 1");
	is_int(client_hold_key(c, &a, CLIENT_FOLLOWER), 0, "follower 2");
	is_int(client_hold_key(c, &a, CLIENT_FOLLOWER), -1,
	    "follower 3 is over the cap");
	is_int(client_holds(c, &a, CLIENT_FOLLOWER), 2, "and not counted");
	is_int(client_hold_key(c, &a, CLIENT_WAITER), 0,
	    "waiters are counted apart");
	is_int(client_hold_key(c, &a, CLIENT_WAITER), -1, "with their cap");
	is_int(client_hold_key(c, &b, CLIENT_FOLLOWER), 0,
	    "another address has its own");
	client_release(c, &a, CLIENT_FOLLOWER);
	is_int(client_hold_key(c, &a, CLIENT_FOLLOWER), 0,
	    "a follower that left frees its place");
	client_release(c, &a, CLIENT_FOLLOWER);
	client_release(c, &a, CLIENT_FOLLOWER);
	client_release(c, &a, CLIENT_WAITER);
	client_release(c, &b, CLIENT_FOLLOWER);
	client_build_admit(c, &a, 0, &n);
	is_int(client_count(c), 0, "released clients expire");

	/* 65536 holding clients fill the table: the next one has no room. */
	metrics_reset();
	for (i = n = 0; i < 65536; i++) {
		memset(&k, 0, sizeof k);
		memcpy(k.b, &i, sizeof i);
		n += client_hold_key(c, &k, CLIENT_WAITER) == 0;
	}
	is_int(n, 65536, "the table holds 65536 clients");
	is_int(client_hold_key(c, &a, CLIENT_WAITER), -1,
	    "a full table of holders refuses a new one");
	text = metrics_text(NULL, NULL);
	ok(strstr(text, "asud_refused_total{reason=\"client_table_full\"} 1\n")
	    != NULL, "and /metrics says so");
	free(text);
	is_int(client_build_admit(c, &a, 1, &n), -2,
	    "and a new client's build (no room)");
	memset(&k, 0, sizeof k);
	client_release(c, &k, CLIENT_WAITER);
	is_int(client_hold_key(c, &a, CLIENT_WAITER), 0,
	    "an idle entry makes room");
	for (i = 1; i < 65536; i++) {
		memset(&k, 0, sizeof k);
		memcpy(k.b, &i, sizeof i);
		client_release(c, &k, CLIENT_WAITER);
	}
	client_release(c, &a, CLIENT_WAITER);
	for (i = 0; i < 65536 / 8 + 1; i++)
		client_build_admit(c, &a, 0, &n);
	is_int(client_count(c), 0, "and they all expire");
	client_free(c);
	conf_free(&conf);
}

/* Runs every group. */
int
main(void)
{
	test_proxies();
	test_rate();
	test_holds();
	return (done_testing());
}

/*
 * anscache.c: kept answers are found, expire, are forgotten on request,
 * stay within their byte budget in order of use, and a blob being sent
 * outlives its entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/anscache.h"
#include "t/unit/tap.h"

/* Puts an answer whose body is n copies of ch. */
static int
put_n(struct anscache *c, const char *hash, char ch, size_t n,
    time_t expires)
{
	char	*body;
	int	 rc;

	body = malloc(n);
	memset(body, ch, n);
	rc = anscache_put(c, hash, 2, 200, expires, body, n);
	free(body);
	return (rc);
}

/* Found, tags and bytes, forgotten, replaced. */
static void
test_basic(void)
{
	struct anscache		*c = anscache_new(1024 * 1024);
	struct anscache_hit	 hit;

	memset(&hit, 0, sizeof hit);
	is_int(anscache_get(c, "aa", 100, &hit), 0, "empty: not found");
	is_int(anscache_put(c, "aa", 3, 500, 0, "{\"x\":1}", 7), 0, "put");
	is_int(anscache_get(c, "aa", 100, &hit), 1, "found");
	is_int(hit.tag, 3, "its tag");
	is_int(hit.code, 500, "its code");
	ok(hit.len == 7 && memcmp(hit.data, "{\"x\":1}", 7) == 0, "its bytes");
	is_int(anscache_get(c, "ab", 100, &hit), 0, "another hash: not found");
	is_int(anscache_count(c), 1, "one kept");
	is_int(anscache_bytes(c), 7, "seven bytes");

	is_int(anscache_put(c, "aa", 2, 200, 0, "{}", 2), 0, "replaced");
	is_int(anscache_get(c, "aa", 100, &hit), 1, "found again");
	ok(hit.code == 200 && hit.len == 2, "the new answer");
	is_int(anscache_bytes(c), 2, "the old bytes are gone");

	anscache_forget(c, "aa");
	is_int(anscache_get(c, "aa", 100, &hit), 0, "forgotten");
	is_int(anscache_count(c), 0, "none kept");
	anscache_forget(c, "never");
	is_int(anscache_count(c), 0, "forgetting an unknown hash is fine");
	anscache_free(c);
}

/* An answer valid until a time is not given at or after it. */
static void
test_expiry(void)
{
	struct anscache		*c = anscache_new(1024 * 1024);
	struct anscache_hit	 hit;

	is_int(put_n(c, "h", 'x', 10, 200), 0, "put with an end");
	is_int(anscache_get(c, "h", 199, &hit), 1, "before its end: found");
	is_int(anscache_get(c, "h", 200, &hit), 0, "at its end: not found");
	is_int(anscache_count(c), 0, "the expired answer is dropped");
	anscache_free(c);
}

/* The budget holds; the least recently used goes first. */
static void
test_budget(void)
{
	struct anscache		*c = anscache_new(16 * 1000);
	struct anscache_hit	 hit;
	char			 name[16];
	int			 i;

	is_int(put_n(c, "big", 'b', 1001, 0), -1,
	    "an answer over a sixteenth of the budget is not kept");
	is_int(put_n(c, "none", 'n', 0, 0), -1, "an empty one neither");
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof name, "h%d", i);
		put_n(c, name, 'a', 1000, 0);
	}
	is_int(anscache_count(c), 16, "sixteen fill the budget");
	is_int(anscache_get(c, "h0", 1, &hit), 1, "h0 used: now the newest");
	put_n(c, "h16", 'a', 1000, 0);
	ok(anscache_bytes(c) <= 16 * 1000, "still within the budget");
	is_int(anscache_get(c, "h1", 1, &hit), 0,
	    "the least recently used went");
	is_int(anscache_get(c, "h0", 1, &hit), 1, "the one just used stayed");
	is_int(anscache_get(c, "h16", 1, &hit), 1, "the newest is there");
	anscache_free(c);

	c = anscache_new(0);
	is_int(put_n(c, "x", 'x', 1, 0), -1, "a budget of 0 keeps nothing");
	anscache_free(c);
}

/* A blob held by a send survives eviction, replacement and the cache. */
static void
test_holds(void)
{
	struct anscache		*c = anscache_new(1024 * 1024);
	struct anscache_hit	 hit, hit2;

	put_n(c, "h", 'q', 100, 0);
	anscache_get(c, "h", 1, &hit);
	anscache_hold(hit.blob);
	put_n(c, "h", 'r', 100, 0);
	anscache_get(c, "h", 1, &hit2);
	anscache_hold(hit2.blob);
	anscache_forget(c, "h");
	anscache_free(c);
	ok(((const char *)hit.data)[99] == 'q',
	    "the old bytes are still readable while held");
	ok(((const char *)hit2.data)[0] == 'r',
	    "the new bytes too, after the cache is gone");
	anscache_release(hit.blob);
	anscache_release(hit2.blob);
}

/* Runs the checks. */
int
main(void)
{
	test_basic();
	test_expiry();
	test_budget();
	test_holds();
	return (done_testing());
}

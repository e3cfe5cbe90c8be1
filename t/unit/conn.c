/*
 * conn.c: unit tests of the strict request-head check: each head that a
 * proxy and evhttp could read differently is refused, and the heads real
 * clients send pass.
 */
#include <string.h>

#include "lib/compat.h"
#include "server/conn.h"
#include "t/unit/tap.h"

#define CONN_TEST_GOOD	1
#define CONN_TEST_BAD	0

/* Heads and whether they pass. */
static const struct {
	const char	*head;
	size_t		 len;		/* 0: strlen */
	int		 good;
} conn_test_heads[] = {
	{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, CONN_TEST_GOOD },
	{ "GET / HTTP/1.0\r\n\r\n", 0, CONN_TEST_GOOD },
	{ "GET / HTTP/1.1\nHost: x\n\n", 0, CONN_TEST_GOOD },
	{ "POST /api/v1/build HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n"
	    "Content-Type: application/json\r\n\r\n", 0, CONN_TEST_GOOD },
	{ "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: Chunked\r\n\r\n",
	    0, CONN_TEST_GOOD },
	{ "GET /?a=%20 HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n"
	    "User-Agent: luci \xc3\xa9\r\n\r\n", 0, CONN_TEST_GOOD },
	{ "OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 0  \r\n\r\n", 0,
	    CONN_TEST_GOOD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nX-Tab:\tv\t\r\n\r\n", 0,
	    CONN_TEST_GOOD },

	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	    "content-length: 1\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
	    0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, "
	    "chunked\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
	    "chunked\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n", 0,
	    CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 0,
	    CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 0,
	    CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 0,
	    CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: "
	    "9999999999999999999\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 35, CONN_TEST_BAD },
	{ "GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", 28, CONN_TEST_BAD },
	{ "GET / HTTP/1.1111\r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / http/1.1\r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET /\r\n\r\n", 0, CONN_TEST_BAD },
	{ "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 0,
	    CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n", 0, CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", 0,
	    CONN_TEST_BAD },
	{ "GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\t2\r\n\r\n", 0,
	    CONN_TEST_BAD },
};

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	const char	*why;
	size_t		 i, len;
	char		 name[160];

	for (i = 0; i < nitems(conn_test_heads); i++) {
		len = conn_test_heads[i].len;
		if (len == 0)
			len = strlen(conn_test_heads[i].head);
		why = conn_head_check(conn_test_heads[i].head, len);
		snprintf(name, sizeof name, "head %zu %s%s%s", i,
		    conn_test_heads[i].good ? "passes" : "is refused",
		    why != NULL ? ": " : "", why != NULL ? why : "");
		ok((why == NULL) == conn_test_heads[i].good, name);
	}
	return (done_testing());
}

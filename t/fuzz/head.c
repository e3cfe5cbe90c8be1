/*
 * head.c: libFuzzer target for conn_head_check, the strict check of each
 * request head before evhttp reads it; a head that passes must have a
 * request line ending in HTTP/1.0 or HTTP/1.1 and no NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/conn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: the bytes of a request head. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *nl;
	size_t		 n;

	if (conn_head_check(p, size) != NULL)
		return (0);
	if ((nl = memchr(p, '\n', size)) == NULL)
		abort();
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n < 8 || (memcmp(p + n - 8, "HTTP/1.1", 8) != 0 &&
	    memcmp(p + n - 8, "HTTP/1.0", 8) != 0) ||
	    memchr(p, '\0', n) != NULL)
		abort();
	return (0);
}

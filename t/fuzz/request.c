/*
 * request.c: libFuzzer target for the POST /api/v1/build body: request_parse
 * with the default limits, and for an accepted body the round trip through
 * request_to_json, request_from_json and the request hash. The raw input is
 * also read as a stored request (request_from_json).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "lib/xmalloc.h"
#include "server/reqhash.h"
#include "server/request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Writes an accepted request back and reads it again, as records do. */
static void
fuzz_round_trip(const struct request *r)
{
	struct request		 again;
	yajl_gen		 g;
	const unsigned char	*json;
	size_t			 len;
	char			*cause = NULL, hash[65], hash2[65];

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		abort();
	request_to_json(r, g);
	yajl_gen_get_buf(g, &json, &len);
	memset(&again, 0, sizeof again);
	if (request_from_json((const char *)json, len, &again, &cause) != 0)
		abort();
	reqhash_compute(r, hash);
	reqhash_compute(&again, hash2);
	if (strcmp(hash, hash2) != 0)
		abort();
	request_free(&again);
	yajl_gen_free(g);
}

/* One input: a request body, then a stored request. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request		 r;
	struct request_error	 err;
	char			*cause = NULL;

	memset(&r, 0, sizeof r);
	memset(&err, 0, sizeof err);
	if (request_parse((const char *)data, size, NULL, &r, &err) == 0)
		fuzz_round_trip(&r);
	else if (err.body == NULL || err.detail == NULL)
		abort();
	request_free(&r);
	request_error_free(&err);

	memset(&r, 0, sizeof r);
	if (request_from_json((const char *)data, size, &r, &cause) != 0)
		free(cause);
	request_free(&r);
	return (0);
}

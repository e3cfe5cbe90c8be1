/*
 * record.c: libFuzzer target for record_decode, which reads build records
 * back from LMDB; a record that decodes must hold strings within the input
 * and encode back to its header in no more bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: a stored record. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record	 r;
	void		*buf;
	size_t		 len;

	if (record_decode(data, size, &r) != 0)
		return (0);
	if (strlen(r.profile_id) + strlen(r.phase) + strlen(r.revision) +
	    r.request_len + r.body_len > size)
		abort();
	buf = record_encode(&r, &len);
	if (len > size || memcmp(buf, data, 6) != 0 ||
	    memcmp((char *)buf + 8, data + 8, 24) != 0)
		abort();
	free(buf);
	return (0);
}

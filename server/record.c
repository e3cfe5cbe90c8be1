/*
 * record.c: the binary layout of build records: a fixed header followed by
 * length-prefixed, NUL-terminated strings.
 *
 *   "ASR1" u8 state, u8 class, u16 0, i64 enqueued_ms, i64 expires,
 *   u64 qkey, then five strings (profile, request, body, phase,
 *   revision), each a u32 length (counting the NUL) and the bytes.
 *   Integers are little-endian.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "server/record.h"

#define RECORD_MAGIC	"ASR2"
#define RECORD_HEADER	(4 + 4 + 8 + 8 + 8)

/* Appends an integer of n bytes, little-endian. */
static unsigned char *
record_put(unsigned char *p, uint64_t v, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		*p++ = (unsigned char)(v >> (8 * i));
	return (p);
}

/* Reads an integer of n bytes, little-endian. */
static uint64_t
record_get(const unsigned char *p, int n)
{
	uint64_t	v = 0;
	int		i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

/* Appends one length-prefixed string (NULL is stored as empty). */
static unsigned char *
record_put_str(unsigned char *p, const char *s, size_t len)
{
	if (s == NULL) {
		s = "";
		len = 0;
	}
	p = record_put(p, len + 1, 4);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p + len + 1);
}

/* Serialises a record. */
void *
record_encode(const struct record *r, size_t *len)
{
	unsigned char	*buf, *p;
	size_t		 plen, rlen, blen, hlen, vlen, total;

	plen = r->profile_id != NULL ? strlen(r->profile_id) : 0;
	rlen = r->request != NULL ? r->request_len : 0;
	blen = r->body != NULL ? r->body_len : 0;
	hlen = r->phase != NULL ? strlen(r->phase) : 0;
	vlen = r->revision != NULL ? strlen(r->revision) : 0;
	total = RECORD_HEADER + 5 * 5 + plen + rlen + blen + hlen + vlen;
	p = buf = xmalloc(total);
	memcpy(p, RECORD_MAGIC, 4);
	p += 4;
	*p++ = (unsigned char)r->state;
	*p++ = (unsigned char)r->klass;
	*p++ = 0;
	*p++ = 0;
	p = record_put(p, (uint64_t)r->enqueued_ms, 8);
	p = record_put(p, (uint64_t)r->expires, 8);
	p = record_put(p, r->qkey, 8);
	p = record_put_str(p, r->profile_id, plen);
	p = record_put_str(p, r->request, rlen);
	p = record_put_str(p, r->body, blen);
	p = record_put_str(p, r->phase, hlen);
	p = record_put_str(p, r->revision, vlen);
	*len = (size_t)(p - buf);
	return (buf);
}

/* Reads one string; checks bounds and the terminating NUL. */
static const unsigned char *
record_get_str(const unsigned char *p, const unsigned char *end,
    const char **s, size_t *len)
{
	uint64_t	n;

	if (p == NULL || end - p < 4)
		return (NULL);
	n = record_get(p, 4);
	p += 4;
	if (n == 0 || n > (uint64_t)(end - p) || p[n - 1] != '\0')
		return (NULL);
	*s = (const char *)p;
	if (len != NULL)
		*len = (size_t)n - 1;
	return (p + n);
}

/* Decodes a record in place. */
int
record_decode(const void *buf, size_t len, struct record *r)
{
	const unsigned char	*p = buf, *end = p + len;

	memset(r, 0, sizeof *r);
	if (len < RECORD_HEADER || memcmp(p, RECORD_MAGIC, 4) != 0)
		return (-1);
	r->state = p[4];
	r->klass = p[5];
	r->enqueued_ms = (int64_t)record_get(p + 8, 8);
	r->expires = (int64_t)record_get(p + 16, 8);
	r->qkey = record_get(p + 24, 8);
	p += RECORD_HEADER;
	p = record_get_str(p, end, &r->profile_id, NULL);
	p = record_get_str(p, end, &r->request, &r->request_len);
	p = record_get_str(p, end, &r->body, &r->body_len);
	p = record_get_str(p, end, &r->phase, NULL);
	p = record_get_str(p, end, &r->revision, NULL);
	if (p == NULL)
		return (-1);
	if (r->state < RECORD_QUEUED || r->state > RECORD_FAILED)
		return (-1);
	return (0);
}

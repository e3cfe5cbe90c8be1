/*
 * reqhash.c: the request hash, reproducing the reference's Python byte for
 * byte: str(bool), str(None), the repr of a list and of a dict of strings,
 * and json.dumps(sort_keys=True) with its ASCII escaping. It is kept
 * self-contained on purpose: it is the cache key, and must not move when
 * the build's own package arithmetic does.
 *
 * Python's repr leaves printable non-ASCII characters as they are and
 * escapes the rest; "printable" is Python's str.isprintable(). We use a
 * table of the characters Python calls unprintable although glibc's
 * iswprint() (C.UTF-8 locale) accepts them (spaces, format characters,
 * private use), and iswprint() for the rest, which leaves unassigned code
 * points out as Python does. Without a UTF-8 locale, unassigned code
 * points count as printable. No request that passes the model's patterns
 * reaches either case except through repository URLs or keys.
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "server/reqhash.h"
#include "server/request.h"

/* A buffered writer into a digest, so that each character is not a call. */
struct reqhash_out {
	struct sha256	*h;
	size_t		 len;
	char		 buf[1024];
};

/* A packages_versions pair, for sorting by name. */
struct reqhash_pair {
	const char	*name;
	const char	*version;
};

/* Non-ASCII ranges Python will not print but glibc would. */
static const uint32_t reqhash_unprintable[][2] = {
	{ 0x00a0, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x0600, 0x0605 },
	{ 0x061c, 0x061c }, { 0x06dd, 0x06dd }, { 0x070f, 0x070f },
	{ 0x0890, 0x0891 }, { 0x08e2, 0x08e2 }, { 0x1680, 0x1680 },
	{ 0x180e, 0x180e }, { 0x2000, 0x200f }, { 0x2028, 0x202f },
	{ 0x205f, 0x2064 }, { 0x2066, 0x206f }, { 0x3000, 0x3000 },
	{ 0xd800, 0xf8ff }, { 0xfeff, 0xfeff }, { 0xfff9, 0xfffb },
	{ 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
	{ 0xe0020, 0xe007f }, { 0xf0000, 0x10ffff }
};

/* Hands the buffered bytes to the digest. */
static void
reqhash_flush(struct reqhash_out *o)
{
	if (o->len > 0)
		sha256_update(o->h, o->buf, o->len);
	o->len = 0;
}

/* Appends bytes. */
static void
reqhash_write(struct reqhash_out *o, const char *s, size_t len)
{
	if (o->len + len > sizeof o->buf)
		reqhash_flush(o);
	if (len > sizeof o->buf) {
		sha256_update(o->h, s, len);
		return;
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
}

/* Appends a C string. */
static void
reqhash_puts(struct reqhash_out *o, const char *s)
{
	reqhash_write(o, s, strlen(s));
}

/* Appends an escape such as \x0a, \u00e4 or \U0001f600 (lower-case hex). */
static void
reqhash_escape(struct reqhash_out *o, char kind, uint32_t cp)
{
	char	tmp[16];
	int	n, width;

	width = kind == 'x' ? 2 : kind == 'u' ? 4 : 8;
	n = snprintf(tmp, sizeof tmp, "\\%c%0*x", kind, width, (unsigned)cp);
	if (n > 0 && (size_t)n < sizeof tmp)
		reqhash_write(o, tmp, (size_t)n);
}

/*
 * Decodes one UTF-8 code point and returns its length in bytes. The model
 * only lets strict UTF-8 through; a stray byte reads as U+FFFD.
 */
static size_t
reqhash_utf8(const unsigned char *s, uint32_t *cp)
{
	size_t	n, k;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return (1);
	}
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return (1);
		}
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	return (n);
}

/* Python's str.isprintable() for one non-ASCII code point. */
static int
reqhash_printable(uint32_t cp)
{
	locale_t	loc;
	size_t		i;

	if (cp < 0xa0)
		return (0);
	for (i = 0; i < nitems(reqhash_unprintable); i++)
		if (cp >= reqhash_unprintable[i][0] &&
		    cp <= reqhash_unprintable[i][1])
			return (0);
	if ((loc = text_utf8_locale()) == (locale_t)0)
		return (1);
	return (iswprint_l((wint_t)cp, loc) != 0);
}

/* Python's repr(str): quote choice and escapes as in unicode_repr. */
static void
reqhash_repr_str(struct reqhash_out *o, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 quote = '\'', c;
	uint32_t		 cp;
	size_t			 n;

	if (strchr(s, '\'') != NULL && strchr(s, '"') == NULL)
		quote = '"';
	reqhash_write(o, &quote, 1);
	for (; *p != '\0'; p += n) {
		n = reqhash_utf8(p, &cp);
		c = (char)cp;
		if (cp == (uint32_t)quote || cp == '\\') {
			reqhash_write(o, "\\", 1);
			reqhash_write(o, &c, 1);
		} else if (cp == '\t')
			reqhash_puts(o, "\\t");
		else if (cp == '\n')
			reqhash_puts(o, "\\n");
		else if (cp == '\r')
			reqhash_puts(o, "\\r");
		else if (cp < 0x20 || cp == 0x7f)
			reqhash_escape(o, 'x', cp);
		else if (cp < 0x7f || (n > 1 && reqhash_printable(cp)))
			reqhash_write(o, (const char *)p, n);
		else if (cp <= 0xff)
			reqhash_escape(o, 'x', cp);
		else if (cp <= 0xffff)
			reqhash_escape(o, 'u', cp);
		else
			reqhash_escape(o, 'U', cp);
	}
	reqhash_write(o, &quote, 1);
}

/* Python's json.dumps(str) with ensure_ascii. */
static void
reqhash_json_str(struct reqhash_out *o, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 n;

	reqhash_write(o, "\"", 1);
	for (; *p != '\0'; p += n) {
		n = reqhash_utf8(p, &cp);
		if (cp == '"')
			reqhash_puts(o, "\\\"");
		else if (cp == '\\')
			reqhash_puts(o, "\\\\");
		else if (cp == '\n')
			reqhash_puts(o, "\\n");
		else if (cp == '\r')
			reqhash_puts(o, "\\r");
		else if (cp == '\t')
			reqhash_puts(o, "\\t");
		else if (cp == '\b')
			reqhash_puts(o, "\\b");
		else if (cp == '\f')
			reqhash_puts(o, "\\f");
		else if (cp >= 0x20 && cp < 0x7f)
			reqhash_write(o, (const char *)p, 1);
		else if (cp < 0x10000)
			reqhash_escape(o, 'u', cp);
		else {
			cp -= 0x10000;
			reqhash_escape(o, 'u', 0xd800 | (cp >> 10));
			reqhash_escape(o, 'u', 0xdc00 | (cp & 0x3ff));
		}
	}
	reqhash_write(o, "\"", 1);
}

/* Orders packages_versions pairs by name (Python's code point order). */
static int
reqhash_pair_cmp(const void *a, const void *b)
{
	const struct reqhash_pair	*x = a, *y = b;

	return (strcmp(x->name, y->name));
}

/* sha256 of json.dumps(packages_versions, sort_keys=True). */
static void
reqhash_manifest(const struct request *r, char out[65])
{
	struct reqhash_out	 o;
	struct reqhash_pair	*pairs;
	size_t			 i, n = r->pv_names.n;

	if (r->pv_versions.n < n)
		n = r->pv_versions.n;
	pairs = xcalloc(n, sizeof *pairs);
	for (i = 0; i < n; i++) {
		pairs[i].name = r->pv_names.v[i];
		pairs[i].version = r->pv_versions.v[i];
	}
	qsort(pairs, n, sizeof *pairs, reqhash_pair_cmp);
	memset(&o, 0, sizeof o);
	o.h = sha256_new();
	reqhash_puts(&o, "{");
	for (i = 0; i < n; i++) {
		if (i > 0)
			reqhash_puts(&o, ", ");
		reqhash_json_str(&o, pairs[i].name);
		reqhash_puts(&o, ": ");
		reqhash_json_str(&o, pairs[i].version);
	}
	reqhash_puts(&o, "}");
	reqhash_flush(&o);
	sha256_final(o.h, out);
	free(pairs);
}

/* Python's str() of a list of strings. */
static void
reqhash_repr_list(struct reqhash_out *o, const struct strv *sv)
{
	size_t	i;

	reqhash_puts(o, "[");
	for (i = 0; i < sv->n; i++) {
		if (i > 0)
			reqhash_puts(o, ", ");
		reqhash_repr_str(o, sv->v[i]);
	}
	reqhash_puts(o, "]");
}

/* Python's str() of a dict of strings, in insertion order. */
static void
reqhash_repr_dict(struct reqhash_out *o, const struct strv *names,
    const struct strv *values)
{
	size_t	i;

	reqhash_puts(o, "{");
	for (i = 0; i < names->n && i < values->n; i++) {
		if (i > 0)
			reqhash_puts(o, ", ");
		reqhash_repr_str(o, names->v[i]);
		reqhash_puts(o, ": ");
		reqhash_repr_str(o, values->v[i]);
	}
	reqhash_puts(o, "}");
}

/* The packages hash (reference §2 item 6). */
void
reqhash_packages(const struct strv *names, char out[65])
{
	struct strv	 set = STRV_INITIALIZER;
	size_t		 i;
	char		*joined;

	for (i = 0; i < names->n; i++)
		strv_add(&set, names->v[i] + (names->v[i][0] == '+'));
	strv_sort_unique(&set);
	joined = strv_join(&set, " ");
	sha256_hex(joined, strlen(joined), out);
	free(joined);
	strv_clear(&set);
}

/* Appends a string, or a default when the field was never filled. */
static void
reqhash_field(struct reqhash_out *o, const char *s, const char *dflt)
{
	reqhash_puts(o, s != NULL ? s : dflt);
}

/* The request hash: the fourteen parts of reference §2, unseparated. */
void
reqhash_compute(const struct request *r, char out[65])
{
	struct reqhash_out	o;
	char			hex[65], num[32];
	const char		*d = r->defaults != NULL ? r->defaults : "";

	memset(&o, 0, sizeof o);
	o.h = sha256_new();
	reqhash_field(&o, r->distro, "openwrt");
	reqhash_field(&o, r->version, "");
	reqhash_field(&o, r->version_code, "");
	reqhash_field(&o, r->target, "");
	reqhash_field(&o, r->profile, "");
	reqhash_packages(request_package_names(r), hex);
	reqhash_puts(&o, hex);
	reqhash_manifest(r, hex);
	reqhash_puts(&o, hex);
	reqhash_puts(&o, r->diff_packages ? "True" : "False");
	reqhash_field(&o, r->filesystem, "");
	sha256_hex(d, strlen(d), hex);
	reqhash_puts(&o, hex);
	if (r->rootfs_size_mb != 0) {
		snprintf(num, sizeof num, "%d", r->rootfs_size_mb);
		reqhash_puts(&o, num);
	} else
		reqhash_puts(&o, "None");
	reqhash_repr_list(&o, &r->repository_keys);
	reqhash_repr_dict(&o, &r->repo_names, &r->repo_urls);
	reqhash_field(&o, r->repositories_mode, "replace");
	reqhash_flush(&o);
	sha256_final(o.h, out);
}

/*
 * jsonw.c: JSON output and input helpers on yajl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "server/jsonw.h"

/*
 * The deepest nesting of arrays and objects read: yajl frees a tree
 * recursively, and its generator reads and writes past its 128-level state
 * array when jsonw_tree echoes anything deeper.
 */
#define JSONW_MAX_DEPTH	64

/* A compact generator; validation of strings is done by jsonw_strn. */
yajl_gen
jsonw_new(void)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("yajl_gen_alloc: out of memory");
	return (g);
}

/* Copies the generated text out and frees the generator. */
char *
jsonw_finish(yajl_gen g, size_t *len)
{
	const unsigned char	*buf;
	size_t			 n;
	char			*out;

	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		fatalx("%s: generator in a bad state", __func__);
	out = xmemdup(buf, n);
	if (len != NULL)
		*len = n;
	yajl_gen_free(g);
	return (out);
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not valid. */
static size_t
jsonw_utf8_len(const unsigned char *s, size_t left)
{
	size_t		n, i;
	unsigned int	cp;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (n > left)
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);
	return (n);
}

/* Emits a string, replacing invalid UTF-8 and NUL bytes. */
void
jsonw_strn(yajl_gen g, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*fixed, *p;
	size_t			 i, n;
	int			 clean = 1;

	for (i = 0; i < len; i += n) {
		n = jsonw_utf8_len(u + i, len - i);
		if (n == 0 || u[i] == '\0') {
			clean = 0;
			break;
		}
	}
	if (clean) {
		yajl_gen_string(g, u, len);
		return;
	}
	p = fixed = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i += n) {
		n = jsonw_utf8_len(u + i, len - i);
		if (n == 0 || u[i] == '\0') {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
			n = 1;
			continue;
		}
		memcpy(p, u + i, n);
		p += n;
	}
	yajl_gen_string(g, (const unsigned char *)fixed, (size_t)(p - fixed));
	free(fixed);
}

/* Emits a NUL-terminated string (NULL becomes null). */
void
jsonw_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		yajl_gen_null(g);
	else
		jsonw_strn(g, s, strlen(s));
}

/* Emits an object key. */
void
jsonw_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

/* Emits "key": "value" (null when value is NULL). */
void
jsonw_kv_str(yajl_gen g, const char *key, const char *val)
{
	jsonw_key(g, key);
	jsonw_str(g, val);
}

/* Emits "key": number. */
void
jsonw_kv_int(yajl_gen g, const char *key, long long val)
{
	jsonw_key(g, key);
	yajl_gen_integer(g, val);
}

/* Emits "key": true|false. */
void
jsonw_kv_bool(yajl_gen g, const char *key, int val)
{
	jsonw_key(g, key);
	yajl_gen_bool(g, val);
}

/* Emits "key": null. */
void
jsonw_kv_null(yajl_gen g, const char *key)
{
	jsonw_key(g, key);
	yajl_gen_null(g);
}

/* Emits "key": [strings]. */
void
jsonw_kv_strv(yajl_gen g, const char *key, const struct strv *sv)
{
	size_t	i;

	jsonw_key(g, key);
	yajl_gen_array_open(g);
	for (i = 0; i < sv->n; i++)
		jsonw_str(g, sv->v[i]);
	yajl_gen_array_close(g);
}

/* Emits a number exactly as it was written in the source text. */
static void
jsonw_number(yajl_gen g, yajl_val v)
{
	const char	*r = YAJL_GET_NUMBER(v);

	if (r != NULL)
		yajl_gen_number(g, r, strlen(r));
	else
		yajl_gen_integer(g, YAJL_GET_INTEGER(v));
}

/* Emits a whole tree. */
void
jsonw_tree(yajl_gen g, yajl_val v)
{
	size_t	i;

	if (v == NULL) {
		yajl_gen_null(g);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		jsonw_str(g, YAJL_GET_STRING(v));
		break;
	case yajl_t_number:
		jsonw_number(g, v);
		break;
	case yajl_t_object:
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++) {
			jsonw_str(g, v->u.object.keys[i]);
			jsonw_tree(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
		break;
	case yajl_t_array:
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			jsonw_tree(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
		break;
	case yajl_t_true:
		yajl_gen_bool(g, 1);
		break;
	case yajl_t_false:
		yajl_gen_bool(g, 0);
		break;
	default:
		yajl_gen_null(g);
		break;
	}
}

/* Parses JSON text into a tree. */
yajl_val
jsonw_parse(const char *text, char **cause)
{
	char		errbuf[256];
	yajl_val	v;

	if (!text_json_depth_ok(text, strlen(text), JSONW_MAX_DEPTH)) {
		xasprintf(cause, "invalid JSON: nested deeper than %d levels",
		    JSONW_MAX_DEPTH);
		return (NULL);
	}
	errbuf[0] = '\0';
	if ((v = yajl_tree_parse(text, errbuf, sizeof errbuf)) == NULL) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		xasprintf(cause, "invalid JSON: %s",
		    errbuf[0] != '\0' ? errbuf : "parse error");
	}
	return (v);
}

/* Finds a key of an object. */
yajl_val
jsonw_get(yajl_val obj, const char *key)
{
	size_t	i;

	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return (NULL);
	for (i = obj->u.object.len; i > 0; i--)
		if (strcmp(obj->u.object.keys[i - 1], key) == 0)
			return (obj->u.object.values[i - 1]);
	return (NULL);
}

/* ISO 8601 in UTC, e.g. 2026-11-27T12:00:00.123000Z. */
void
jsonw_time(int64_t ms, char out[40])
{
	struct tm	tm;
	time_t		t;
	size_t		n;
	int		frac;

	if (ms < 0)
		ms = 0;
	t = (time_t)(ms / 1000);
	frac = (int)(ms % 1000);
	gmtime_r(&t, &tm);
	n = strftime(out, 28, "%Y-%m-%dT%H:%M:%S", &tm);
	out[n++] = '.';
	out[n++] = (char)('0' + frac / 100);
	out[n++] = (char)('0' + frac / 10 % 10);
	out[n++] = (char)('0' + frac % 10);
	memcpy(out + n, "000Z", 5);
}

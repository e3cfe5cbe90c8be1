/*
 * jtree.c: a JSON text read with yajl's event parser into a flat tree: one
 * array of nodes in document order and one arena of strings, so there is
 * no allocation per value and no recursion while parsing, and depth and
 * size are bounded. Object members keep their order and their duplicate
 * keys; jtree_dict_entries gives the view Python's dict has of them.
 * Strings must be strict UTF-8 without NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/jtree.h"
#include "server/reqchar.h"

#define JTREE_NOKEY	UINT32_MAX

/* Copies a string or number text into the arena, NUL-terminated. */
static uint32_t
jtree_store(struct jtree *t, const void *s, size_t len)
{
	uint32_t	off;

	while (t->alen + len + 1 > t->acap) {
		t->acap = t->acap == 0 ? 4096 : t->acap * 2;
		t->arena = xreallocarray(t->arena, t->acap, 1);
	}
	off = (uint32_t)t->alen;
	memcpy(t->arena + off, s, len);
	t->arena[off + len] = '\0';
	t->alen += len + 1;
	return (off);
}

/* Appends a node, taking the pending member key; NULL when too many. */
static struct jtree_node *
jtree_add(struct jtree *t, int type)
{
	struct jtree_node	*nd;

	if (t->n >= t->maxvalues) {
		t->toobig = 1;
		return (NULL);
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->nodes = xreallocarray(t->nodes, t->cap, sizeof *t->nodes);
	}
	nd = &t->nodes[t->n++];
	memset(nd, 0, sizeof *nd);
	nd->type = type;
	nd->size = 1;
	nd->key = t->key;
	nd->keylen = t->keylen;
	t->key = JTREE_NOKEY;
	t->keylen = 0;
	return (nd);
}

/* Refuses strings a C string cannot hold or that are not strict UTF-8. */
static int
jtree_check(struct jtree *t, const unsigned char *s, size_t len)
{
	if (memchr(s, '\0', len) != NULL) {
		t->why = "string contains a NUL character";
		return (-1);
	}
	if (!reqchar_utf8_valid(s, len)) {
		t->why = "string is not valid UTF-8";
		return (-1);
	}
	return (0);
}

/* yajl callback: null. */
static int
jtree_null_cb(void *arg)
{
	return (jtree_add(arg, JTREE_NULL) != NULL);
}

/* yajl callback: true or false. */
static int
jtree_bool_cb(void *arg, int b)
{
	struct jtree_node	*nd;

	if ((nd = jtree_add(arg, JTREE_BOOL)) == NULL)
		return (0);
	nd->boolean = b != 0;
	return (1);
}

/* yajl callback: a number, kept as its text for lax typing and echoes. */
static int
jtree_number_cb(void *arg, const char *s, size_t len)
{
	struct jtree	*t = arg;
	uint32_t	 off;

	off = jtree_store(t, s, len);
	if (jtree_add(t, JTREE_NUMBER) == NULL)
		return (0);
	t->nodes[t->n - 1].text = off;
	t->nodes[t->n - 1].textlen = (uint32_t)len;
	return (1);
}

/* yajl callback: a string. */
static int
jtree_string_cb(void *arg, const unsigned char *s, size_t len)
{
	struct jtree	*t = arg;
	uint32_t	 off;

	if (jtree_check(t, s, len) == -1)
		return (0);
	off = jtree_store(t, s, len);
	if (jtree_add(t, JTREE_STRING) == NULL)
		return (0);
	t->nodes[t->n - 1].text = off;
	t->nodes[t->n - 1].textlen = (uint32_t)len;
	return (1);
}

/* yajl callback: an object member's key, attached to the next value. */
static int
jtree_key_cb(void *arg, const unsigned char *s, size_t len)
{
	struct jtree	*t = arg;

	if (jtree_check(t, s, len) == -1)
		return (0);
	t->key = jtree_store(t, s, len);
	t->keylen = (uint32_t)len;
	return (1);
}

/* Opens an array or object, refusing to nest too deep. */
static int
jtree_open(struct jtree *t, int type)
{
	if (t->depth == JTREE_MAX_DEPTH) {
		t->why = "nesting too deep";
		return (0);
	}
	if (jtree_add(t, type) == NULL)
		return (0);
	t->stack[t->depth++] = t->n - 1;
	return (1);
}

/* yajl callback: {. */
static int
jtree_map_cb(void *arg)
{
	return (jtree_open(arg, JTREE_OBJECT));
}

/* yajl callback: [. */
static int
jtree_array_cb(void *arg)
{
	return (jtree_open(arg, JTREE_ARRAY));
}

/* yajl callback: ] or }; the container now knows its size. */
static int
jtree_close_cb(void *arg)
{
	struct jtree	*t = arg;
	size_t		 i;

	i = t->stack[--t->depth];
	t->nodes[i].size = (uint32_t)(t->n - i);
	return (1);
}

static const yajl_callbacks jtree_cbs = {
	jtree_null_cb,
	jtree_bool_cb,
	NULL,
	NULL,
	jtree_number_cb,
	jtree_string_cb,
	jtree_map_cb,
	jtree_key_cb,
	jtree_close_cb,
	jtree_array_cb,
	jtree_close_cb
};

/* Reads four hex digits (the JSON text is already known to be valid). */
static unsigned
jtree_hex4(const char *s)
{
	unsigned	v = 0;
	int		i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (unsigned)(s[i] - '0');
		else
			v |= (unsigned)((s[i] | 0x20) - 'a' + 10);
	}
	return (v);
}

/*
 * yajl turns an unpaired \uD800-\uDBFF into "?" and passes an unpaired
 * low surrogate on as invalid UTF-8: find either in a valid JSON text
 * (where a backslash only ever starts an escape inside a string).
 */
static int
jtree_scan_surrogates(const char *s, size_t len, size_t *offset)
{
	size_t		i;
	unsigned	u;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] != 'u' || i + 5 >= len) {
			i++;
			continue;
		}
		u = jtree_hex4(s + i + 2);
		if (u >= 0xd800 && u <= 0xdbff && i + 11 < len &&
		    s[i + 6] == '\\' && s[i + 7] == 'u' &&
		    jtree_hex4(s + i + 8) >= 0xdc00 &&
		    jtree_hex4(s + i + 8) <= 0xdfff)
			i += 11;
		else if (u >= 0xd800 && u <= 0xdfff) {
			*offset = i;
			return (-1);
		} else
			i += 5;
	}
	return (0);
}

/* Takes yajl's error text, without its trailing newline. */
static char *
jtree_yajl_error(yajl_handle h)
{
	unsigned char	*m;
	char		*s;
	size_t		 len;

	m = yajl_get_error(h, 0, NULL, 0);
	s = xstrdup(m != NULL ? (char *)m : "invalid JSON");
	if (m != NULL)
		yajl_free_error(h, m);
	len = strlen(s);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = '\0';
	return (s);
}

/*
 * Parses a JSON text into t. Returns 0; -1 for a syntax error, with an
 * allocated *why and the byte *offset; or -2 when the text is too big.
 */
int
jtree_parse(struct jtree *t, const char *buf, size_t len, char **why,
    size_t *offset)
{
	yajl_handle	h;
	yajl_status	st;
	int		rv = 0;

	t->key = JTREE_NOKEY;
	if ((h = yajl_alloc(&jtree_cbs, NULL, t)) == NULL)
		fatalx("%s: out of memory", __func__);
	st = yajl_parse(h, (const unsigned char *)buf, len);
	*offset = yajl_get_bytes_consumed(h);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		*offset = len;
	}
	if (t->toobig)
		rv = -2;
	else if (st != yajl_status_ok || t->n == 0) {
		rv = -1;
		*why = t->why != NULL ? xstrdup(t->why) : jtree_yajl_error(h);
	} else if (jtree_scan_surrogates(buf, len, offset) == -1) {
		rv = -1;
		*why = xstrdup("unpaired UTF-16 surrogate in a \\u escape");
	}
	yajl_free(h);
	return (rv);
}

/* Releases a tree. */
void
jtree_free(struct jtree *t)
{
	free(t->nodes);
	free(t->arena);
}

/* The text of a string or number node. */
const char *
jtree_text(const struct jtree *t, size_t i)
{
	return (t->arena + t->nodes[i].text);
}

/* The key of an object member. */
const char *
jtree_key(const struct jtree *t, size_t i)
{
	return (t->arena + t->nodes[i].key);
}

/* Writes a node back as JSON (for "input"); depth is bounded. */
void
jtree_gen(const struct jtree *t, size_t i, yajl_gen g)
{
	const struct jtree_node	*nd = &t->nodes[i];
	size_t			 j, end = i + nd->size;

	switch (nd->type) {
	case JTREE_NULL:
		yajl_gen_null(g);
		break;
	case JTREE_BOOL:
		yajl_gen_bool(g, nd->boolean);
		break;
	case JTREE_NUMBER:
		yajl_gen_number(g, jtree_text(t, i), nd->textlen);
		break;
	case JTREE_STRING:
		yajl_gen_string(g, (const unsigned char *)jtree_text(t, i),
		    nd->textlen);
		break;
	default:
		if (nd->type == JTREE_OBJECT)
			yajl_gen_map_open(g);
		else
			yajl_gen_array_open(g);
		for (j = i + 1; j < end; j += t->nodes[j].size) {
			if (nd->type == JTREE_OBJECT)
				yajl_gen_string(g, (const unsigned char *)
				    jtree_key(t, j), t->nodes[j].keylen);
			jtree_gen(t, j, g);
		}
		if (nd->type == JTREE_OBJECT)
			yajl_gen_map_close(g);
		else
			yajl_gen_array_close(g);
		break;
	}
}

/* Orders dictionary members by key, then by position. */
static int
jtree_entry_keycmp(const void *a, const void *b)
{
	const struct jtree_entry	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return (c);
	return (x->ord < y->ord ? -1 : x->ord > y->ord);
}

/* Orders dictionary members by position. */
static int
jtree_entry_ordcmp(const void *a, const void *b)
{
	const struct jtree_entry	*x = a, *y = b;

	return (x->ord < y->ord ? -1 : x->ord > y->ord);
}

/*
 * Lists an object's members as a Python dict holds them: one per key, at
 * the first occurrence's position, with the last occurrence's value.
 * Sorting keeps this O(n log n) for hostile sizes.
 */
struct jtree_entry *
jtree_dict_entries(const struct jtree *t, size_t node, size_t *np)
{
	struct jtree_entry	*e;
	size_t			 i, j, n = 0, m = 0, end;

	end = node + t->nodes[node].size;
	e = xcalloc(t->nodes[node].size, sizeof *e);
	for (j = node + 1; j < end; j += t->nodes[j].size) {
		e[n].key = jtree_key(t, j);
		e[n].first = e[n].last = j;
		e[n].ord = n;
		n++;
	}
	qsort(e, n, sizeof *e, jtree_entry_keycmp);
	for (i = 0; i < n; i++) {
		if (m > 0 && strcmp(e[m - 1].key, e[i].key) == 0)
			e[m - 1].last = e[i].last;
		else
			e[m++] = e[i];
	}
	qsort(e, m, sizeof *e, jtree_entry_ordcmp);
	*np = m;
	return (e);
}


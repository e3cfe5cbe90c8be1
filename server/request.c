/*
 * request.c: the build request model. A body is read with yajl's event
 * parser into a flat tree (one array of nodes in document order and one
 * arena of strings: no allocation per value, no recursion while parsing,
 * bounded depth and size), then every field of the reference's Pydantic
 * model is typed and checked in model order, collecting every error the
 * way Pydantic reports them.
 *
 * The patterns' \w follows the reference's regex engine (Rust regex, which
 * is Unicode-aware). We accept ASCII [A-Za-z0-9_] and the non-ASCII code
 * points that iswalnum() calls alphanumeric in the C.UTF-8 locale (Unicode
 * letters and digits). That is a subset of the reference: non-alphabetic
 * combining marks and connector punctuation other than "_" are refused,
 * and every non-ASCII character is refused when no UTF-8 locale exists.
 * \S refuses Unicode white space and, stricter than the reference, every
 * control character. Strings must be strict UTF-8 without NUL.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "server/request.h"

enum request_type {
	REQUEST_NULL,
	REQUEST_BOOL,
	REQUEST_NUMBER,
	REQUEST_STRING,
	REQUEST_ARRAY,
	REQUEST_OBJECT
};

#define REQUEST_NOKEY		UINT32_MAX
#define REQUEST_INPUT_NULL	(-1)	/* "input": null */
#define REQUEST_INPUT_EMPTY	(-2)	/* "input": {} */
#define REQUEST_DETAIL_ERRORS	10	/* errors spelled out in "detail" */
#define REQUEST_KEY_SHOWN	64	/* bytes of a key shown in "detail" */
#define REQUEST_INT_MAX_DIGITS	4300	/* Python's int() string limit */
/* Records may be larger than requests; offsets must stay 32-bit. */
#define REQUEST_RECORD_MAX	(1024 * 1024 * 1024)

/* One JSON value; a container is followed by its members. */
struct request_node {
	uint8_t		type;
	uint8_t		boolean;
	uint32_t	size;		/* nodes in the subtree, itself too */
	uint32_t	text;		/* arena offset of a string or number */
	uint32_t	textlen;
	uint32_t	key;		/* arena offset of a member's key */
	uint32_t	keylen;
};

struct request_tree {
	struct request_node	*nodes;
	size_t			 n;
	size_t			 cap;
	size_t			 maxvalues;
	char			*arena;
	size_t			 alen;
	size_t			 acap;
	size_t			 stack[REQUEST_MAX_DEPTH];
	int			 depth;
	uint32_t		 key;		/* the pending member key */
	uint32_t		 keylen;
	const char		*why;		/* why a callback stopped */
	int			 toobig;
};

/* What an error is about, as Pydantic's "loc" and "input". */
struct request_where {
	const char	*field;		/* NULL for the body itself */
	const char	*key;		/* a dictionary key, or NULL */
	long long	 index;		/* a list index or byte offset, or -1 */
	int		 of_key;	/* the key itself is wrong */
	long		 input;		/* a node, or REQUEST_INPUT_* */
	const char	*input_text;	/* else this string */
};

/* What went wrong, as Pydantic's "type", "msg" and "ctx". */
struct request_fault {
	const char	*type;
	const char	*msg;
	const char	*ctx_name;	/* NULL: no "ctx" */
	const char	*ctx_str;	/* NULL: the context value is ctx_int */
	long long	 ctx_int;
};

struct request_err {
	struct request_where	 where;
	const char		*type;
	char			*msg;
	const char		*ctx_name;
	char			*ctx_str;
	long long		 ctx_int;
};

struct request_check {
	const struct request_tree	*t;
	const struct request_limits	*lim;
	struct request_err		*errs;	/* the first few */
	size_t				 nerrs;
	size_t				 total;
};

enum request_pattern_kind {
	REQUEST_PAT_SET,	/* ^[\w<extra>]*$ or +$ */
	REQUEST_PAT_TARGET,	/* ^[\w]*\/[\w]*$ */
	REQUEST_PAT_URL		/* ^https?://\S+$ */
};

struct request_pattern {
	const char			*re;	/* as the reference spells it */
	enum request_pattern_kind	 kind;
	const char			*extra;	/* ASCII allowed besides \w */
	int				 nonempty;
};

struct request_literal {
	const char *const	*values;
	const char		*expected;	/* Pydantic's rendering */
};

/* A dictionary member after Python's de-duplication. */
struct request_entry {
	const char	*key;
	size_t		 first;		/* node of the first occurrence */
	size_t		 last;		/* node of the last: its value wins */
	size_t		 ord;		/* position of the first occurrence */
};

typedef void (*request_field_cb)(struct request_check *, const char *,
    long, struct request *);

struct request_field {
	const char		*name;
	request_field_cb	 check;
};

static const struct request_pattern request_pat_name = {
	"^[\\w.,-]*$", REQUEST_PAT_SET, ".,-", 0
};
static const struct request_pattern request_pat_version = {
	"^[\\w+.,~-]*$", REQUEST_PAT_SET, "+.,~-", 0
};
static const struct request_pattern request_pat_target = {
	"^[\\w]*/[\\w]*$", REQUEST_PAT_TARGET, "", 0
};
static const struct request_pattern request_pat_repo = {
	"^[\\w.-]+$", REQUEST_PAT_SET, ".-", 1
};
static const struct request_pattern request_pat_url = {
	"^https?://\\S+$", REQUEST_PAT_URL, "", 1
};

static const char *const request_fs_values[] = {
	"squashfs", "ext4", "ubifs", "erofs", "jffs2", "jffs2-nand", "targz",
	"cpiogz", NULL
};
static const struct request_literal request_lit_fs = {
	request_fs_values,
	"'squashfs', 'ext4', 'ubifs', 'erofs', 'jffs2', 'jffs2-nand', "
	"'targz' or 'cpiogz'"
};
static const char *const request_mode_values[] = { "append", "replace", NULL };
static const struct request_literal request_lit_mode = {
	request_mode_values, "'append' or 'replace'"
};

static const struct request_fault request_f_missing = {
	"missing", "Field required", NULL, NULL, 0
};
static const struct request_fault request_f_string = {
	"string_type", "Input should be a valid string", NULL, NULL, 0
};
static const struct request_fault request_f_list = {
	"list_type", "Input should be a valid list", NULL, NULL, 0
};
static const struct request_fault request_f_dict = {
	"dict_type", "Input should be a valid dictionary", NULL, NULL, 0
};
static const struct request_fault request_f_bool_type = {
	"bool_type", "Input should be a valid boolean", NULL, NULL, 0
};
static const struct request_fault request_f_bool_parsing = {
	"bool_parsing",
	"Input should be a valid boolean, unable to interpret input",
	NULL, NULL, 0
};
static const struct request_fault request_f_model = {
	"model_attributes_type",
	"Input should be a valid dictionary or object to extract fields from",
	NULL, NULL, 0
};
static const struct request_fault request_f_ge = {
	"greater_than_equal", "Input should be greater than or equal to 1",
	"ge", NULL, 1
};

/* The lax integer outcomes, indexing request_int_faults. */
enum request_int {
	REQUEST_INT_OK,
	REQUEST_INT_TYPE,
	REQUEST_INT_PARSING,
	REQUEST_INT_FRACTION,
	REQUEST_INT_FINITE,
	REQUEST_INT_SIZE
};
static const struct request_fault request_int_faults[] = {
	{ NULL, NULL, NULL, NULL, 0 },
	{ "int_type", "Input should be a valid integer", NULL, NULL, 0 },
	{ "int_parsing", "Input should be a valid integer, unable to parse "
	    "string as an integer", NULL, NULL, 0 },
	{ "int_from_float", "Input should be a valid integer, got a number "
	    "with a fractional part", NULL, NULL, 0 },
	{ "finite_number", "Input should be a finite number", NULL, NULL, 0 },
	{ "int_parsing_size", "Unable to parse input string as an integer, "
	    "exceeded maximum size", NULL, NULL, 0 }
};

static void	request_field_distro(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_version(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_version_code(struct request_check *,
		    const char *, long, struct request *);
static void	request_field_target(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_profile(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_packages(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_pv(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_diff(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_defaults(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_rootfs(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_filesystem(struct request_check *,
		    const char *, long, struct request *);
static void	request_field_repos(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_mode(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_keys(struct request_check *, const char *,
		    long, struct request *);
static void	request_field_client(struct request_check *, const char *,
		    long, struct request *);

/* The model's fields in the order Pydantic checks and reports them. */
static const struct request_field request_fields[] = {
	{ "distro", request_field_distro },
	{ "version", request_field_version },
	{ "version_code", request_field_version_code },
	{ "target", request_field_target },
	{ "profile", request_field_profile },
	{ "packages", request_field_packages },
	{ "packages_versions", request_field_pv },
	{ "diff_packages", request_field_diff },
	{ "defaults", request_field_defaults },
	{ "rootfs_size_mb", request_field_rootfs },
	{ "filesystem", request_field_filesystem },
	{ "repositories", request_field_repos },
	{ "repositories_mode", request_field_mode },
	{ "repository_keys", request_field_keys },
	{ "client", request_field_client }
};

/* --- characters --- */

/* Decodes one strict UTF-8 code point (no overlong, surrogate or >U+10FFFF). */
static int
request_utf8_next(const unsigned char *s, size_t len, size_t *pos,
    uint32_t *cp)
{
	size_t		i = *pos, n, k;
	uint32_t	c = s[i], min;

	if (c < 0x80) {
		n = 0;
		min = 0;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		c &= 0x07;
		min = 0x10000;
	} else
		return (-1);
	if (n > len - i - 1)
		return (-1);
	for (k = 1; k <= n; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return (-1);
		c = (c << 6) | (s[i + k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (-1);
	*pos = i + n + 1;
	*cp = c;
	return (0);
}

/* Tells whether a buffer is strict UTF-8. */
static int
request_utf8_valid(const unsigned char *s, size_t len)
{
	size_t		pos = 0;
	uint32_t	cp;

	while (pos < len)
		if (request_utf8_next(s, len, &pos, &cp) == -1)
			return (0);
	return (1);
}

/* Counts code points, as Python's len() does, in valid UTF-8. */
static size_t
request_utf8_count(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

/* Tells whether a non-ASCII code point is a \w character (see the top). */
static int
request_is_word(uint32_t cp)
{
	locale_t	loc = text_utf8_locale();

	if (loc == (locale_t)0)
		return (0);
	return (iswalnum_l((wint_t)cp, loc) != 0);
}

/* Tells whether a code point is \s (Unicode White_Space) or a control. */
static int
request_is_space(uint32_t cp)
{
	if (cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0))
		return (1);
	if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a))
		return (1);
	return (cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
	    cp == 0x205f || cp == 0x3000);
}

/* Tells whether one code point belongs to a pattern's character set. */
static int
request_pattern_char(const struct request_pattern *p, uint32_t cp)
{
	if (cp >= 0x80)
		return (request_is_word(cp));
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= '0' && cp <= '9') || cp == '_')
		return (1);
	return (cp != 0 && strchr(p->extra, (int)cp) != NULL);
}

/* Matches ^https?://\S+$. */
static int
request_match_url(const char *s)
{
	size_t		pos, len;
	uint32_t	cp;

	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	else
		return (0);
	len = strlen(s);
	if (len == 0)
		return (0);
	for (pos = 0; pos < len;) {
		if (request_utf8_next((const unsigned char *)s, len, &pos,
		    &cp) == -1 || request_is_space(cp))
			return (0);
	}
	return (1);
}

/* Matches a string against one of the model's patterns. */
static int
request_match(const struct request_pattern *p, const char *s)
{
	size_t		pos = 0, len = strlen(s);
	uint32_t	cp;
	int		slashes = 0;

	if (p->kind == REQUEST_PAT_URL)
		return (request_match_url(s));
	if (p->nonempty && len == 0)
		return (0);
	while (pos < len) {
		if (request_utf8_next((const unsigned char *)s, len, &pos,
		    &cp) == -1)
			return (0);
		if (p->kind == REQUEST_PAT_TARGET && cp == '/')
			slashes++;
		else if (!request_pattern_char(p, cp))
			return (0);
	}
	return (p->kind != REQUEST_PAT_TARGET || slashes == 1);
}

/* --- the JSON tree --- */

/* Copies a string or number text into the arena, NUL-terminated. */
static uint32_t
request_tree_text(struct request_tree *t, const void *s, size_t len)
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
static struct request_node *
request_tree_add(struct request_tree *t, int type)
{
	struct request_node	*nd;

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
	t->key = REQUEST_NOKEY;
	t->keylen = 0;
	return (nd);
}

/* Refuses strings a C string cannot hold or that are not strict UTF-8. */
static int
request_tree_check(struct request_tree *t, const unsigned char *s,
    size_t len)
{
	if (memchr(s, '\0', len) != NULL) {
		t->why = "string contains a NUL character";
		return (-1);
	}
	if (!request_utf8_valid(s, len)) {
		t->why = "string is not valid UTF-8";
		return (-1);
	}
	return (0);
}

/* yajl callback: null. */
static int
request_tree_null_cb(void *arg)
{
	return (request_tree_add(arg, REQUEST_NULL) != NULL);
}

/* yajl callback: true or false. */
static int
request_tree_bool_cb(void *arg, int b)
{
	struct request_node	*nd;

	if ((nd = request_tree_add(arg, REQUEST_BOOL)) == NULL)
		return (0);
	nd->boolean = b != 0;
	return (1);
}

/* yajl callback: a number, kept as its text for lax typing and echoes. */
static int
request_tree_number_cb(void *arg, const char *s, size_t len)
{
	struct request_tree	*t = arg;
	uint32_t		 off;

	off = request_tree_text(t, s, len);
	if (request_tree_add(t, REQUEST_NUMBER) == NULL)
		return (0);
	t->nodes[t->n - 1].text = off;
	t->nodes[t->n - 1].textlen = (uint32_t)len;
	return (1);
}

/* yajl callback: a string. */
static int
request_tree_string_cb(void *arg, const unsigned char *s, size_t len)
{
	struct request_tree	*t = arg;
	uint32_t		 off;

	if (request_tree_check(t, s, len) == -1)
		return (0);
	off = request_tree_text(t, s, len);
	if (request_tree_add(t, REQUEST_STRING) == NULL)
		return (0);
	t->nodes[t->n - 1].text = off;
	t->nodes[t->n - 1].textlen = (uint32_t)len;
	return (1);
}

/* yajl callback: an object member's key, attached to the next value. */
static int
request_tree_key_cb(void *arg, const unsigned char *s, size_t len)
{
	struct request_tree	*t = arg;

	if (request_tree_check(t, s, len) == -1)
		return (0);
	t->key = request_tree_text(t, s, len);
	t->keylen = (uint32_t)len;
	return (1);
}

/* Opens an array or object, refusing to nest too deep. */
static int
request_tree_open(struct request_tree *t, int type)
{
	if (t->depth == REQUEST_MAX_DEPTH) {
		t->why = "nesting too deep";
		return (0);
	}
	if (request_tree_add(t, type) == NULL)
		return (0);
	t->stack[t->depth++] = t->n - 1;
	return (1);
}

/* yajl callback: {. */
static int
request_tree_map_cb(void *arg)
{
	return (request_tree_open(arg, REQUEST_OBJECT));
}

/* yajl callback: [. */
static int
request_tree_array_cb(void *arg)
{
	return (request_tree_open(arg, REQUEST_ARRAY));
}

/* yajl callback: ] or }; the container now knows its size. */
static int
request_tree_close_cb(void *arg)
{
	struct request_tree	*t = arg;
	size_t			 i;

	i = t->stack[--t->depth];
	t->nodes[i].size = (uint32_t)(t->n - i);
	return (1);
}

static const yajl_callbacks request_tree_cbs = {
	request_tree_null_cb,
	request_tree_bool_cb,
	NULL,
	NULL,
	request_tree_number_cb,
	request_tree_string_cb,
	request_tree_map_cb,
	request_tree_key_cb,
	request_tree_close_cb,
	request_tree_array_cb,
	request_tree_close_cb
};

/* Reads four hex digits (the JSON text is already known to be valid). */
static unsigned
request_hex4(const char *s)
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
request_scan_surrogates(const char *s, size_t len, size_t *offset)
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
		u = request_hex4(s + i + 2);
		if (u >= 0xd800 && u <= 0xdbff && i + 11 < len &&
		    s[i + 6] == '\\' && s[i + 7] == 'u' &&
		    request_hex4(s + i + 8) >= 0xdc00 &&
		    request_hex4(s + i + 8) <= 0xdfff)
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
request_yajl_error(yajl_handle h)
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
static int
request_tree_parse(struct request_tree *t, const char *buf, size_t len,
    char **why, size_t *offset)
{
	yajl_handle	h;
	yajl_status	st;
	int		rv = 0;

	t->key = REQUEST_NOKEY;
	if ((h = yajl_alloc(&request_tree_cbs, NULL, t)) == NULL)
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
		*why = t->why != NULL ? xstrdup(t->why) : request_yajl_error(h);
	} else if (request_scan_surrogates(buf, len, offset) == -1) {
		rv = -1;
		*why = xstrdup("unpaired UTF-16 surrogate in a \\u escape");
	}
	yajl_free(h);
	return (rv);
}

/* Releases a tree. */
static void
request_tree_free(struct request_tree *t)
{
	free(t->nodes);
	free(t->arena);
}

/* The text of a string or number node. */
static const char *
request_text(const struct request_tree *t, size_t i)
{
	return (t->arena + t->nodes[i].text);
}

/* The key of an object member. */
static const char *
request_key(const struct request_tree *t, size_t i)
{
	return (t->arena + t->nodes[i].key);
}

/* Writes a node back as JSON (for "input"); depth is bounded. */
static void
request_tree_gen(const struct request_tree *t, size_t i, yajl_gen g)
{
	const struct request_node	*nd = &t->nodes[i];
	size_t				 j, end = i + nd->size;

	switch (nd->type) {
	case REQUEST_NULL:
		yajl_gen_null(g);
		break;
	case REQUEST_BOOL:
		yajl_gen_bool(g, nd->boolean);
		break;
	case REQUEST_NUMBER:
		yajl_gen_number(g, request_text(t, i), nd->textlen);
		break;
	case REQUEST_STRING:
		yajl_gen_string(g, (const unsigned char *)request_text(t, i),
		    nd->textlen);
		break;
	default:
		if (nd->type == REQUEST_OBJECT)
			yajl_gen_map_open(g);
		else
			yajl_gen_array_open(g);
		for (j = i + 1; j < end; j += t->nodes[j].size) {
			if (nd->type == REQUEST_OBJECT)
				yajl_gen_string(g, (const unsigned char *)
				    request_key(t, j), t->nodes[j].keylen);
			request_tree_gen(t, j, g);
		}
		if (nd->type == REQUEST_OBJECT)
			yajl_gen_map_close(g);
		else
			yajl_gen_array_close(g);
		break;
	}
}

/* Orders dictionary members by key, then by position. */
static int
request_entry_keycmp(const void *a, const void *b)
{
	const struct request_entry	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return (c);
	return (x->ord < y->ord ? -1 : x->ord > y->ord);
}

/* Orders dictionary members by position. */
static int
request_entry_ordcmp(const void *a, const void *b)
{
	const struct request_entry	*x = a, *y = b;

	return (x->ord < y->ord ? -1 : x->ord > y->ord);
}

/*
 * Lists an object's members as a Python dict holds them: one per key, at
 * the first occurrence's position, with the last occurrence's value.
 * Sorting keeps this O(n log n) for hostile sizes.
 */
static struct request_entry *
request_dict_entries(const struct request_tree *t, size_t node, size_t *np)
{
	struct request_entry	*e;
	size_t			 i, j, n = 0, m = 0, end;

	end = node + t->nodes[node].size;
	e = xcalloc(t->nodes[node].size, sizeof *e);
	for (j = node + 1; j < end; j += t->nodes[j].size) {
		e[n].key = request_key(t, j);
		e[n].first = e[n].last = j;
		e[n].ord = n;
		n++;
	}
	qsort(e, n, sizeof *e, request_entry_keycmp);
	for (i = 0; i < n; i++) {
		if (m > 0 && strcmp(e[m - 1].key, e[i].key) == 0)
			e[m - 1].last = e[i].last;
		else
			e[m++] = e[i];
	}
	qsort(e, m, sizeof *e, request_entry_ordcmp);
	*np = m;
	return (e);
}

/* --- errors --- */

/* Records one error; only the first few are kept, all are counted. */
static void
request_fail(struct request_check *c, const struct request_where *w,
    const struct request_fault *f)
{
	struct request_err	*e;

	c->total++;
	if (c->nerrs == REQUEST_MAX_ERRORS)
		return;
	if (c->errs == NULL)
		c->errs = xcalloc(REQUEST_MAX_ERRORS, sizeof *c->errs);
	e = &c->errs[c->nerrs++];
	e->where = *w;
	e->type = f->type;
	e->msg = xstrdup(f->msg);
	e->ctx_name = f->ctx_name;
	e->ctx_str = f->ctx_str != NULL ? xstrdup(f->ctx_str) : NULL;
	e->ctx_int = f->ctx_int;
}

/* Shorthand for an error about a whole field or a node in it. */
static void
request_fail_at(struct request_check *c, const char *field, long input,
    const struct request_fault *f)
{
	struct request_where	w = { field, NULL, -1, 0, input, NULL };

	request_fail(c, &w, f);
}

/* Reports a pattern mismatch with Pydantic's message and context. */
static void
request_fail_pattern(struct request_check *c, const struct request_where *w,
    const struct request_pattern *p)
{
	struct request_fault	f = { "string_pattern_mismatch", NULL,
	    "pattern", p->re, 0 };
	char			*msg;

	xasprintf(&msg, "String should match pattern '%s'", p->re);
	f.msg = msg;
	request_fail(c, w, &f);
	free(msg);
}

/* Frees the recorded errors. */
static void
request_check_free(struct request_check *c)
{
	size_t	i;

	for (i = 0; i < c->nerrs; i++) {
		free(c->errs[i].msg);
		free(c->errs[i].ctx_str);
	}
	free(c->errs);
	c->errs = NULL;
	c->nerrs = c->total = 0;
}

/* A key as shown in "detail": short, on one line. */
static char *
request_key_shown(const char *key)
{
	size_t	 len = strlen(key), i;
	char	*s;

	if (len > REQUEST_KEY_SHOWN) {
		len = REQUEST_KEY_SHOWN;
		while (len > 0 && ((unsigned char)key[len] & 0xc0) == 0x80)
			len--;
	}
	s = xmalloc(len + 4);
	memcpy(s, key, len);
	strcpy(s + len, key[len] != '\0' ? "..." : "");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	return (s);
}

/* Renders a "loc" for people: packages[0], repositories[a b][key]. */
static char *
request_loc_text(const struct request_where *w)
{
	char	*key = NULL, *idx = NULL, *s;

	if (w->field == NULL) {
		if (w->index < 0)
			return (xstrdup("request body"));
		xasprintf(&s, "request body at byte %lld", w->index);
		return (s);
	}
	if (w->key != NULL)
		key = request_key_shown(w->key);
	if (w->index >= 0)
		xasprintf(&idx, "[%lld]", w->index);
	xasprintf(&s, "%s%s%s%s%s%s", w->field, key != NULL ? "[" : "",
	    key != NULL ? key : "", key != NULL ? "]" : "",
	    idx != NULL ? idx : "", w->of_key ? "[key]" : "");
	free(key);
	free(idx);
	return (s);
}

/* Builds the one-line "detail" from the first errors. */
static char *
request_detail(const struct request_check *c)
{
	struct strv		 parts = STRV_INITIALIZER;
	const struct request_err *e;
	size_t			 i;
	char			*loc, *s;

	for (i = 0; i < c->nerrs && i < REQUEST_DETAIL_ERRORS; i++) {
		e = &c->errs[i];
		loc = request_loc_text(&e->where);
		if (strcmp(e->type, "json_invalid") == 0 && e->ctx_str != NULL)
			strv_addf(&parts, "%s: %s (%s)", loc, e->msg,
			    e->ctx_str);
		else
			strv_addf(&parts, "%s: %s", loc, e->msg);
		free(loc);
	}
	if (c->total > i)
		strv_addf(&parts, "and %zu more", c->total - i);
	s = strv_join(&parts, "; ");
	strv_clear(&parts);
	return (s);
}

/* Writes a C string with yajl. */
static void
request_gen_cstr(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Writes one error in FastAPI's shape. */
static void
request_gen_err(const struct request_check *c, const struct request_err *e,
    yajl_gen g)
{
	const struct request_where	*w = &e->where;

	yajl_gen_map_open(g);
	request_gen_cstr(g, "type");
	request_gen_cstr(g, e->type);
	request_gen_cstr(g, "loc");
	yajl_gen_array_open(g);
	request_gen_cstr(g, "body");
	if (w->field != NULL)
		request_gen_cstr(g, w->field);
	if (w->key != NULL)
		request_gen_cstr(g, w->key);
	if (w->index >= 0)
		yajl_gen_integer(g, w->index);
	if (w->of_key)
		request_gen_cstr(g, "[key]");
	yajl_gen_array_close(g);
	request_gen_cstr(g, "msg");
	request_gen_cstr(g, e->msg);
	request_gen_cstr(g, "input");
	if (w->input_text != NULL)
		request_gen_cstr(g, w->input_text);
	else if (w->input == REQUEST_INPUT_EMPTY) {
		yajl_gen_map_open(g);
		yajl_gen_map_close(g);
	} else if (w->input < 0 || c->t == NULL)
		yajl_gen_null(g);
	else
		request_tree_gen(c->t, (size_t)w->input, g);
	if (e->ctx_name != NULL) {
		request_gen_cstr(g, "ctx");
		yajl_gen_map_open(g);
		request_gen_cstr(g, e->ctx_name);
		if (e->ctx_str != NULL)
			request_gen_cstr(g, e->ctx_str);
		else
			yajl_gen_integer(g, e->ctx_int);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/* Copies a generator's output into a new string. */
static char *
request_gen_take(yajl_gen g)
{
	const unsigned char	*buf;
	size_t			 len;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		fatalx("%s: yajl_gen_get_buf failed", __func__);
	return (xstrndup((const char *)buf, len));
}

/* Fills err with the 422 response for the recorded errors. */
static void
request_render(const struct request_check *c, struct request_error *err)
{
	yajl_gen	g;
	size_t		i;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	err->status = 422;
	err->detail = request_detail(c);
	yajl_gen_map_open(g);
	request_gen_cstr(g, "status");
	yajl_gen_integer(g, 422);
	request_gen_cstr(g, "title");
	request_gen_cstr(g, "Unprocessable Entity");
	request_gen_cstr(g, "detail");
	request_gen_cstr(g, err->detail);
	request_gen_cstr(g, "errors");
	yajl_gen_array_open(g);
	for (i = 0; i < c->nerrs; i++)
		request_gen_err(c, &c->errs[i], g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	err->body = request_gen_take(g);
	yajl_gen_free(g);
}

/* Fills err with a 413 response. */
static void
request_too_big(struct request_error *err, const char *detail)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	err->status = 413;
	err->detail = xstrdup(detail);
	yajl_gen_map_open(g);
	request_gen_cstr(g, "status");
	yajl_gen_integer(g, 413);
	request_gen_cstr(g, "title");
	request_gen_cstr(g, "Content Too Large");
	request_gen_cstr(g, "detail");
	request_gen_cstr(g, detail);
	yajl_gen_map_close(g);
	err->body = request_gen_take(g);
	yajl_gen_free(g);
}

/* --- typing --- */

/*
 * Wants a string node matching p (when not NULL); on success *out is a
 * copy. Errors are recorded at w.
 */
static int
request_want_string(struct request_check *c, const struct request_where *w,
    long node, const struct request_pattern *p, char **out)
{
	const char	*s;

	if (c->t->nodes[node].type != REQUEST_STRING) {
		request_fail(c, w, &request_f_string);
		return (-1);
	}
	s = request_text(c->t, (size_t)node);
	if (p != NULL && !request_match(p, s)) {
		request_fail_pattern(c, w, p);
		return (-1);
	}
	*out = xstrdup(s);
	return (0);
}

/* A string field: required when dflt is NULL. */
static void
request_check_string(struct request_check *c, const char *field, long node,
    const struct request_pattern *p, const char *dflt, char **out)
{
	struct request_where	w = { field, NULL, -1, 0, node, NULL };

	if (node >= 0)
		(void)request_want_string(c, &w, node, p, out);
	else if (dflt != NULL)
		*out = xstrdup(dflt);
	else {
		w.input = 0;	/* Pydantic shows the whole body */
		request_fail(c, &w, &request_f_missing);
	}
}

/* A str | None field without a pattern. */
static void
request_check_nullable(struct request_check *c, const char *field, long node,
    char **out)
{
	struct request_where	w = { field, NULL, -1, 0, node, NULL };

	if (node >= 0 && c->t->nodes[node].type != REQUEST_NULL)
		(void)request_want_string(c, &w, node, NULL, out);
}

/* A list of strings, each matching p when p is not NULL. */
static void
request_check_list(struct request_check *c, const char *field, long node,
    const struct request_pattern *p, struct strv *out)
{
	const struct request_tree	*t = c->t;
	struct request_where		 w = { field, NULL, 0, 0, 0, NULL };
	size_t				 j, end;
	char				*s;

	if (node < 0)
		return;
	if (t->nodes[node].type != REQUEST_ARRAY) {
		request_fail_at(c, field, node, &request_f_list);
		return;
	}
	end = (size_t)node + t->nodes[node].size;
	for (j = (size_t)node + 1; j < end; j += t->nodes[j].size) {
		w.input = (long)j;
		if (request_want_string(c, &w, (long)j, p, &s) == 0)
			strv_take(out, s);
		w.index++;
	}
}

/* One dictionary member: the key, then the value, as Pydantic checks. */
static void
request_check_member(struct request_check *c, const char *field,
    const struct request_entry *e, const struct request_pattern *kp,
    const struct request_pattern *vp, struct strv *names, struct strv *vals)
{
	struct request_where	kw = { field, e->key, -1, 1, 0, e->key };
	struct request_where	vw = { field, e->key, -1, 0, (long)e->last,
	    NULL };
	int			kok;
	char			*v;

	if (!(kok = request_match(kp, e->key)))
		request_fail_pattern(c, &kw, kp);
	if (request_want_string(c, &vw, (long)e->last, vp, &v) == -1)
		return;
	if (!kok) {
		free(v);
		return;
	}
	strv_add(names, e->key);
	strv_take(vals, v);
}

/* A dict[str, str] with patterns on keys and values. */
static void
request_check_dict(struct request_check *c, const char *field, long node,
    const struct request_pattern *kp, const struct request_pattern *vp,
    struct strv *names, struct strv *vals)
{
	struct request_entry	*e;
	size_t			 i, n;

	if (node < 0)
		return;
	if (c->t->nodes[node].type != REQUEST_OBJECT) {
		request_fail_at(c, field, node, &request_f_dict);
		return;
	}
	e = request_dict_entries(c->t, (size_t)node, &n);
	for (i = 0; i < n; i++)
		request_check_member(c, field, &e[i], kp, vp, names, vals);
	free(e);
}

/* A Literal[...] field, optionally nullable; dflt applies when absent. */
static void
request_check_literal(struct request_check *c, const char *field, long node,
    const struct request_literal *l, int nullable, const char *dflt,
    char **out)
{
	struct request_fault	 f = { "literal_error", NULL, "expected",
	    l->expected, 0 };
	const char		*s;
	char			*msg;
	size_t			 i;

	if (node < 0) {
		*out = dflt != NULL ? xstrdup(dflt) : NULL;
		return;
	}
	if (nullable && c->t->nodes[node].type == REQUEST_NULL)
		return;
	if (c->t->nodes[node].type == REQUEST_STRING) {
		s = request_text(c->t, (size_t)node);
		for (i = 0; l->values[i] != NULL; i++) {
			if (strcmp(s, l->values[i]) == 0) {
				*out = xstrdup(s);
				return;
			}
		}
	}
	xasprintf(&msg, "Input should be %s", l->expected);
	f.msg = msg;
	request_fail_at(c, field, node, &f);
	free(msg);
}

/* Parses [+-]digits of a given length, saturating; 0 or -1. */
static int
request_parse_ll(const char *s, size_t len, long long *v)
{
	size_t		i = 0;
	int		neg = 0;
	long long	n = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i++;
	}
	if (i == len)
		return (-1);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		if (n > (LLONG_MAX - (s[i] - '0')) / 10)
			n = LLONG_MAX;
		else
			n = n * 10 + (s[i] - '0');
	}
	*v = neg ? -n : n;
	return (0);
}

/* Python's int(str) the way pydantic-core does it: "12", " 12 ", "12.00". */
static enum request_int
request_str_int(const char *s, long long *v)
{
	size_t	len = strlen(s), dot;

	while (len > 0 && strchr(" \t\n\v\f\r", s[len - 1]) != NULL)
		len--;
	while (len > 0 && strchr(" \t\n\v\f\r", s[0]) != NULL) {
		s++;
		len--;
	}
	if (len > REQUEST_INT_MAX_DIGITS)
		return (REQUEST_INT_SIZE);
	if (request_parse_ll(s, len, v) == 0)
		return (REQUEST_INT_OK);
	for (dot = 0; dot < len && s[dot] != '.'; dot++)
		;
	if (dot < len && strspn(s + dot + 1, "0") == len - dot - 1 &&
	    request_parse_ll(s, dot, v) == 0)
		return (REQUEST_INT_OK);
	return (REQUEST_INT_PARSING);
}

/* A JSON number as an int: integers as such, floats without fraction. */
static enum request_int
request_num_int(const char *s, long long *v)
{
	double	d;

	if (strpbrk(s, ".eE") == NULL) {
		if (request_parse_ll(s, strlen(s), v) == -1)
			return (REQUEST_INT_PARSING);
		return (REQUEST_INT_OK);
	}
	d = strtod(s, NULL);
	if (!isfinite(d))
		return (REQUEST_INT_FINITE);
	if (d != trunc(d))
		return (REQUEST_INT_FRACTION);
	if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0)
		return (REQUEST_INT_SIZE);	/* pydantic-core does the same */
	*v = (long long)d;
	return (REQUEST_INT_OK);
}

/* Pydantic's lax int: bool, integer, integral float, numeric string. */
static enum request_int
request_lax_int(const struct request_tree *t, long node, long long *v)
{
	const struct request_node	*nd = &t->nodes[node];

	switch (nd->type) {
	case REQUEST_BOOL:
		*v = nd->boolean;
		return (REQUEST_INT_OK);
	case REQUEST_NUMBER:
		return (request_num_int(request_text(t, (size_t)node), v));
	case REQUEST_STRING:
		return (request_str_int(request_text(t, (size_t)node), v));
	default:
		return (REQUEST_INT_TYPE);
	}
}

/* Pydantic's lax bool from a string; 0, 1, or -1. */
static int
request_str_bool(const char *s)
{
	static const char *const	 no[] = { "0", "off", "f", "false",
	    "n", "no" };
	static const char *const	 yes[] = { "1", "on", "t", "true",
	    "y", "yes" };
	size_t				 i;

	for (i = 0; i < nitems(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return (0);
	for (i = 0; i < nitems(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return (1);
	return (-1);
}

/* Pydantic's lax bool from a number: 0, 1, -1 (parsing) or -2 (type). */
static int
request_num_bool(const char *s)
{
	long long	v;

	switch (request_num_int(s, &v)) {
	case REQUEST_INT_OK:
		return (v == 0 || v == 1 ? (int)v : -1);
	case REQUEST_INT_PARSING:
		return (-1);
	default:
		return (-2);
	}
}

/* --- the fields --- */

/* distro: a name, "openwrt" by default. */
static void
request_field_distro(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_string(c, field, node, &request_pat_name, "openwrt",
	    &r->distro);
}

/* version: a required name. */
static void
request_field_version(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_string(c, field, node, &request_pat_name, NULL,
	    &r->version);
}

/* version_code: the expected revision, "" by default. */
static void
request_field_version_code(struct request_check *c, const char *field,
    long node, struct request *r)
{
	request_check_string(c, field, node, &request_pat_name, "",
	    &r->version_code);
}

/* target: a required target/subtarget. */
static void
request_field_target(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_string(c, field, node, &request_pat_target, NULL,
	    &r->target);
}

/* profile: required; a board name's "," becomes "_" once it is checked. */
static void
request_field_profile(struct request_check *c, const char *field, long node,
    struct request *r)
{
	char	*p;

	request_check_string(c, field, node, &request_pat_name, NULL,
	    &r->profile);
	for (p = r->profile; p != NULL && *p != '\0'; p++)
		if (*p == ',')
			*p = '_';
}

/* packages: names, order and duplicates kept. */
static void
request_field_packages(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_list(c, field, node, &request_pat_name, &r->packages);
}

/* packages_versions: name to version. */
static void
request_field_pv(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_dict(c, field, node, &request_pat_name,
	    &request_pat_version, &r->pv_names, &r->pv_versions);
}

/* diff_packages: a lax bool, false by default. */
static void
request_field_diff(struct request_check *c, const char *field, long node,
    struct request *r)
{
	const struct request_node	*nd;
	int				 b;

	if (node < 0)
		return;
	nd = &c->t->nodes[node];
	if (nd->type == REQUEST_BOOL)
		b = nd->boolean;
	else if (nd->type == REQUEST_STRING)
		b = request_str_bool(request_text(c->t, (size_t)node));
	else if (nd->type == REQUEST_NUMBER)
		b = request_num_bool(request_text(c->t, (size_t)node));
	else
		b = -2;
	if (b == -1)
		request_fail_at(c, field, node, &request_f_bool_parsing);
	else if (b == -2)
		request_fail_at(c, field, node, &request_f_bool_type);
	else
		r->diff_packages = b;
}

/* defaults: a script of at most max_defaults_length characters, or null. */
static void
request_field_defaults(struct request_check *c, const char *field, long node,
    struct request *r)
{
	struct request_fault	 f = { "string_too_long", NULL, "max_length",
	    NULL, c->lim->max_defaults_length };
	char			*s = NULL, *msg;

	request_check_nullable(c, field, node, &s);
	if (s == NULL ||
	    request_utf8_count(s) <= (size_t)c->lim->max_defaults_length) {
		r->defaults = s;
		return;
	}
	free(s);
	xasprintf(&msg, "String should have at most %d character%s",
	    c->lim->max_defaults_length,
	    c->lim->max_defaults_length == 1 ? "" : "s");
	f.msg = msg;
	request_fail_at(c, field, node, &f);
	free(msg);
}

/* rootfs_size_mb: a lax int in 1..max, or null (0). */
static void
request_field_rootfs(struct request_check *c, const char *field, long node,
    struct request *r)
{
	struct request_fault	 f = { "less_than_equal", NULL, "le", NULL,
	    c->lim->max_custom_rootfs_size_mb };
	enum request_int	 rc;
	long long		 v = 0;
	char			*msg;

	if (node < 0 || c->t->nodes[node].type == REQUEST_NULL)
		return;
	if ((rc = request_lax_int(c->t, node, &v)) != REQUEST_INT_OK) {
		request_fail_at(c, field, node, &request_int_faults[rc]);
		return;
	}
	if (v < 1) {
		request_fail_at(c, field, node, &request_f_ge);
		return;
	}
	if (v <= c->lim->max_custom_rootfs_size_mb) {
		r->rootfs_size_mb = (int)v;
		return;
	}
	xasprintf(&msg, "Input should be less than or equal to %d",
	    c->lim->max_custom_rootfs_size_mb);
	f.msg = msg;
	request_fail_at(c, field, node, &f);
	free(msg);
}

/* filesystem: one of the ImageBuilder's ROOTFS_FILESYSTEM values, or null. */
static void
request_field_filesystem(struct request_check *c, const char *field,
    long node, struct request *r)
{
	request_check_literal(c, field, node, &request_lit_fs, 1, NULL,
	    &r->filesystem);
}

/* repositories: feed name to URL, in the order sent. */
static void
request_field_repos(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_dict(c, field, node, &request_pat_repo,
	    &request_pat_url, &r->repo_names, &r->repo_urls);
}

/* repositories_mode: "append" or "replace" (the default). */
static void
request_field_mode(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_literal(c, field, node, &request_lit_mode, 0, "replace",
	    &r->repositories_mode);
}

/* repository_keys: strings without a pattern (usign or PEM keys). */
static void
request_field_keys(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_list(c, field, node, NULL, &r->repository_keys);
}

/* client: a free-form client name, or null. */
static void
request_field_client(struct request_check *c, const char *field, long node,
    struct request *r)
{
	request_check_nullable(c, field, node, &r->client);
}

/* --- entry points --- */

/* Checks a parsed object field by field; the last duplicate key wins. */
static void
request_check_object(struct request_check *c, struct request *r)
{
	const struct request_tree	*t = c->t;
	long				 found[nitems(request_fields)];
	size_t				 i, j, end = t->nodes[0].size;

	for (i = 0; i < nitems(request_fields); i++)
		found[i] = -1;
	for (j = 1; j < end; j += t->nodes[j].size) {
		for (i = 0; i < nitems(request_fields); i++)
			if (strcmp(request_key(t, j),
			    request_fields[i].name) == 0)
				found[i] = (long)j;
	}
	for (i = 0; i < nitems(request_fields); i++)
		request_fields[i].check(c, request_fields[i].name, found[i], r);
}

/* Records a JSON syntax error the way FastAPI reports json_invalid. */
static void
request_fail_json(struct request_check *c, size_t offset, const char *why)
{
	struct request_where	w = { NULL, NULL, (long long)offset, 0,
	    REQUEST_INPUT_EMPTY, NULL };
	struct request_fault	f = { "json_invalid", "JSON decode error",
	    "error", why, 0 };

	request_fail(c, &w, &f);
}

/* Parses the body into a tree and checks it; errors land in c. */
static void
request_run(struct request_check *c, struct request_tree *t,
    const char *body, size_t len, struct request *r)
{
	size_t	offset = 0;
	char	*why = NULL;

	if (len == 0) {
		request_fail_at(c, NULL, REQUEST_INPUT_NULL,
		    &request_f_missing);
		return;
	}
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		body += 3;	/* Python's json.loads(bytes) skips a BOM */
		len -= 3;
	}
	if (request_tree_parse(t, body, len, &why, &offset) == -1) {
		request_fail_json(c, offset, why);
		free(why);
		return;
	}
	c->t = t;
	if (t->nodes[0].type == REQUEST_NULL)
		request_fail_at(c, NULL, REQUEST_INPUT_NULL,
		    &request_f_missing);
	else if (t->nodes[0].type != REQUEST_OBJECT)
		request_fail_at(c, NULL, 0, &request_f_model);
	else
		request_check_object(c, r);
}

/* request_parse with explicit size caps (records may be larger). */
static int
request_parse_capped(const char *body, size_t len,
    const struct request_limits *lim, size_t maxbody, size_t maxvalues,
    struct request *r, struct request_error *err)
{
	static const struct request_limits	 dflt = { 20480, 1024 };
	struct request_tree			 t;
	struct request_check			 c;
	char					*msg;

	memset(r, 0, sizeof *r);
	memset(err, 0, sizeof *err);
	memset(&t, 0, sizeof t);
	memset(&c, 0, sizeof c);
	t.maxvalues = maxvalues;
	c.lim = lim != NULL ? lim : &dflt;
	if (len > maxbody) {
		xasprintf(&msg, "request body is larger than %zu bytes",
		    maxbody);
		request_too_big(err, msg);
		free(msg);
		return (-1);
	}
	request_run(&c, &t, body, len, r);
	if (t.toobig) {
		xasprintf(&msg, "request body holds more than %zu JSON values",
		    maxvalues);
		request_too_big(err, msg);
		free(msg);
	} else if (c.total > 0)
		request_render(&c, err);
	request_check_free(&c);
	request_tree_free(&t);
	if (err->status == 0)
		return (0);
	request_free(r);
	return (-1);
}

/* Parses and checks a build request body. */
int
request_parse(const char *body, size_t len, const struct request_limits *lim,
    struct request *r, struct request_error *err)
{
	return (request_parse_capped(body, len, lim, REQUEST_MAX_BODY,
	    REQUEST_MAX_VALUES, r, err));
}

/* Releases a request. */
void
request_free(struct request *r)
{
	free(r->distro);
	free(r->version);
	free(r->version_code);
	free(r->target);
	free(r->profile);
	strv_clear(&r->packages);
	strv_clear(&r->pv_names);
	strv_clear(&r->pv_versions);
	free(r->defaults);
	free(r->filesystem);
	strv_clear(&r->repo_names);
	strv_clear(&r->repo_urls);
	free(r->repositories_mode);
	strv_clear(&r->repository_keys);
	free(r->client);
	memset(r, 0, sizeof *r);
}

/* Releases an error. */
void
request_error_free(struct request_error *err)
{
	free(err->detail);
	free(err->body);
	memset(err, 0, sizeof *err);
}

/* The names the build and the hash use. */
const struct strv *
request_package_names(const struct request *r)
{
	return (r->pv_names.n > 0 ? &r->pv_names : &r->packages);
}

/* Writes "key": "value", or null for a NULL value. */
static void
request_gen_member(yajl_gen g, const char *key, const char *value)
{
	request_gen_cstr(g, key);
	if (value != NULL)
		request_gen_cstr(g, value);
	else
		yajl_gen_null(g);
}

/* Writes "key": [strings]. */
static void
request_gen_list(yajl_gen g, const char *key, const struct strv *sv)
{
	size_t	i;

	request_gen_cstr(g, key);
	yajl_gen_array_open(g);
	for (i = 0; i < sv->n; i++)
		request_gen_cstr(g, sv->v[i]);
	yajl_gen_array_close(g);
}

/* Writes "key": {names[i]: values[i]}. */
static void
request_gen_dict(yajl_gen g, const char *key, const struct strv *names,
    const struct strv *values)
{
	size_t	i;

	request_gen_cstr(g, key);
	yajl_gen_map_open(g);
	for (i = 0; i < names->n && i < values->n; i++) {
		request_gen_cstr(g, names->v[i]);
		request_gen_cstr(g, values->v[i]);
	}
	yajl_gen_map_close(g);
}

/* Writes the normalised request, every field present. */
void
request_to_json(const struct request *r, yajl_gen g)
{
	yajl_gen_map_open(g);
	request_gen_member(g, "distro",
	    r->distro != NULL ? r->distro : "openwrt");
	request_gen_member(g, "version", r->version ? r->version : "");
	request_gen_member(g, "version_code",
	    r->version_code != NULL ? r->version_code : "");
	request_gen_member(g, "target", r->target ? r->target : "");
	request_gen_member(g, "profile", r->profile ? r->profile : "");
	request_gen_list(g, "packages", &r->packages);
	request_gen_dict(g, "packages_versions", &r->pv_names,
	    &r->pv_versions);
	request_gen_cstr(g, "diff_packages");
	yajl_gen_bool(g, r->diff_packages);
	request_gen_member(g, "defaults", r->defaults);
	request_gen_cstr(g, "rootfs_size_mb");
	if (r->rootfs_size_mb > 0)
		yajl_gen_integer(g, r->rootfs_size_mb);
	else
		yajl_gen_null(g);
	request_gen_member(g, "filesystem", r->filesystem);
	request_gen_dict(g, "repositories", &r->repo_names, &r->repo_urls);
	request_gen_member(g, "repositories_mode",
	    r->repositories_mode != NULL ? r->repositories_mode : "replace");
	request_gen_list(g, "repository_keys", &r->repository_keys);
	request_gen_member(g, "client", r->client);
	yajl_gen_map_close(g);
}

/* Reads a request back from a record, without the operator's limits. */
int
request_from_json(const char *json, size_t len, struct request *r,
    char **cause)
{
	static const struct request_limits	nolimit = { INT_MAX, INT_MAX };
	struct request_error			err;

	if (request_parse_capped(json, len, &nolimit, REQUEST_RECORD_MAX,
	    REQUEST_RECORD_MAX, r, &err) == 0)
		return (0);
	*cause = err.detail;
	err.detail = NULL;
	request_error_free(&err);
	return (-1);
}

/*
 * pkgindex.c: reads the package indexes of the downloads server (index.json
 * of version 1 and 2, opkg Packages files, feeds.conf) into one sorted
 * package -> version map, and knows which versions keep their kernel
 * modules apart. All of it is untrusted text from the network: sizes and
 * counts are capped, junk entries are skipped, nothing is trusted to be
 * NUL-terminated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_parse.h>

#include "lib/log.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkgindex.h"

/* Deeper JSON than any index is refused early. */
#define PKGINDEX_JSON_DEPTH	32
/* The longest kmods directory part (kernel version, release, vermagic). */
#define PKGINDEX_MAX_KPART	64

/* An entry being sorted, with its position so that the last one wins. */
struct pkgindex_item {
	struct pkgindex_entry	 e;
	size_t			 seq;
};

/* Entries read from one file: in file order, repeats kept. */
struct pkgindex_stage {
	struct pkgindex		 idx;
	int			 full;
};

enum pkgindex_jkey {
	PKGINDEX_JKEY_OTHER,
	PKGINDEX_JKEY_VERSION,
	PKGINDEX_JKEY_ARCH,
	PKGINDEX_JKEY_PACKAGES
};

/* The state of the index.json event parser. */
struct pkgindex_json {
	struct pkgindex_stage	 st;
	int			 depth;
	int			 started;
	int			 in_packages;	/* in "packages", depth 2 */
	enum pkgindex_jkey	 key;		/* the current depth-1 key */
	char			*name;		/* the current depth-2 key */
	int			 version_seen;
	double			 version;
	const char		*why;
};

/* The fields of an opkg stanza that matter, in pkgindex_fields order. */
enum pkgindex_field {
	PKGINDEX_F_PACKAGE,
	PKGINDEX_F_VERSION,
	PKGINDEX_F_ABI,
	PKGINDEX_F_ARCH,
	PKGINDEX_F_COUNT,
	PKGINDEX_F_NONE = PKGINDEX_F_COUNT
};

static const char *const pkgindex_fields[PKGINDEX_F_COUNT] = {
	"Package", "Version", "ABIVersion", "Architecture"
};

/* One stanza's wanted fields, as slices of the text. */
struct pkgindex_stanza {
	const char		*val[PKGINDEX_F_COUNT];
	size_t			 len[PKGINDEX_F_COUNT];
	enum pkgindex_field	 last;	/* the field the previous line set */
	int			 folded; /* a wanted field has more lines */
	int			 body;	/* a non-header line ended them */
};

static void	 pkgindex_cause(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 pkgindex_version_ok(const char *, size_t);
static int	 pkgindex_arch_ok(const char *, size_t);
static void	 pkgindex_stage_add(struct pkgindex_stage *, const char *,
		    size_t, const char *, size_t);
static void	 pkgindex_stage_arch(struct pkgindex_stage *, const char *,
		    size_t);
static void	 pkgindex_grow(struct pkgindex *);
static int	 pkgindex_item_cmp(const void *, const void *);
static int	 pkgindex_stage_commit(struct pkgindex_stage *,
		    struct pkgindex *, char **);
static int	 pkgindex_merge_take(struct pkgindex *, struct pkgindex *);
static long	 pkgindex_find(const struct pkgindex *, const char *, int *);
static int	 pkgindex_j_inside(struct pkgindex_json *);
static int	 pkgindex_j_open(struct pkgindex_json *);
static int	 pkgindex_j_scalar(void *);
static int	 pkgindex_j_null(void *);
static int	 pkgindex_j_bool(void *, int);
static int	 pkgindex_j_number(void *, const char *, size_t);
static int	 pkgindex_j_string(void *, const unsigned char *, size_t);
static int	 pkgindex_j_start_map(void *);
static int	 pkgindex_j_key(void *, const unsigned char *, size_t);
static int	 pkgindex_j_end(void *);
static int	 pkgindex_j_start_array(void *);
static int	 pkgindex_json_read(const char *, size_t, struct pkgindex *,
		    int, char **);
static void	 pkgindex_json_error(yajl_handle, const struct pkgindex_json *,
		    yajl_status, char **);
static void	 pkgindex_stanza_line(struct pkgindex_stanza *, const char *,
		    size_t);
static void	 pkgindex_stanza_end(struct pkgindex_stanza *,
		    struct pkgindex_stage *);
static void	 pkgindex_stanza_reset(struct pkgindex_stanza *);
static int	 pkgindex_feed_ok(const char *, size_t);
static int	 pkgindex_leading_number(const char *, long *);

static const yajl_callbacks pkgindex_json_cbs = {
	pkgindex_j_null,
	pkgindex_j_bool,
	NULL,
	NULL,
	pkgindex_j_number,
	pkgindex_j_string,
	pkgindex_j_start_map,
	pkgindex_j_key,
	pkgindex_j_end,
	pkgindex_j_start_array,
	pkgindex_j_end
};

/* Sets *cause when the caller wants one (cause may be NULL). */
static void
pkgindex_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	*cause = s;
}

/* The reference's request pattern for names: [\w.,-]+ (ASCII). */
int
pkgindex_name_ok(const char *name, size_t len)
{
	return (text_word_ok(name, len, PKGINDEX_MAX_NAME, "_.,-"));
}

/* A version is printable ASCII without blanks. */
static int
pkgindex_version_ok(const char *s, size_t len)
{
	return (text_graph_ok(s, len, PKGINDEX_MAX_VERSION));
}

/* An architecture such as mips_24kc or aarch64_cortex-a53. */
static int
pkgindex_arch_ok(const char *s, size_t len)
{
	return (text_word_ok(s, len, PKGINDEX_MAX_ARCH, "_.+-"));
}

/* Makes room for one more entry at the end of the map's array. */
static void
pkgindex_grow(struct pkgindex *idx)
{
	if (idx->n == idx->cap) {
		idx->cap = idx->cap == 0 ? 64 : idx->cap * 2;
		idx->v = xreallocarray(idx->v, idx->cap, sizeof *idx->v);
	}
}

/* Keeps one entry read from a file if both halves are sound. */
static void
pkgindex_stage_add(struct pkgindex_stage *st, const char *name,
    size_t namelen, const char *version, size_t verlen)
{
	struct pkgindex_entry	*e;

	if (!pkgindex_name_ok(name, namelen) ||
	    !pkgindex_version_ok(version, verlen))
		return;
	if (st->idx.n >= PKGINDEX_MAX_ENTRIES) {
		st->full = 1;
		return;
	}
	pkgindex_grow(&st->idx);
	e = &st->idx.v[st->idx.n++];
	e->name = xstrndup(name, namelen);
	e->version = xstrndup(version, verlen);
}

/* Takes the first sound architecture a file names. */
static void
pkgindex_stage_arch(struct pkgindex_stage *st, const char *arch, size_t len)
{
	if (st->idx.architecture == NULL && pkgindex_arch_ok(arch, len))
		st->idx.architecture = xstrndup(arch, len);
}

/* By name, then in file order. */
static int
pkgindex_item_cmp(const void *a, const void *b)
{
	const struct pkgindex_item	*ia = a, *ib = b;
	int				 c;

	if ((c = strcmp(ia->e.name, ib->e.name)) != 0)
		return (c);
	return (ia->seq < ib->seq ? -1 : ia->seq > ib->seq);
}

/*
 * Sorts a file's entries, keeps the last of each name, and merges them
 * into idx. The stage is emptied either way.
 */
static int
pkgindex_stage_commit(struct pkgindex_stage *st, struct pkgindex *idx,
    char **cause)
{
	struct pkgindex		 tmp = st->idx;
	struct pkgindex_item	*it;
	size_t			 i, n = st->idx.n;
	int			 full = st->full;

	memset(st, 0, sizeof *st);
	if (full) {
		pkgindex_cause(cause, "more than %d packages",
		    PKGINDEX_MAX_ENTRIES);
		pkgindex_free(&tmp);
		return (-1);
	}
	it = xcalloc(n == 0 ? 1 : n, sizeof *it);
	for (i = 0; i < n; i++) {
		it[i].e = tmp.v[i];
		it[i].seq = i;
	}
	if (n > 1)
		qsort(it, n, sizeof *it, pkgindex_item_cmp);
	for (tmp.n = i = 0; i < n; i++) {
		if (i + 1 < n && strcmp(it[i].e.name, it[i + 1].e.name) == 0) {
			free(it[i].e.name);
			free(it[i].e.version);
		} else
			tmp.v[tmp.n++] = it[i].e;
	}
	free(it);
	if (pkgindex_merge_take(idx, &tmp) == -1) {
		pkgindex_cause(cause, "more than %d packages",
		    PKGINDEX_MAX_ENTRIES);
		pkgindex_free(&tmp);
		return (-1);
	}
	return (0);
}

/*
 * Merges the sorted, unique src into dst, moving src's strings; src wins
 * on equal names. On success src is left empty; on overflow both are
 * unchanged and -1 is returned.
 */
static int
pkgindex_merge_take(struct pkgindex *dst, struct pkgindex *src)
{
	struct pkgindex_entry	*out;
	size_t			 i = 0, j = 0, n = 0;
	int			 c;

	while (i < dst->n || j < src->n) {
		c = i == dst->n ? 1 : j == src->n ? -1 :
		    strcmp(dst->v[i].name, src->v[j].name);
		i += c <= 0;
		j += c >= 0;
		n++;
	}
	if (n > PKGINDEX_MAX_ENTRIES)
		return (-1);
	out = xcalloc(n == 0 ? 1 : n, sizeof *out);
	for (i = j = n = 0; i < dst->n || j < src->n; n++) {
		c = i == dst->n ? 1 : j == src->n ? -1 :
		    strcmp(dst->v[i].name, src->v[j].name);
		if (c < 0)
			out[n] = dst->v[i++];
		else {
			if (c == 0) {
				free(dst->v[i].name);
				free(dst->v[i++].version);
			}
			out[n] = src->v[j++];
		}
	}
	free(dst->v);
	dst->v = out;
	dst->n = dst->cap = n;
	if (dst->architecture == NULL) {
		dst->architecture = src->architecture;
		src->architecture = NULL;
	}
	free(src->v);
	free(src->architecture);
	memset(src, 0, sizeof *src);
	return (0);
}

/* Copies src into dst, src winning; dst unchanged when it would overflow. */
int
pkgindex_merge(struct pkgindex *dst, const struct pkgindex *src)
{
	struct pkgindex	tmp = PKGINDEX_INITIALIZER;
	size_t		i;

	tmp.v = xcalloc(src->n == 0 ? 1 : src->n, sizeof *tmp.v);
	tmp.cap = src->n;
	for (i = 0; i < src->n; i++) {
		tmp.v[i].name = xstrdup(src->v[i].name);
		tmp.v[i].version = xstrdup(src->v[i].version);
	}
	tmp.n = src->n;
	if (src->architecture != NULL)
		tmp.architecture = xstrdup(src->architecture);
	if (pkgindex_merge_take(dst, &tmp) == -1) {
		pkgindex_free(&tmp);
		return (-1);
	}
	return (0);
}

/*
 * Binary search: the slot of name, or where it would go (with *found 0).
 */
static long
pkgindex_find(const struct pkgindex *idx, const char *name, int *found)
{
	size_t	lo = 0, hi = idx->n, mid;
	int	c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, idx->v[mid].name)) == 0) {
			*found = 1;
			return ((long)mid);
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ((long)lo);
}

/* Sets one entry, keeping the order. */
int
pkgindex_set(struct pkgindex *idx, const char *name, const char *version)
{
	size_t	pos;
	int	found;

	if (!pkgindex_name_ok(name, strlen(name)) ||
	    !pkgindex_version_ok(version, strlen(version)))
		return (-1);
	pos = (size_t)pkgindex_find(idx, name, &found);
	if (found) {
		free(idx->v[pos].version);
		idx->v[pos].version = xstrdup(version);
		return (0);
	}
	if (idx->n >= PKGINDEX_MAX_ENTRIES)
		return (-1);
	pkgindex_grow(idx);
	memmove(&idx->v[pos + 1], &idx->v[pos],
	    (idx->n - pos) * sizeof *idx->v);
	idx->v[pos].name = xstrdup(name);
	idx->v[pos].version = xstrdup(version);
	idx->n++;
	return (0);
}

/* Looks a package up. */
const char *
pkgindex_lookup(const struct pkgindex *idx, const char *name)
{
	long	pos;
	int	found;

	pos = pkgindex_find(idx, name, &found);
	return (found ? idx->v[pos].version : NULL);
}

/* Releases the map. */
void
pkgindex_free(struct pkgindex *idx)
{
	size_t	i;

	for (i = 0; i < idx->n; i++) {
		free(idx->v[i].name);
		free(idx->v[i].version);
	}
	free(idx->v);
	free(idx->architecture);
	memset(idx, 0, sizeof *idx);
}

/* A value outside any object: the document is not a JSON object. */
static int
pkgindex_j_inside(struct pkgindex_json *j)
{
	if (j->depth == 0) {
		j->why = "not a JSON object";
		return (0);
	}
	return (1);
}

/* An object or array opens: one level deeper, and no version number. */
static int
pkgindex_j_open(struct pkgindex_json *j)
{
	if (j->depth == 1 && j->key == PKGINDEX_JKEY_VERSION)
		j->version_seen = 0;
	if (++j->depth > PKGINDEX_JSON_DEPTH) {
		j->why = "nested too deep";
		return (0);
	}
	return (1);
}

/*
 * Every scalar event: the document must be an object, and scalars inside
 * "packages" that are not strings clear the pending name.
 */
static int
pkgindex_j_scalar(void *arg)
{
	struct pkgindex_json	*j = arg;

	if (!pkgindex_j_inside(j))
		return (0);
	if (j->in_packages && j->depth == 2) {
		free(j->name);
		j->name = NULL;
	}
	return (1);
}

/* null: a "version" of null reads as an old index. */
static int
pkgindex_j_null(void *arg)
{
	struct pkgindex_json	*j = arg;

	if (j->depth == 1 && j->key == PKGINDEX_JKEY_VERSION)
		j->version_seen = 0;
	return (pkgindex_j_scalar(arg));
}

/* Booleans compare as 0 and 1, as Python's would. */
static int
pkgindex_j_bool(void *arg, int b)
{
	struct pkgindex_json	*j = arg;

	if (j->depth == 1 && j->key == PKGINDEX_JKEY_VERSION) {
		j->version_seen = 1;
		j->version = b ? 1 : 0;
	}
	return (pkgindex_j_scalar(arg));
}

/* A number: only "version" at the top matters. */
static int
pkgindex_j_number(void *arg, const char *s, size_t len)
{
	struct pkgindex_json	*j = arg;
	char			 buf[64];

	if (j->depth == 1 && j->key == PKGINDEX_JKEY_VERSION) {
		j->version_seen = 1;
		j->version = 0;
		if (len < sizeof buf) {
			memcpy(buf, s, len);
			buf[len] = '\0';
			j->version = strtod(buf, NULL);
		}
	}
	return (pkgindex_j_scalar(arg));
}

/* A string: the architecture, or a package's version. */
static int
pkgindex_j_string(void *arg, const unsigned char *s, size_t len)
{
	struct pkgindex_json	*j = arg;

	if (j->depth == 1 && j->key == PKGINDEX_JKEY_VERSION)
		j->version_seen = 0;	/* a string is no version number */
	if (j->depth == 1 && j->key == PKGINDEX_JKEY_ARCH)
		pkgindex_stage_arch(&j->st, (const char *)s, len);
	if (j->in_packages && j->depth == 2 && j->name != NULL)
		pkgindex_stage_add(&j->st, j->name, strlen(j->name),
		    (const char *)s, len);
	return (pkgindex_j_scalar(arg));
}

/* Opens an object; the one under "packages" holds the entries. */
static int
pkgindex_j_start_map(void *arg)
{
	struct pkgindex_json	*j = arg;

	if (j->depth == 0 && j->started) {
		j->why = "trailing data";
		return (0);
	}
	if (!pkgindex_j_open(j))
		return (0);
	j->started = 1;
	if (j->depth == 2 && j->key == PKGINDEX_JKEY_PACKAGES)
		j->in_packages = 1;
	free(j->name);
	j->name = NULL;
	return (1);
}

/* A key: a top-level field, or a package name. */
static int
pkgindex_j_key(void *arg, const unsigned char *s, size_t len)
{
	struct pkgindex_json	*j = arg;

	if (j->depth == 1) {
		j->key = PKGINDEX_JKEY_OTHER;
		if (len == 7 && memcmp(s, "version", 7) == 0)
			j->key = PKGINDEX_JKEY_VERSION;
		else if (len == 12 && memcmp(s, "architecture", 12) == 0)
			j->key = PKGINDEX_JKEY_ARCH;
		else if (len == 8 && memcmp(s, "packages", 8) == 0)
			j->key = PKGINDEX_JKEY_PACKAGES;
	} else if (j->in_packages && j->depth == 2) {
		free(j->name);
		j->name = NULL;
		if (pkgindex_name_ok((const char *)s, len))
			j->name = xstrndup((const char *)s, len);
	}
	return (1);
}

/* Closes an object or array. */
static int
pkgindex_j_end(void *arg)
{
	struct pkgindex_json	*j = arg;

	if (j->in_packages && j->depth == 2)
		j->in_packages = 0;
	j->depth--;
	if (j->in_packages && j->depth == 2) {
		free(j->name);	/* a non-string value ended */
		j->name = NULL;
	}
	return (1);
}

/* Opens an array: skipped, but counted for the depth. */
static int
pkgindex_j_start_array(void *arg)
{
	struct pkgindex_json	*j = arg;

	return (pkgindex_j_inside(j) && pkgindex_j_open(j));
}

/*
 * Reads index.json with yajl's event parser (no tree is built); the
 * entries go into idx when the file is version 2 or any is set.
 */
static int
pkgindex_json_read(const char *text, size_t len, struct pkgindex *idx,
    int any, char **cause)
{
	struct pkgindex_json	 j;
	yajl_handle		 h;
	yajl_status		 st;
	int			 v2;

	if (len > PKGINDEX_MAX_TEXT) {
		pkgindex_cause(cause, "index.json is larger than %d bytes",
		    PKGINDEX_MAX_TEXT);
		return (-1);
	}
	memset(&j, 0, sizeof j);
	if ((h = yajl_alloc(&pkgindex_json_cbs, NULL, &j)) == NULL)
		fatalx("%s: out of memory", __func__);
	st = yajl_parse(h, (const unsigned char *)(text == NULL ? "" : text),
	    text == NULL ? 0 : len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	free(j.name);
	if (st != yajl_status_ok || !j.started) {
		pkgindex_json_error(h, &j, st, cause);
		yajl_free(h);
		pkgindex_free(&j.st.idx);
		return (-1);
	}
	yajl_free(h);
	v2 = j.version_seen && j.version >= 2;
	if (!v2 && !any) {
		pkgindex_free(&j.st.idx);
		return (PKGINDEX_OLD);
	}
	if (pkgindex_stage_commit(&j.st, idx, cause) == -1)
		return (-1);
	return (0);
}

/* Says why index.json could not be read, on one line. */
static void
pkgindex_json_error(yajl_handle h, const struct pkgindex_json *j,
    yajl_status st, char **cause)
{
	unsigned char	*err;

	if (j->why != NULL)
		pkgindex_cause(cause, "index.json: %s", j->why);
	else if (st == yajl_status_ok)
		pkgindex_cause(cause, "index.json: empty");
	else {
		err = yajl_get_error(h, 0, NULL, 0);
		pkgindex_cause(cause, "index.json: %.*s",
		    (int)strcspn((char *)err, "\n"), (char *)err);
		yajl_free_error(h, err);
	}
}

/* index.json, used only when it is version 2 or later. */
int
pkgindex_parse_json(const char *text, size_t len, struct pkgindex *idx,
    char **cause)
{
	return (pkgindex_json_read(text, len, idx, 0, cause));
}

/* index.json of any version. */
int
pkgindex_parse_json_any(const char *text, size_t len, struct pkgindex *idx,
    char **cause)
{
	return (pkgindex_json_read(text, len, idx, 1, cause));
}

/*
 * One line of a stanza: "Field: value" (field names compare
 * case-insensitively, the first of each name counts), a continuation line
 * (leading blank), or junk, after which the headers are over, as for
 * Python's email parser.
 */
static void
pkgindex_stanza_line(struct pkgindex_stanza *s, const char *line, size_t len)
{
	const char	*colon, *v;
	size_t		 i, flen, vlen;

	if (s->body)
		return;
	if (line[0] == ' ' || line[0] == '\t') {
		if (s->last != PKGINDEX_F_NONE)
			s->folded = 1;
		return;
	}
	s->last = PKGINDEX_F_NONE;
	if ((colon = memchr(line, ':', len)) == NULL || colon == line) {
		s->body = 1;
		return;
	}
	flen = (size_t)(colon - line);
	if (!text_graph_ok(line, flen, flen)) {
		s->body = 1;
		return;
	}
	for (i = 0; i < PKGINDEX_F_COUNT; i++) {
		if (strlen(pkgindex_fields[i]) == flen &&
		    strncasecmp(line, pkgindex_fields[i], flen) == 0)
			break;
	}
	if (i == PKGINDEX_F_COUNT || s->val[i] != NULL)
		return;
	v = colon + 1;
	vlen = len - flen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	s->val[i] = v;
	s->len[i] = vlen;
	s->last = (enum pkgindex_field)i;
}

/* A stanza is over: take its architecture and its entry. */
static void
pkgindex_stanza_end(struct pkgindex_stanza *s, struct pkgindex_stage *st)
{
	const char	*name = s->val[PKGINDEX_F_PACKAGE];
	const char	*abi = s->val[PKGINDEX_F_ABI];
	const char	*arch = s->val[PKGINDEX_F_ARCH];
	size_t		 namelen = s->len[PKGINDEX_F_PACKAGE];
	size_t		 abilen = s->len[PKGINDEX_F_ABI];
	size_t		 archlen = s->len[PKGINDEX_F_ARCH];

	if (s->folded)
		goto out;
	if (arch != NULL && archlen > 0 &&
	    !(archlen == 3 && memcmp(arch, "all", 3) == 0))
		pkgindex_stage_arch(st, arch, archlen);
	if (name == NULL || s->val[PKGINDEX_F_VERSION] == NULL)
		goto out;
	if (abi != NULL && abilen > 0 && abilen <= namelen &&
	    memcmp(name + namelen - abilen, abi, abilen) == 0)
		namelen -= abilen;
	pkgindex_stage_add(st, name, namelen, s->val[PKGINDEX_F_VERSION],
	    s->len[PKGINDEX_F_VERSION]);
out:
	pkgindex_stanza_reset(s);
}

/* Empties a stanza for the next one. */
static void
pkgindex_stanza_reset(struct pkgindex_stanza *s)
{
	memset(s, 0, sizeof *s);
	s->last = PKGINDEX_F_NONE;
}

/* Reads an opkg Packages file, stanza by stanza. */
int
pkgindex_parse_packages(const char *text, size_t len, struct pkgindex *idx,
    char **cause)
{
	struct pkgindex_stage	 st;
	struct pkgindex_stanza	 s;
	const char		*p = text, *end, *line;
	size_t			 linelen;
	int			 open = 0;

	if (len > PKGINDEX_MAX_TEXT) {
		pkgindex_cause(cause, "Packages is larger than %d bytes",
		    PKGINDEX_MAX_TEXT);
		return (-1);
	}
	memset(&st, 0, sizeof st);
	pkgindex_stanza_reset(&s);
	end = text == NULL ? NULL : text + len;
	while (text != NULL && text_next_line(&p, end, &line, &linelen)) {
		if (linelen == 0) {
			if (open)
				pkgindex_stanza_end(&s, &st);
			open = 0;
			continue;
		}
		open = 1;
		pkgindex_stanza_line(&s, line, linelen);
	}
	if (open)
		pkgindex_stanza_end(&s, &st);
	return (pkgindex_stage_commit(&st, idx, cause));
}

/* A feed name goes into a URL path: [\w.-]+ and not "." or "..". */
static int
pkgindex_feed_ok(const char *s, size_t len)
{
	if (!text_word_ok(s, len, PKGINDEX_MAX_NAME, "_.-"))
		return (0);
	return (!(len == 1 && s[0] == '.') &&
	    !(len == 2 && s[0] == '.' && s[1] == '.'));
}

/* Takes the second word of each line of a feeds.conf. */
size_t
pkgindex_parse_feeds_conf(const char *text, size_t len, struct strv *names)
{
	const char	*p = text, *end, *line, *w;
	size_t		 linelen, i, wlen, added = 0;
	char		*name;
	int		 word;

	if (text == NULL || len > PKGINDEX_MAX_TEXT)
		return (0);
	end = text + len;
	while (text_next_line(&p, end, &line, &linelen) &&
	    added < PKGINDEX_MAX_FEEDS) {
		w = NULL;
		wlen = 0;
		word = 0;
		for (i = 0; i < linelen; i++) {
			if (line[i] == ' ' || line[i] == '\t')
				continue;
			if (word == 0 && line[i] == '#')
				break;
			if (++word == 2)
				w = line + i;
			while (i < linelen && line[i] != ' ' && line[i] != '\t')
				i++;
			if (word == 2) {
				wlen = (size_t)(line + i - w);
				break;
			}
		}
		if (w == NULL || !pkgindex_feed_ok(w, wlen))
			continue;
		name = xstrndup(w, wlen);
		if (strv_find(names, name) != -1) {
			free(name);
			continue;
		}
		strv_take(names, name);
		added++;
	}
	return (added);
}

/* The number at the start of s (at most 9 digits), or -1 in *n. */
static int
pkgindex_leading_number(const char *s, long *n)
{
	int	i;

	*n = 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 9)
			return (-1);
		*n = *n * 10 + (s[i] - '0');
	}
	return (i == 0 ? -1 : 0);
}

/*
 * The reference's is_post_kmod_split_build, read from the version instead
 * of the path: snapshots, major 24 and later, 23.x with a last part of
 * "05-SNAPSHOT" or a number of at least 6.
 */
int
pkgindex_has_kmods(const char *version)
{
	const char	*last;
	long		 major, minor;

	if (version == NULL)
		return (0);
	if (strcmp(version, "SNAPSHOT") == 0)
		return (1);
	if (strchr(version, '.') == NULL ||
	    pkgindex_leading_number(version, &major) == -1 ||
	    version[strspn(version, "0123456789")] != '.')
		return (0);
	if (major >= 24)
		return (1);
	if (major != 23)
		return (0);
	last = strrchr(version, '.') + 1;
	if (strcmp(last, "05-SNAPSHOT") == 0)
		return (1);
	return (pkgindex_leading_number(last, &minor) == 0 && minor >= 6);
}

/* Names the kmods directory of a version from its linux_kernel. */
char *
pkgindex_kmods_dir(const char *version, const char *kernel_version,
    const char *release, const char *vermagic)
{
	const char	*parts[3] = { kernel_version, release, vermagic };
	char		*dir;
	size_t		 i;

	if (!pkgindex_has_kmods(version))
		return (NULL);
	for (i = 0; i < 3; i++) {
		if (parts[i] == NULL || parts[i][0] == '.' ||
		    !text_word_ok(parts[i], strlen(parts[i]),
		    PKGINDEX_MAX_KPART, "_.+~-"))
			return (NULL);
	}
	xasprintf(&dir, "%s-%s-%s", kernel_version, release, vermagic);
	return (dir);
}

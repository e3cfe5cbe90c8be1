/*
 * reqerr.c: the request model's errors, collected the way Pydantic
 * reports them (every error counted, the first REQERR_MAX_KEPT kept
 * with their "loc", "msg", "input" and "ctx") and rendered as the 422
 * body: "detail" spells out the first few for people, "errors" is the
 * list in FastAPI's shape. The 413 body for oversized requests is here
 * too.
 */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "server/jtree.h"
#include "server/reqerr.h"

#define REQERR_DETAIL_ERRORS	10	/* errors spelled out in "detail" */
#define REQERR_KEY_SHOWN	64	/* bytes of a key shown in "detail" */

/* One recorded error: what it is about and what went wrong. */
struct reqerr_item {
	struct reqerr_where	 where;
	const char		*type;
	char			*msg;
	const char		*ctx_name;
	char			*ctx_str;
	long long		 ctx_int;
};

/* Records one error; only the first few are kept, all are counted. */
void
reqerr_add(struct reqerr_list *el, const struct reqerr_where *w,
    const struct reqerr_fault *f)
{
	struct reqerr_item	*e;

	el->total++;
	if (el->nerrs == REQERR_MAX_KEPT)
		return;
	if (el->errs == NULL)
		el->errs = xcalloc(REQERR_MAX_KEPT, sizeof *el->errs);
	e = &el->errs[el->nerrs++];
	e->where = *w;
	e->type = f->type;
	e->msg = xstrdup(f->msg);
	e->ctx_name = f->ctx_name;
	e->ctx_str = f->ctx_str != NULL ? xstrdup(f->ctx_str) : NULL;
	e->ctx_int = f->ctx_int;
}

/* Shorthand for an error about a whole field or a node in it. */
void
reqerr_at(struct reqerr_list *el, const char *field, long input,
    const struct reqerr_fault *f)
{
	struct reqerr_where	w = { field, NULL, -1, 0, input, NULL };

	reqerr_add(el, &w, f);
}

/* Reports a pattern mismatch with Pydantic's message and context. */
void
reqerr_pattern(struct reqerr_list *el, const struct reqerr_where *w,
    const char *re)
{
	struct reqerr_fault	f = { "string_pattern_mismatch", NULL,
	    "pattern", re, 0 };
	char			*msg;

	xasprintf(&msg, "String should match pattern '%s'", re);
	f.msg = msg;
	reqerr_add(el, w, &f);
	free(msg);
}

/* Records a JSON syntax error the way FastAPI reports json_invalid. */
void
reqerr_json(struct reqerr_list *el, size_t offset, const char *why)
{
	struct reqerr_where	w = { NULL, NULL, (long long)offset, 0,
	    REQERR_INPUT_EMPTY, NULL };
	struct reqerr_fault	f = { "json_invalid", "JSON decode error",
	    "error", why, 0 };

	reqerr_add(el, &w, &f);
}

/* Frees the recorded errors and leaves the list empty. */
void
reqerr_free(struct reqerr_list *el)
{
	size_t	i;

	for (i = 0; i < el->nerrs; i++) {
		free(el->errs[i].msg);
		free(el->errs[i].ctx_str);
	}
	free(el->errs);
	el->errs = NULL;
	el->nerrs = el->total = 0;
}

/* A key as shown in "detail": short, on one line. */
static char *
reqerr_key_shown(const char *key)
{
	size_t	 len = strlen(key), i;
	char	*s;

	if (len > REQERR_KEY_SHOWN) {
		len = REQERR_KEY_SHOWN;
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
reqerr_loc_text(const struct reqerr_where *w)
{
	char	*key = NULL, *idx = NULL, *s;

	if (w->field == NULL) {
		if (w->index < 0)
			return (xstrdup("request body"));
		xasprintf(&s, "request body at byte %lld", w->index);
		return (s);
	}
	if (w->key != NULL)
		key = reqerr_key_shown(w->key);
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
reqerr_detail(const struct reqerr_list *el)
{
	struct strv		 parts = STRV_INITIALIZER;
	const struct reqerr_item *e;
	size_t			 i;
	char			*loc, *s;

	for (i = 0; i < el->nerrs && i < REQERR_DETAIL_ERRORS; i++) {
		e = &el->errs[i];
		loc = reqerr_loc_text(&e->where);
		if (strcmp(e->type, "json_invalid") == 0 && e->ctx_str != NULL)
			strv_addf(&parts, "%s: %s (%s)", loc, e->msg,
			    e->ctx_str);
		else
			strv_addf(&parts, "%s: %s", loc, e->msg);
		free(loc);
	}
	if (el->total > i)
		strv_addf(&parts, "and %zu more", el->total - i);
	s = strv_join(&parts, "; ");
	strv_clear(&parts);
	return (s);
}

/* Writes a C string with yajl. */
static void
reqerr_gen_cstr(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Writes one error in FastAPI's shape. */
static void
reqerr_gen_err(const struct jtree *t, const struct reqerr_item *e, yajl_gen g)
{
	const struct reqerr_where	*w = &e->where;

	yajl_gen_map_open(g);
	reqerr_gen_cstr(g, "type");
	reqerr_gen_cstr(g, e->type);
	reqerr_gen_cstr(g, "loc");
	yajl_gen_array_open(g);
	reqerr_gen_cstr(g, "body");
	if (w->field != NULL)
		reqerr_gen_cstr(g, w->field);
	if (w->key != NULL)
		reqerr_gen_cstr(g, w->key);
	if (w->index >= 0)
		yajl_gen_integer(g, w->index);
	if (w->of_key)
		reqerr_gen_cstr(g, "[key]");
	yajl_gen_array_close(g);
	reqerr_gen_cstr(g, "msg");
	reqerr_gen_cstr(g, e->msg);
	reqerr_gen_cstr(g, "input");
	if (w->input_text != NULL)
		reqerr_gen_cstr(g, w->input_text);
	else if (w->input == REQERR_INPUT_EMPTY) {
		yajl_gen_map_open(g);
		yajl_gen_map_close(g);
	} else if (w->input < 0 || t == NULL)
		yajl_gen_null(g);
	else
		jtree_gen(t, (size_t)w->input, g);
	if (e->ctx_name != NULL) {
		reqerr_gen_cstr(g, "ctx");
		yajl_gen_map_open(g);
		reqerr_gen_cstr(g, e->ctx_name);
		if (e->ctx_str != NULL)
			reqerr_gen_cstr(g, e->ctx_str);
		else
			yajl_gen_integer(g, e->ctx_int);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/* Copies a generator's output into a new string. */
static char *
reqerr_gen_take(yajl_gen g)
{
	const unsigned char	*buf;
	size_t			 len;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
		fatalx("%s: yajl_gen_get_buf failed", __func__);
	return (xstrndup((const char *)buf, len));
}

/* Gives the 422 response for the recorded errors. */
void
reqerr_render(const struct reqerr_list *el, const struct jtree *t,
    int *status, char **detail, char **body)
{
	yajl_gen	g;
	size_t		i;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	*status = 422;
	*detail = reqerr_detail(el);
	yajl_gen_map_open(g);
	reqerr_gen_cstr(g, "status");
	yajl_gen_integer(g, 422);
	reqerr_gen_cstr(g, "title");
	reqerr_gen_cstr(g, "Unprocessable Entity");
	reqerr_gen_cstr(g, "detail");
	reqerr_gen_cstr(g, *detail);
	reqerr_gen_cstr(g, "errors");
	yajl_gen_array_open(g);
	for (i = 0; i < el->nerrs; i++)
		reqerr_gen_err(t, &el->errs[i], g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	*body = reqerr_gen_take(g);
	yajl_gen_free(g);
}

/* Gives a 413 response saying why. */
void
reqerr_too_big(const char *why, int *status, char **detail, char **body)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("%s: out of memory", __func__);
	*status = 413;
	*detail = xstrdup(why);
	yajl_gen_map_open(g);
	reqerr_gen_cstr(g, "status");
	yajl_gen_integer(g, 413);
	reqerr_gen_cstr(g, "title");
	reqerr_gen_cstr(g, "Content Too Large");
	reqerr_gen_cstr(g, "detail");
	reqerr_gen_cstr(g, why);
	yajl_gen_map_close(g);
	*body = reqerr_gen_take(g);
	yajl_gen_free(g);
}


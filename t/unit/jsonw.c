/*
 * jsonw.c: unit tests of the JSON helpers on hostile input: jsonw_parse
 * refuses text nested deeper than yajl can free and echo (found by
 * fuzzing upstream documents), and what it accepts goes back out through
 * jsonw_tree unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "lib/xmalloc.h"
#include "server/jsonw.h"
#include "t/unit/tap.h"

static char	*jsonw_test_nested(size_t, const char *, const char *);
static char	*jsonw_test_echo(const char *);
static void	 jsonw_test_depth(void);
static void	 jsonw_test_strings(void);

/* n levels of open, a leaf, n levels of close. */
static char *
jsonw_test_nested(size_t n, const char *open, const char *leaf)
{
	char	*s, *p;
	size_t	 i, olen = strlen(open), llen = strlen(leaf);

	p = s = xmalloc(n * (olen + 1) + llen + 1);
	for (i = 0; i < n; i++, p += olen)
		memcpy(p, open, olen);
	memcpy(p, leaf, llen);
	p += llen;
	for (i = 0; i < n; i++)
		*p++ = open[0] == '[' ? ']' : '}';
	*p = '\0';
	return (s);
}

/* Parses text and writes it back; NULL when it does not parse. */
static char *
jsonw_test_echo(const char *text)
{
	yajl_val	 v;
	yajl_gen	 g;
	char		*cause = NULL, *out;

	if ((v = jsonw_parse(text, &cause)) == NULL) {
		free(cause);
		return (NULL);
	}
	g = jsonw_new();
	jsonw_tree(g, v);
	out = jsonw_finish(g, NULL);
	yajl_tree_free(v);
	return (out);
}

/* Nesting: 64 levels go through, deeper is refused before yajl sees it. */
static void
jsonw_test_depth(void)
{
	char	*text, *out, *cause = NULL;

	text = jsonw_test_nested(64, "[", "1");
	out = jsonw_test_echo(text);
	is_str(out, text, "64 nested arrays parse and echo unchanged");
	free(out);
	free(text);

	text = jsonw_test_nested(64, "{\"a\":", "null");
	out = jsonw_test_echo(text);
	is_str(out, text, "64 nested objects parse and echo unchanged");
	free(out);
	free(text);

	text = jsonw_test_nested(65, "[", "1");
	ok(jsonw_parse(text, &cause) == NULL, "65 nested arrays are refused");
	is_str(cause, "invalid JSON: nested deeper than 64 levels",
	    "and the cause says why");
	free(cause);
	free(text);

	/*
	 * The fuzzer's find: a deep upstream document crashed asud when
	 * jsonw_tree echoed it (yajl's generator overruns its state array
	 * past 128 levels), and yajl_tree_free recursed once per level.
	 */
	text = jsonw_test_nested(200000, "[", "");
	ok(jsonw_test_echo(text) == NULL, "200000 nested arrays are refused");
	free(text);
	text = jsonw_test_nested(129, "{\"profiles\":", "[1]");
	ok(jsonw_test_echo(text) == NULL,
	    "an object 130 deep is refused (past yajl_gen's 128)");
	free(text);
}

/* Brackets in strings do not count; escapes do not end a string. */
static void
jsonw_test_strings(void)
{
	char	*text, *inner, *out, *cause = NULL;
	size_t	 i;

	text = xmalloc(300);
	memcpy(text, "[\"", 2);
	for (i = 2; i < 290; i++)
		text[i] = i % 2 ? '{' : '[';
	memcpy(text + 290, "\\\"]]\"]", 7);
	out = jsonw_test_echo(text);
	is_str(out, text, "brackets and an escaped quote inside a string");
	free(out);
	free(text);

	inner = jsonw_test_nested(64, "[", "1");
	xasprintf(&text, "[\"\\\\\",%s]", inner);
	ok(jsonw_parse(text, &cause) == NULL,
	    "a string ending in an escaped backslash ends there: 65 levels");
	free(cause);
	free(text);
	free(inner);

	cause = NULL;
	ok(jsonw_parse("[\"\\", &cause) == NULL,
	    "a backslash at the very end is refused, not read past");
	free(cause);
}

/* Runs the cases. */
int
main(void)
{
	jsonw_test_depth();
	jsonw_test_strings();
	return (done_testing());
}

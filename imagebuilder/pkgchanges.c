/*
 * pkgchanges.c: loads conf/package-changes.conf and applies it. The file
 * holds the reference server's two package-change tables as data: the
 * client-facing list (config.package_changes_list) that owut applies on
 * the router, and the per-version, per-target, per-profile rewrites that
 * the server applies to a build's package list after `make info`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkgchanges.h"

/* The longest name, version or profile in the file. */
#define PKGCHANGES_MAX_WORD	128
/* More digits than any revision. */
#define PKGCHANGES_REV_DIGITS	9

enum pkgchanges_vmatch {
	PKGCHANGES_V_ANY,	/* * */
	PKGCHANGES_V_PREFIX,	/* 23.05 */
	PKGCHANGES_V_EXACT,	/* =SNAPSHOT */
	PKGCHANGES_V_GE		/* >=24.10 */
};

enum pkgchanges_action {
	PKGCHANGES_ADD,
	PKGCHANGES_REMOVE,
	PKGCHANGES_REPLACE,
	PKGCHANGES_RENAME_PREFIX,
	PKGCHANGES_REMOVE_MATCHING
};

/* An action's keyword and how many arguments it takes (0: one or more). */
static const struct {
	const char		*word;
	enum pkgchanges_action	 action;
	size_t			 nargs;
} pkgchanges_actions[] = {
	{ "add", PKGCHANGES_ADD, 0 },
	{ "remove", PKGCHANGES_REMOVE, 0 },
	{ "replace", PKGCHANGES_REPLACE, 2 },
	{ "rename-prefix", PKGCHANGES_RENAME_PREFIX, 2 },
	{ "remove-matching", PKGCHANGES_REMOVE_MATCHING, 2 }
};

/* One server-side rewrite. */
struct pkgchanges_rule {
	enum pkgchanges_action	 action;
	enum pkgchanges_vmatch	 vmatch;
	char			*version;	/* NULL for any */
	char			*target;	/* NULL for any */
	struct strv		 profiles;	/* empty for any */
	struct strv		 args;
};

struct pkgchanges {
	struct pkgchanges_rule		*rules;
	size_t				 nrules;
	struct pkgchanges_client	*clients;
	size_t				 nclients;
};

/* One directive being read: its words and the line of each. */
struct pkgchanges_dir {
	struct strv	 words;
	size_t		*lines;
	size_t		 cap;
};

/* The parser's state. */
struct pkgchanges_parser {
	const char		*name;
	struct pkgchanges	*pc;
	struct pkgchanges_dir	 dir;
	char			*cause;
};

static int	 pkgchanges_error(struct pkgchanges_parser *, size_t,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	 pkgchanges_word_ok(const char *, const char *);
static int	 pkgchanges_target_ok(const char *);
static void	 pkgchanges_dir_add(struct pkgchanges_dir *, const char *,
		    size_t, size_t);
static void	 pkgchanges_dir_clear(struct pkgchanges_dir *);
static int	 pkgchanges_line(struct pkgchanges_parser *, const char *,
		    size_t, size_t);
static int	 pkgchanges_finish(struct pkgchanges_parser *);
static int	 pkgchanges_client_parse(struct pkgchanges_parser *);
static int	 pkgchanges_version_parse(struct pkgchanges_parser *,
		    struct pkgchanges_rule *, size_t);
static int	 pkgchanges_rule_parse(struct pkgchanges_parser *, size_t);
static void	 pkgchanges_rule_clear(struct pkgchanges_rule *);
static int	 pkgchanges_matches(const struct pkgchanges_rule *,
		    const char *, const char *, const char *);
static void	 pkgchanges_strv_remove(struct strv *, size_t);
static void	 pkgchanges_add_missing(struct strv *, const char *);
static int	 pkgchanges_remove_first(struct strv *, const char *);
static char	*pkgchanges_renamed(const char *, const char *, const char *);
static int	 pkgchanges_affix(const char *, const char *, const char *);
static void	 pkgchanges_do(const struct pkgchanges_rule *, struct strv *);

/* Records the first error as "FILE:LINE: reason"; returns -1. */
static int
pkgchanges_error(struct pkgchanges_parser *p, size_t line, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	if (p->cause != NULL)
		return (-1);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	xasprintf(&p->cause, "%s:%zu: %s", p->name, line, msg);
	free(msg);
	return (-1);
}

/*
 * A package, profile or version: 1..PKGCHANGES_MAX_WORD letters, digits
 * or bytes of extra (the reference's [\w.,-] pattern, in ASCII).
 */
static int
pkgchanges_word_ok(const char *s, const char *extra)
{
	return (text_word_ok(s, strlen(s), PKGCHANGES_MAX_WORD, extra));
}

/* A target is "name/name" of letters, digits and "_". */
static int
pkgchanges_target_ok(const char *s)
{
	const char	*slash = strchr(s, '/');
	char		*first;
	int		 rc;

	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return (0);
	first = xstrndup(s, (size_t)(slash - s));
	rc = pkgchanges_word_ok(first, "_") && pkgchanges_word_ok(slash + 1,
	    "_");
	free(first);
	return (rc);
}

/* Adds one word of the current directive. */
static void
pkgchanges_dir_add(struct pkgchanges_dir *d, const char *w, size_t len,
    size_t line)
{
	if (d->words.n == d->cap) {
		d->cap = d->cap == 0 ? 16 : d->cap * 2;
		d->lines = xreallocarray(d->lines, d->cap, sizeof *d->lines);
	}
	d->lines[d->words.n] = line;
	strv_take(&d->words, xstrndup(w, len));
}

/* Forgets the current directive. */
static void
pkgchanges_dir_clear(struct pkgchanges_dir *d)
{
	strv_clear(&d->words);
	free(d->lines);
	d->lines = NULL;
	d->cap = 0;
}

/*
 * Reads one line: a comment or blank line is skipped, an indented line
 * continues the directive, any other starts a new one (finishing the one
 * before).
 */
static int
pkgchanges_line(struct pkgchanges_parser *p, const char *s, size_t len,
    size_t line)
{
	const char	*hash;
	size_t		 i, start;
	int		 cont = len > 0 && (s[0] == ' ' || s[0] == '\t');

	if (memchr(s, '\0', len) != NULL)
		return (pkgchanges_error(p, line, "NUL byte"));
	if ((hash = memchr(s, '#', len)) != NULL)
		len = (size_t)(hash - s);
	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' ||
	    s[i] == '\r'); i++)
		;
	if (i == len)
		return (0);
	if (cont && p->dir.words.n == 0)
		return (pkgchanges_error(p, line,
		    "continuation line without a directive"));
	if (!cont && pkgchanges_finish(p) == -1)
		return (-1);
	while (i < len) {
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		pkgchanges_dir_add(&p->dir, s + start, i - start, line);
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
	}
	return (0);
}

/* Compiles the directive read so far, if any. */
static int
pkgchanges_finish(struct pkgchanges_parser *p)
{
	const char	*w;
	size_t		 i;
	int		 rc = -1;

	if (p->dir.words.n == 0)
		return (0);
	w = p->dir.words.v[0];
	if (strcmp(w, "client") == 0)
		rc = pkgchanges_client_parse(p);
	else {
		for (i = 0; i < nitems(pkgchanges_actions); i++) {
			if (strcmp(w, pkgchanges_actions[i].word) == 0)
				break;
		}
		if (i == nitems(pkgchanges_actions))
			pkgchanges_error(p, p->dir.lines[0],
			    "unknown directive \"%s\"", w);
		else
			rc = pkgchanges_rule_parse(p, i);
	}
	pkgchanges_dir_clear(&p->dir);
	return (rc);
}

/* client SOURCE TARGET REVISION [mandatory] */
static int
pkgchanges_client_parse(struct pkgchanges_parser *p)
{
	struct pkgchanges_client	 c;
	char			*const	*w = p->dir.words.v;
	size_t				 n = p->dir.words.n, i;
	long				 rev = 0;

	if (n < 4 || n > 5)
		return (pkgchanges_error(p, p->dir.lines[0],
		    "expected: client SOURCE TARGET REVISION [mandatory]"));
	if (!pkgchanges_word_ok(w[1], "_.,-") || strcmp(w[1], "-") == 0)
		return (pkgchanges_error(p, p->dir.lines[1],
		    "bad source package \"%s\"", w[1]));
	if (!pkgchanges_word_ok(w[2], "_.,-"))
		return (pkgchanges_error(p, p->dir.lines[2],
		    "bad target package \"%s\"", w[2]));
	for (i = 0; w[3][i] >= '0' && w[3][i] <= '9' &&
	    i < PKGCHANGES_REV_DIGITS; i++)
		rev = rev * 10 + (w[3][i] - '0');
	if (i == 0 || w[3][i] != '\0')
		return (pkgchanges_error(p, p->dir.lines[3],
		    "bad revision \"%s\"", w[3]));
	if (n == 5 && strcmp(w[4], "mandatory") != 0)
		return (pkgchanges_error(p, p->dir.lines[4],
		    "expected \"mandatory\", not \"%s\"", w[4]));
	c.source = xstrdup(w[1]);
	c.target = strcmp(w[2], "-") == 0 ? NULL : xstrdup(w[2]);
	c.revision = (int)rev;
	c.mandatory = n == 5;
	p->pc->clients = xreallocarray(p->pc->clients, p->pc->nclients + 1,
	    sizeof *p->pc->clients);
	p->pc->clients[p->pc->nclients++] = c;
	return (0);
}

/* The VERSION word of a rule: *, =X, >=X or a prefix X. */
static int
pkgchanges_version_parse(struct pkgchanges_parser *p,
    struct pkgchanges_rule *r, size_t at)
{
	const char	*w = p->dir.words.v[at];

	if (strcmp(w, "*") == 0) {
		r->vmatch = PKGCHANGES_V_ANY;
		return (0);
	}
	if (strncmp(w, ">=", 2) == 0) {
		r->vmatch = PKGCHANGES_V_GE;
		w += 2;
	} else if (w[0] == '=') {
		r->vmatch = PKGCHANGES_V_EXACT;
		w++;
	} else
		r->vmatch = PKGCHANGES_V_PREFIX;
	if (!pkgchanges_word_ok(w, "_.,-"))
		return (pkgchanges_error(p, p->dir.lines[at],
		    "bad version \"%s\"", p->dir.words.v[at]));
	r->version = xstrdup(w);
	return (0);
}

/* ACTION VERSION TARGET ARGUMENT... [for PROFILE...] */
static int
pkgchanges_rule_parse(struct pkgchanges_parser *p, size_t which)
{
	struct pkgchanges_rule	 r;
	char		*const	*w = p->dir.words.v;
	size_t			 n = p->dir.words.n, i, nargs;
	struct strv		*into;

	memset(&r, 0, sizeof r);
	r.action = pkgchanges_actions[which].action;
	nargs = pkgchanges_actions[which].nargs;
	if (n < 4)
		return (pkgchanges_error(p, p->dir.lines[0], "expected: %s "
		    "VERSION TARGET ARGUMENT... [for PROFILE...]", w[0]));
	if (pkgchanges_version_parse(p, &r, 1) == -1)
		goto fail;
	if (strcmp(w[2], "*") != 0) {
		if (!pkgchanges_target_ok(w[2])) {
			pkgchanges_error(p, p->dir.lines[2],
			    "bad target \"%s\"", w[2]);
			goto fail;
		}
		r.target = xstrdup(w[2]);
	}
	into = &r.args;
	for (i = 3; i < n; i++) {
		if (strcmp(w[i], "for") == 0 && into == &r.args) {
			into = &r.profiles;
			continue;
		}
		if (!pkgchanges_word_ok(w[i], "_.,-")) {
			pkgchanges_error(p, p->dir.lines[i], "bad %s \"%s\"",
			    into == &r.args ? "package" : "profile", w[i]);
			goto fail;
		}
		strv_add(into, w[i]);
	}
	if (r.args.n == 0 || (nargs != 0 && r.args.n != nargs)) {
		pkgchanges_error(p, p->dir.lines[0], nargs == 0 ?
		    "%s needs a package" : "%s takes %zu arguments", w[0],
		    nargs);
		goto fail;
	}
	if (into == &r.profiles && r.profiles.n == 0) {
		pkgchanges_error(p, p->dir.lines[n - 1],
		    "\"for\" without a profile");
		goto fail;
	}
	p->pc->rules = xreallocarray(p->pc->rules, p->pc->nrules + 1,
	    sizeof *p->pc->rules);
	p->pc->rules[p->pc->nrules++] = r;
	return (0);
fail:
	pkgchanges_rule_clear(&r);
	return (-1);
}

/* Releases one rule's strings. */
static void
pkgchanges_rule_clear(struct pkgchanges_rule *r)
{
	free(r->version);
	free(r->target);
	strv_clear(&r->profiles);
	strv_clear(&r->args);
}

/* Parses the whole text line by line. */
struct pkgchanges *
pkgchanges_parse(const char *text, size_t len, const char *name,
    char **cause)
{
	struct pkgchanges_parser	 p;
	const char			*s = text, *end, *l;
	size_t				 line = 0, n;

	if (text == NULL)
		s = text = "";
	end = text + len;
	memset(&p, 0, sizeof p);
	p.name = name;
	p.pc = xcalloc(1, sizeof *p.pc);
	while (text_next_line(&s, end, &l, &n)) {
		if (pkgchanges_line(&p, l, n, ++line) == -1)
			goto fail;
	}
	if (pkgchanges_finish(&p) == -1)
		goto fail;
	return (p.pc);
fail:
	pkgchanges_dir_clear(&p.dir);
	pkgchanges_free(p.pc);
	*cause = p.cause;
	return (NULL);
}

/* Reads and parses a file. */
struct pkgchanges *
pkgchanges_load(const char *path, char **cause)
{
	struct pkgchanges	*pc;
	char			*buf;
	size_t			 len;

	if (fs_read_file(path, PKGCHANGES_MAX_FILE, &buf, &len) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	pc = pkgchanges_parse(buf, len, path, cause);
	free(buf);
	return (pc);
}

/* Releases the tables. */
void
pkgchanges_free(struct pkgchanges *pc)
{
	size_t	i;

	if (pc == NULL)
		return;
	for (i = 0; i < pc->nrules; i++)
		pkgchanges_rule_clear(&pc->rules[i]);
	for (i = 0; i < pc->nclients; i++) {
		free(pc->clients[i].source);
		free(pc->clients[i].target);
	}
	free(pc->rules);
	free(pc->clients);
	free(pc);
}

/* Whether a rule holds for this version, target and profile. */
static int
pkgchanges_matches(const struct pkgchanges_rule *r, const char *version,
    const char *target, const char *profile)
{
	switch (r->vmatch) {
	case PKGCHANGES_V_ANY:
		break;
	case PKGCHANGES_V_PREFIX:
		if (strncmp(version, r->version, strlen(r->version)) != 0)
			return (0);
		break;
	case PKGCHANGES_V_EXACT:
		if (strcmp(version, r->version) != 0)
			return (0);
		break;
	case PKGCHANGES_V_GE:
		if (strcmp(version, r->version) < 0)
			return (0);
		break;
	}
	if (r->target != NULL && strcmp(target, r->target) != 0)
		return (0);
	if (r->profiles.n > 0 && strv_find(&r->profiles, profile) == -1)
		return (0);
	return (1);
}

/* Drops element i, keeping the order and the NULL terminator. */
static void
pkgchanges_strv_remove(struct strv *sv, size_t i)
{
	free(sv->v[i]);
	memmove(&sv->v[i], &sv->v[i + 1], (sv->n - i) * sizeof *sv->v);
	sv->n--;
}

/* Appends a package unless it is listed. */
static void
pkgchanges_add_missing(struct strv *sv, const char *pkg)
{
	if (strv_find(sv, pkg) == -1)
		strv_add(sv, pkg);
}

/* Drops the first occurrence of a package; 1 when there was one. */
static int
pkgchanges_remove_first(struct strv *sv, const char *pkg)
{
	int	i;

	if ((i = strv_find(sv, pkg)) == -1)
		return (0);
	pkgchanges_strv_remove(sv, (size_t)i);
	return (1);
}

/*
 * The new name of a package that starts with from: to, followed by the
 * package with every occurrence of from taken out (Python's
 * new + package.replace(old, "")).
 */
static char *
pkgchanges_renamed(const char *pkg, const char *from, const char *to)
{
	const char	*s, *hit;
	size_t		 flen = strlen(from), tlen = strlen(to);
	char		*out, *o;

	out = xmalloc(tlen + strlen(pkg) + 1);
	memcpy(out, to, tlen);
	o = out + tlen;
	for (s = pkg; (hit = strstr(s, from)) != NULL; s = hit + flen) {
		memcpy(o, s, (size_t)(hit - s));
		o += hit - s;
	}
	strcpy(o, s);
	return (out);
}

/* 1 when s starts with prefix and (independently) ends with suffix. */
static int
pkgchanges_affix(const char *s, const char *prefix, const char *suffix)
{
	size_t	len = strlen(s), slen = strlen(suffix);

	return (strncmp(s, prefix, strlen(prefix)) == 0 && len >= slen &&
	    strcmp(s + len - slen, suffix) == 0);
}

/* Carries out one rule that holds. */
static void
pkgchanges_do(const struct pkgchanges_rule *r, struct strv *pkgs)
{
	size_t	i, j;
	char	*renamed;

	switch (r->action) {
	case PKGCHANGES_ADD:
		for (i = 0; i < r->args.n; i++)
			pkgchanges_add_missing(pkgs, r->args.v[i]);
		break;
	case PKGCHANGES_REMOVE:
		for (i = 0; i < r->args.n; i++)
			pkgchanges_remove_first(pkgs, r->args.v[i]);
		break;
	case PKGCHANGES_REPLACE:
		if (pkgchanges_remove_first(pkgs, r->args.v[0]))
			pkgchanges_add_missing(pkgs, r->args.v[1]);
		break;
	case PKGCHANGES_RENAME_PREFIX:
		for (i = 0; i < pkgs->n; i++) {
			if (strncmp(pkgs->v[i], r->args.v[0],
			    strlen(r->args.v[0])) != 0)
				continue;
			renamed = pkgchanges_renamed(pkgs->v[i], r->args.v[0],
			    r->args.v[1]);
			free(pkgs->v[i]);
			pkgs->v[i] = renamed;
		}
		break;
	case PKGCHANGES_REMOVE_MATCHING:
		/* One pass: a list of matches is not moved once per match. */
		for (i = 0, j = 0; i < pkgs->n; i++) {
			if (pkgchanges_affix(pkgs->v[i], r->args.v[0],
			    r->args.v[1]))
				free(pkgs->v[i]);
			else
				pkgs->v[j++] = pkgs->v[i];
		}
		pkgs->n = j;
		if (pkgs->v != NULL)
			pkgs->v[j] = NULL;
		break;
	}
}

/* Runs every rule that holds, in file order. */
void
pkgchanges_apply(const struct pkgchanges *pc, const char *version,
    const char *target, const char *profile, struct strv *packages)
{
	size_t	i;

	if (pc == NULL)
		return;
	if (version == NULL)
		version = "";
	if (target == NULL)
		target = "";
	if (profile == NULL)
		profile = "";
	for (i = 0; i < pc->nrules; i++) {
		if (pkgchanges_matches(&pc->rules[i], version, target,
		    profile))
			pkgchanges_do(&pc->rules[i], packages);
	}
}

/* For the start-up log and the tests. */
size_t
pkgchanges_rule_count(const struct pkgchanges *pc)
{
	return (pc->nrules);
}

/* For overview.json. */
size_t
pkgchanges_client_count(const struct pkgchanges *pc)
{
	return (pc->nclients);
}

/* Iterates the client-facing entries. */
const struct pkgchanges_client *
pkgchanges_client_at(const struct pkgchanges *pc, size_t i)
{
	return (i < pc->nclients ? &pc->clients[i] : NULL);
}

/* The reference's package_changes(branch_off_rev). */
int
pkgchanges_client_applies(const struct pkgchanges_client *c,
    int branch_off_rev)
{
	return (branch_off_rev < 0 || c->revision <= branch_off_rev);
}

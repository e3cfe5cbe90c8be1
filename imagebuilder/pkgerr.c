/*
 * pkgerr.c: condenses what opkg or apk print when a package selection
 * cannot be installed into the reference server's one-line message,
 * "Impossible package selection: missing (a, b) conflicts (c, d)". The
 * recognised forms are those of the reference's check_package_errors; the
 * names come from a child process, so only short, plain names are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/pkgerr.h"

/* Longest name kept, and most names kept per list. */
#define PKGERR_MAX_NAME		128
#define PKGERR_MAX_NAMES	64

struct pkgerr {
	struct strv	 missing;
	struct strv	 conflicts;
	char		*group;		/* apk: the package of this group */
	size_t		 group_indent;
	int		 in_conflicts;	/* apk: inside a "conflicts:" label */
	size_t		 label_indent;
};

static size_t	pkgerr_token(const char *);
static int	pkgerr_name_ok(const char *, size_t);
static void	pkgerr_strip_version(char *);
static void	pkgerr_add(struct strv *, const char *, size_t, int);
static void	pkgerr_add_dotted(struct strv *, const char *, int);
static void	pkgerr_opkg(struct pkgerr *, const char *);
static void	pkgerr_apk_overwrite(struct pkgerr *, const char *);
static void	pkgerr_apk_missing(struct pkgerr *, const char *);
static void	pkgerr_apk_items(struct pkgerr *, const char *);
static void	pkgerr_apk_group(struct pkgerr *, const char *);
static void	pkgerr_append(char **, const char *, const struct strv *);

/* Length of the run of non-blank bytes at s. */
static size_t
pkgerr_token(const char *s)
{
	return (strcspn(s, " \t"));
}

/* A kept name is short and made of letters, digits and "._+~-". */
static int
pkgerr_name_ok(const char *s, size_t len)
{
	return (text_word_ok(s, len, PKGERR_MAX_NAME, "._+~-"));
}

/*
 * apk names its packages "name-version-rN" (busybox-1.36.1-r2): cut that
 * version off so the message names packages the way a request does.
 */
static void
pkgerr_strip_version(char *s)
{
	char	*rel, *ver;
	size_t	 i;

	if ((rel = strrchr(s, '-')) == NULL || rel[1] != 'r' ||
	    rel[2] == '\0')
		return;
	for (i = 2; rel[i] != '\0'; i++) {
		if (rel[i] < '0' || rel[i] > '9')
			return;
	}
	for (ver = rel - 1; ver > s && *ver != '-'; ver--)
		;
	if (ver > s && ver[1] >= '0' && ver[1] <= '9')
		*ver = '\0';
}

/* Adds one name to a list unless it is unsafe, known or one too many. */
static void
pkgerr_add(struct strv *sv, const char *s, size_t len, int apk)
{
	char	*name;

	if (!pkgerr_name_ok(s, len))
		return;
	name = xstrndup(s, len);
	if (apk)
		pkgerr_strip_version(name);
	if (strv_find(sv, name) != -1 || sv->n >= PKGERR_MAX_NAMES) {
		free(name);
		return;
	}
	strv_take(sv, name);
}

/* Adds the token at s up to its last "." ("foo." and "foo-1.0-r1."). */
static void
pkgerr_add_dotted(struct strv *sv, const char *s, int apk)
{
	size_t	len = pkgerr_token(s);

	while (len > 0 && s[len - 1] != '.')
		len--;
	if (len > 0)
		pkgerr_add(sv, s, len - 1, apk);
}

/* opkg: "Cannot install package X.", conflicts and file clashes. */
static void
pkgerr_opkg(struct pkgerr *pe, const char *line)
{
	static const char	 ccf[] = "check_conflicts_for:";
	const char		*s;

	if ((s = strstr(line, "Cannot install package ")) != NULL)
		pkgerr_add_dotted(&pe->missing, s + 23, 0);
	if ((s = strstr(line, "check_data_file_clashes: Package ")) != NULL &&
	    strncmp(s + 33 + pkgerr_token(s + 33), " wants to", 9) == 0)
		pkgerr_add(&pe->conflicts, s + 33, pkgerr_token(s + 33), 0);
	if ((s = strstr(line, "is already provided by package")) != NULL) {
		s += 30;
		s += strspn(s, " \t");
		if (*s == '*')
			s++;
		s += strspn(s, " \t");
		pkgerr_add(&pe->conflicts, s, pkgerr_token(s), 0);
	}
	if ((s = strstr(line, ccf)) == NULL)
		return;
	if ((s = strstr(line, "conflict with ")) != NULL) {
		s += 14;
		pkgerr_add(&pe->conflicts, s, strcspn(s, " \t:"), 0);
		return;
	}
	/* " * check_conflicts_for: \tB * check_conflicts_for: \tC * " */
	for (s = strstr(line, ccf); s != NULL; s = strstr(s, ccf)) {
		s += sizeof ccf - 1;
		s += strspn(s, " \t");
		pkgerr_add(&pe->conflicts, s, pkgerr_token(s), 0);
	}
}

/* apk: "ERROR: A-1-r1: trying to overwrite x owned by B-1-r1." */
static void
pkgerr_apk_overwrite(struct pkgerr *pe, const char *line)
{
	const char	*s, *a, *owner = NULL;

	if ((s = strstr(line, ": trying to overwrite ")) == NULL)
		return;
	for (a = s; a > line && a[-1] != ' ' && a[-1] != '\t'; a--)
		;
	if (a - line >= 7 && strncmp(a - 7, "ERROR: ", 7) == 0)
		pkgerr_add(&pe->conflicts, a, (size_t)(s - a), 1);
	for (s += 22; (s = strstr(s, " owned by ")) != NULL; s++)
		owner = s + 10;
	if (owner == NULL)
		return;
	pkgerr_add_dotted(&pe->conflicts, owner, 1);
}

/* apk: "  foo (no such package):". */
static void
pkgerr_apk_missing(struct pkgerr *pe, const char *line)
{
	const char	*s, *a;

	if ((s = strstr(line, " (no such package)")) == NULL)
		return;
	for (a = s; a > line && a[-1] != ' ' && a[-1] != '\t'; a--)
		;
	if (a > line)
		pkgerr_add(&pe->missing, a, (size_t)(s - a), 0);
}

/* apk: the "B-1.0-r1[dep]" items of a conflicts label or its follow-ups. */
static void
pkgerr_apk_items(struct pkgerr *pe, const char *s)
{
	size_t	len;

	for (;;) {
		s += strspn(s, " \t");
		if ((len = pkgerr_token(s)) == 0)
			break;
		pkgerr_add(&pe->conflicts, s, strcspn(s, " \t["), 1);
		s += len;
	}
}

/*
 * apk groups a conflict under the package it concerns:
 *   "  A-1.0-r1:" then "    conflicts: B-1.0-r1[x=1.0-r1]"
 * and both A and B are conflicts. Indentation says where a group and a
 * label end.
 */
static void
pkgerr_apk_group(struct pkgerr *pe, const char *line)
{
	size_t		 indent, len;
	const char	*s;

	indent = strspn(line, " \t");
	s = line + indent;
	len = strlen(s);
	if (pe->in_conflicts && indent > pe->label_indent &&
	    strchr(s, ':') == NULL) {
		pkgerr_apk_items(pe, s);
		return;
	}
	pe->in_conflicts = 0;
	if (pe->group != NULL && indent > pe->group_indent &&
	    strncmp(s, "conflicts:", 10) == 0) {
		pkgerr_add(&pe->conflicts, pe->group,
		    pkgerr_token(pe->group), 1);
		pkgerr_apk_items(pe, s + 10);
		pe->in_conflicts = 1;
		pe->label_indent = indent;
		return;
	}
	if (pe->group != NULL && indent > pe->group_indent)
		return;
	free(pe->group);
	pe->group = NULL;
	if (indent > 0 && len > 1 && s[len - 1] == ':' &&
	    memchr(s, ':', len - 1) == NULL) {
		pe->group = xstrndup(s, len - 1);
		pe->group_indent = indent;
	}
}

/* Appends " <label> (a, b)" to the message. */
static void
pkgerr_append(char **msg, const char *label, const struct strv *sv)
{
	char	*list, *s;

	list = strv_join(sv, ", ");
	xasprintf(&s, "%s %s (%s)", *msg, label, list);
	free(list);
	free(*msg);
	*msg = s;
}

/* Scans the whole text and builds the message. */
char *
pkgerr_message(const char *text, size_t len)
{
	struct pkgerr	 pe;
	struct strv	 missing = STRV_INITIALIZER;
	const char	*p = text, *end = text == NULL ? NULL : text + len;
	const char	*l;
	char		*line, *msg;
	size_t		 i, n;

	memset(&pe, 0, sizeof pe);
	while (text_next_line(&p, end, &l, &n)) {
		line = xstrndup(l, n);
		pkgerr_opkg(&pe, line);
		pkgerr_apk_overwrite(&pe, line);
		pkgerr_apk_missing(&pe, line);
		pkgerr_apk_group(&pe, line);
		free(line);
	}
	free(pe.group);
	strv_sort_unique(&pe.conflicts);
	for (i = 0; i < pe.missing.n; i++) {
		if (strv_find(&pe.conflicts, pe.missing.v[i]) == -1)
			strv_add(&missing, pe.missing.v[i]);
	}
	strv_sort_unique(&missing);
	msg = xstrdup("Impossible package selection");
	if (missing.n > 0 || pe.conflicts.n > 0) {
		free(msg);
		msg = xstrdup("Impossible package selection:");
	}
	if (missing.n > 0)
		pkgerr_append(&msg, "missing", &missing);
	if (pe.conflicts.n > 0)
		pkgerr_append(&msg, "conflicts", &pe.conflicts);
	strv_clear(&missing);
	strv_clear(&pe.missing);
	strv_clear(&pe.conflicts);
	return (msg);
}

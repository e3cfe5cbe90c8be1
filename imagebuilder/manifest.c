/*
 * manifest.c: reads the package list that `make manifest` prints (opkg
 * "name - version" or apk "name version", one package a line) and checks a
 * request's packages_versions against it, with the reference server's
 * messages.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/manifest.h"

/* More lines than any real ImageBuilder prints; beyond is junk. */
#define MANIFEST_MAX_LINES	100000
/* Longest name or version accepted. */
#define MANIFEST_MAX_FIELD	512

static void	manifest_trim(const char **, size_t *);
static int	manifest_split(const char *, size_t, int, size_t *, size_t *);

/* Drops blanks at both ends of a line. */
static void
manifest_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/*
 * Finds where the name ends and the version starts in one line, for the
 * separator " - " (opkg) or " " (apk). Like the reference, a line must
 * split into exactly two fields.
 */
static int
manifest_split(const char *line, size_t len, int opkg, size_t *namelen,
    size_t *verstart)
{
	const char	*sep;
	size_t		 seplen = opkg ? 3 : 1;

	sep = memmem(line, len, opkg ? " - " : " ", seplen);
	if (sep == NULL)
		return (-1);
	*namelen = (size_t)(sep - line);
	*verstart = *namelen + seplen;
	if (memmem(line + *verstart, len - *verstart, opkg ? " - " : " ",
	    seplen) != NULL)
		return (-1);
	/* A name or version is printable ASCII without blanks. */
	if (!text_graph_ok(line, *namelen, MANIFEST_MAX_FIELD) ||
	    !text_graph_ok(line + *verstart, len - *verstart,
	    MANIFEST_MAX_FIELD))
		return (-1);
	return (0);
}

/* Parses the whole manifest; the separator is chosen as the reference does. */
int
manifest_parse(const char *text, size_t len, struct manifest *m, char **cause)
{
	const char	*p = text, *end = text == NULL ? NULL : text + len;
	const char	*line;
	size_t		 linelen, namelen, verstart, lineno = 0;
	int		 opkg;

	opkg = text != NULL && memmem(text, len, " - ", 3) != NULL;
	while (text_next_line(&p, end, &line, &linelen)) {
		lineno++;
		manifest_trim(&line, &linelen);
		if (linelen == 0)
			continue;
		if (m->names.n >= MANIFEST_MAX_LINES) {
			xasprintf(cause, "manifest has more than %d packages",
			    MANIFEST_MAX_LINES);
			goto fail;
		}
		if (manifest_split(line, linelen, opkg, &namelen,
		    &verstart) == -1) {
			xasprintf(cause, "manifest line %zu is not \"%s\"",
			    lineno, opkg ? "name - version" : "name version");
			goto fail;
		}
		strv_take(&m->names, xstrndup(line, namelen));
		strv_take(&m->versions, xstrndup(line + verstart,
		    linelen - verstart));
	}
	return (0);
fail:
	manifest_free(m);
	return (-1);
}

/* Releases the lists. */
void
manifest_free(struct manifest *m)
{
	strv_clear(&m->names);
	strv_clear(&m->versions);
}

/* Looks a package up; a repeated name reads as its last line, as a dict. */
const char *
manifest_version(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = m->names.n; i > 0; i--) {
		if (strcmp(m->names.v[i - 1], name) == 0)
			return (m->versions.v[i - 1]);
	}
	return (NULL);
}

/* Checks packages_versions in request order; the first mismatch wins. */
char *
manifest_check(const struct manifest *m, const struct strv *names,
    const struct strv *versions)
{
	const char	*got;
	char		*msg;
	size_t		 i;

	for (i = 0; i < names->n && i < versions->n; i++) {
		if ((got = manifest_version(m, names->v[i])) == NULL) {
			xasprintf(&msg, "Impossible package selection: "
			    "%s not in manifest", names->v[i]);
			return (msg);
		}
		if (strcmp(got, versions->v[i]) != 0) {
			xasprintf(&msg, "Impossible package selection: "
			    "%s version not as requested: %s vs. %s",
			    names->v[i], versions->v[i], got);
			return (msg);
		}
	}
	return (NULL);
}

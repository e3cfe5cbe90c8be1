/*
 * repos.h: a build's own package repositories and keys
 * (reference/asu-api.md §1.2, §5.2, §5.5): the allow-list check on parsed
 * URLs, the merged opkg `repositories.conf` or apk `repositories`, and
 * writing those and the keys (imagebuilder/keys.h) into an ImageBuilder
 * for one build only. Before anything in the ImageBuilder changes, the
 * files about to be replaced are saved under <ib>/.asud-pristine;
 * repos_restore puts them back, after the build or, after a crash, before
 * the next one. The ImageBuilder's official feed lines can be pointed at
 * a mirror or a caching proxy the same way, for one build at a time.
 */
#ifndef ASUD_REPOS_H
#define ASUD_REPOS_H

#include <stddef.h>

#include "lib/strv.h"

/* The most repositories, and keys, one build may add. */
#define REPOS_MAX		100
/* The saved copies, inside the ImageBuilder directory. */
#define REPOS_PRISTINE		".asud-pristine"
/* Where the official feeds of an ImageBuilder's repository file live. */
#define REPOS_OFFICIAL		"https://downloads.openwrt.org/"

struct repos_spec {
	const struct strv	*names;		/* repository names, or NULL */
	const struct strv	*urls;		/* their URLs, same order */
	const char		*mode;		/* "append", else replace */
	const struct strv	*keys;		/* usign or PEM keys, or NULL */
	/* Replaces REPOS_OFFICIAL in feed lines (repos_rewrite), or NULL. */
	const char		*feed_mirror;
};

/*
 * Whether url is under one of the allow-list's prefixes: same scheme and
 * host (case-insensitive), same port (an absent port is the scheme's
 * default) and a path that starts with the prefix's path (trailing slashes
 * dropped) followed by "/". URLs with userinfo, percent signs or
 * backslashes in the host, dot segments, or percent-encoded dots, slashes
 * or backslashes in the path never pass. An empty or NULL list allows
 * nothing. Returns 1 or 0.
 */
int	repos_allowed(const char *url, const struct strv *allow_list);
/*
 * Checks, once more, a repository name (no white space, control bytes,
 * '/', '#' or '\') and URL (http:// or https://, no white space, control
 * bytes, '#' or '\'), as they will be written into the ImageBuilder's
 * repository file. 0, or -1 with *cause set.
 */
int	repos_name_check(const char *name, char **cause);
int	repos_url_check(const char *url, char **cause);
/*
 * The repository file with the extra repositories, as the reference's
 * merge_repositories writes it: the non-blank lines of base (len bytes,
 * "" in replace mode), then the repositories sorted by name, as URLs (apk)
 * or "src/gz <name> <url>" lines (opkg); opkg also gets
 * "src imagebuilder file:packages" and "option check_signature" unless a
 * line already has them. Every line ends in "\n". The caller frees.
 */
char	*repos_merge(const char *base, size_t len, const struct strv *names,
	    const struct strv *urls, int apk);
/*
 * The repository file text (len bytes) with the URL of every feed line
 * that starts with REPOS_OFFICIAL starting with mirror + "/" instead
 * (mirror without a trailing slash): opkg's "src/gz <name> <url>" lines,
 * apk's "[@tag] <url>" lines. Nothing else changes, byte for byte. Sets
 * *changed to the number of lines rewritten. The caller frees.
 */
char	*repos_rewrite(const char *text, size_t len, const char *mirror,
	    int apk, size_t *changed);
/*
 * Writes the spec's repositories and keys into the ImageBuilder at ib_dir,
 * after saving what they replace, and points the official feed lines of
 * the resulting repository file at feed_mirror; nothing is done when
 * there is nothing to change.
 * Everything is checked before anything is written; symbolic links in the
 * ImageBuilder are refused. On failure anything written is put back and
 * -1 is returned with *cause set.
 */
int	repos_inject(const char *ib_dir, const struct repos_spec *,
	    char **cause);
/*
 * Puts back what repos_inject saved in ib_dir (also after a crash) and
 * removes the saved copies. 0 when nothing was saved or all is restored;
 * -1 with *cause set otherwise (the saved copies are then kept).
 */
int	repos_restore(const char *ib_dir, char **cause);

#endif

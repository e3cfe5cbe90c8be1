/*
 * repos.c: a build's own repositories and keys. URLs are parsed by
 * repourl.c before the allow-list compares them; repository files
 * are merged the way the reference server merges them; keys.c checks the
 * keys and makes their files. An ImageBuilder is changed for one build
 * only: the files about to be replaced are copied into a new directory
 * that becomes <ib>/.asud-pristine by one rename once complete, then each
 * new file is written under a temporary name and renamed into place;
 * repos_restore renames the copies back, which a crash at any point leaves
 * possible.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/keys.h"
#include "imagebuilder/repos.h"
#include "imagebuilder/repourl.h"

/* The longest repository name looked at. */
#define REPOS_NAME_MAX		256
/* The largest repository file or saved copy read. */
#define REPOS_FILE_MAX		(1024 * 1024)
/* The saved copies while they are being made. */
#define REPOS_PRISTINE_NEW	".asud-pristine.new"
#define REPOS_MANIFEST		"MANIFEST"
/* New files are written under this name, then renamed. */
#define REPOS_TMP		".asud-tmp"
#define REPOS_OPKG_FILE		"repositories.conf"
#define REPOS_APK_FILE		"repositories"
#define REPOS_KEYS_DIR		"keys"
#define REPOS_OPKG_LOCAL	"src imagebuilder file:packages"
#define REPOS_OPKG_SIGNATURE	"option check_signature"

/* One file written into the ImageBuilder. */
struct repos_target {
	char	*path;		/* "repositories.conf", "keys/<fp>"... */
	char	*data;
	size_t	 len;
	int	 existed;	/* saved first, put back after */
	mode_t	 mode;
};

/* What one build writes, and the ImageBuilder's open directories. */
struct repos_plan {
	const char		*ib_dir;
	int			 ibfd;
	int			 keysfd;	/* -1 until needed */
	int			 mkkeys;	/* keys/ made, removed after */
	struct repos_target	*t;
	size_t			 n;
};

/* The allow-list rule of reference/asu-api.md §5.5; see repos.h. */
int
repos_allowed(const char *url, const struct strv *allow_list)
{
	struct repourl	u, a;
	size_t		i;
	int		found = 0;

	if (url == NULL || allow_list == NULL || allow_list->n == 0)
		return (0);
	if (repourl_parse(url, &u) == -1)
		return (0);
	for (i = 0; i < allow_list->n && !found; i++) {
		if (repourl_parse(allow_list->v[i], &a) == -1)
			continue;
		found = repourl_under(&u, &a);
		repourl_free(&a);
	}
	repourl_free(&u);
	return (found);
}

/* Whether s has no white space, control byte or byte of bad. */
static int
repos_text_ok(const char *s, const char *bad)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f ||
		    strchr(bad, *s) != NULL)
			return (0);
	}
	return (1);
}

/* A repository name as it goes into `src/gz <name> <url>`. */
int
repos_name_check(const char *name, char **cause)
{
	if (*name == '\0' || strlen(name) > REPOS_NAME_MAX ||
	    !repos_text_ok(name, "/#\\")) {
		*cause = xstrdup("Invalid repository name");
		return (-1);
	}
	return (0);
}

/* A repository URL as it goes into a repository file. */
int
repos_url_check(const char *url, char **cause)
{
	size_t	skip;

	if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else
		skip = 0;
	if (skip == 0 || url[skip] == '\0' || strlen(url) > REPOURL_MAX ||
	    !repos_text_ok(url, "#\\")) {
		*cause = xstrdup("Invalid repository URL");
		return (-1);
	}
	return (0);
}

/* The non-blank lines of a file, as Python's splitlines() cuts them. */
static void
repos_file_lines(struct strv *lines, const char *p, size_t len)
{
	size_t	i, start = 0, j;
	int	blank;

	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '\n' && p[i] != '\r' && p[i] != '\0')
			continue;
		blank = 1;
		for (j = start; j < i && blank; j++)
			blank = strchr(" \t\v\f", p[j]) != NULL;
		if (!blank)
			strv_take(lines, xstrndup(p + start, i - start));
		start = i + 1;
	}
}

/* Whether any line contains s. */
static int
repos_lines_have(const struct strv *lines, const char *s)
{
	size_t	i;

	for (i = 0; i < lines->n; i++) {
		if (strstr(lines->v[i], s) != NULL)
			return (1);
	}
	return (0);
}

/* The order of the repositories by name, ties in the order given. */
static size_t *
repos_sorted(const struct strv *names, size_t n)
{
	size_t	*order, i, j;

	order = xreallocarray(NULL, n + 1, sizeof *order);
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && strcmp(names->v[order[j - 1]],
		    names->v[i]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	return (order);
}

/* The merged repository file; see repos.h. */
char *
repos_merge(const char *base, size_t len, const struct strv *names,
    const struct strv *urls, int apk)
{
	struct strv	 lines = STRV_INITIALIZER;
	size_t		 n = 0, i, *order;
	char		*joined, *out;

	if (names != NULL && urls != NULL)
		n = names->n < urls->n ? names->n : urls->n;
	if (base != NULL)
		repos_file_lines(&lines, base, len);
	order = repos_sorted(names, n);
	for (i = 0; i < n; i++) {
		if (apk)
			strv_add(&lines, urls->v[order[i]]);
		else
			strv_addf(&lines, "src/gz %s %s",
			    names->v[order[i]], urls->v[order[i]]);
	}
	free(order);
	if (!apk && !repos_lines_have(&lines, REPOS_OPKG_LOCAL))
		strv_add(&lines, REPOS_OPKG_LOCAL);
	if (!apk && !repos_lines_have(&lines, REPOS_OPKG_SIGNATURE))
		strv_add(&lines, REPOS_OPKG_SIGNATURE);
	joined = strv_join(&lines, "\n");
	xasprintf(&out, "%s\n", joined);
	free(joined);
	strv_clear(&lines);
	return (out);
}

/* Moves p past the bytes that are (in) or are not (!in) in set. */
static const char *
repos_span(const char *p, const char *end, const char *set, int in)
{
	while (p < end && (memchr(set, *p, strlen(set)) != NULL) == in)
		p++;
	return (p);
}

/* Where the URL of a feed line starts, or NULL for other lines. */
static const char *
repos_line_url(const char *p, const char *end, int apk)
{
	const char	*name;

	p = repos_span(p, end, " \t", 1);
	if (apk) {
		if (p < end && *p == '@')
			p = repos_span(repos_span(p, end, " \t", 0), end,
			    " \t", 1);
		return (p);
	}
	if (end - p < 7 || memcmp(p, "src/gz", 6) != 0 ||
	    (p[6] != ' ' && p[6] != '\t'))
		return (NULL);
	name = repos_span(p + 6, end, " \t", 1);
	p = repos_span(name, end, " \t", 0);
	return (p == name ? NULL : repos_span(p, end, " \t", 1));
}

/* Appends len bytes to the buffer out of *n bytes (and room for a NUL). */
static void
repos_append(char **out, size_t *n, const char *p, size_t len)
{
	*out = xreallocarray(*out, *n + len + 1, 1);
	memcpy(*out + *n, p, len);
	*n += len;
	(*out)[*n] = '\0';
}

/* The repository file with its official feeds moved; see repos.h. */
char *
repos_rewrite(const char *text, size_t len, const char *mirror, int apk,
    size_t *changed)
{
	const char	*p = text, *end = text + len, *eol, *url;
	size_t		 plen = strlen(REPOS_OFFICIAL), n = 0;
	char		*out = xstrdup("");

	*changed = 0;
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		url = repos_line_url(p, eol, apk);
		if (url != NULL && (size_t)(eol - url) >= plen &&
		    memcmp(url, REPOS_OFFICIAL, plen) == 0) {
			repos_append(&out, &n, p, (size_t)(url - p));
			repos_append(&out, &n, mirror, strlen(mirror));
			repos_append(&out, &n, "/", 1);
			p = url + plen;
			(*changed)++;
		}
		eol = eol < end ? eol + 1 : end;
		repos_append(&out, &n, p, (size_t)(eol - p));
		p = eol;
	}
	return (out);
}

/*
 * Reads a regular file below dirfd, never through a symbolic link and
 * never blocking on a FIFO. 0 when read, 1 when missing, -1 with *cause.
 */
static int
repos_read_at(int dirfd, const char *name, char **buf, size_t *len,
    struct stat *st, char **cause)
{
	if (fs_read_file_at(dirfd, name, REPOS_FILE_MAX, buf, len, st) == 0)
		return (0);
	if (errno == ENOENT)
		return (1);
	if (errno == ELOOP)
		xasprintf(cause, "Refusing %s: a symbolic link", name);
	else if (errno == EFBIG || errno == EINVAL)
		xasprintf(cause, "Refusing %s: not a regular file of at most "
		    "%d bytes", name, REPOS_FILE_MAX);
	else
		xasprintf(cause, "Could not read %s: %s", name,
		    strerror(errno));
	return (-1);
}

/* Writes all of a buffer to fd. */
static int
repos_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Replaces name below dirfd by new contents: written to a temporary file
 * (O_EXCL, O_NOFOLLOW) and renamed over it, so a symbolic link planted
 * there is replaced, never followed. times, if not NULL, are kept; sync
 * makes the file durable before the rename.
 */
static int
repos_write_at(int dirfd, const char *name, const char *data, size_t len,
    mode_t mode, const struct timespec *times, int sync, char **cause)
{
	int	fd, saved;

	if (unlinkat(dirfd, REPOS_TMP, 0) == -1 && errno != ENOENT)
		goto fail;
	fd = openat(dirfd, REPOS_TMP, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	if (repos_write_all(fd, data, len) == -1 || fchmod(fd, mode) == -1 ||
	    (times != NULL && futimens(fd, times) == -1) ||
	    (sync && fsync(fd) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) == -1 || renameat(dirfd, REPOS_TMP, dirfd, name) == -1)
		goto fail;
	return (0);
fail:
	xasprintf(cause, "Could not write %s: %s", name, strerror(errno));
	unlinkat(dirfd, REPOS_TMP, 0);
	return (-1);
}

/* Frees a plan and closes its directories. */
static void
repos_plan_free(struct repos_plan *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++) {
		free(p->t[i].path);
		free(p->t[i].data);
	}
	free(p->t);
	if (p->ibfd != -1)
		close(p->ibfd);
	if (p->keysfd != -1)
		close(p->keysfd);
}

/* Adds a file to write; a later file of the same path replaces it. */
static void
repos_plan_add(struct repos_plan *p, char *path, char *data)
{
	struct repos_target	*t;
	size_t			 i;

	for (i = 0; i < p->n; i++) {
		if (strcmp(p->t[i].path, path) == 0)
			break;
	}
	if (i == p->n) {
		p->t = xreallocarray(p->t, p->n + 1, sizeof *p->t);
		t = &p->t[p->n++];
		memset(t, 0, sizeof *t);
		t->path = path;
	} else {
		t = &p->t[i];
		free(path);
		free(t->data);
	}
	t->data = data;
	t->len = strlen(data);
}

/* The key files: keys/<fingerprint> for usign, keys/custom-<i>.pem. */
static int
repos_plan_keys(struct repos_plan *p, const struct strv *keys, char **cause)
{
	char	*name, *path, *data;
	size_t	 i;

	for (i = 0; keys != NULL && i < keys->n; i++) {
		if (keys_file(keys->v[i], i, &name, &data, cause) == -1)
			return (-1);
		xasprintf(&path, "%s/%s", REPOS_KEYS_DIR, name);
		free(name);
		repos_plan_add(p, path, data);
	}
	return (0);
}

/* Checks every name and URL before anything is written. */
static int
repos_plan_check(const struct repos_spec *s, char **cause)
{
	size_t	i;

	for (i = 0; i < s->names->n; i++) {
		if (repos_name_check(s->names->v[i], cause) == -1 ||
		    repos_url_check(s->urls->v[i], cause) == -1)
			return (-1);
	}
	return (0);
}

/*
 * The repository file: apk's `repositories` if present, else opkg's; the
 * merged one, or the ImageBuilder's own, with the official feeds moved to
 * the feed mirror. Nothing is planned when nothing changes.
 */
static int
repos_plan_file(struct repos_plan *p, const struct repos_spec *s,
    char **cause)
{
	struct stat	 st;
	const char	*file = REPOS_OPKG_FILE;
	char		*base = NULL, *text = NULL;
	size_t		 len = 0, changed = 0;
	size_t		 nrepos = s->names != NULL ? s->names->n : 0;
	int		 apk = 0, rc = 1;

	if (fstatat(p->ibfd, REPOS_APK_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		apk = 1;
		file = REPOS_APK_FILE;
	} else if (errno != ENOENT) {
		xasprintf(cause, "Could not look at %s: %s", REPOS_APK_FILE,
		    strerror(errno));
		return (-1);
	}
	if ((nrepos == 0 || (s->mode != NULL &&
	    strcmp(s->mode, "append") == 0)) &&
	    (rc = repos_read_at(p->ibfd, file, &base, &len, &st, cause)) == -1)
		return (-1);
	if (nrepos > 0)
		text = repos_merge(base, len, s->names, s->urls, apk);
	else if (rc == 0)
		text = xmemdup(base, len + 1);
	free(base);
	if (text != NULL && s->feed_mirror != NULL) {
		base = text;
		text = repos_rewrite(base, strlen(base), s->feed_mirror, apk,
		    &changed);
		free(base);
	}
	if (text != NULL && (nrepos > 0 || changed > 0))
		repos_plan_add(p, xstrdup(file), text);
	else
		free(text);
	return (0);
}

/* The directory a target lives in and its name there. */
static int
repos_target_dir(const struct repos_plan *p, const char *path,
    const char **name)
{
	size_t	klen = strlen(REPOS_KEYS_DIR);

	if (strncmp(path, REPOS_KEYS_DIR, klen) == 0 && path[klen] == '/') {
		*name = path + klen + 1;
		return (p->keysfd);
	}
	*name = path;
	return (p->ibfd);
}

/* Opens keys/ if the plan writes keys; a missing one will be created. */
static int
repos_plan_keysdir(struct repos_plan *p, char **cause)
{
	struct stat	st;
	size_t		i;

	for (i = 0; i < p->n; i++) {
		if (strchr(p->t[i].path, '/') != NULL)
			break;
	}
	if (i == p->n)
		return (0);
	if (fstatat(p->ibfd, REPOS_KEYS_DIR, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT) {
			p->mkkeys = 1;
			return (0);
		}
	} else if (!S_ISDIR(st.st_mode)) {
		xasprintf(cause, "Refusing %s: not a directory",
		    REPOS_KEYS_DIR);
		return (-1);
	} else if ((p->keysfd = openat(p->ibfd, REPOS_KEYS_DIR, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
		return (0);
	xasprintf(cause, "Could not open %s: %s", REPOS_KEYS_DIR,
	    strerror(errno));
	return (-1);
}

/* Finds which targets exist; only regular files may be replaced. */
static int
repos_plan_stat(struct repos_plan *p, char **cause)
{
	struct stat	 st;
	const char	*name;
	size_t		 i;
	int		 dfd;

	for (i = 0; i < p->n; i++) {
		p->t[i].mode = 0644;
		if ((dfd = repos_target_dir(p, p->t[i].path, &name)) == -1)
			continue;	/* keys/ is new */
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			xasprintf(cause, "Could not look at %s: %s",
			    p->t[i].path, strerror(errno));
			return (-1);
		}
		if (!S_ISREG(st.st_mode)) {
			xasprintf(cause, "Refusing %s: not a regular file",
			    p->t[i].path);
			return (-1);
		}
		p->t[i].existed = 1;
		p->t[i].mode = st.st_mode & 07777;
	}
	return (0);
}

/* Copies one existing target into the new pristine directory as "<i>". */
static int
repos_save_one(struct repos_plan *p, int pfd, size_t i, char **cause)
{
	struct stat	 st;
	const char	*name;
	char		*buf, num[32];
	size_t		 len;
	int		 rc, dfd;

	dfd = repos_target_dir(p, p->t[i].path, &name);
	rc = repos_read_at(dfd, name, &buf, &len, &st, cause);
	if (rc == 1)
		xasprintf(cause, "%s vanished", p->t[i].path);
	if (rc != 0)
		return (-1);
	snprintf(num, sizeof num, "%zu", i);
	rc = repos_write_at(pfd, num, buf, len, st.st_mode & 07777,
	    (struct timespec[2]){ st.st_atim, st.st_mtim }, 1, cause);
	free(buf);
	return (rc);
}

/* Fills the new pristine directory: copies, then the MANIFEST. */
static int
repos_save_fill(struct repos_plan *p, int pfd, char **cause)
{
	struct strv	 lines = STRV_INITIALIZER;
	char		*text;
	size_t		 i;
	int		 rc = 0;

	if (p->mkkeys)
		strv_add(&lines, "mkdir " REPOS_KEYS_DIR);
	for (i = 0; i < p->n && rc == 0; i++) {
		if (!p->t[i].existed) {
			strv_addf(&lines, "absent %s", p->t[i].path);
			continue;
		}
		rc = repos_save_one(p, pfd, i, cause);
		strv_addf(&lines, "saved %zu %s", i, p->t[i].path);
	}
	if (rc == 0) {
		strv_add(&lines, "");
		text = strv_join(&lines, "\n");
		rc = repos_write_at(pfd, REPOS_MANIFEST, text, strlen(text),
		    0600, NULL, 1, cause);
		free(text);
	}
	strv_clear(&lines);
	if (rc == 0 && fsync(pfd) == -1) {
		xasprintf(cause, "Could not sync %s: %s", REPOS_PRISTINE_NEW,
		    strerror(errno));
		rc = -1;
	}
	return (rc);
}

/* Saves what the plan replaces; .asud-pristine appears complete. */
static int
repos_save(struct repos_plan *p, char **cause)
{
	int	pfd, rc;

	if (mkdirat(p->ibfd, REPOS_PRISTINE_NEW, 0700) == -1 ||
	    (pfd = openat(p->ibfd, REPOS_PRISTINE_NEW, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		xasprintf(cause, "Could not create %s: %s", REPOS_PRISTINE_NEW,
		    strerror(errno));
		return (-1);
	}
	rc = repos_save_fill(p, pfd, cause);
	close(pfd);
	if (rc == 0 && renameat(p->ibfd, REPOS_PRISTINE_NEW, p->ibfd,
	    REPOS_PRISTINE) == -1) {
		xasprintf(cause, "Could not rename %s: %s", REPOS_PRISTINE_NEW,
		    strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		fsync(p->ibfd);
	return (rc);
}

/* Writes the plan's files into the ImageBuilder. */
static int
repos_apply(struct repos_plan *p, char **cause)
{
	const char	*name;
	size_t		 i;
	int		 dfd;

	if (p->mkkeys) {
		if (mkdirat(p->ibfd, REPOS_KEYS_DIR, 0755) == -1 ||
		    (p->keysfd = openat(p->ibfd, REPOS_KEYS_DIR, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
			xasprintf(cause, "Could not create %s: %s",
			    REPOS_KEYS_DIR, strerror(errno));
			return (-1);
		}
	}
	for (i = 0; i < p->n; i++) {
		dfd = repos_target_dir(p, p->t[i].path, &name);
		if (repos_write_at(dfd, name, p->t[i].data, p->t[i].len,
		    p->t[i].mode, NULL, 0, cause) == -1)
			return (-1);
	}
	return (0);
}

/* Builds the plan: keys, then the repository file, then what exists. */
static int
repos_plan_make(struct repos_plan *p, const struct repos_spec *s,
    char **cause)
{
	size_t	nrepos = s->names != NULL ? s->names->n : 0;

	if (nrepos > 0 && (s->urls == NULL || s->urls->n != nrepos)) {
		*cause = xstrdup("Invalid repository list");
		return (-1);
	}
	if (nrepos > REPOS_MAX ||
	    (s->keys != NULL && s->keys->n > REPOS_MAX)) {
		xasprintf(cause, "Too many repositories or keys (at most %d)",
		    REPOS_MAX);
		return (-1);
	}
	if ((nrepos > 0 && repos_plan_check(s, cause) == -1) ||
	    repos_plan_keys(p, s->keys, cause) == -1)
		return (-1);
	if ((p->ibfd = open(p->ib_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		xasprintf(cause, "Could not open %s: %s", p->ib_dir,
		    strerror(errno));
		return (-1);
	}
	if ((nrepos > 0 || s->feed_mirror != NULL) &&
	    repos_plan_file(p, s, cause) == -1)
		return (-1);
	return (repos_plan_keysdir(p, cause) == -1 ? -1 :
	    repos_plan_stat(p, cause));
}

/* Writes a build's repositories and keys; see repos.h. */
int
repos_inject(const char *ib_dir, const struct repos_spec *s, char **cause)
{
	struct repos_plan	 p;
	char			*cause2 = NULL;
	int			 rc = -1;

	if ((s->names == NULL || s->names->n == 0) &&
	    (s->keys == NULL || s->keys->n == 0) && s->feed_mirror == NULL)
		return (0);
	if (repos_restore(ib_dir, cause) == -1)
		return (-1);
	memset(&p, 0, sizeof p);
	p.ib_dir = ib_dir;
	p.ibfd = p.keysfd = -1;
	if ((rc = repos_plan_make(&p, s, cause)) == -1 || p.n == 0) {
		repos_plan_free(&p);
		return (rc);	/* nothing was written */
	}
	rc = -1;
	if (repos_save(&p, cause) == 0)
		rc = repos_apply(&p, cause);
	repos_plan_free(&p);
	if (rc == -1 && repos_restore(ib_dir, &cause2) == -1) {
		log_warnx("%s: %s", ib_dir, cause2);
		free(cause2);
	}
	return (rc);
}

/* Whether a MANIFEST path is one repos_inject writes, and where. */
static int
repos_restore_path(const char *path, int *in_keys, const char **name)
{
	const char	*n;
	size_t		 klen = strlen(REPOS_KEYS_DIR), d;

	*in_keys = 0;
	*name = path;
	if (strcmp(path, REPOS_OPKG_FILE) == 0 ||
	    strcmp(path, REPOS_APK_FILE) == 0)
		return (1);
	if (strncmp(path, REPOS_KEYS_DIR, klen) != 0 || path[klen] != '/')
		return (0);
	*in_keys = 1;
	*name = n = path + klen + 1;
	if (strlen(n) == KEYS_FP_LEN &&
	    strspn(n, "0123456789abcdef") == KEYS_FP_LEN)
		return (1);
	if (strncmp(n, "custom-", 7) != 0)
		return (0);
	d = strspn(n + 7, "0123456789");
	return (d > 0 && d < 6 && strcmp(n + 7 + d, ".pem") == 0);
}

/* What repos_restore works on. */
struct repos_undo {
	const char	*ib_dir;
	int		 ibfd;
	int		 pfd;
	int		 keysfd;
	int		 rmkeys;
	char		*cause;
};

/* Puts back one MANIFEST entry; repeating it after a crash is harmless. */
static int
repos_restore_line(struct repos_undo *u, char *line)
{
	const char	*name, *path;
	char		*idx = NULL, *sp;
	int		 in_keys, dfd;

	if (strcmp(line, "mkdir " REPOS_KEYS_DIR) == 0) {
		u->rmkeys = 1;
		return (0);
	}
	if (strncmp(line, "saved ", 6) == 0) {
		idx = line + 6;
		if ((sp = strchr(idx, ' ')) == NULL)
			goto bad;
		*sp = '\0';
		path = sp + 1;
		if (*idx == '\0' || strspn(idx, "0123456789") != strlen(idx))
			goto bad;
	} else if (strncmp(line, "absent ", 7) == 0)
		path = line + 7;
	else
		goto bad;
	if (!repos_restore_path(path, &in_keys, &name))
		goto bad;
	dfd = in_keys ? u->keysfd : u->ibfd;
	if (dfd == -1 && idx != NULL) {
		xasprintf(&u->cause, "Could not restore %s: no %s/", path,
		    REPOS_KEYS_DIR);
		return (-1);
	}
	if (dfd == -1)
		return (0);	/* keys/ is gone: nothing of ours in it */
	if (idx != NULL && renameat(u->pfd, idx, dfd, name) == -1 &&
	    errno != ENOENT) {
		xasprintf(&u->cause, "Could not restore %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (idx == NULL && unlinkat(dfd, name, 0) == -1 && errno != ENOENT) {
		xasprintf(&u->cause, "Could not remove %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	return (0);
bad:
	xasprintf(&u->cause, "Damaged %s/%s", REPOS_PRISTINE, REPOS_MANIFEST);
	return (-1);
}

/* Removes a leftover temporary file below dirfd, if there is one. */
static void
repos_restore_tmp(int dirfd)
{
	struct stat	st;

	if (dirfd != -1 && fstatat(dirfd, REPOS_TMP, &st,
	    AT_SYMLINK_NOFOLLOW) == 0)
		unlinkat(dirfd, REPOS_TMP, 0);
}

/* Opens keys/ for the restore; -1 without error when there is none. */
static int
repos_restore_keysdir(struct repos_undo *u)
{
	u->keysfd = openat(u->ibfd, REPOS_KEYS_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (u->keysfd == -1 && errno != ENOENT) {
		xasprintf(&u->cause, "Could not open %s: %s", REPOS_KEYS_DIR,
		    strerror(errno));
		return (-1);
	}
	repos_restore_tmp(u->keysfd);
	return (0);
}

/* Replays the MANIFEST, then removes keys/ if it was ours. */
static int
repos_restore_manifest(struct repos_undo *u)
{
	struct strv	 lines = STRV_INITIALIZER;
	struct stat	 st;
	char		*buf;
	size_t		 len, i;
	int		 rc = 0;

	if ((rc = repos_read_at(u->pfd, REPOS_MANIFEST, &buf, &len, &st,
	    &u->cause)) == 1)
		xasprintf(&u->cause, "Damaged %s: no %s", REPOS_PRISTINE,
		    REPOS_MANIFEST);
	if (rc != 0)
		return (-1);
	strv_split(&lines, buf, "\n");
	free(buf);
	rc = repos_restore_keysdir(u);
	for (i = 0; i < lines.n && rc == 0; i++)
		rc = repos_restore_line(u, lines.v[i]);
	strv_clear(&lines);
	if (rc == 0 && u->rmkeys && unlinkat(u->ibfd, REPOS_KEYS_DIR,
	    AT_REMOVEDIR) == -1 && errno != ENOENT)
		log_debug("%s: %s/ kept: %s", u->ib_dir, REPOS_KEYS_DIR,
		    strerror(errno));
	return (rc);
}

/* Removes a directory below ib_dir, if it exists. */
static int
repos_restore_rmtree(struct repos_undo *u, const char *name)
{
	struct stat	 st;
	char		*path;
	int		 rc = 0;

	if (fstatat(u->ibfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return (0);
	xasprintf(&path, "%s/%s", u->ib_dir, name);
	if (fs_rmtree(path) == -1) {
		xasprintf(&u->cause, "Could not remove %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	free(path);
	return (rc);
}

/* Puts back what repos_inject saved; see repos.h. */
int
repos_restore(const char *ib_dir, char **cause)
{
	struct repos_undo	u;
	int			rc = -1;

	memset(&u, 0, sizeof u);
	u.ib_dir = ib_dir;
	u.pfd = u.keysfd = -1;
	if ((u.ibfd = open(ib_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (0);	/* no ImageBuilder: nothing of ours in it */
	if (repos_restore_rmtree(&u, REPOS_PRISTINE_NEW) == -1)
		goto out;
	repos_restore_tmp(u.ibfd);
	u.pfd = openat(u.ibfd, REPOS_PRISTINE, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (u.pfd == -1 && errno == ENOENT)
		rc = 0;
	else if (u.pfd == -1)
		xasprintf(&u.cause, "Could not open %s: %s", REPOS_PRISTINE,
		    strerror(errno));
	else if (repos_restore_manifest(&u) == 0 &&
	    repos_restore_rmtree(&u, REPOS_PRISTINE) == 0) {
		fsync(u.ibfd);
		rc = 0;
	}
out:
	if (u.pfd != -1)
		close(u.pfd);
	if (u.keysfd != -1)
		close(u.keysfd);
	close(u.ibfd);
	if (rc == -1)
		*cause = u.cause;
	else
		free(u.cause);
	return (rc);
}

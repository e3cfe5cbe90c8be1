/*
 * ibcache.c: fetch, verify and install ImageBuilders. One "setup" runs
 * per version/target: sha256sums, sha256sums.sig, the tarball (streamed
 * to a temporary file and hashed on the way), then the unpack child, then
 * a rename into place. Then the upkeep of what is on disk: the least
 * recently used ImageBuilders are evicted past the budget, and each
 * downloaded one notes the upstream revision it was made from.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/fetch.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/job.h"
#include "imagebuilder/slots.h"
#include "imagebuilder/unpack.h"
#include "imagebuilder/usign.h"

#define IBCACHE_SUMS_MAX	(4 * 1024 * 1024)
#define IBCACHE_TIMEOUT		3600	/* seconds for a tarball */
#define IBCACHE_REVISION_FILE	".asud-revision"

enum ibcache_state {
	IBCACHE_SUMS,
	IBCACHE_SIG,
	IBCACHE_TARBALL,
	IBCACHE_UNPACK
};

struct ibcache_wait {
	struct ibcache_setup		*setup;
	ibcache_phase_cb		 phase_cb;
	ibcache_done_cb			 done_cb;
	void				*arg;
	TAILQ_ENTRY(ibcache_wait)	 link;
};

struct ibcache_setup {
	struct ibcache			*c;
	char				*key;		/* "version/target" */
	char				*version;
	char				*target;
	char				*vpath;
	enum ibcache_state		 state;
	struct fetch			*fetch;
	struct unpack			*unpack;
	char				*sums;
	size_t				 sums_len;
	char				 want_sha[SHA256_HEX_LEN + 1];
	char				*tarball;	/* its name upstream */
	char				*archive;	/* the local copy */
	char				*tmpdir;
	int				 fd;
	struct sha256			*hash;
	char				*write_error;
	struct event			*start;
	int				 listed;
	TAILQ_HEAD(, ibcache_wait)	 waiters;
	LIST_ENTRY(ibcache_setup)	 link;
};

struct ibcache {
	struct event_base		*base;
	char				*root;
	char				*upstream;
	const struct usign_keys		*keys;
	unsigned long			 downloads;
	LIST_HEAD(, ibcache_setup)	 setups;
};

static void	ibcache_step(struct ibcache_setup *);

/* The cache of ImageBuilders under root. */
struct ibcache *
ibcache_new(struct event_base *base, const char *root, const char *upstream,
    const struct usign_keys *keys)
{
	struct ibcache	*c;

	c = xcalloc(1, sizeof *c);
	c->base = base;
	c->root = xstrdup(root);
	c->upstream = upstream != NULL ? xstrdup(upstream) : NULL;
	c->keys = keys;
	LIST_INIT(&c->setups);
	return (c);
}

/* Downloads started. */
unsigned long
ibcache_downloads(const struct ibcache *c)
{
	return (c->downloads);
}

/* Releases a setup and its temporary files; waiters are not called. */
static void
ibcache_setup_free(struct ibcache_setup *s)
{
	struct ibcache_wait	*w;

	if (s->listed)
		LIST_REMOVE(s, link);
	while ((w = TAILQ_FIRST(&s->waiters)) != NULL) {
		TAILQ_REMOVE(&s->waiters, w, link);
		free(w);
	}
	if (s->fetch != NULL)
		fetch_cancel(s->fetch);
	if (s->unpack != NULL)
		unpack_cancel(s->unpack);
	if (s->fd != -1)
		close(s->fd);
	if (s->hash != NULL) {
		char	junk[SHA256_HEX_LEN + 1];

		sha256_final(s->hash, junk);
	}
	if (s->archive != NULL)
		unlink(s->archive);
	if (s->tmpdir != NULL)
		fs_rmtree(s->tmpdir);
	if (s->start != NULL)
		event_free(s->start);
	free(s->key);
	free(s->version);
	free(s->target);
	free(s->vpath);
	free(s->sums);
	free(s->tarball);
	free(s->archive);
	free(s->tmpdir);
	free(s->write_error);
	free(s);
}

/* Stops everything. */
void
ibcache_free(struct ibcache *c)
{
	struct ibcache_setup	*s;

	if (c == NULL)
		return;
	while ((s = LIST_FIRST(&c->setups)) != NULL)
		ibcache_setup_free(s);
	free(c->root);
	free(c->upstream);
	free(c);
}

/* Tells every waiter of a phase. */
static void
ibcache_phase(struct ibcache_setup *s, const char *phase)
{
	struct ibcache_wait	*w;

	TAILQ_FOREACH(w, &s->waiters, link)
		if (w->phase_cb != NULL)
			w->phase_cb(phase, w->arg);
}

/* Ends a setup: every waiter learns the result, then it is freed. */
static void
ibcache_end(struct ibcache_setup *s, const char *dir, const char *error)
{
	struct ibcache_wait	*w;

	/* Unlisted first: a waiter may ask again and must get a new setup. */
	LIST_REMOVE(s, link);
	s->listed = 0;
	while ((w = TAILQ_FIRST(&s->waiters)) != NULL) {
		TAILQ_REMOVE(&s->waiters, w, link);
		w->done_cb(dir, error, w->arg);
		free(w);
	}
	ibcache_setup_free(s);
}

/* Fails a setup with a message naming the version, target and cause. */
static void __attribute__((format(printf, 2, 3)))
ibcache_fail(struct ibcache_setup *s, const char *fmt, ...)
{
	va_list	 ap;
	char	*cause, *msg;

	va_start(ap, fmt);
	if (vasprintf(&cause, fmt, ap) < 0)
		cause = NULL;
	va_end(ap);
	xasprintf(&msg, "Could not set up the ImageBuilder for %s %s: %s",
	    s->version, s->target, cause != NULL ? cause : "failed");
	log_warnx("%s", msg);
	ibcache_end(s, NULL, msg);
	free(cause);
	free(msg);
}

/* The final directory of a setup. */
static char *
ibcache_dir(struct ibcache_setup *s)
{
	char	*dir;

	xasprintf(&dir, "%s/%s/%s", s->c->root, s->version, s->target);
	return (dir);
}

/*
 * True for an ImageBuilder tarball's name:
 * *-imagebuilder-*.Linux-x86_64.tar.{zst,xz}.
 */
static int
ibcache_is_tarball(const char *name, size_t len)
{
	static const char	*ends[] = { ".Linux-x86_64.tar.zst",
				    ".Linux-x86_64.tar.xz", NULL };
	size_t			 i, elen;

	if (len == 0 || len > 255 || memchr(name, '/', len) != NULL ||
	    name[0] == '.')
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) &&
		    strchr("._+-", name[i]) == NULL)
			return (0);
	if (memmem(name, len, "-imagebuilder-", 14) == NULL)
		return (0);
	for (i = 0; ends[i] != NULL; i++) {
		elen = strlen(ends[i]);
		if (len > elen && memcmp(name + len - elen, ends[i], elen) == 0)
			return (1);
	}
	return (0);
}

/* Finds the ImageBuilder line of sha256sums: "<hex> *<name>". */
static int
ibcache_find_tarball(struct ibcache_setup *s)
{
	const char	*p = s->sums, *end = s->sums + s->sums_len, *line;
	const char	*name;
	size_t		 n, len;

	while (text_next_line(&p, end, &line, &n)) {
		if (!text_sums_line(line, n, &name, &len) ||
		    !ibcache_is_tarball(name, len))
			continue;
		memcpy(s->want_sha, line, SHA256_HEX_LEN);
		s->want_sha[SHA256_HEX_LEN] = '\0';
		s->tarball = xstrndup(name, len);
		return (0);
	}
	return (-1);
}

/* Starts a fetch of a file of the target's directory upstream. */
static int
ibcache_fetch(struct ibcache_setup *s, const char *file,
    const struct fetch_options *o, fetch_done_cb cb)
{
	char	*url, *cause = NULL;

	xasprintf(&url, "%s/%s/targets/%s/%s", s->c->upstream, s->vpath,
	    s->target, file);
	s->fetch = fetch_start(url, o, cb, s, &cause);
	free(url);
	if (s->fetch == NULL) {
		ibcache_fail(s, "%s: %s", file, cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* A fetch's failure, as text; NULL when it answered 200. */
static char *
ibcache_fetch_error(const struct fetch_result *r, const char *file)
{
	char	*e = NULL;

	if (r->error != NULL)
		xasprintf(&e, "%s: %s", file, r->error);
	else if (r->status != 200)
		xasprintf(&e, "%s: upstream answered %ld", file, r->status);
	return (e);
}

/* sha256sums arrived. */
static void
ibcache_sums_cb(const struct fetch_result *r, void *arg)
{
	struct ibcache_setup	*s = arg;
	char			*e;

	s->fetch = NULL;
	if ((e = ibcache_fetch_error(r, "sha256sums")) != NULL) {
		ibcache_fail(s, "%s", e);
		free(e);
		return;
	}
	s->sums = xmemdup(r->body != NULL ? r->body : "", r->len);
	s->sums_len = r->len;
	s->state = IBCACHE_SIG;
	ibcache_step(s);
}

/* sha256sums.sig arrived: verify it before anything is trusted. */
static void
ibcache_sig_cb(const struct fetch_result *r, void *arg)
{
	struct ibcache_setup	*s = arg;
	char			*e, *cause = NULL;

	s->fetch = NULL;
	if ((e = ibcache_fetch_error(r, "sha256sums.sig")) != NULL) {
		ibcache_fail(s, "%s", e);
		free(e);
		return;
	}
	if (s->c->keys == NULL) {
		ibcache_fail(s, "no trusted keys are configured");
		return;
	}
	if (usign_verify(s->c->keys, s->sums, s->sums_len,
	    r->body != NULL ? r->body : "", r->len, &cause) == -1) {
		ibcache_fail(s, "sha256sums: %s", cause);
		free(cause);
		return;
	}
	if (ibcache_find_tarball(s) == -1) {
		ibcache_fail(s, "sha256sums lists no ImageBuilder");
		return;
	}
	s->state = IBCACHE_TARBALL;
	ibcache_step(s);
}

/* Tarball bytes: to disk and into the hash. */
static int
ibcache_data_cb(const char *buf, size_t len, void *arg)
{
	struct ibcache_setup	*s = arg;
	ssize_t			 n;

	sha256_update(s->hash, buf, len);
	while (len > 0) {
		n = write(s->fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			xasprintf(&s->write_error, "cannot write %s: %s",
			    s->tarball, strerror(n == -1 ? errno : ENOSPC));
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The child finished unpacking: install with a rename. */
static void
ibcache_unpacked(int ok, const char *error, void *arg)
{
	struct ibcache_setup	*s = arg;
	char			*dir, *parent, *slash;

	s->unpack = NULL;
	if (!ok) {
		ibcache_fail(s, "unpack: %s", error != NULL ? error : "failed");
		return;
	}
	dir = ibcache_dir(s);
	parent = xstrdup(dir);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	if (fs_mkdirs(parent, 0755) == -1 || rename(s->tmpdir, dir) == -1) {
		ibcache_fail(s, "cannot install into %s: %s", dir,
		    strerror(errno));
		free(parent);
		free(dir);
		return;
	}
	free(s->tmpdir);
	s->tmpdir = NULL;
	log_info("ImageBuilder %s %s installed", s->version, s->target);
	ibcache_end(s, dir, NULL);
	free(parent);
	free(dir);
}

/* The tarball is on disk: check it, then unpack in a child. */
static void
ibcache_tarball_cb(const struct fetch_result *r, void *arg)
{
	struct ibcache_setup	*s = arg;
	char			 got[SHA256_HEX_LEN + 1], *e, *cause = NULL;

	s->fetch = NULL;
	sha256_final(s->hash, got);
	s->hash = NULL;
	close(s->fd);
	s->fd = -1;
	if (s->write_error != NULL) {
		ibcache_fail(s, "%s", s->write_error);
		return;
	}
	if ((e = ibcache_fetch_error(r, s->tarball)) != NULL) {
		ibcache_fail(s, "%s", e);
		free(e);
		return;
	}
	if (strcmp(got, s->want_sha) != 0) {
		ibcache_fail(s, "%s: checksum mismatch (sha256 %s, sha256sums "
		    "lists %s)", s->tarball, got, s->want_sha);
		return;
	}
	s->state = IBCACHE_UNPACK;
	ibcache_phase(s, "unpack_imagebuilder");
	xasprintf(&s->tmpdir, "%s/.tmp/%ld-%s.d", s->c->root, (long)getpid(),
	    s->tarball);
	fs_rmtree(s->tmpdir);
	s->unpack = unpack_start(s->c->base, s->archive, s->tmpdir,
	    ibcache_unpacked, s, &cause);
	if (s->unpack == NULL) {
		ibcache_fail(s, "unpack: %s", cause);
		free(cause);
	}
}

/* Opens the temporary file the tarball streams into. */
static int
ibcache_open_archive(struct ibcache_setup *s)
{
	char	*tmp;

	xasprintf(&tmp, "%s/.tmp", s->c->root);
	if (fs_mkdirs(tmp, 0755) == -1) {
		ibcache_fail(s, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	xasprintf(&s->archive, "%s/%ld-%s", tmp, (long)getpid(), s->tarball);
	free(tmp);
	s->fd = open(s->archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (s->fd == -1) {
		ibcache_fail(s, "cannot create %s: %s", s->archive,
		    strerror(errno));
		return (-1);
	}
	s->hash = sha256_new();
	return (0);
}

/* Runs the next step of a setup. */
static void
ibcache_step(struct ibcache_setup *s)
{
	struct fetch_options	o;

	memset(&o, 0, sizeof o);
	switch (s->state) {
	case IBCACHE_SUMS:
		ibcache_phase(s, "download_imagebuilder");
		o.max_size = IBCACHE_SUMS_MAX;
		o.timeout = 60;
		ibcache_fetch(s, "sha256sums", &o, ibcache_sums_cb);
		break;
	case IBCACHE_SIG:
		o.max_size = 4096;
		o.timeout = 60;
		ibcache_fetch(s, "sha256sums.sig", &o, ibcache_sig_cb);
		break;
	case IBCACHE_TARBALL:
		if (ibcache_open_archive(s) == -1)
			return;
		s->c->downloads++;
		log_info("downloading %s", s->tarball);
		o.timeout = IBCACHE_TIMEOUT;
		o.data_cb = ibcache_data_cb;
		ibcache_fetch(s, s->tarball, &o, ibcache_tarball_cb);
		break;
	case IBCACHE_UNPACK:
		break;
	}
}

/* Starts a setup from the loop, never inside ibcache_ensure. */
static void
ibcache_start_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ibcache_setup	*s = arg;

	if (s->c->upstream == NULL) {
		ibcache_fail(s, "no upstream is configured");
		return;
	}
	ibcache_step(s);
}

/* Joins (or starts) the setup of version/target. */
struct ibcache_wait *
ibcache_ensure(struct ibcache *c, const char *version, const char *target,
    const char *vpath, ibcache_phase_cb phase_cb, ibcache_done_cb done_cb,
    void *arg)
{
	struct ibcache_setup	*s;
	struct ibcache_wait	*w;
	struct timeval		 tv = { 0, 0 };
	char			*key;

	xasprintf(&key, "%s/%s", version, target);
	LIST_FOREACH(s, &c->setups, link)
		if (strcmp(s->key, key) == 0)
			break;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->c = c;
		s->key = key;
		key = NULL;
		s->version = xstrdup(version);
		s->target = xstrdup(target);
		s->vpath = xstrdup(vpath);
		s->fd = -1;
		TAILQ_INIT(&s->waiters);
		LIST_INSERT_HEAD(&c->setups, s, link);
		s->listed = 1;
		s->start = evtimer_new(c->base, ibcache_start_cb, s);
		if (s->start == NULL)
			fatalx("evtimer_new: out of memory");
		evtimer_add(s->start, &tv);
	}
	free(key);
	w = xcalloc(1, sizeof *w);
	w->setup = s;
	w->phase_cb = phase_cb;
	w->done_cb = done_cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&s->waiters, w, link);
	return (w);
}

/* Forgets a waiter; the setup goes on for the others. */
void
ibcache_cancel(struct ibcache_wait *w)
{
	if (w == NULL)
		return;
	TAILQ_REMOVE(&w->setup->waiters, w, link);
	free(w);
}

/* One downloaded ImageBuilder: its size and its last use. */
struct ibcache_ib {
	char		*dir;
	long long	 size;
	time_t		 used;
};

/* Orders ImageBuilders by last use, oldest first. */
static int
ibcache_ib_cmp(const void *a, const void *b)
{
	const struct ibcache_ib	*x = a, *y = b;

	return (x->used < y->used ? -1 : x->used > y->used);
}

/* Nothing to do with the output of the removal job. */
static void
ibcache_rm_output(struct job *job, int which, const char *buf, size_t len,
    void *arg)
{
}

/* The removal job ended. */
static void
ibcache_rm_done(struct job *job, int status, int timed_out, void *arg)
{
	if (status != 0)
		log_warnx("removing an evicted ImageBuilder: %s",
		    job_status_string(status));
}

/* Moves an ImageBuilder aside at once and removes it in a child. */
int
ibcache_remove(struct ibcache *c, const char *dir)
{
	static unsigned int	 n;
	char			*tmp, *trash;
	int			 rc;

	xasprintf(&tmp, "%s/.tmp", c->root);
	xasprintf(&trash, "%s/evicted-%ld-%u", tmp, (long)getpid(), n++);
	rc = fs_mkdirs(tmp, 0755) == -1 ? -1 : rename(dir, trash);
	free(tmp);
	if (rc == -1) {
		log_warn("cannot evict %s", dir);
		free(trash);
		return (-1);
	}
	ibcache_discard(trash);
	free(trash);
	return (0);
}

/* Removes a tree (already out of the way) in a child. */
void
ibcache_discard(const char *path)
{
	char	*argv[] = { (char *)"rm", (char *)"-rf", (char *)"--", NULL,
		    NULL };
	char	*cause = NULL;

	argv[3] = (char *)path;
	if (job_run(argv, "/", NULL, 0, ibcache_rm_output, ibcache_rm_done,
	    NULL, NULL, &cause) == NULL) {
		log_warnx("cannot remove %s: %s", path, cause);
		free(cause);
	}
}

/* Collects the downloaded ImageBuilders with their size and last use. */
static size_t
ibcache_ib_list(const struct catalog *cat, struct ibcache_ib **out,
    long long *total)
{
	const struct catalog_target	*t;
	struct strv			 versions = STRV_INITIALIZER;
	struct ibcache_ib		*v = NULL;
	struct stat			 st;
	char				*path, *buf;
	size_t				 i, j, n = 0, len;

	*total = 0;
	catalog_versions(cat, &versions);
	for (i = 0; i < versions.n; i++) {
		for (j = 0; (t = catalog_target_at(cat, versions.v[i],
		    j)) != NULL; j++) {
			if (catalog_target_dir(t) == NULL)
				continue;
			xasprintf(&path, "%s/" UNPACK_SIZE_FILE,
			    catalog_target_dir(t));
			if (stat(path, &st) == 0 &&
			    fs_read_file(path, 64, &buf, &len) == 0) {
				v = xreallocarray(v, n + 1, sizeof *v);
				v[n].dir = xstrdup(catalog_target_dir(t));
				v[n].size = strtoll(buf, NULL, 10) +
				    slots_size_at(AT_FDCWD,
				    v[n].dir);
				v[n].used = st.st_mtime;
				*total += v[n].size;
				n++;
				free(buf);
			}
			free(path);
		}
	}
	strv_clear(&versions);
	*out = v;
	return (n);
}

/* Keeps the downloaded ImageBuilders within budget; how many went. */
int
ibcache_evict(struct ibcache *c, const struct catalog *cat,
    long long budget, ibcache_in_use_cb in_use, void *arg)
{
	struct ibcache_ib	*v;
	long long		 total;
	size_t			 i, n;
	int			 evicted = 0;

	if (budget <= 0)
		return (0);
	n = ibcache_ib_list(cat, &v, &total);
	qsort(v, n, sizeof *v, ibcache_ib_cmp);
	for (i = 0; i < n && total > budget; i++) {
		if (in_use(v[i].dir, arg))
			continue;
		if (ibcache_remove(c, v[i].dir) == 0) {
			log_info("evicted the ImageBuilder %s (%lld bytes)",
			    v[i].dir, v[i].size);
			total -= v[i].size;
			evicted++;
		}
	}
	for (i = 0; i < n; i++)
		free(v[i].dir);
	free(v);
	return (evicted);
}

/* Marks an ImageBuilder used now (its size note's time is its last use). */
void
ibcache_touch(const char *dir)
{
	char	*path;

	xasprintf(&path, "%s/" UNPACK_SIZE_FILE, dir);
	utimensat(AT_FDCWD, path, NULL, 0);
	free(path);
}

/* Writes the revision note of dir (once, or again when replace is set). */
void
ibcache_note_revision(const char *dir, const char *revision, int replace)
{
	char	*path;

	if (*dir != '/')
		return;
	xasprintf(&path, "%s/" IBCACHE_REVISION_FILE, dir);
	if ((replace || access(path, F_OK) != 0) &&
	    fs_write_file(path, revision, strlen(revision), 0644) == -1)
		log_warn("%s", path);
	free(path);
}

/* The note of dir, else what make info said. */
char *
ibcache_revision(const char *dir, const char *said)
{
	char	*path, *have = NULL;
	size_t	 len;

	xasprintf(&path, "%s/" IBCACHE_REVISION_FILE, dir);
	if (*dir != '/' || fs_read_file(path, 256, &have, &len) == -1)
		have = xstrdup(said);
	free(path);
	return (have);
}

/* True when a downloaded dir was made from another revision than now. */
int
ibcache_moved(const char *dir, const char *now)
{
	char	*path, *have = NULL, *size;
	size_t	 len;
	int	 moved = 0;

	if (now == NULL || *dir != '/')
		return (0);
	xasprintf(&size, "%s/" UNPACK_SIZE_FILE, dir);
	xasprintf(&path, "%s/" IBCACHE_REVISION_FILE, dir);
	if (access(size, F_OK) == 0 &&
	    fs_read_file(path, 256, &have, &len) == 0)
		moved = strcmp(have, now) != 0;
	free(have);
	free(path);
	free(size);
	return (moved);
}

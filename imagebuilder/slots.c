/*
 * slots.c: working copies of ImageBuilders; see slots.h. A slot is made
 * by two cp jobs (the copied parts, then the linked trees) into <n>.new,
 * renamed to <n> once whole: under SLOTS_DIR, a directory named by a
 * number is a complete slot, anything else a leftover removed on sight.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/job.h"
#include "imagebuilder/slots.h"
#include "imagebuilder/unpack.h"

#define SLOTS_MAX		64
#define SLOTS_COPY_TIMEOUT	3600	/* seconds for one cp */
#define SLOTS_ERR_MAX		200

enum slots_state { SLOTS_NONE, SLOTS_MAKING, SLOTS_FREE, SLOTS_BUSY };

struct slots_ib;

struct slot {
	struct slots_ib		*ib;
	int			 n;
	enum slots_state	 state;
	char			*dir;
	struct job		*job;
	int			 step;		/* 0: copying, 1: linking */
	struct strv		 copied;
	struct strv		 linked;
	struct slots_wait	*wait;
	char			 err[SLOTS_ERR_MAX + 1];
	int			 err_done;	/* its first line is whole */
};

struct slots_wait {
	struct slot	*slot;
	slots_ready_cb	 cb;
	void		*arg;
};

struct slots_ib {
	TAILQ_ENTRY(slots_ib)	 link;
	char			*dir;
	int			 gone;
	struct slot		 v[SLOTS_MAX];
};

TAILQ_HEAD(slots_list, slots_ib);

struct slots {
	struct slots_list	list;
};

/* Not copied into a slot: run-time leftovers, asud's own notes. */
static const char *const slots_skip[] = {
	SLOTS_DIR, "dl", "tmp", "bin", UNPACK_SIZE_FILE, NULL
};

/* Trees make image only reads: hard-linked, not copied. */
static const char *const slots_linked[] = {
	"staging_dir", "target", "include", "scripts", NULL
};

/* Package files, the only part of dl/ shared between slots. */
static const char *const slots_pkg_ext[] = { ".ipk", ".apk", NULL };

/* True when name is in the NULL-terminated table t. */
static int
slots_in(const char *const *t, const char *name)
{
	for (; *t != NULL; t++)
		if (strcmp(*t, name) == 0)
			return (1);
	return (0);
}

/* The number a slot directory is named by, or -1. */
static int
slots_number(const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++)
		if (name[i] < '0' || name[i] > '9' || i > 2)
			return (-1);
	if (i == 0 || (i > 1 && name[0] == '0'))
		return (-1);
	return (atoi(name) < SLOTS_MAX ? atoi(name) : -1);
}

/* No slot list yet. */
struct slots *
slots_new(void)
{
	struct slots	*s;

	s = xcalloc(1, sizeof *s);
	TAILQ_INIT(&s->list);
	return (s);
}

/* Frees one ImageBuilder's slots, killing copies under way. */
static void
slots_ib_free(struct slots_ib *ib)
{
	struct slot	*sl;
	int		 n;

	for (n = 0; n < SLOTS_MAX; n++) {
		sl = &ib->v[n];
		if (sl->job != NULL)
			job_kill(sl->job);
		free(sl->wait);
		free(sl->dir);
		strv_clear(&sl->copied);
		strv_clear(&sl->linked);
	}
	free(ib->dir);
	free(ib);
}

/* Forgets everything. */
void
slots_free(struct slots *s)
{
	struct slots_ib	*ib;

	if (s == NULL)
		return;
	while ((ib = TAILQ_FIRST(&s->list)) != NULL) {
		TAILQ_REMOVE(&s->list, ib, link);
		slots_ib_free(ib);
	}
	free(s);
}

/* Moves a leftover out of the way at once and removes it in a child. */
static void
slots_discard(const char *parent, const char *name)
{
	static unsigned int	 k;
	char			*from, *to;

	xasprintf(&from, "%s/%s", parent, name);
	if (strncmp(name, ".gone-", 6) == 0)
		to = xstrdup(from);
	else
		xasprintf(&to, "%s/.gone-%ld-%u", parent, (long)getpid(), k++);
	if (strcmp(from, to) != 0 && rename(from, to) == -1)
		log_warn("cannot remove %s", from);
	else
		ibcache_discard(to);
	free(from);
	free(to);
}

struct slots_scan {
	struct slots_ib	*ib;
	const char	*parent;
	int		 cap;
};

/* One entry of SLOTS_DIR at startup: a slot to reuse, or a leftover. */
static void
slots_scan_entry(int dirfd, const char *name, void *arg)
{
	struct slots_scan	*sc = arg;
	struct stat		 st;
	int			 n = slots_number(name);

	if (n >= 0 && n < sc->cap && fstatat(dirfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		sc->ib->v[n].state = SLOTS_FREE;
		return;
	}
	slots_discard(sc->parent, name);
}

/* The slots of ib_dir, as found on disk the first time. */
static struct slots_ib *
slots_ib_get(struct slots *s, const char *ib_dir, int cap)
{
	struct slots_ib		*ib;
	struct slots_scan	 sc;
	char			*parent;
	int			 n;

	TAILQ_FOREACH(ib, &s->list, link)
		if (strcmp(ib->dir, ib_dir) == 0)
			return (ib);
	ib = xcalloc(1, sizeof *ib);
	ib->dir = xstrdup(ib_dir);
	for (n = 0; n < SLOTS_MAX; n++) {
		ib->v[n].ib = ib;
		ib->v[n].n = n;
		xasprintf(&ib->v[n].dir, "%s/" SLOTS_DIR "/%d", ib_dir, n);
	}
	xasprintf(&parent, "%s/" SLOTS_DIR, ib_dir);
	sc = (struct slots_scan){ ib, parent, cap };
	fs_dir_each(AT_FDCWD, parent, slots_scan_entry, &sc);
	free(parent);
	TAILQ_INSERT_TAIL(&s->list, ib, link);
	return (ib);
}

/* True when name is a package file. */
static int
slots_is_pkg(const char *name)
{
	const char *const	*e;
	size_t			 len = strlen(name), elen;

	for (e = slots_pkg_ext; *e != NULL; e++) {
		elen = strlen(*e);
		if (len > elen && strcmp(name + len - elen, *e) == 0 &&
		    name[0] != '.')
			return (1);
	}
	return (0);
}

/* Links one package file into the directory *arg when it has none. */
static void
slots_link_entry(int dirfd, const char *name, void *arg)
{
	int	*to = arg;

	if (slots_is_pkg(name) && linkat(dirfd, name, *to, name, 0) == -1 &&
	    errno != EEXIST)
		log_debug("cannot share the download %s: %s", name,
		    strerror(errno));
}

/* Links the package files of from/dl missing in to/dl into it. */
static void
slots_share(const char *from, const char *to)
{
	char	*fdl, *tdl;
	int	 tfd;

	xasprintf(&fdl, "%s/dl", from);
	xasprintf(&tdl, "%s/dl", to);
	if (mkdir(tdl, 0755) == -1 && errno != EEXIST)
		log_warn("%s", tdl);
	tfd = open(tdl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd != -1) {
		fs_dir_each(AT_FDCWD, fdl, slots_link_entry, &tfd);
		close(tfd);
	}
	free(fdl);
	free(tdl);
}

/* A slot is the build's: its dl/ gets what the ImageBuilder has. */
static struct slot *
slots_use(struct slot *sl)
{
	sl->state = SLOTS_BUSY;
	slots_share(sl->ib->dir, sl->dir);
	return (sl);
}

/* Frees an ImageBuilder that went once none of its slots is in use. */
static void
slots_ib_check(struct slots_ib *ib)
{
	int	n;

	if (!ib->gone)
		return;
	for (n = 0; n < SLOTS_MAX; n++)
		if (ib->v[n].state == SLOTS_BUSY ||
		    (ib->v[n].state == SLOTS_MAKING && ib->v[n].wait != NULL))
			return;
	slots_ib_free(ib);
}

/* Ends the making of a slot: ready (error NULL) or not. */
static void
slots_made(struct slot *sl, const char *error)
{
	struct slots_wait	*w = sl->wait;
	struct slots_ib		*ib = sl->ib;
	char			*parent;
	int			 gone = ib->gone;

	strv_clear(&sl->copied);
	strv_clear(&sl->linked);
	sl->wait = NULL;
	if (error != NULL) {
		log_warnx("cannot make the build slot %s: %s", sl->dir, error);
		xasprintf(&parent, "%s/" SLOTS_DIR, ib->dir);
		slots_discard(parent, strrchr(sl->dir, '/') + 1);
		free(parent);
		sl->state = SLOTS_NONE;
	} else {
		log_info("build slot %s made", sl->dir);
		sl->state = SLOTS_FREE;
	}
	if (gone && error == NULL)
		error = "the ImageBuilder was replaced";
	if (w != NULL && error == NULL)
		slots_use(sl);
	if (w != NULL)
		w->cb(error == NULL ? sl : NULL, error, w->arg);
	free(w);
	if (gone)
		slots_ib_check(ib);
}

/* Keeps the first line of cp's complaints for the error message. */
static void
slots_cp_output(struct job *job, int which, const char *buf, size_t len,
    void *arg)
{
	struct slot	*sl = arg;
	size_t		 have = strlen(sl->err), i;

	if (which != JOB_STDERR || sl->err_done)
		return;
	for (i = 0; i < len && have < SLOTS_ERR_MAX; i++) {
		if ((sl->err_done = buf[i] == '\n'))
			break;
		sl->err[have++] = buf[i];
	}
	sl->err[have] = '\0';
}

static int	slots_cp(struct slot *, int, char **);

/* The whole copy is there: notes its size, renames it into place. */
static void
slots_finish(struct slot *sl)
{
	char		*tmp, *dl, *note, buf[32];
	long long	 bytes = 0;
	size_t		 i;
	int		 fd, n, rc;

	xasprintf(&tmp, "%s.new", sl->dir);
	xasprintf(&dl, "%s/dl", tmp);
	xasprintf(&note, "%s/" UNPACK_SIZE_FILE, tmp);
	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		for (i = 0; i < sl->copied.n; i++)
			bytes += fs_tree_size(fd, strrchr(sl->copied.v[i],
			    '/') + 1);
		close(fd);
	}
	n = snprintf(buf, sizeof buf, "%lld\n", bytes);
	rc = mkdir(dl, 0755) == -1 || fs_write_file(note, buf, (size_t)n,
	    0644) == -1 || rename(tmp, sl->dir) == -1 ? -1 : 0;
	slots_made(sl, rc == -1 ? strerror(errno) : NULL);
	free(note);
	free(dl);
	free(tmp);
}

/* One cp job ended: the next step, or the end. */
static void
slots_cp_done(struct job *job, int status, int timed_out, void *arg)
{
	struct slot	*sl = arg;
	char		*msg, *cause = NULL;

	sl->job = NULL;
	if (status != 0) {
		xasprintf(&msg, "cp %s%s%s", timed_out ? "timed out" :
		    job_status_string(status), *sl->err != '\0' ? ": " : "",
		    sl->err);
		slots_made(sl, msg);
		free(msg);
		return;
	}
	if (sl->step == 0 && sl->linked.n > 0) {
		if (slots_cp(sl, 1, &cause) == -1) {
			slots_made(sl, cause);
			free(cause);
		}
		return;
	}
	slots_finish(sl);
}

/* Starts cp for one step: 0 copies, 1 hard-links. */
static int
slots_cp(struct slot *sl, int step, char **cause)
{
	struct strv	 argv = STRV_INITIALIZER;
	struct strv	*from = step == 0 ? &sl->copied : &sl->linked;
	char		*to;
	size_t		 i;

	strv_add(&argv, "cp");
	strv_add(&argv, step == 0 ? "-a" : "-al");
	if (step == 0)
		strv_add(&argv, "--reflink=auto");
	strv_add(&argv, "--");
	for (i = 0; i < from->n; i++)
		strv_add(&argv, from->v[i]);
	xasprintf(&to, "%s.new/", sl->dir);
	strv_add(&argv, to);
	free(to);
	sl->step = step;
	*sl->err = '\0';
	sl->err_done = 0;
	sl->job = job_run(argv.v, "/", NULL, SLOTS_COPY_TIMEOUT,
	    slots_cp_output, slots_cp_done, NULL, sl, cause);
	strv_clear(&argv);
	return (sl->job == NULL ? -1 : 0);
}

/* Sorts one top-level entry of an ImageBuilder into copied or linked. */
static void
slots_sort_entry(int dirfd, const char *name, void *arg)
{
	struct slot	*sl = arg;
	char		*path;

	if (slots_in(slots_skip, name))
		return;
	xasprintf(&path, "%s/%s", sl->ib->dir, name);
	strv_add(slots_in(slots_linked, name) ? &sl->linked : &sl->copied,
	    path);
	free(path);
}

/* Starts making slot sl; 0, or -1 with *cause. */
static int
slots_make(struct slot *sl, char **cause)
{
	char	*parent, *tmp;
	int	 rc = -1;

	xasprintf(&parent, "%s/" SLOTS_DIR, sl->ib->dir);
	xasprintf(&tmp, "%s.new", sl->dir);
	if (access(tmp, F_OK) == 0)
		slots_discard(parent, strrchr(tmp, '/') + 1);
	if ((mkdir(parent, 0755) == -1 && errno != EEXIST) ||
	    mkdir(tmp, 0755) == -1)
		xasprintf(cause, "cannot make a build slot: %s: %s", tmp,
		    strerror(errno));
	else if (fs_dir_each(AT_FDCWD, sl->ib->dir, slots_sort_entry,
	    sl) == -1)
		xasprintf(cause, "cannot read %s: %s", sl->ib->dir,
		    strerror(errno));
	else if (sl->copied.n == 0)
		xasprintf(cause, "the ImageBuilder %s is empty", sl->ib->dir);
	else if (slots_cp(sl, 0, cause) == 0) {
		log_info("making the build slot %s", sl->dir);
		sl->state = SLOTS_MAKING;
		rc = 0;
	}
	if (rc == -1) {
		strv_clear(&sl->copied);
		strv_clear(&sl->linked);
		rmdir(tmp);
	}
	free(tmp);
	free(parent);
	return (rc);
}

/* A free slot, or one being made for the caller; see slots.h. */
struct slot *
slots_take(struct slots *s, const char *ib_dir, int cap, slots_ready_cb cb,
    void *arg, struct slots_wait **wait, char **cause)
{
	struct slots_ib	*ib;
	struct slot	*sl;
	int		 n;

	*wait = NULL;
	cap = cap < 1 ? 1 : cap > SLOTS_MAX ? SLOTS_MAX : cap;
	ib = slots_ib_get(s, ib_dir, cap);
	for (n = 0; n < cap; n++) {
		sl = &ib->v[n];
		if (sl->state != SLOTS_FREE)
			continue;
		if (access(sl->dir, F_OK) == 0)
			return (slots_use(sl));
		sl->state = SLOTS_NONE;	/* evicted with its ImageBuilder */
	}
	for (n = 0; n < cap; n++) {
		sl = &ib->v[n];
		if (sl->state != SLOTS_NONE)
			continue;
		if (slots_make(sl, cause) == -1)
			return (NULL);
		*wait = sl->wait = xcalloc(1, sizeof **wait);
		(*wait)->slot = sl;
		(*wait)->cb = cb;
		(*wait)->arg = arg;
		return (NULL);
	}
	xasprintf(cause, "all %d build slots of %s are in use", cap, ib_dir);
	return (NULL);
}

/* The waiter goes; the copy goes on for a later build. */
void
slots_cancel(struct slots_wait *w)
{
	struct slot	*sl = w->slot;

	sl->wait = NULL;
	free(w);
	slots_ib_check(sl->ib);
}

/* The directory a build in the slot runs in. */
const char *
slots_dir(const struct slot *sl)
{
	return (sl->dir);
}

/* The build ended: what it downloaded is shared, the slot is free. */
void
slots_give(struct slot *sl)
{
	if (!sl->ib->gone)
		slots_share(sl->dir, sl->ib->dir);
	sl->state = SLOTS_FREE;
	slots_ib_check(sl->ib);
}

/* Forgets the slots of an ImageBuilder whose directory goes away. */
void
slots_forget(struct slots *s, const char *ib_dir)
{
	struct slots_ib	*ib;

	TAILQ_FOREACH(ib, &s->list, link)
		if (strcmp(ib->dir, ib_dir) == 0)
			break;
	if (ib == NULL)
		return;
	TAILQ_REMOVE(&s->list, ib, link);
	ib->gone = 1;
	slots_ib_check(ib);
}

/* Adds the size note of one slot directory to *arg. */
static void
slots_size_entry(int dirfd, const char *name, void *arg)
{
	long long	*bytes = arg;
	char		*path, *buf;
	size_t		 len;

	if (slots_number(name) < 0)
		return;
	xasprintf(&path, "%s/" UNPACK_SIZE_FILE, name);
	if (fs_read_file_at(dirfd, path, 64, &buf, &len, NULL) == 0) {
		*bytes += strtoll(buf, NULL, 10);
		free(buf);
	}
	free(path);
}

/* The bytes the slots of the ImageBuilder name (below dirfd) hold. */
long long
slots_size_at(int dirfd, const char *name)
{
	long long	 bytes = 0;
	char		*parent;

	xasprintf(&parent, "%s/" SLOTS_DIR, name);
	fs_dir_each(dirfd, parent, slots_size_entry, &bytes);
	free(parent);
	return (bytes);
}

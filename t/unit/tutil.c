/*
 * tutil.c: helpers shared by the C unit tests (see tutil.h).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

/* The loop of tutil_loop_init. */
struct tutil_loop {
	struct event_base	*base;
	struct event		*tick;
	struct event		*sigchld;
	void			(*on_sigchld)(void);
	int			 ticks;
};

/* The records tutil_wait_all waits for. */
struct tutil_set {
	const char	*recs;
	size_t		 n;
	size_t		 size;
	size_t		 off;
};

static struct tutil_loop	tutil_loop;

static void	tutil_tree(struct strv *, const char *, const char *, int);

/* Seconds of the monotonic clock. */
double
tutil_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* A fresh scratch directory in the current one, or the end of the test. */
char *
tutil_scratch(const char *name)
{
	char	*tmpl, *path;

	xasprintf(&tmpl, "%s.XXXXXX", name);
	if (mkdtemp(tmpl) == NULL || (path = realpath(tmpl, NULL)) == NULL) {
		printf("Bail out! cannot make a scratch directory %s\n", tmpl);
		exit(1);
	}
	free(tmpl);
	return (path);
}

/* The loop's tick: counts, and lets waits look at the clock. */
static void
tutil_tick(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct tutil_loop	*l = arg;

	l->ticks++;
}

/* The test's SIGCHLD handler: hands the signal on. */
static void
tutil_sigchld(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct tutil_loop	*l = arg;

	l->on_sigchld();
}

/* Makes the base, its tick and, when asked, the SIGCHLD handler. */
struct event_base *
tutil_loop_init(long tick_usec, void (*on_sigchld)(void))
{
	struct tutil_loop	*l = &tutil_loop;
	struct timeval		 tv;

	memset(l, 0, sizeof *l);
	l->base = event_base_new();
	tv.tv_sec = tick_usec / 1000000;
	tv.tv_usec = tick_usec % 1000000;
	l->tick = event_new(l->base, -1, EV_PERSIST, tutil_tick, l);
	evtimer_add(l->tick, &tv);
	if (on_sigchld != NULL) {
		l->on_sigchld = on_sigchld;
		l->sigchld = evsignal_new(l->base, SIGCHLD, tutil_sigchld, l);
		evsignal_add(l->sigchld, NULL);
	}
	return (l->base);
}

/* Frees the loop's events and base. */
void
tutil_loop_free(void)
{
	struct tutil_loop	*l = &tutil_loop;

	event_free(l->tick);
	if (l->sigchld != NULL)
		event_free(l->sigchld);
	event_base_free(l->base);
	memset(l, 0, sizeof *l);
}

/* How often the tick fired. */
int
tutil_ticks(void)
{
	return (tutil_loop.ticks);
}

/* Runs the loop until the time is up. */
void
tutil_spin(double seconds)
{
	double	end = tutil_now() + seconds;

	while (tutil_now() < end)
		event_base_loop(tutil_loop.base, EVLOOP_ONCE);
}

/* Runs the loop until done(arg) or the time is up. */
int
tutil_wait(int (*done)(void *), void *arg, double seconds)
{
	double	end = tutil_now() + seconds;

	for (;;) {
		if (done(arg))
			return (0);
		if (tutil_now() > end)
			return (-1);
		event_base_loop(tutil_loop.base, EVLOOP_ONCE);
	}
}

/* Whether every record of a set has a counter that is not 0. */
static int
tutil_set_done(void *arg)
{
	const struct tutil_set	*s = arg;
	const int		*counter;
	size_t			 i;

	for (i = 0; i < s->n; i++) {
		counter = (const int *)(const void *)(s->recs + i * s->size +
		    s->off);
		if (*counter == 0)
			return (0);
	}
	return (1);
}

/* Waits until each record of a set counted something. */
int
tutil_wait_all(const void *recs, size_t n, size_t size, size_t off,
    double seconds)
{
	struct tutil_set	s;

	s.recs = recs;
	s.n = n;
	s.size = size;
	s.off = off;
	return (tutil_wait(tutil_set_done, &s, seconds));
}

/* The sorted names of a directory, without . and .. (none if unreadable). */
static void
tutil_names(struct strv *names, const char *dir)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			strv_add(names, de->d_name);
	}
	closedir(d);
	strv_sort_unique(names);
}

/* Appends the line of one entry, and those below it for a directory. */
static void
tutil_entry(struct strv *out, const char *path, const char *rel, int depth)
{
	struct stat	 st;
	char		 hex[SHA256_HEX_LEN + 1], link[PATH_MAX], *sub;
	ssize_t		 n;

	if (lstat(path, &st) == -1)
		strv_addf(out, "%s gone", rel);
	else if (S_ISDIR(st.st_mode)) {
		strv_addf(out, "%s/ %o", rel, st.st_mode & 07777);
		if (depth != 0) {
			xasprintf(&sub, "%s/", rel);
			tutil_tree(out, path, sub, depth - 1);
			free(sub);
		}
	} else if (S_ISREG(st.st_mode) && sha256_file(path, hex) == 0)
		strv_addf(out, "%s %o %s", rel, st.st_mode & 07777, hex);
	else if (S_ISLNK(st.st_mode) &&
	    (n = readlink(path, link, sizeof link - 1)) != -1)
		strv_addf(out, "%s -> %.*s", rel, (int)n, link);
	else
		strv_addf(out, "%s type %o", rel, st.st_mode & S_IFMT);
}

/* Appends the lines of every entry of dir, names prefixed with prefix. */
static void
tutil_tree(struct strv *out, const char *dir, const char *prefix, int depth)
{
	struct strv	 names = STRV_INITIALIZER;
	char		*path, *rel;
	size_t		 i;

	tutil_names(&names, dir);
	for (i = 0; i < names.n; i++) {
		xasprintf(&path, "%s/%s", dir, names.v[i]);
		xasprintf(&rel, "%s%s", prefix, names.v[i]);
		tutil_entry(out, path, rel, depth);
		free(path);
		free(rel);
	}
	strv_clear(&names);
}

/* The state of a tree as one string. */
char *
tutil_tree_state(const char *dir, int depth)
{
	struct strv	 out = STRV_INITIALIZER;
	char		*s;

	tutil_tree(&out, dir, "", depth);
	s = strv_join(&out, "\n");
	strv_clear(&out);
	return (s);
}

/* Checks the state of a tree against an earlier one. */
void
tutil_tree_is(const char *dir, int depth, const char *want, const char *name)
{
	char	*got;

	got = tutil_tree_state(dir, depth);
	is_str(got, want, name);
	free(got);
}

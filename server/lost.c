/*
 * lost.c: lost results answered from memory, their queued records deleted
 * when the store lets us, and the full disk noticed and watched.
 */
#include <sys/statvfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/lost.h"

#define LOST_RETRY_SECONDS	5	/* a full disk is looked at again */
#define LOST_KEEP		600	/* a lost result is answered */
#define LOST_MAX		1024
#define LOST_DISK_LOW		((unsigned long long)16 << 20)
#define LOST_PROBE_NAME		"sched:space-probe"

/* One result not kept, answered from memory. */
struct lost_one {
	TAILQ_ENTRY(lost_one)	 link;
	char			 hash[65];
	char			*body;
	size_t			 len;
	time_t			 since;
	int			 gone;	/* its queued record is deleted */
};

struct lost {
	struct asud		*a;
	struct event		*retry;
	TAILQ_HEAD(, lost_one)	 list;
	size_t			 n;
	char			*full;	/* why the disk is full, or NULL */
};

/* Bytes free for asud in the file system of path; -1 when unknown. */
static long long
lost_disk_free(const char *path)
{
	struct statvfs	sv;

	if (path == NULL || statvfs(path, &sv) == -1)
		return (-1);
	return ((long long)sv.f_bavail * (long long)sv.f_frsize);
}

/*
 * True when the file system of path is (nearly) full: less than 16 MiB
 * free, or on a small one less than 1 % of it.
 */
static int
lost_disk_low(const char *path)
{
	struct statvfs		sv;
	unsigned long long	avail, low;

	if (path == NULL || statvfs(path, &sv) == -1)
		return (0);
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	low = (unsigned long long)sv.f_blocks * sv.f_frsize / 100;
	if (low > LOST_DISK_LOW)
		low = LOST_DISK_LOW;
	return (avail < low);
}

/* Remembers (and says once) that the disk or the store is full. */
void
lost_disk_full_set(struct lost *l, const char *cause)
{
	if (l->full != NULL)
		return;
	l->full = xstrdup(cause);
	log_warnx("the disk is full: %s; builds fail until there is space "
	    "again", cause);
}

/*
 * Whether space is back: the file systems of the builds and of the store
 * (the state directory's tmp/ and db/) have room again, and a small write
 * to the store works.
 */
static int
lost_disk_back(struct lost *l)
{
	char	*cause = NULL, *db;
	int	 low;

	xasprintf(&db, "%s/db", l->a->conf->state_dir);
	low = lost_disk_low(l->a->tmp_dir) || lost_disk_low(db);
	free(db);
	if (low)
		return (0);
	if (!store_full(l->a->store))
		return (1);
	if (store_meta_put(l->a->store, LOST_PROBE_NAME, "1", 1,
	    &cause) == -1) {
		free(cause);
		return (0);
	}
	return (1);
}

/* Drops one lost result. */
static void
lost_one_free(struct lost *l, struct lost_one *o)
{
	TAILQ_REMOVE(&l->list, o, link);
	l->n--;
	free(o->body);
	free(o);
}

/* Deletes the queued record of a lost result; 0 once it is gone. */
static int
lost_delete(struct lost *l, struct lost_one *o, char **cause)
{
	if (o->gone)
		return (0);
	if (store_record_del(l->a->store, o->hash, cause) == -1)
		return (-1);
	o->gone = 1;
	return (0);
}

/*
 * Every few seconds: deletes the queued records of lost results, forgets
 * old ones, and notices when space is back after a full disk.
 */
static void
lost_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct lost	*l = arg;
	struct lost_one	*o, *next;
	char		*cause = NULL;
	time_t		 now = time(NULL);

	TAILQ_FOREACH_SAFE(o, &l->list, link, next) {
		if (lost_delete(l, o, &cause) == -1) {
			free(cause);
			cause = NULL;
		} else if (o->since + LOST_KEEP <= now)
			lost_one_free(l, o);
	}
	if (l->full == NULL && store_full(l->a->store))
		lost_disk_full_set(l, "the store cannot be written");
	if (l->full != NULL && lost_disk_back(l)) {
		log_info("there is space again (%lld MiB free for the state "
		    "directory)", lost_disk_free(l->a->tmp_dir) >> 20);
		free(l->full);
		l->full = NULL;
	}
}

/* Sets up the list and its timer. */
struct lost *
lost_new(struct asud *a)
{
	struct lost	*l;
	struct timeval	 tv = { LOST_RETRY_SECONDS, 0 };

	l = xcalloc(1, sizeof *l);
	l->a = a;
	TAILQ_INIT(&l->list);
	l->retry = event_new(a->base, -1, EV_PERSIST, lost_retry_cb, l);
	if (l->retry == NULL)
		fatalx("lost_new: out of memory");
	event_add(l->retry, &tv);
	return (l);
}

/* Forgets everything. */
void
lost_free(struct lost *l)
{
	struct lost_one	*o, *next;

	if (l == NULL)
		return;
	TAILQ_FOREACH_SAFE(o, &l->list, link, next)
		lost_one_free(l, o);
	event_free(l->retry);
	free(l->full);
	free(l);
}

/*
 * Answers a build that could not be kept with a 500 from memory, not
 * cached: its record goes (now, or when the store lets us), its images
 * too, and the same request builds again when it is posted again.
 */
void
lost_add(struct lost *l, const char *hash, char *body, size_t len,
    const char *detail)
{
	struct lost_one	*o;
	char		*dir, *cause = NULL;

	/* Bounded: the oldest answers go first, never a pending delete. */
	TAILQ_FOREACH(o, &l->list, link)
		if (l->n >= LOST_MAX && o->gone) {
			lost_one_free(l, o);
			break;
		}
	o = xcalloc(1, sizeof *o);
	snprintf(o->hash, sizeof o->hash, "%s", hash);
	o->body = body;
	o->len = len;
	o->since = time(NULL);
	TAILQ_INSERT_TAIL(&l->list, o, link);
	l->n++;
	if (lost_delete(l, o, &cause) == -1) {
		log_warnx("build %.12s: %s (tried again later)", hash, cause);
		free(cause);
	}
	xasprintf(&dir, "%s/%s", l->a->store_dir, hash);
	if (fs_rmtree(dir) == -1)
		log_warn("cannot remove %s", dir);
	free(dir);
	log_warnx("build %.12s failed and is not kept: %s", hash, detail);
}

/* The lost result of hash; 1 when there is one. */
int
lost_answer(struct lost *l, const char *hash, const char **body,
    size_t *len)
{
	struct lost_one	*o;

	TAILQ_FOREACH(o, &l->list, link) {
		if (strcmp(o->hash, hash) != 0)
			continue;
		if (body != NULL) {
			*body = o->body;
			*len = o->len;
		}
		return (1);
	}
	return (0);
}

/*
 * Forgets the lost result of hash so that the request can be posted
 * again: its queued record must be gone from the store first.
 */
int
lost_forget(struct lost *l, const char *hash, char **cause)
{
	struct lost_one	*o;

	TAILQ_FOREACH(o, &l->list, link) {
		if (strcmp(o->hash, hash) != 0)
			continue;
		if (lost_delete(l, o, cause) == -1)
			return (-1);
		lost_one_free(l, o);
		return (0);
	}
	return (0);
}

/* Why the disk (or the store) is full, or NULL while it is not. */
const char *
lost_disk_full(struct lost *l)
{
	if (l->full == NULL && store_full(l->a->store))
		return ("the store cannot be written");
	return (l->full);
}

/* True when a failed build ran out of disk space (and the disk is low). */
int
lost_no_space(struct lost *l, struct evbuffer *log, const char *ib_dir)
{
	static const char	*said[] = { "No space left on device",
				    "Disk quota exceeded" };
	size_t			 i;
	int			 hit = 0;

	for (i = 0; log != NULL && i < nitems(said) && !hit; i++)
		hit = evbuffer_search(log, said[i], strlen(said[i]),
		    NULL).pos != -1;
	if (!hit)
		return (0);
	return (lost_disk_low(l->a->tmp_dir) || (ib_dir != NULL &&
	    *ib_dir == '/' && lost_disk_low(ib_dir)));
}

/*
 * storemax.c: the results in the store and its budget. Each finished
 * result is held here with the bytes of its files (measured once, when
 * it is stored or at start) and the time it was last used: its last
 * download, or its build when it was never downloaded. When store_max
 * is set and the results' bytes exceed it, whole results are removed,
 * least recently used first, never one whose files are being sent
 * (dlstat_busy) nor the one just stored; builds that are queued or
 * running have no result here yet. A removed result's record goes, so
 * its hash answers 404 and its request is built again. Expiry removes
 * through the same storemax_remove.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/dlstat.h"
#include "server/metrics.h"
#include "server/record.h"
#include "server/storemax.h"

/* One finished result. */
struct storemax_result {
	char		hash[STORE_HASH_LEN + 1];
	uint64_t	bytes;
	int64_t		used_ms;	/* last download, else its build */
};

static struct storemax_result	*storemax_v;
static size_t			 storemax_n;
static uint64_t			 storemax_total;

/* The result of hash, or NULL. */
static struct storemax_result *
storemax_find(const char *hash)
{
	size_t	i;

	for (i = 0; i < storemax_n; i++)
		if (strcmp(storemax_v[i].hash, hash) == 0)
			return (&storemax_v[i]);
	return (NULL);
}

/* Drops the result of hash from the table, if it is there. */
static void
storemax_forget(const char *hash)
{
	struct storemax_result	*r;

	if ((r = storemax_find(hash)) == NULL)
		return;
	storemax_total -= r->bytes;
	*r = storemax_v[--storemax_n];
}

/*
 * Measures the result of hash (the bytes of its directory, whose time
 * stands for its build) and holds it, in place of what was held.
 */
static struct storemax_result *
storemax_add(struct asud *a, const char *hash, int64_t used_ms)
{
	struct storemax_result	*r;
	struct stat		 st;
	char			*dir;
	long long		 bytes;

	if (strlen(hash) != STORE_HASH_LEN)
		return (NULL);
	storemax_forget(hash);
	xasprintf(&dir, "%s/%s", a->store_dir, hash);
	bytes = fs_tree_size(AT_FDCWD, dir);
	if (used_ms == 0 && lstat(dir, &st) == 0)
		used_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000;
	free(dir);
	storemax_v = xreallocarray(storemax_v, storemax_n + 1,
	    sizeof *storemax_v);
	r = &storemax_v[storemax_n++];
	memcpy(r->hash, hash, sizeof r->hash);
	r->bytes = bytes > 0 ? (uint64_t)bytes : 0;
	r->used_ms = used_ms;
	storemax_total += r->bytes;
	return (r);
}

/* The least recently used result that may go (not protect), or NULL. */
static struct storemax_result *
storemax_victim(const char *protect, const struct strv *refused)
{
	struct storemax_result	*best = NULL, *r;
	size_t			 i, j;

	for (i = 0; i < storemax_n; i++) {
		r = &storemax_v[i];
		if ((protect != NULL && strcmp(r->hash, protect) == 0) ||
		    dlstat_busy(r->hash))
			continue;
		for (j = 0; j < refused->n; j++)
			if (strcmp(refused->v[j], r->hash) == 0)
				break;
		if (j < refused->n)
			continue;
		if (best == NULL || r->used_ms < best->used_ms ||
		    (r->used_ms == best->used_ms &&
		    strcmp(r->hash, best->hash) < 0))
			best = r;
	}
	return (best);
}

/*
 * Removes results, least recently used first, until their bytes fit in
 * store_max; when only those that must stay are left above it, says so
 * once.
 */
static void
storemax_apply(struct asud *a, const char *protect)
{
	struct storemax_result	*r;
	struct strv		 refused = STRV_INITIALIZER;
	uint64_t		 max;
	char			 hash[STORE_HASH_LEN + 1], *cause = NULL;

	if (a->conf->store_max <= 0)
		return;
	max = (uint64_t)a->conf->store_max;
	while (storemax_total > max) {
		if ((r = storemax_victim(protect, &refused)) == NULL) {
			log_warnx("store_max: %llu bytes of results exceed "
			    "%llu, but those left are being downloaded or "
			    "were just built; kept", (unsigned long long)
			    storemax_total, (unsigned long long)max);
			break;
		}
		memcpy(hash, r->hash, sizeof hash);
		if (storemax_remove(a, hash, METRICS_REMOVED_BUDGET,
		    &cause) == -1) {
			log_warnx("store_max: %s", cause);
			free(cause);
			cause = NULL;
			strv_add(&refused, hash);
			continue;
		}
		log_info("store_max: removed %.12s, least recently used",
		    hash);
	}
	strv_clear(&refused);
}

/* Collects the finished results of the store at start. */
static int
storemax_collect_cb(const char *hash, const void *val, size_t len,
    void *arg)
{
	struct strv	*done = arg;
	struct record	 r;

	if (record_decode(val, len, &r) == 0 && r.state == RECORD_DONE)
		strv_add(done, hash);
	return (0);
}

/* Makes the last download of a file the use of its result. */
static int
storemax_last_cb(const char *hash, const char *file, uint64_t count,
    int64_t last_ms, void *arg)
{
	struct storemax_result	*r;

	(void)file;
	(void)count;
	(void)arg;
	if ((r = storemax_find(hash)) != NULL && last_ms > r->used_ms)
		r->used_ms = last_ms;
	return (0);
}

/* Reads the store's results and their last downloads, then the budget. */
void
storemax_start(struct asud *a)
{
	struct strv	 done = STRV_INITIALIZER;
	size_t		 i;
	char		*cause = NULL;

	storemax_clear();
	if (store_record_foreach(a->store, storemax_collect_cb, &done,
	    &cause) == -1) {
		log_warnx("store_max: %s", cause);
		free(cause);
		cause = NULL;
	}
	for (i = 0; i < done.n; i++)
		storemax_add(a, done.v[i], 0);
	strv_clear(&done);
	if (store_download_foreach(a->store, storemax_last_cb, NULL,
	    &cause) == -1) {
		log_warnx("store_max: %s", cause);
		free(cause);
	}
	storemax_apply(a, NULL);
}

/* Holds a result just stored, then applies the budget (it stays). */
void
storemax_stored(struct asud *a, const char *hash)
{
	storemax_add(a, hash, clock_now_ms());
	storemax_apply(a, hash);
}

/* A download of hash: its result is the most recently used. */
void
storemax_used(const char *hash)
{
	struct storemax_result	*r;

	if ((r = storemax_find(hash)) != NULL)
		r->used_ms = clock_now_ms();
}

/* The one way a result leaves the store. */
int
storemax_remove(struct asud *a, const char *hash, enum metrics_removal why,
    char **cause)
{
	char	*dir;

	if (store_record_del(a->store, hash, cause) == -1)
		return (-1);
	xasprintf(&dir, "%s/%s", a->store_dir, hash);
	if (fs_rmtree(dir) == -1)
		log_warn("cannot remove the files of %.12s", hash);
	free(dir);
	storemax_forget(hash);
	metrics_store_removed(why);
	return (0);
}

/* The bytes of the results held. */
uint64_t
storemax_bytes(void)
{
	return (storemax_total);
}

/* Forgets every result held. */
void
storemax_clear(void)
{
	free(storemax_v);
	storemax_v = NULL;
	storemax_n = 0;
	storemax_total = 0;
}

/*
 * scrape.c: GET /metrics. The counters live in metrics.c, which knows no
 * other module; what the other modules own (queue, waiters, followers,
 * caches, the store, connections) is read here at scrape time, so that
 * nothing but this handler depends on all of them.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "imagebuilder/fetch.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/slots.h"
#include "imagebuilder/unpack.h"
#include "store/store.h"
#include "server/anscache.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/conn.h"
#include "server/dlstat.h"
#include "server/follow.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/sched.h"
#include "server/scrape.h"
#include "server/stats.h"
#include "server/storemax.h"
#include "server/upstream.h"
#include "server/wait.h"

/* Reads one ".asud-size" file; 0 when missing or not a number. */
static uint64_t
scrape_size_file(int dirfd)
{
	char			*buf, *end;
	size_t			 len;
	unsigned long long	 v;

	if (fs_read_file_at(dirfd, UNPACK_SIZE_FILE, 31, &buf, &len,
	    NULL) == -1)
		return (0);
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n'))
		v = 0;
	free(buf);
	return (v);
}

/* A walk of the ImageBuilder directory: the sum and the depth left. */
struct scrape_walk {
	uint64_t	sum;
	int		depth;
};

/*
 * Adds the unpacked sizes below one entry, depth levels down
 * (<version>/<target>/<subtarget>); hidden entries are not looked at and
 * symbolic links are not followed.
 */
static void
scrape_walk_cb(int dirfd, const char *name, void *arg)
{
	struct scrape_walk	*w = arg;
	uint64_t		 size;
	int			 fd;

	if (name[0] == '.')
		return;
	if (w->depth > 1) {
		w->depth--;
		fs_dir_each(dirfd, name, scrape_walk_cb, w);
		w->depth++;
		return;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return;
	if ((size = scrape_size_file(fd)) > 0)
		w->sum += size + (uint64_t)slots_size_at(dirfd, name);
	close(fd);
}

/* The bytes of the unpacked ImageBuilders under root. */
static uint64_t
scrape_cache_bytes(const char *root)
{
	struct scrape_walk	w = { 0, 3 };

	if (root != NULL)
		fs_dir_each(AT_FDCWD, root, scrape_walk_cb, &w);
	return (w.sum);
}

/* Counts one running build of the queue walk. */
static void
scrape_running_cb(const struct sched_view *v, void *arg)
{
	uint64_t	*n = arg;

	if (v->running)
		(*n)++;
}

/* Reads the queue: waiting and running builds. */
static void
scrape_queue(struct sched *s, struct metrics_readings *r)
{
	if (s == NULL)
		return;
	r->queued = sched_queue_length(s);
	sched_foreach(s, scrape_running_cb, &r->running);
	r->disk_full = sched_disk_full(s) != NULL;
}

/* Reads the connections' counts. */
static void
scrape_conn(struct metrics_readings *r)
{
	struct conn_counts	c;

	conn_counts(&c);
	r->conn_open = c.open;
	r->conn_max = c.max;
	r->heads_refused = c.refused;
	r->conn_timed_out = c.timed_out;
	r->conn_shed = c.shed;
	r->accept_pauses = c.paused;
}

/* Fills r from the daemon's modules. */
void
scrape_read(struct asud *a, struct metrics_readings *r)
{
	uint64_t	stored_failures;

	memset(r, 0, sizeof *r);
	if (a->waiters != NULL)
		r->waiters = wait_count(a->waiters);
	if (a->followers != NULL)
		r->followers = follow_count(a->followers);
	/* Failures are exported by reason only (metrics_build_failed). */
	if (a->stats != NULL)
		stats_totals(a->stats, &r->build_requests, &r->cache_hits,
		    &r->cache_misses, &r->builds_ok, &stored_failures);
	scrape_queue(a->sched, r);
	if (a->ibcache != NULL)
		r->ib_downloads = ibcache_downloads(a->ibcache);
	r->ib_cache_bytes = scrape_cache_bytes(a->conf != NULL ?
	    a->conf->imagebuilder_dir : NULL);
	if (a->upstream != NULL)
		r->upstream_errors = upstream_errors(a->upstream);
	r->fetches = fetch_active();
	if (a->anscache != NULL) {
		r->answers = anscache_count(a->anscache);
		r->answer_bytes = anscache_bytes(a->anscache);
	}
	if (a->store != NULL)
		r->store_write_failures = store_write_failures(a->store);
	r->store_bytes = storemax_bytes();
	r->image_downloads = dlstat_total(a->store);
	scrape_conn(r);
}

/* GET /metrics. */
void
scrape_get(struct asud *a, struct evhttp_request *req, const char *arg)
{
	struct metrics_readings	 r;
	char			*text;
	size_t			 len;

	(void)arg;
	scrape_read(a, &r);
	text = metrics_text(&r, &len);
	http_header(req, "Cache-Control", "no-store");
	http_reply_data(req, 200, METRICS_CONTENT_TYPE, text, len);
	free(text);
}

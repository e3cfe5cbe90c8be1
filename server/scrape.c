/*
 * scrape.c: GET /metrics. The counters live in metrics.c, which knows no
 * other module; what the other modules own (queue, waiters, followers,
 * caches, the store, connections) is read here at scrape time, so that
 * nothing but this handler depends on all of them.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imagebuilder/fetch.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/unpack.h"
#include "store/store.h"
#include "server/anscache.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/conn.h"
#include "server/follow.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/sched.h"
#include "server/scrape.h"
#include "server/stats.h"
#include "server/upstream.h"
#include "server/wait.h"

/* Reads one ".asud-size" file; 0 when missing or not a number. */
static uint64_t
scrape_size_file(int dirfd, const char *name)
{
	struct stat		 st;
	char			 buf[32];
	char			*end;
	ssize_t			 n;
	unsigned long long	 v;
	int			 fd;

	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return (0);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (0);
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n'))
		return (0);
	return (v);
}

/*
 * Sums the unpacked sizes under dir, depth levels down
 * (<version>/<target>/<subtarget>); symbolic links are not followed.
 */
static uint64_t
scrape_walk(int dirfd, int depth)
{
	DIR		*d;
	struct dirent	*de;
	uint64_t	 sum = 0;
	int		 fd;

	if (depth == 0)
		return (scrape_size_file(dirfd, UNPACK_SIZE_FILE));
	fd = dup(dirfd);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			continue;
		sum += scrape_walk(fd, depth - 1);
		close(fd);
	}
	closedir(d);
	return (sum);
}

/* The bytes of the unpacked ImageBuilders under root. */
static uint64_t
scrape_cache_bytes(const char *root)
{
	uint64_t	sum;
	int		fd;

	if (root == NULL)
		return (0);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return (0);
	sum = scrape_walk(fd, 3);
	close(fd);
	return (sum);
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
	memset(r, 0, sizeof *r);
	if (a->waiters != NULL)
		r->waiters = wait_count(a->waiters);
	if (a->followers != NULL)
		r->followers = follow_count(a->followers);
	if (a->stats != NULL)
		stats_totals(a->stats, &r->build_requests, &r->cache_hits,
		    &r->cache_misses, &r->builds_ok, &r->builds_failed);
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

/*
 * sched.c: the scheduler: queue in memory, builds in flight, and their
 * ImageBuilders asked for. A 202 is only sent after sched_submit
 * committed; everything here can be rebuilt from the store. Results go
 * to outcome.c, results that cannot be kept to lost.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "lib/clock.h"
#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/build.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/pkgchanges.h"
#include "imagebuilder/slots.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/jsonw.h"
#include "server/lost.h"
#include "server/meta.h"
#include "server/metrics.h"
#include "server/outcome.h"
#include "server/qstore.h"
#include "server/queue.h"
#include "server/record.h"
#include "server/request.h"
#include "server/sched.h"

#define SCHED_LOG_MAX		(64 * 1024 * 1024)
#define SCHED_SWEEP_SECONDS	60

struct sched_job {
	struct sched		*s;
	struct queue_entry	*qe;
	char			 hash[65];
	struct request		 req;
	char			*profile_id;
	char			*request_json;
	size_t			 request_len;
	int64_t			 enqueued_ms;
	uint64_t		 qkey;
	int			 klass;
	struct build		*build;
	const char		*phase;
	struct evbuffer		*log;
	int			 log_truncated;
	int			 followed;	/* a follower asked */
	char			*work_dir;
	char			*bin_dir;
	long long		 started_ms;
	struct ibcache_wait	*wait;		/* its ImageBuilder is coming */
	char			*revision;	/* what make info said */
	struct slot		*slot;		/* its ImageBuilder copy */
	struct slots_wait	*slot_wait;	/* the copy is being made */
};

struct sched {
	struct asud		*a;
	struct sched_events	 ev;
	struct queue		*q;
	struct event		*kick;
	struct event		*sweep;
	struct lost		*lost;
	struct slots		*slots;
};

static void	sched_kick(struct sched *);
static void	sched_forget(struct sched_job *);
static void	sched_fail_unstored(struct sched_job *, const char *, int);
static void	sched_build_log(const char *, size_t, void *);
static int	sched_ib_moved(struct sched_job *, const char *);
static void	sched_ib_replace(struct sched *, const char *, const char *);

/* Frees a job and everything it owns (not its queue entry). */
static void
sched_job_free(void *arg)
{
	struct sched_job	*j = arg;

	if (j == NULL)
		return;
	if (j->build != NULL)
		build_cancel(j->build);
	if (j->wait != NULL)
		ibcache_cancel(j->wait);
	if (j->slot_wait != NULL)
		slots_cancel(j->slot_wait);
	if (j->slot != NULL)
		slots_give(j->slot);
	request_free(&j->req);
	free(j->profile_id);
	free(j->request_json);
	if (j->log != NULL)
		evbuffer_free(j->log);
	free(j->work_dir);
	free(j->bin_dir);
	free(j->revision);
	free(j);
}

/* Makes the in-memory job of a queued request. */
static struct sched_job *
sched_job_new(struct sched *s, const char *hash, const char *request_json,
    size_t request_len, const char *profile_id, char **cause)
{
	struct sched_job	*j;

	j = xcalloc(1, sizeof *j);
	j->s = s;
	snprintf(j->hash, sizeof j->hash, "%s", hash);
	if (request_from_json(request_json, request_len, &j->req,
	    cause) == -1) {
		free(j);
		return (NULL);
	}
	j->request_json = xmemdup(request_json, request_len);
	j->request_len = request_len;
	j->profile_id = xstrdup(profile_id);
	j->phase = "queued";
	return (j);
}

/* Tells the build log (and its followers) a line of asud's own. */
static void
sched_note(const char *line, void *arg)
{
	struct sched_job	*j = arg;

	if (j->log == NULL)
		return;
	sched_build_log(line, strlen(line), j);
	sched_build_log("\n", 1, j);
}

/* The job as outcome.c sees it. */
static void
sched_outcome_job(struct sched_job *j, struct outcome_job *o)
{
	*o = (struct outcome_job){ .hash = j->hash, .req = &j->req,
	    .profile_id = j->profile_id, .request_json = j->request_json,
	    .request_len = j->request_len, .klass = j->klass,
	    .enqueued_ms = j->enqueued_ms, .started_ms = j->started_ms,
	    .qkey = j->qkey, .phase = j->phase, .revision = j->revision,
	    .log = j->log, .bin_dir = j->bin_dir, .note = sched_note,
	    .note_arg = j };
}

/* Runs the kick event's work: start what can start. */
static void
sched_kick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched	*s = arg;

	sched_kick(s);
}

/* Periodic sweep of expired records. */
static void
sched_sweep_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sched	*s = arg;

	outcome_sweep(s->a);
}

/* Sets up the scheduler and its timers. */
struct sched *
sched_new(struct asud *a, const struct sched_events *ev)
{
	struct sched	*s;
	struct timeval	 tv = { SCHED_SWEEP_SECONDS, 0 };

	s = xcalloc(1, sizeof *s);
	s->a = a;
	s->ev = *ev;
	s->q = queue_new();
	s->kick = event_new(a->base, -1, 0, sched_kick_cb, s);
	s->sweep = event_new(a->base, -1, EV_PERSIST, sched_sweep_cb, s);
	if (s->kick == NULL || s->sweep == NULL)
		fatalx("sched_new: out of memory");
	event_add(s->sweep, &tv);
	s->lost = lost_new(a);
	s->slots = slots_new();
	return (s);
}

/* Asks the loop to look at the queue soon (never re-entrantly). */
static void
sched_kick_later(struct sched *s)
{
	event_active(s->kick, 0, 0);
}

/* Stores the final record and log, drops the job, starts the next. */
static void
sched_finish(struct sched_job *j, const char *body, size_t len, int state)
{
	struct outcome_job	 o;
	char			*cause = NULL;

	sched_outcome_job(j, &o);
	if (outcome_store(j->s->a, &o, state, body, len, &cause) == -1) {
		log_warnx("cannot store the result of %.12s: %s", j->hash,
		    cause);
		sched_fail_unstored(j, cause, 0);
		free(cause);
		return;
	}
	sched_forget(j);
}

/* A build that cannot be kept: body (taken) from memory, then forgotten. */
static void
sched_lost_body(struct sched_job *j, char *body, size_t len,
    const char *detail)
{
	lost_add(j->s->lost, j->hash, body, len, detail);
	sched_forget(j);
}

/*
 * A failed job: the request's fault is kept as its answer (a failure
 * record); the server's is answered from memory and forgotten, so that
 * the next POST of the request builds again.
 */
static void
sched_fail_why(struct sched_job *j, enum metrics_failure why, const char *msg,
    const char *out, const char *err, const struct strv *build_cmd)
{
	struct outcome_job	 o;
	char			*body;
	size_t			 len;

	sched_outcome_job(j, &o);
	body = outcome_fail_body(&o, msg, out, err, build_cmd, &len);
	outcome_failed(j->s->a, &o, msg, why);
	if (!outcome_kept(why)) {
		sched_lost_body(j, body, len, msg);
		return;
	}
	sched_finish(j, body, len, RECORD_FAILED);
	free(body);
}

/* A job that failed with msg before or outside its ImageBuilder's run. */
static void
sched_fail(struct sched_job *j, const char *msg, const char *out,
    const char *err, const struct strv *build_cmd)
{
	sched_fail_why(j, outcome_classify(msg, 0, 0), msg, out, err,
	    build_cmd);
}

/* A build that cannot be kept: answered from memory, then forgotten. */
static void
sched_lost(struct sched_job *j, const char *detail)
{
	struct outcome_job	 o;
	char			*body;
	size_t			 len;

	sched_outcome_job(j, &o);
	body = outcome_fail_body(&o, detail, NULL, NULL, NULL, &len);
	sched_lost_body(j, body, len, detail);
}

/* A build that failed for lack of disk space: not the request's fault. */
static void
sched_fail_space(struct sched_job *j, const char *msg)
{
	char	*detail;

	xasprintf(&detail, "the server's disk is full (No space left on "
	    "device: %s); try again later", msg);
	lost_disk_full_set(j->s->lost,
	    "No space left on device during a build");
	metrics_build_failed(METRICS_FAILED_DISK_FULL);
	sched_lost(j, detail);
	free(detail);
}

/*
 * A result that could not be stored (the record, or the images for lack
 * of disk space) fails visibly and is not kept.
 */
static void
sched_fail_unstored(struct sched_job *j, const char *cause, int room)
{
	char	*detail;

	if (room || store_full(j->s->a->store))
		lost_disk_full_set(j->s->lost, cause);
	xasprintf(&detail, "the result could not be stored (%s); try again "
	    "later", cause);
	sched_lost(j, detail);
	free(detail);
}

/* The server-side package changes, applied after make info. */
static void
sched_changes(struct strv *packages, const struct info *info, void *arg)
{
	struct sched_job	*j = arg;

	if (j->s->a->pkgchanges != NULL)
		pkgchanges_apply(j->s->a->pkgchanges, j->req.version,
		    j->req.target, j->profile_id, packages);
}

/* The result of a build that succeeded: stored, or failed after all. */
static void
sched_done(struct sched_job *j, const struct build_result *res)
{
	struct sched		*s = j->s;
	struct outcome_job	 o;
	char			*body, *msg;
	size_t			 len;

	sched_outcome_job(j, &o);
	switch (outcome_done(s->a, &o, res, &body, &len, &msg)) {
	case OUTCOME_NO_ROOM:
		metrics_build_failed(METRICS_FAILED_DISK_FULL);
		sched_fail_unstored(j, msg, 1);
		break;
	case OUTCOME_FAILED:
		sched_fail(j, msg, res->out, res->err, &res->build_cmd);
		break;
	case OUTCOME_OK:
		s->ev.build_seconds((clock_now_ms() - j->started_ms) / 1000.0,
		    s->ev.arg);
		log_info("build %.12s done in %lld ms (%lld ms in the "
		    "ImageBuilder)", j->hash, clock_now_ms() - j->enqueued_ms,
		    clock_now_ms() - j->started_ms);
		sched_finish(j, body, len, RECORD_DONE);
		break;
	}
	free(body);
	free(msg);
}

/* A finished build becomes a record; then the slot is free again. */
static void
sched_build_done(const struct build_result *res, void *arg)
{
	struct sched_job	*j = arg;
	const char		*msg;

	msg = res->error != NULL ? res->error : "failed";
	j->build = NULL;	/* build.c frees itself after this callback */
	if (res->revision != NULL) {
		ibcache_note_revision(j->qe->ib_key, res->revision, 0);
		j->revision = ibcache_revision(j->qe->ib_key, res->revision);
	}
	if (!res->ok && lost_no_space(j->s->lost, j->log, j->qe != NULL ?
	    j->qe->ib_key : NULL))
		sched_fail_space(j, msg);
	else if (!res->ok)
		sched_fail_why(j, outcome_classify(msg, res->timed_out,
		    res->signalled), msg, res->out, res->err, &res->build_cmd);
	else
		sched_done(j, res);
}

/* Removes a job's build directories (what the store did not take). */
static void
sched_tmp_clear(struct sched_job *j)
{
	if (j->bin_dir != NULL && fs_rmtree(j->bin_dir) == -1)
		log_warn("cannot remove %s", j->bin_dir);
	if (j->work_dir != NULL && fs_rmtree(j->work_dir) == -1)
		log_warn("cannot remove %s", j->work_dir);
}

/* Drops a job that ended: its files, its entry, its waiters' wait. */
static void
sched_forget(struct sched_job *j)
{
	struct sched	*s = j->s;
	char		*old = NULL, *key = NULL;

	sched_tmp_clear(j);
	if (j->qe != NULL && j->qe->running && sched_ib_moved(j,
	    j->qe->ib_key)) {
		old = xstrdup(j->qe->ib_key);
		xasprintf(&key, "%s/%s", j->req.version, j->req.target);
	}
	if (j->qe != NULL)
		queue_remove(s->q, j->qe);
	s->ev.ended(j->hash, s->ev.arg);
	s->ev.state(j->hash, s->ev.arg);
	sched_job_free(j);
	/* The last build in an ImageBuilder upstream replaced ended. */
	if (old != NULL && queue_busy(s->q, old) == 0)
		sched_ib_replace(s, old, key);
	free(old);
	free(key);
	s->ev.queue_moved(s->ev.arg);
	sched_kick_later(s);
}

/* Remembers the phase for status answers. */
static void
sched_build_phase(enum build_phase phase, void *arg)
{
	struct sched_job	*j = arg;

	j->phase = build_phase_name(phase);
	j->s->ev.state(j->hash, j->s->ev.arg);
}

/* Collects the combined output, bounded. */
static void
sched_build_log(const char *buf, size_t len, void *arg)
{
	struct sched_job	*j = arg;
	struct sched_events	*ev = &j->s->ev;
	static const char	 cut[] = "\n[asud: log truncated]\n";
	size_t			 at = evbuffer_get_length(j->log);

	if (at + len > SCHED_LOG_MAX) {
		if (!j->log_truncated) {
			evbuffer_add(j->log, cut, sizeof cut - 1);
			ev->log(j->hash, at, cut, sizeof cut - 1, ev->arg);
		}
		j->log_truncated = 1;
		return;
	}
	evbuffer_add(j->log, buf, len);
	ev->log(j->hash, at, buf, len, ev->arg);
}

/* True when upstream now offers another revision than dir was made of. */
static int
sched_ib_moved(struct sched_job *j, const char *dir)
{
	return (ibcache_moved(dir, meta_upstream_revision(j->s->a,
	    j->req.version, j->req.target)));
}

/* True when a queued or running build will use dir. */
static int
sched_ib_in_use(const char *dir, void *arg)
{
	struct sched		*s = arg;
	struct queue_entry	*e;

	for (e = queue_first(s->q); e != NULL; e = TAILQ_NEXT(e, link))
		if ((e->running || e->ready) && strcmp(e->ib_key, dir) == 0)
			return (1);
	return (0);
}

/*
 * Upstream moved: the ImageBuilder of dir is put aside and every waiting
 * build that would have used it waits for the new one instead.
 */
static void
sched_ib_replace(struct sched *s, const char *dir, const char *key)
{
	struct queue_entry	*e;
	char			*old = xstrdup(dir);

	log_info("upstream moved: replacing the ImageBuilder %s", old);
	for (e = queue_first(s->q); e != NULL; e = TAILQ_NEXT(e, link)) {
		if (e->running || strcmp(e->ib_key, old) != 0)
			continue;
		free(e->ib_key);
		e->ib_key = xstrdup(key);
		e->ready = 0;
	}
	/* Builds still run in its slots: it goes when the last one ends. */
	if (queue_busy(s->q, old) > 0) {
		free(old);
		return;
	}
	slots_forget(s->slots, old);
	ibcache_remove(s->a->ibcache, old);
	s->ev.ib_changed(s->ev.arg);
	free(old);
}

/* The build spec of a job whose ImageBuilder is ib_dir. */
static void
sched_spec(struct sched_job *j, const char *ib_dir, struct build_spec *spec,
    struct strv *wrapper, struct strv *hide)
{
	const struct conf	*c = j->s->a->conf;

	memset(spec, 0, sizeof *spec);
	spec->ib_dir = ib_dir;
	spec->work_dir = j->work_dir;
	spec->bin_dir = j->bin_dir;
	spec->profile = j->profile_id;
	spec->version_code = j->req.version_code;
	spec->packages = request_package_names(&j->req);
	spec->pv_names = &j->req.pv_names;
	spec->pv_versions = &j->req.pv_versions;
	spec->diff_packages = j->req.diff_packages;
	spec->defaults = j->req.defaults;
	spec->rootfs_size_mb = j->req.rootfs_size_mb;
	spec->filesystem = j->req.filesystem;
	spec->timeout = c->job_timeout;
	spec->hash = j->hash;
	spec->changes_cb = sched_changes;
	spec->changes_arg = j;
	spec->repo_names = &j->req.repo_names;
	spec->repo_urls = &j->req.repo_urls;
	spec->repositories_mode = j->req.repositories_mode;
	spec->repository_keys = &j->req.repository_keys;
	spec->feed_mirror = conf_feed_mirror(c);
	if (c->build_wrapper != NULL) {
		strv_split(wrapper, c->build_wrapper, " \t");
		spec->wrapper = wrapper;
	}
	if (j->s->a->sandboxed) {
		strv_add(hide, c->state_dir);
		strv_add(hide, c->imagebuilder_dir);
		spec->sandbox_bwrap = c->sandbox_bwrap;
		spec->sandbox_hide = hide;
	}
}

/*
 * Makes the build directory of a job, its BIN_DIR (renamed into the store
 * when done): one directory per build; the work directory beside it is
 * made only for a first-boot script. 0, or -1 with *cause.
 */
static int
sched_tmp(struct sched_job *j, const char *ib_dir, char **cause)
{
	xasprintf(&j->bin_dir, "%s/%s", j->s->a->tmp_dir, j->hash);
	xasprintf(&j->work_dir, "%s.work", j->bin_dir);
	sched_tmp_clear(j);
	if (mkdir(j->bin_dir, 0755) == -1) {
		xasprintf(cause, "cannot create a build directory: %s",
		    strerror(errno));
		return (-1);
	}
	if (*ib_dir != '/') {
		xasprintf(cause, "No ImageBuilder for %s %s on this server",
		    j->req.version, j->req.target);
		return (-1);
	}
	return (0);
}

/* Copies of one ImageBuilder that may build at once. */
static int
sched_slots_cap(const struct sched *s)
{
	const struct conf	*c = s->a->conf;

	if (c->slots_per_imagebuilder > 0 &&
	    c->slots_per_imagebuilder < c->build_jobs)
		return (c->slots_per_imagebuilder);
	return (c->build_jobs);
}

/* Runs the build of a started job in ib_dir (the ImageBuilder or a slot). */
static void
sched_run(struct sched_job *j, const char *ib_dir)
{
	struct build_spec	 spec;
	struct strv		 wrapper = STRV_INITIALIZER;
	struct strv		 hide = STRV_INITIALIZER;
	char			*label, *cause = NULL;

	xasprintf(&label, "/store/%s", j->hash);
	sched_spec(j, ib_dir, &spec, &wrapper, &hide);
	spec.bin_dir_label = label;
	log_info("build %.12s started: %s %s %s in %s", j->hash,
	    j->req.version, j->req.target, j->profile_id, ib_dir);
	j->started_ms = clock_now_ms();
	j->build = build_start(&spec, sched_build_phase, sched_build_log,
	    sched_build_done, j, &cause);
	if (j->build != NULL && j->followed)
		build_set_live(j->build);
	free(label);
	strv_clear(&wrapper);
	strv_clear(&hide);
	if (j->build == NULL) {
		sched_fail(j, cause, NULL, NULL, NULL);
		free(cause);
	}
}

/* Keeps the ImageBuilders and their slots within the disk budget. */
static void
sched_evict(struct sched *s)
{
	if (ibcache_evict(s->a->ibcache, s->a->catalog,
	    s->a->conf->imagebuilder_cache_max, sched_ib_in_use, s) > 0)
		s->ev.ib_changed(s->ev.arg);
}

/* The slot of a started job was made, or could not be. */
static void
sched_slot_ready(struct slot *slot, const char *error, void *arg)
{
	struct sched_job	*j = arg;
	char			*msg;

	j->slot_wait = NULL;
	if (slot == NULL) {
		xasprintf(&msg, "Could not set up the build: %s", error);
		sched_fail(j, msg, NULL, NULL, NULL);
		free(msg);
		return;
	}
	j->slot = slot;
	sched_evict(j->s);
	sched_run(j, slots_dir(slot));
}

/* Starts the build of one queue entry. */
static void
sched_start(struct sched *s, struct queue_entry *e)
{
	struct sched_job	*j = e->data;
	char			*key, *cause = NULL;

	if (sched_ib_moved(j, e->ib_key)) {
		xasprintf(&key, "%s/%s", j->req.version, j->req.target);
		sched_ib_replace(s, e->ib_key, key);
		free(key);
		sched_kick_later(s);
		return;
	}
	queue_start(s->q, e);
	j->phase = "init";
	s->ev.queue_moved(s->ev.arg);
	j->log = evbuffer_new();
	if (sched_tmp(j, e->ib_key, &cause) == -1) {
		sched_fail(j, cause, NULL, NULL, NULL);
		free(cause);
		return;
	}
	ibcache_touch(e->ib_key);
	if (sched_slots_cap(s) == 1) {
		sched_run(j, e->ib_key);
		return;
	}
	j->slot = slots_take(s->slots, e->ib_key, sched_slots_cap(s),
	    sched_slot_ready, j, &j->slot_wait, &cause);
	if (j->slot != NULL)
		sched_run(j, slots_dir(j->slot));
	else if (j->slot_wait != NULL) {
		j->phase = "container_setup";
		s->ev.state(j->hash, s->ev.arg);
	} else {
		sched_fail(j, cause, NULL, NULL, NULL);
		free(cause);
	}
}

/* The download or unpack phase of a waiting build. */
static void
sched_ib_phase(const char *phase, void *arg)
{
	struct sched_job	*j = arg;

	j->phase = phase;
	j->s->ev.state(j->hash, j->s->ev.arg);
}

/* The ImageBuilder of a waiting build is on disk, or will not be. */
static void
sched_ib_done(const char *dir, const char *error, void *arg)
{
	struct sched_job	*j = arg;
	struct sched		*s = j->s;
	const char		*rev;

	j->wait = NULL;
	if (dir == NULL) {	/* the server's fault: not kept */
		sched_fail_why(j, METRICS_FAILED_IMAGEBUILDER, error, NULL,
		    NULL, NULL);
		return;
	}
	queue_set_ready(j->qe, dir);
	j->phase = "queued";
	ibcache_touch(dir);
	if ((rev = meta_upstream_revision(s->a, j->req.version,
	    j->req.target)) != NULL)
		ibcache_note_revision(dir, rev, 1);
	s->ev.ib_changed(s->ev.arg);	/* let validation see it at once */
	sched_evict(s);
	sched_kick_later(s);
}

/* Asks for the ImageBuilders of waiting builds that have none on disk. */
static void
sched_prepare(struct sched *s)
{
	const struct catalog_target	*t;
	struct queue_entry		*e;
	struct sched_job		*j;
	const char			*dir;
	char				*vpath;

	for (e = queue_first(s->q); e != NULL; e = TAILQ_NEXT(e, link)) {
		j = e->data;
		if (e->running || e->ready || j->wait != NULL)
			continue;
		/*
		 * Validated just before its ImageBuilder was installed (in
		 * the same turn of the loop): it is on disk now, and a second
		 * download could not be installed over it.
		 */
		t = catalog_target(s->a->catalog, j->req.version,
		    j->req.target);
		dir = t != NULL ? catalog_target_dir(t) : NULL;
		if (dir != NULL && !sched_ib_moved(j, dir)) {
			queue_set_ready(e, dir);
			continue;
		}
		/* Its replacement comes once the builds in the old one end. */
		if (dir != NULL && queue_busy(s->q, dir) > 0)
			continue;
		vpath = meta_version_path(s->a, j->req.version);
		j->phase = "download_imagebuilder";
		j->wait = ibcache_ensure(s->a->ibcache, j->req.version,
		    j->req.target, vpath != NULL ? vpath : j->req.version,
		    sched_ib_phase, sched_ib_done, j);
		free(vpath);
	}
}

/* Starts builds while slots and ImageBuilders are free. */
static void
sched_kick(struct sched *s)
{
	struct queue_entry	*e;

	sched_prepare(s);
	while (queue_running(s->q) < (size_t)s->a->conf->build_jobs &&
	    (e = queue_next(s->q, (size_t)sched_slots_cap(s))) != NULL)
		sched_start(s, e);
}

/* Adds a job to the in-memory queue. */
static void
sched_enqueue_mem(struct sched *s, struct sched_job *j, const char *ib_dir)
{
	char	*key = NULL;

	if (ib_dir == NULL)
		xasprintf(&key, "%s/%s", j->req.version, j->req.target);
	j->qe = queue_add(s->q, j->qkey, j->hash, j->klass, j->enqueued_ms,
	    ib_dir != NULL ? ib_dir : key, j);
	j->qe->ready = ib_dir != NULL;
	free(key);
}

/* Writes the queued record and queue entry of a new job. */
static int
sched_commit(struct sched *s, struct sched_job *j, char **cause)
{
	struct record	 r;

	memset(&r, 0, sizeof r);
	r.state = RECORD_QUEUED;
	r.klass = j->klass;
	r.enqueued_ms = j->enqueued_ms;
	r.qkey = j->qkey;
	r.profile_id = j->profile_id;
	r.request = j->request_json;
	r.request_len = j->request_len;
	r.phase = "queued";
	if (qstore_commit(s->a->store, j->hash, &r, cause) == 0)
		return (0);
	if (store_full(s->a->store))
		lost_disk_full_set(s->lost, *cause);
	return (-1);
}

/* Commits a new request and queues it. */
int
sched_submit(struct sched *s, const char *hash, const struct request *req,
    const char *profile_id, const char *ib_dir, int klass, char **cause)
{
	struct sched_job	*j;
	yajl_gen		 g;
	char			*json;
	size_t			 len;
	int64_t			 now = clock_now_ms();

	/* Two identical requests validated at once: the first one counts. */
	if (queue_find(s->q, hash) != NULL)
		return (0);
	g = jsonw_new();
	request_to_json(req, g);
	json = jsonw_finish(g, &len);
	j = sched_job_new(s, hash, json, len, profile_id, cause);
	free(json);
	if (j == NULL)
		return (-1);
	j->enqueued_ms = now;
	j->klass = klass;
	j->qkey = queue_key(now, klass, s->a->conf->queue_class_delay);
	if (sched_commit(s, j, cause) == -1) {
		sched_job_free(j);
		return (-1);
	}
	sched_enqueue_mem(s, j, ib_dir);
	log_info("build %.12s queued: %s %s %s", hash, req->version,
	    req->target, profile_id);
	s->ev.queue_moved(s->ev.arg);
	sched_kick_later(s);
	return (0);
}

/* Rebuilds the job of one queued record read back from the store. */
static int
sched_restore_one(uint64_t qkey, const char *hash, const struct record *r,
    void *arg, char **cause)
{
	struct sched			*s = arg;
	const struct catalog_target	*t;
	struct sched_job		*j;

	j = sched_job_new(s, hash, r->request, r->request_len, r->profile_id,
	    cause);
	if (j == NULL)
		return (-1);
	j->enqueued_ms = r->enqueued_ms;
	j->klass = r->klass;
	j->qkey = qkey;
	t = catalog_target(s->a->catalog, j->req.version, j->req.target);
	sched_enqueue_mem(s, j, t != NULL ? catalog_target_dir(t) : NULL);
	return (0);
}

/* Reads the persisted queue back after a start. */
int
sched_restore(struct sched *s, char **cause)
{
	if (qstore_restore(s->a->store, sched_restore_one, s, cause) == -1)
		return (-1);
	sched_kick_later(s);
	return (0);
}

/*
 * The live log of a queued or running build, for a follower, NULL
 * otherwise; from now on the build's output comes at a follower's pace.
 */
struct evbuffer *
sched_live_log(struct asud *a, const char *hash)
{
	struct queue_entry	*e;
	struct sched_job	*j;

	if ((e = queue_find(a->sched->q, hash)) == NULL)
		return (NULL);
	j = e->data;
	j->followed = 1;
	if (j->build != NULL)
		build_set_live(j->build);
	return (j->log);
}

/* The live state of a hash. */
int
sched_status(struct sched *s, const char *hash, struct sched_status *st)
{
	struct queue_entry	*e;
	struct sched_job	*j;

	if ((e = queue_find(s->q, hash)) == NULL)
		return (0);
	j = e->data;
	st->running = e->running || j->wait != NULL;
	st->phase = st->running ? j->phase : "queued";
	st->position = st->running ? 0 : queue_position(s->q, e);
	return (1);
}

/* Requests waiting to start. */
size_t
sched_queue_length(struct sched *s)
{
	return (queue_waiting(s->q));
}

/* The lost result of hash (see lost.h); 1 when there is one. */
int
sched_lost_answer(struct sched *s, const char *hash, const char **body,
    size_t *len)
{
	return (lost_answer(s->lost, hash, body, len));
}

/* Forgets the lost result of hash so that it can be posted again. */
int
sched_lost_forget(struct sched *s, const char *hash, char **cause)
{
	return (lost_forget(s->lost, hash, cause));
}

/* Why the disk (or the store) is full, or NULL while it is not. */
const char *
sched_disk_full(struct sched *s)
{
	return (lost_disk_full(s->lost));
}

/* Stops everything; queued and running requests stay in the store. */
void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	queue_free(s->q, sched_job_free);
	slots_free(s->slots);
	lost_free(s->lost);
	event_free(s->kick);
	event_free(s->sweep);
	free(s);
}

/* Walks the queue for the operators' listing (GET /api/v1/queue). */
void
sched_foreach(struct sched *s, void (*cb)(const struct sched_view *, void *),
    void *arg)
{
	struct queue_entry	*e;
	struct sched_job	*j;
	struct sched_view	 v;
	size_t			 waiting = 0;

	for (e = queue_first(s->q); e != NULL; e = TAILQ_NEXT(e, link)) {
		j = e->data;
		memset(&v, 0, sizeof v);
		v.hash = e->hash;
		v.klass = e->klass;
		v.enqueued_ms = e->enqueued_ms;
		v.running = e->running || (j != NULL && j->wait != NULL);
		v.position = v.running ? 0 : waiting;
		if (!e->running)
			waiting++;
		if (j != NULL) {
			v.phase = v.running ? j->phase : "queued";
			v.version = j->req.version;
			v.target = j->req.target;
			v.profile = j->profile_id;
			v.client = j->req.client;
			v.started_ms = v.running ? j->started_ms : 0;
		} else
			v.phase = v.running ? "building" : "queued";
		cb(&v, arg);
	}
}

/*
 * outcome.c: a build's result made into its answer and its record. The
 * bodies carry the reference's fields in the reference's order; only
 * regular files of the images are stored; the record, the log and the
 * end of the queue entry are written together; the sweep deletes records
 * past their time. A failure is classified once, and only the request's
 * own kinds are kept.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <zstd.h>

#include "lib/clock.h"
#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/build.h"
#include "imagebuilder/runner.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/jsonw.h"
#include "server/meta.h"
#include "server/outcome.h"
#include "server/record.h"
#include "server/request.h"
#include "server/stats.h"
#include "server/storemax.h"

/* The directory entries of the images that are not regular files. */
struct outcome_odd {
	const struct outcome_job	*j;
	struct strv			 names;
};

/* The request and what the ImageBuilder printed, in both bodies. */
static void
outcome_run_json(yajl_gen g, const struct outcome_job *j, const char *status,
    const char *out, const char *err)
{
	yajl_val	 req;
	char		*cause = NULL;

	jsonw_kv_str(g, "imagebuilder_status", status);
	jsonw_key(g, "request");
	req = jsonw_parse(j->request_json, &cause);
	jsonw_tree(g, req);
	yajl_tree_free(req);
	free(cause);
	jsonw_kv_str(g, "stdout", out != NULL ? out : "");
	jsonw_kv_str(g, "stderr", err != NULL ? err : "");
}

/* The last fields of both bodies: when it was queued and its hash. */
static void
outcome_tail_json(yajl_gen g, const struct outcome_job *j)
{
	char	stamp[40];

	jsonw_time(j->enqueued_ms, stamp);
	jsonw_kv_str(g, "enqueued_at", stamp);
	jsonw_kv_str(g, "request_hash", j->hash);
}

/* The 500 body of a failed build (the reference's fields). */
char *
outcome_fail_body(const struct outcome_job *j, const char *msg,
    const char *out, const char *err, const struct strv *build_cmd,
    size_t *len)
{
	yajl_gen	 g;
	char		*detail, *body;

	xasprintf(&detail, "Error: %s", msg);
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "detail", detail);
	jsonw_kv_str(g, "error", detail);
	jsonw_kv_int(g, "status", 500);
	outcome_run_json(g, j, "failed", out, err);
	if (build_cmd != NULL && build_cmd->n > 0)
		jsonw_kv_strv(g, "build_cmd", build_cmd);
	outcome_tail_json(g, j);
	yajl_gen_map_close(g);
	body = jsonw_finish(g, len);
	free(detail);
	return (body);
}

/* True for the keys asud itself sets in a done answer. */
static int
outcome_own_key(const char *k)
{
	static const char *own[] = { "manifest", "id", "bin_dir",
	    "build_cmd_packages", "build_at", "detail", "imagebuilder_status",
	    "request", "stdout", "stderr", "build_cmd", "status",
	    "enqueued_at", "request_hash", "profiles", NULL };
	int	i;

	for (i = 0; own[i] != NULL; i++)
		if (strcmp(k, own[i]) == 0)
			return (1);
	return (0);
}

/* Emits profiles.json's top level and the built profile, merged. */
static void
outcome_profile_json(yajl_gen g, yajl_val top, yajl_val prof)
{
	size_t	i;

	for (i = 0; i < top->u.object.len; i++) {
		if (outcome_own_key(top->u.object.keys[i]) ||
		    jsonw_get(prof, top->u.object.keys[i]) != NULL)
			continue;
		jsonw_str(g, top->u.object.keys[i]);
		jsonw_tree(g, top->u.object.values[i]);
	}
	for (i = 0; i < prof->u.object.len; i++) {
		if (outcome_own_key(prof->u.object.keys[i]))
			continue;
		jsonw_str(g, prof->u.object.keys[i]);
		jsonw_tree(g, prof->u.object.values[i]);
	}
}

/* The 200 body: metadata, images, manifest and asud's own fields. */
static char *
outcome_done_body(const struct outcome_job *j, const struct build_result *res,
    yajl_val top, yajl_val prof, size_t *len)
{
	yajl_gen	 g;
	char		 stamp[40];
	size_t		 i;

	g = jsonw_new();
	yajl_gen_map_open(g);
	outcome_profile_json(g, top, prof);
	jsonw_key(g, "manifest");
	yajl_gen_map_open(g);
	for (i = 0; i < res->manifest.names.n; i++)
		jsonw_kv_str(g, res->manifest.names.v[i],
		    res->manifest.versions.v[i]);
	yajl_gen_map_close(g);
	jsonw_kv_str(g, "id", j->profile_id);
	jsonw_kv_str(g, "bin_dir", j->hash);
	jsonw_kv_strv(g, "build_cmd_packages", &res->packages);
	jsonw_time(clock_now_ms(), stamp);
	jsonw_kv_str(g, "build_at", stamp);
	jsonw_kv_str(g, "detail", "done");
	outcome_run_json(g, j, "done", res->out, res->err);
	jsonw_kv_strv(g, "build_cmd", &res->build_cmd);
	jsonw_kv_int(g, "status", 200);
	outcome_tail_json(g, j);
	yajl_gen_map_close(g);
	return (jsonw_finish(g, len));
}

/* How long a result lives (reference/asu-api.md §1.3). */
static int64_t
outcome_ttl(const struct conf *c, const struct request *req)
{
	if (req->defaults != NULL && *req->defaults != '\0')
		return (c->build_defaults_ttl);
	if (req->pv_names.n > 0)
		return (c->build_ttl);
	return (c->build_ttl_unversioned);
}

/* What a file that is not a regular one is, for the build log. */
static const char *
outcome_file_kind(mode_t mode)
{
	static const struct {
		mode_t		 type;
		const char	*name;
	} kinds[] = {
		{ S_IFIFO, "a FIFO" },
		{ S_IFLNK, "a symbolic link" },
		{ S_IFSOCK, "a socket" },
		{ S_IFDIR, "a directory" },
		{ S_IFCHR, "a device" },
		{ S_IFBLK, "a device" },
	};
	size_t	i;

	for (i = 0; i < nitems(kinds); i++)
		if ((mode & S_IFMT) == kinds[i].type)
			return (kinds[i].name);
	return ("of an unknown type");
}

/* Tells the build log (and its followers) that a file was left out. */
static void
outcome_note_skipped(const struct outcome_job *j, const char *name,
    mode_t mode)
{
	char	*safe, *line, *p;

	safe = xstrdup(name);
	for (p = safe; *p != '\0'; p++)	/* a name is hostile text */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	xasprintf(&line, "[asud: %s left out of the store: %s, not a regular "
	    "file]", safe, outcome_file_kind(mode));
	log_info("build %.12s: %s", j->hash, line);
	j->note(line, j->note_arg);
	free(line);
	free(safe);
}

/* Notes an entry of the images that is not a regular file. */
static void
outcome_odd_entry(int dirfd, const char *name, void *arg)
{
	struct outcome_odd	*odd = arg;
	struct stat		 st;

	st.st_mode = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		return;
	outcome_note_skipped(odd->j, name, st.st_mode);
	strv_add(&odd->names, name);
}

/*
 * Keeps only regular files where the ImageBuilder wrote its images: a
 * FIFO, a socket, a device, a link or a directory is removed and named
 * in the build log, so that nothing else is ever stored or served.
 */
static int
outcome_keep_files(const struct outcome_job *j, char **cause)
{
	struct outcome_odd	 odd = { j, STRV_INITIALIZER };
	char			*path;
	size_t			 i;
	int			 rc = 0;

	if (fs_dir_each(AT_FDCWD, j->bin_dir, outcome_odd_entry,
	    &odd) == -1) {
		xasprintf(cause, "cannot read the images: %s",
		    strerror(errno));
		return (-1);
	}
	for (i = 0; i < odd.names.n && rc == 0; i++) {
		xasprintf(&path, "%s/%s", j->bin_dir, odd.names.v[i]);
		if ((rc = fs_rmtree(path)) == -1)
			xasprintf(cause, "cannot remove what is not a file "
			    "from the images: %s", strerror(errno));
		free(path);
	}
	strv_clear(&odd.names);
	return (rc);
}

/*
 * Moves the built images into the store under the request hash; *room is
 * set when that failed for lack of disk space.
 */
static int
outcome_install(struct asud *a, const struct outcome_job *j, int *room,
    char **cause)
{
	char	*dst;
	int	 rc = 0;

	*room = 0;
	if (outcome_keep_files(j, cause) == -1)
		return (-1);
	xasprintf(&dst, "%s/%s", a->store_dir, j->hash);
	if (fs_rmtree(dst) == -1 && errno != ENOENT)
		log_warn("cannot remove old %s", dst);
	if (chmod(j->bin_dir, 0755) == -1 || rename(j->bin_dir, dst) == -1) {
		*room = errno == ENOSPC || errno == EDQUOT;
		xasprintf(cause, "cannot move the images into the store: %s",
		    strerror(errno));
		rc = -1;
	}
	free(dst);
	return (rc);
}

/* True when name is listed in the array arr. */
static int
outcome_in_array(yajl_val arr, const char *name)
{
	size_t	i;

	for (i = 0; arr != NULL && YAJL_IS_ARRAY(arr) && i < arr->u.array.len;
	    i++)
		if (YAJL_IS_STRING(arr->u.array.values[i]) &&
		    strcmp(arr->u.array.values[i]->u.string, name) == 0)
			return (1);
	return (0);
}

/* Counts a success and the packages asked for beyond the defaults. */
static void
outcome_count_done(struct asud *a, const struct outcome_job *j, yajl_val top,
    yajl_val prof)
{
	const struct strv	*names = request_package_names(j->req);
	struct strv		 extra = STRV_INITIALIZER;
	struct conf_branch	*b;
	size_t			 i;
	time_t			 now = time(NULL);

	stats_success(a->stats, now, j->req->version, j->req->target,
	    j->profile_id, (clock_now_ms() - j->started_ms) / 1000);
	for (i = 0; i < names->n; i++)
		if (names->v[i][0] != '-' &&
		    !outcome_in_array(jsonw_get(top, "default_packages"),
		    names->v[i]) &&
		    !outcome_in_array(jsonw_get(prof, "device_packages"),
		    names->v[i]))
			strv_add(&extra, names->v[i]);
	b = meta_branch_of(a, j->req->version);
	if (extra.n > 0)
		stats_packages(a->stats, now, b != NULL ? b->name :
		    j->req->version, &extra);
	strv_clear(&extra);
}

/* A successful build: its images stored, its 200, its statistics. */
enum outcome_done
outcome_done(struct asud *a, const struct outcome_job *j,
    const struct build_result *res, char **body, size_t *len, char **msg)
{
	yajl_val	 top, prof = NULL;
	char		*cause = NULL;
	int		 room;

	*body = *msg = NULL;
	if ((top = jsonw_parse(res->profiles_json, &cause)) != NULL)
		prof = jsonw_get(jsonw_get(top, "profiles"), j->profile_id);
	free(cause);
	if (prof == NULL || !YAJL_IS_OBJECT(prof) || !YAJL_IS_OBJECT(top)) {
		yajl_tree_free(top);
		*msg = xstrdup("Profile not found in JSON file");
		return (OUTCOME_FAILED);
	}
	if (outcome_install(a, j, &room, msg) == -1) {
		yajl_tree_free(top);
		return (room ? OUTCOME_NO_ROOM : OUTCOME_FAILED);
	}
	*body = outcome_done_body(j, res, top, prof, len);
	outcome_count_done(a, j, top, prof);
	yajl_tree_free(top);
	return (OUTCOME_OK);
}

/*
 * The failure messages by how they begin (reference/asu-api.md §5.3,
 * §5.4; an ImageBuilder missing or broken, or its working copy not
 * made, as build.c and sched.c say it; a step Slurm ended, as runner.c
 * says it).
 */
static const struct {
	const char		*prefix;
	enum metrics_failure	 why;
} outcome_reasons[] = {
	{ "Impossible package selection", METRICS_FAILED_PACKAGES },
	{ "Selected packages exceed device storage", METRICS_FAILED_TOO_BIG },
	{ "Profile not found in JSON file", METRICS_FAILED_PROFILE },
	{ "Received incorrect version ", METRICS_FAILED_VERSION },
	{ "Build timed out after ", METRICS_FAILED_TIMEOUT },
	{ RUNNER_LOST_PREFIX, METRICS_FAILED_LOST },
	{ "Could not restore the ImageBuilder", METRICS_FAILED_IMAGEBUILDER },
	{ "No ImageBuilder for ", METRICS_FAILED_IMAGEBUILDER },
	{ "Could not set up the build: ", METRICS_FAILED_IMAGEBUILDER },
};

/* Whether a failure of each kind is kept as the request's answer. */
static const int outcome_kept_reasons[METRICS_NFAILURES] = {
	[METRICS_FAILED_OTHER] = 1,
	[METRICS_FAILED_PACKAGES] = 1,
	[METRICS_FAILED_TOO_BIG] = 1,
	[METRICS_FAILED_PROFILE] = 1,
	[METRICS_FAILED_VERSION] = 1,
};

/* Why a build failed: how its last command ended, else its message. */
enum metrics_failure
outcome_classify(const char *msg, int timed_out, int signalled)
{
	size_t	i;

	if (timed_out)
		return (METRICS_FAILED_TIMEOUT);
	if (signalled)
		return (METRICS_FAILED_LOST);
	for (i = 0; msg != NULL && i < nitems(outcome_reasons); i++)
		if (strncmp(msg, outcome_reasons[i].prefix,
		    strlen(outcome_reasons[i].prefix)) == 0)
			return (outcome_reasons[i].why);
	return (METRICS_FAILED_OTHER);
}

/* True when a failure of that kind is the request's: it is kept. */
int
outcome_kept(enum metrics_failure why)
{
	return ((size_t)why < METRICS_NFAILURES && outcome_kept_reasons[why]);
}

/* Says and counts a failure. */
void
outcome_failed(struct asud *a, const struct outcome_job *j, const char *msg,
    enum metrics_failure why)
{
	log_info("build %.12s failed (%s): %s", j->hash,
	    metrics_failure_label(why), msg);
	stats_failure(a->stats, time(NULL), j->req->version, j->req->target,
	    j->profile_id, msg);
	metrics_build_failed(why);
}

/* Compresses the combined log for the store. */
static void *
outcome_log_compress(const struct outcome_job *j, size_t *len)
{
	unsigned char	*src;
	void		*dst;
	size_t		 n, bound, out;

	n = evbuffer_get_length(j->log);
	src = evbuffer_pullup(j->log, -1);
	bound = ZSTD_compressBound(n);
	dst = xmalloc(bound);
	out = ZSTD_compress(dst, bound, src, n, 3);
	if (ZSTD_isError(out)) {
		log_warnx("log of %.12s: %s", j->hash, ZSTD_getErrorName(out));
		free(dst);
		return (NULL);
	}
	*len = out;
	return (dst);
}

/* Stores the final record and log in place of the queue entry. */
int
outcome_store(struct asud *a, const struct outcome_job *j, int state,
    const char *body, size_t len, char **cause)
{
	const struct conf	*c = a->conf;
	struct record		 r;
	void			*rec, *log = NULL;
	size_t			 reclen, loglen = 0;
	int			 rc;

	memset(&r, 0, sizeof r);
	r.state = state;
	r.klass = j->klass;
	r.enqueued_ms = j->enqueued_ms;
	r.expires = time(NULL) + (state == RECORD_FAILED ?
	    c->build_failure_ttl : outcome_ttl(c, j->req));
	r.qkey = 0;
	r.profile_id = j->profile_id;
	r.request = j->request_json;
	r.request_len = j->request_len;
	r.body = body;
	r.body_len = len;
	r.phase = state == RECORD_FAILED ? j->phase : "done";
	r.revision = j->revision;
	rec = record_encode(&r, &reclen);
	if (j->log != NULL)
		log = outcome_log_compress(j, &loglen);
	rc = store_finish(a->store, j->hash, j->qkey, rec, reclen, log,
	    loglen, cause);
	free(rec);
	free(log);
	if (rc == 0 && state == RECORD_DONE)
		storemax_stored(a, j->hash);
	return (rc);
}

/* What the sweep collects: the records whose time is up. */
struct outcome_sweep_ctx {
	struct strv	*expired;
	int64_t		 now;
};

/* Collects the hashes of finished records whose time is up. */
static int
outcome_sweep_collect(const char *hash, const void *val, size_t len,
    void *arg)
{
	struct outcome_sweep_ctx	*ctx = arg;
	struct record			 r;

	if (record_decode(val, len, &r) == -1)
		return (0);
	if (r.state != RECORD_QUEUED && r.expires != 0 && r.expires <= ctx->now)
		strv_add(ctx->expired, hash);
	return (0);
}

/* Deletes records whose time is up, with their images. */
void
outcome_sweep(struct asud *a)
{
	struct strv			 expired = STRV_INITIALIZER;
	struct outcome_sweep_ctx	 ctx;
	size_t				 i;
	char				*cause = NULL;

	ctx.expired = &expired;
	ctx.now = time(NULL);
	if (store_record_foreach(a->store, outcome_sweep_collect, &ctx,
	    &cause) == -1) {
		log_warnx("sweep: %s", cause);
		free(cause);
		return;
	}
	for (i = 0; i < expired.n; i++) {
		if (storemax_remove(a, expired.v[i], METRICS_REMOVED_EXPIRED,
		    &cause) == -1) {
			log_warnx("sweep: %s", cause);
			free(cause);
			cause = NULL;
		}
	}
	if (expired.n > 0)
		log_info("sweep: %zu expired builds removed", expired.n);
	strv_clear(&expired);
}

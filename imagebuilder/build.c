/*
 * build.c: one firmware build as a small state machine over jobs. After
 * setting up its directories it runs `make info`, `make manifest` and
 * `make image` in the ImageBuilder, one after the other, checks what each
 * printed the way the reference server does, and reports phases, the
 * combined output and the result through the caller's callbacks. A
 * build's own repositories and keys are written into the ImageBuilder at
 * setup and always put back when the build ends (imagebuilder/repos.c).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <yajl/yajl_tree.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/build.h"
#include "imagebuilder/capture.h"
#include "imagebuilder/info.h"
#include "imagebuilder/job.h"
#include "imagebuilder/manifest.h"
#include "imagebuilder/pkgerr.h"
#include "imagebuilder/pkglist.h"
#include "imagebuilder/repos.h"
#include "imagebuilder/runner.h"
#include "imagebuilder/sandbox.h"

/* The largest profiles.json read from BIN_DIR. */
#define BUILD_JSON_MAX		(16 * 1024 * 1024)
/* Deeper JSON is refused: yajl frees its trees recursively. */
#define BUILD_JSON_DEPTH	64
/* Hex digits of the package hash in EXTRA_IMAGE_NAME. */
#define BUILD_IMAGE_HASH_LEN	12
/* Where the defaults script goes below FILES. */
#define BUILD_DEFAULTS_PATH	"etc/uci-defaults/99-asu-defaults"

enum build_step {
	BUILD_STEP_SETUP,
	BUILD_STEP_INFO,
	BUILD_STEP_MANIFEST,
	BUILD_STEP_IMAGE
};

struct build {
	char			*ib_dir;
	char			*work_dir;
	char			*bin_dir;
	char			*bin_dir_label;
	char			*profile;
	char			*version_code;
	char			*defaults;
	char			*filesystem;
	struct strv		 packages;
	struct strv		 pv_names;
	struct strv		 pv_versions;
	struct strv		 wrapper;
	char			*sandbox_bwrap;
	struct strv		 sandbox_hide;
	int			 diff_packages;
	int			 rootfs_size_mb;
	int			 timeout;
	build_changes_cb	 changes_cb;
	void			*changes_arg;
	struct strv		 repo_names;
	struct strv		 repo_urls;
	char			*repositories_mode;
	struct strv		 repository_keys;
	char			*feed_mirror;
	int			 injected;	/* repos.c wrote into the IB */
	char			 job_name[RUNNER_NAME_SIZE]; /* "": none */

	build_phase_cb		 phase_cb;
	build_log_cb		 log_cb;
	build_done_cb		 done_cb;
	void			*arg;

	struct strv		 env;
	struct event		*start_ev;
	struct job		*job;
	enum build_step		 step;
	struct timespec		 deadline;
	int			 busy;		/* in one of our callbacks */
	int			 dead;		/* finished or cancelled */
	int			 live;		/* someone follows the log */
	char			*files_dir;	/* FILES, or NULL */
	int			 info_parsed;

	struct capture		 out;
	struct capture		 err;
	char			 scan_tail[16];	/* end of the last chunk */
	size_t			 scan_tail_len;
	int			 too_big;

	struct info		 info;
	struct build_result	 result;
};

/* Variables that would change what make does behind our back. */
static const char *build_env_drop[] = {
	"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "LC_ALL",
	"PROFILE", "PACKAGES", "FILES", "BIN_DIR", "EXTRA_IMAGE_NAME",
	"ROOTFS_PARTSIZE", "ROOTFS_FILESYSTEM", "DISABLED_SERVICES",
	"ADD_LOCAL_KEY", "STRIP_ABI", "EXTRA_PACKAGES", NULL
};

/* stderr texts of `make image` that mean the image does not fit. */
static const char *build_too_big[] = { "is too big", "out of space?", NULL };

/* The client-facing names of the phases, in enum build_phase order. */
static const char *const build_phase_names[] = {
	"container_setup",		/* BUILD_PHASE_SETUP */
	"validate_revision",		/* BUILD_PHASE_REVISION */
	"validate_manifest",		/* BUILD_PHASE_MANIFEST */
	"building_image"		/* BUILD_PHASE_IMAGE */
};

/* The daemon's event base, for the deferred first step of each build. */
static struct event_base	*build_base;

static void	build_run_info(struct build *);
static void	build_run_manifest(struct build *);
static void	build_run_image(struct build *);
static void	build_job_complete(struct job *, int, int, void *);

/* Remembers the event base every build defers its first step on. */
void
build_init(struct event_base *base)
{
	build_base = base;
}

/* The client-facing phase names of reference/asu-api.md §1.4. */
const char *
build_phase_name(enum build_phase phase)
{
	if ((size_t)phase >= nitems(build_phase_names))
		return ("unknown");
	return (build_phase_names[phase]);
}

/* Builds the children's environment: ours without make's own settings. */
static void
build_env(struct strv *env)
{
	const char	*eq;
	size_t		 i, j, len;

	for (i = 0; environ[i] != NULL; i++) {
		if ((eq = strchr(environ[i], '=')) == NULL)
			continue;
		len = (size_t)(eq - environ[i]);
		for (j = 0; build_env_drop[j] != NULL; j++) {
			if (strlen(build_env_drop[j]) == len &&
			    strncmp(environ[i], build_env_drop[j], len) == 0)
				break;
		}
		if (build_env_drop[j] == NULL)
			strv_add(env, environ[i]);
	}
	strv_add(env, "LC_ALL=C");
}

/* Copies an optional string of the spec. */
static char *
build_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/* Copies an optional vector of the spec. */
static void
build_strv_copy(struct strv *dst, const struct strv *src)
{
	if (src != NULL)
		strv_copy(dst, src);
}

/* Releases everything a build holds, the running job included. */
static void
build_free(struct build *b)
{
	struct build_result	*r = &b->result;

	if (b->job != NULL)
		job_kill(b->job);
	if (b->start_ev != NULL)
		event_free(b->start_ev);
	free(b->ib_dir);
	free(b->work_dir);
	free(b->bin_dir);
	free(b->bin_dir_label);
	free(b->profile);
	free(b->version_code);
	free(b->defaults);
	free(b->filesystem);
	free(b->files_dir);
	strv_clear(&b->packages);
	strv_clear(&b->pv_names);
	strv_clear(&b->pv_versions);
	strv_clear(&b->wrapper);
	free(b->sandbox_bwrap);
	strv_clear(&b->sandbox_hide);
	strv_clear(&b->repo_names);
	strv_clear(&b->repo_urls);
	free(b->repositories_mode);
	free(b->feed_mirror);
	strv_clear(&b->repository_keys);
	strv_clear(&b->env);
	capture_reset(&b->out);
	capture_reset(&b->err);
	if (b->info_parsed)
		info_free(&b->info);
	free(r->error);
	free(r->out);
	free(r->err);
	free(r->revision);
	strv_clear(&r->build_cmd);
	strv_clear(&r->packages);
	manifest_free(&r->manifest);
	free(r->profiles_json);
	free(b);
}

/* Marks the start of code that calls out and may see the build cancelled. */
static void
build_enter(struct build *b)
{
	b->busy++;
}

/* Frees a build that ended while we were inside it. */
static void
build_leave(struct build *b)
{
	if (--b->busy == 0 && b->dead)
		build_free(b);
}

/*
 * Puts back what the build wrote into the ImageBuilder. A failure leaves
 * the saved copies, which the next build in this directory restores.
 */
static void
build_teardown(struct build *b)
{
	char	*cause = NULL;

	if (!b->injected)
		return;
	b->injected = 0;
	if (repos_restore(b->ib_dir, &cause) == -1) {
		log_warnx("%s: could not put back the repositories: %s",
		    b->ib_dir, cause);
		free(cause);
	}
}

/* Ends the build: fills the result and hands it to the caller once. */
static void
build_finish(struct build *b, const char *error, int timed_out)
{
	struct build_result	*r = &b->result;

	if (b->dead)
		return;
	b->dead = 1;
	build_teardown(b);
	r->ok = error == NULL;
	r->timed_out = timed_out;
	r->error = build_strdup(error);
	r->out = capture_string(&b->out);
	r->err = capture_string(&b->err);
	if (error != NULL)
		log_debug("build in %s failed: %s", b->ib_dir, error);
	b->done_cb(r, b->arg);
}

/* Ends the build with a formatted error. */
static void __attribute__((format(printf, 2, 3)))
build_failf(struct build *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	build_finish(b, msg, 0);
	free(msg);
}

/*
 * Ends a build that timed out (result.timed_out set), or whose step Slurm
 * ended, once its cluster job left the queue (runner_cancel).
 */
static void
build_gone(void *arg)
{
	struct build	*b = arg;
	char		*msg;

	build_enter(b);
	if (b->result.timed_out)
		xasprintf(&msg, "Build timed out after %d seconds", b->timeout);
	else
		msg = runner_lost(capture_text(&b->err), b->err.len);
	build_finish(b, msg != NULL ? msg : "Build lost", b->result.timed_out);
	free(msg);
	build_leave(b);
}

/* Tells the caller about a phase; returns 0 if it cancelled the build. */
static int
build_phase(struct build *b, enum build_phase phase)
{
	if (!b->dead && b->phase_cb != NULL)
		b->phase_cb(phase, b->arg);
	return (!b->dead);
}

/* Seconds left before the deadline (0: none); -1 when it has passed. */
static int
build_remaining(const struct build *b, int *secs)
{
	struct timespec	now;
	double		left;

	*secs = 0;
	if (b->timeout <= 0)
		return (0);
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (double)(b->deadline.tv_sec - now.tv_sec) +
	    (double)(b->deadline.tv_nsec - now.tv_nsec) / 1e9;
	if (left <= 0)
		return (-1);
	*secs = (int)left;
	if ((double)*secs < left)
		(*secs)++;
	return (0);
}

/* Looks for the "image does not fit" texts, also across chunk edges. */
static void
build_scan(struct build *b, const char *buf, size_t len)
{
	char	*tmp;
	size_t	 n, i, keep;

	if (b->too_big)
		return;
	n = b->scan_tail_len + len;
	tmp = xmalloc(n);
	memcpy(tmp, b->scan_tail, b->scan_tail_len);
	memcpy(tmp + b->scan_tail_len, buf, len);
	for (i = 0; build_too_big[i] != NULL; i++) {
		if (memmem(tmp, n, build_too_big[i],
		    strlen(build_too_big[i])) != NULL)
			b->too_big = 1;
	}
	keep = n < sizeof b->scan_tail ? n : sizeof b->scan_tail;
	memcpy(b->scan_tail, tmp + n - keep, keep);
	b->scan_tail_len = keep;
	free(tmp);
}

/* Output of the running command: keep it, scan it, pass it on. */
static void
build_job_output(struct job *job __unused, int which, const char *buf,
    size_t len, void *arg)
{
	struct build	*b = arg;

	build_enter(b);
	if (!b->dead) {
		if (which == JOB_STDOUT) {
			capture_add(&b->out, buf, len);
		} else {
			capture_add(&b->err, buf, len);
			if (b->step == BUILD_STEP_IMAGE)
				build_scan(b, buf, len);
		}
		if (b->log_cb != NULL)
			b->log_cb(buf, len, b->arg);
	}
	build_leave(b);
}

/* Adds the directory of a file:// URL to dirs. */
static void
build_file_dir(const char *url, struct strv *dirs)
{
	if (url != NULL && strncmp(url, "file://", 7) == 0 && url[7] == '/')
		strv_add(dirs, url + 7);
}

/* The directories of file:// repositories, which the sandbox shows. */
static void
build_repo_dirs(struct build *b, struct strv *dirs)
{
	size_t	i;

	for (i = 0; i < b->repo_urls.n; i++)
		build_file_dir(b->repo_urls.v[i], dirs);
}

/* Appends the sandbox's part of the argv for the current step. */
static void
build_sandbox(struct build *b, struct strv *argv)
{
	struct sandbox_spec	spec;
	struct strv		rw = STRV_INITIALIZER;
	struct strv		ro = STRV_INITIALIZER;
	struct strv		shown = STRV_INITIALIZER;

	strv_add(&rw, b->ib_dir);
	if (b->files_dir != NULL)
		strv_add(&rw, b->work_dir);
	strv_add(&rw, b->bin_dir);
	build_repo_dirs(b, &ro);
	/* A file:// mirror stays readable even inside a hidden directory. */
	build_file_dir(b->feed_mirror, &shown);
	memset(&spec, 0, sizeof spec);
	spec.bwrap = b->sandbox_bwrap;
	spec.hide = &b->sandbox_hide;
	spec.rw = &rw;
	spec.ro = &ro;
	spec.shown = &shown;
	/* make info reads only the ImageBuilder; the others fetch. */
	spec.net = b->step != BUILD_STEP_INFO;
	sandbox_argv(argv, &spec);
	strv_clear(&rw);
	strv_clear(&ro);
	strv_clear(&shown);
}

/*
 * Starts wrapper + sandbox + args in the ImageBuilder; on failure ends
 * the build.
 */
static int
build_spawn(struct build *b, const struct strv *args)
{
	struct strv	 argv = STRV_INITIALIZER;
	char		*cause = NULL;
	int		 secs;

	if (build_remaining(b, &secs) == -1) {
		b->result.timed_out = 1;
		build_gone(b);
		return (-1);
	}
	runner_argv(&argv, b->job_name);
	strv_copy(&argv, &b->wrapper);
	if (b->sandbox_bwrap != NULL)
		build_sandbox(b, &argv);
	strv_copy(&argv, args);
	capture_reset(&b->out);
	capture_reset(&b->err);
	b->scan_tail_len = 0;
	/* The build outlives its jobs: nothing for the job to free. */
	b->job = job_run(argv.v, b->ib_dir, b->env.v, secs, build_job_output,
	    build_job_complete, NULL, b, &cause);
	strv_clear(&argv);
	if (b->job == NULL) {
		build_failf(b, "Could not run make: %s", cause);
		free(cause);
		return (-1);
	}
	if (b->live)
		job_set_live(b->job);
	return (0);
}

/* See build.h. */
void
build_set_live(struct build *b)
{
	b->live = 1;
	if (b->job != NULL)
		job_set_live(b->job);
}

/* Whether a wait status is a clean exit 0. */
static int
build_status_ok(int status)
{
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Refuses a directory that has anything in it. */
static int
build_dir_empty(const char *path, char **cause)
{
	DIR		*d;
	struct dirent	*de;
	int		 rc = 0;

	if ((d = opendir(path)) == NULL) {
		xasprintf(cause, "Could not open %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			xasprintf(cause, "%s is not empty", path);
			rc = -1;
			break;
		}
	}
	closedir(d);
	return (rc);
}

/* Writes the user's first-boot script where FILES will point. */
static int
build_write_defaults(struct build *b, char **cause)
{
	char	*dir, *path;
	int	 rc = 0;

	xasprintf(&b->files_dir, "%s/files", b->work_dir);
	xasprintf(&dir, "%s/etc/uci-defaults", b->files_dir);
	xasprintf(&path, "%s/%s", b->files_dir, BUILD_DEFAULTS_PATH);
	if (fs_mkdirs(dir, 0755) == -1 ||
	    fs_write_file(path, b->defaults, strlen(b->defaults), 0644) == -1 ||
	    chmod(path, 0644) == -1) {
		xasprintf(cause, "Could not write %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	free(dir);
	free(path);
	return (rc);
}

/* Writes this build's repositories and keys into the ImageBuilder. */
static int
build_inject(struct build *b, char **cause)
{
	struct repos_spec	spec;

	if (b->repo_names.n == 0 && b->repository_keys.n == 0 &&
	    b->feed_mirror == NULL)
		return (0);
	memset(&spec, 0, sizeof spec);
	spec.names = &b->repo_names;
	spec.urls = &b->repo_urls;
	spec.mode = b->repositories_mode;
	spec.keys = &b->repository_keys;
	spec.feed_mirror = b->feed_mirror;
	if (repos_inject(b->ib_dir, &spec, cause) == -1)
		return (-1);
	b->injected = 1;
	return (0);
}

/*
 * Creates the output directory and, for a first-boot script only, the
 * work directory with the defaults file, after putting back what a
 * crashed build left in the ImageBuilder, and writes the build's
 * repositories and keys.
 */
static int
build_setup(struct build *b, char **cause)
{
	char	*why = NULL;

	if (repos_restore(b->ib_dir, &why) == -1) {
		xasprintf(cause, "Could not restore the ImageBuilder: %s", why);
		free(why);
		return (-1);
	}
	if (fs_mkdirs(b->bin_dir, 0755) == -1) {
		xasprintf(cause, "Could not create %s: %s", b->bin_dir,
		    strerror(errno));
		return (-1);
	}
	if (build_dir_empty(b->bin_dir, cause) == -1)
		return (-1);
	if (b->defaults != NULL && *b->defaults != '\0' &&
	    build_write_defaults(b, cause) == -1)
		return (-1);
	return (build_inject(b, cause));
}

/* The deferred first step, so build_start itself never calls back. */
static void
build_start_cb(evutil_socket_t fd __unused, short events __unused, void *arg)
{
	struct build	*b = arg;
	char		*cause = NULL;

	build_enter(b);
	b->step = BUILD_STEP_SETUP;
	if (build_phase(b, BUILD_PHASE_SETUP)) {
		if (build_setup(b, &cause) == -1)
			build_finish(b, cause, 0);
		else
			build_run_info(b);
		free(cause);
	}
	build_leave(b);
}

/* Step 2: `make info`. */
static void
build_run_info(struct build *b)
{
	struct strv	args = STRV_INITIALIZER;

	b->step = BUILD_STEP_INFO;
	if (!build_phase(b, BUILD_PHASE_REVISION))
		return;
	strv_add(&args, "make");
	strv_add(&args, "info");
	build_spawn(b, &args);
	strv_clear(&args);
}

/* Chooses the PACKAGES list (reference/asu-api.md §4.2 and §4.3). */
static void
build_select_packages(struct build *b)
{
	const struct info_profile	*prof;
	struct strv			 requested = STRV_INITIALIZER;
	struct strv			 none = STRV_INITIALIZER;

	strv_copy(&requested, &b->packages);
	if (b->changes_cb != NULL)
		b->changes_cb(&requested, &b->info, b->changes_arg);
	if (b->diff_packages) {
		prof = info_profile(&b->info, b->profile);
		pkglist_diff(&b->result.packages, &requested,
		    &b->info.default_packages,
		    prof != NULL ? &prof->packages : &none);
		strv_clear(&requested);
	} else {
		b->result.packages = requested;
	}
}

/* Parses the captured `make info` output into b->info. */
static int
build_parse_info(struct build *b, char **cause)
{
	b->info_parsed = 1;
	if (info_parse(capture_text(&b->out), b->out.len, &b->info,
	    cause) == -1)
		return (-1);
	if (b->info.revision == NULL) {
		*cause = xstrdup("no revision");
		return (-1);
	}
	return (0);
}

/* After `make info`: check the revision, pick packages, go on. */
static void
build_info_done(struct build *b, int status)
{
	char	*cause = NULL;

	if (!build_status_ok(status))
		xasprintf(&cause, "make info %s", job_status_string(status));
	else if (!capture_whole(&b->out))
		cause = xstrdup("output too long");
	else if (build_parse_info(b, &cause) == -1 && cause == NULL)
		cause = xstrdup("unknown error");
	if (cause != NULL) {
		build_failf(b, "Could not parse make info: %s", cause);
		free(cause);
		return;
	}
	b->result.revision = xstrdup(b->info.revision);
	if (b->version_code != NULL && *b->version_code != '\0' &&
	    strcmp(b->version_code, b->info.revision) != 0) {
		build_failf(b, "Received incorrect version %s (requested %s)",
		    b->info.revision, b->version_code);
		return;
	}
	build_select_packages(b);
	build_run_manifest(b);
}

/* Step 4: `make manifest`. */
static void
build_run_manifest(struct build *b)
{
	struct strv	 args = STRV_INITIALIZER;
	char		*list;

	b->step = BUILD_STEP_MANIFEST;
	if (!build_phase(b, BUILD_PHASE_MANIFEST))
		return;
	list = strv_join(&b->result.packages, " ");
	strv_add(&args, "make");
	strv_add(&args, "manifest");
	strv_addf(&args, "PROFILE=%s", b->profile);
	strv_addf(&args, "PACKAGES=%s", list);
	strv_add(&args, "STRIP_ABI=1");
	build_spawn(b, &args);
	strv_clear(&args);
	free(list);
}

/* After `make manifest`: package errors and packages_versions. */
static void
build_manifest_done(struct build *b, int status)
{
	struct build_result	*r = &b->result;
	char			*msg, *cause = NULL;

	if (!build_status_ok(status)) {
		msg = pkgerr_message(capture_text(&b->err), b->err.len);
		build_finish(b, msg, 0);
		free(msg);
		return;
	}
	if (!capture_whole(&b->out))
		cause = xstrdup("output too long");
	else if (manifest_parse(capture_text(&b->out), b->out.len,
	    &r->manifest, &cause) == -1 && cause == NULL)
		cause = xstrdup("unknown error");
	if (cause != NULL) {
		build_failf(b, "Could not parse the manifest: %s", cause);
		free(cause);
		return;
	}
	if (b->pv_names.n > 0 && (msg = manifest_check(&r->manifest,
	    &b->pv_names, &b->pv_versions)) != NULL) {
		build_finish(b, msg, 0);
		free(msg);
		return;
	}
	build_run_image(b);
}

/* Adds one make variable to both the argv run and the one shown. */
static void
build_image_arg(struct strv *args, struct strv *shown, const char *name,
    const char *value, const char *shown_value)
{
	strv_addf(args, "%s=%s", name, value);
	strv_addf(shown, "%s=%s", name, shown_value);
}

/* Step 5: `make image`, with build_cmd as clients see it. */
static void
build_run_image(struct build *b)
{
	struct strv	*shown = &b->result.build_cmd;
	struct strv	 args = STRV_INITIALIZER;
	char		 hash[SHA256_HEX_LEN + 1], num[16], *list;
	const char	*label;

	b->step = BUILD_STEP_IMAGE;
	if (!build_phase(b, BUILD_PHASE_IMAGE))
		return;
	pkglist_hash(&b->result.manifest.names, hash);
	hash[BUILD_IMAGE_HASH_LEN] = '\0';
	list = strv_join(&b->result.packages, " ");
	label = b->bin_dir_label != NULL ? b->bin_dir_label : b->bin_dir;
	strv_clear(shown);
	strv_add(&args, "make");
	strv_add(&args, "image");
	strv_copy(shown, &args);
	build_image_arg(&args, shown, "PROFILE", b->profile, b->profile);
	build_image_arg(&args, shown, "PACKAGES", list, list);
	build_image_arg(&args, shown, "EXTRA_IMAGE_NAME", hash, hash);
	build_image_arg(&args, shown, "BIN_DIR", b->bin_dir, label);
	if (b->files_dir != NULL)
		build_image_arg(&args, shown, "FILES", b->files_dir,
		    b->files_dir);
	if (b->rootfs_size_mb > 0) {
		snprintf(num, sizeof num, "%d", b->rootfs_size_mb);
		build_image_arg(&args, shown, "ROOTFS_PARTSIZE", num, num);
	}
	if (b->filesystem != NULL && *b->filesystem != '\0')
		build_image_arg(&args, shown, "ROOTFS_FILESYSTEM",
		    b->filesystem, b->filesystem);
	b->too_big = 0;
	build_spawn(b, &args);
	strv_clear(&args);
	free(list);
}

/* Checks that profiles.json parses and has profiles.<profile>. */
static int
build_json_check(struct build *b, const char *buf, size_t len, char **cause)
{
	const char	*path[] = { "profiles", b->profile, NULL };
	yajl_val	 root;
	char		 errbuf[256];
	int		 rc = 0;

	if (!text_json_depth_ok(buf, len, BUILD_JSON_DEPTH)) {
		*cause = xstrdup("Could not parse JSON file: nested too deep");
		return (-1);
	}
	errbuf[0] = '\0';
	if ((root = yajl_tree_parse(buf, errbuf, sizeof errbuf)) == NULL) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		xasprintf(cause, "Could not parse JSON file: %s", errbuf);
		return (-1);
	}
	if (yajl_tree_get(root, path, yajl_t_object) == NULL) {
		*cause = xstrdup("Profile not found in JSON file");
		rc = -1;
	}
	yajl_tree_free(root);
	return (rc);
}

/* After `make image`: the reference's checks, in its order. */
static void
build_image_done(struct build *b, int status)
{
	char	*path, *buf = NULL, *cause = NULL;
	size_t	 len = 0;
	int	 rc;

	if (b->too_big) {
		build_finish(b, "Selected packages exceed device storage", 0);
		return;
	}
	if (!build_status_ok(status)) {
		build_finish(b, "Error while building firmware. "
		    "See stdout/stderr", 0);
		return;
	}
	xasprintf(&path, "%s/profiles.json", b->bin_dir);
	rc = fs_read_file(path, BUILD_JSON_MAX, &buf, &len);
	free(path);
	if (rc == -1) {
		if (errno == ENOENT)
			build_finish(b, "No JSON file found", 0);
		else
			build_failf(b, "Could not read JSON file: %s",
			    strerror(errno));
		return;
	}
	if (build_json_check(b, buf, len, &cause) == -1) {
		build_finish(b, cause, 0);
		free(cause);
		free(buf);
		return;
	}
	b->result.profiles_json = buf;
	b->result.profiles_json_len = len;
	build_finish(b, NULL, 0);
}

/* Moves the state machine on from the command that just ended. */
static void
build_step_done(struct build *b, int status, int timed_out)
{
	char	*lost = NULL;

	b->result.signalled = WIFSIGNALED(status);
	/*
	 * srun had SIGTERM, or Slurm ended the step (srun exits 0 when the
	 * node fails), but the step may still write into the slot.
	 */
	if (timed_out || (runner_slurm() &&
	    (lost = runner_lost(capture_text(&b->err), b->err.len)) != NULL)) {
		free(lost);
		b->result.timed_out = timed_out;	/* for build_gone */
		runner_cancel(build_base, b->job_name, build_gone, b);
		return;
	}
	switch (b->step) {
	case BUILD_STEP_INFO:
		build_info_done(b, status);
		break;
	case BUILD_STEP_MANIFEST:
		build_manifest_done(b, status);
		break;
	case BUILD_STEP_IMAGE:
		build_image_done(b, status);
		break;
	default:
		fatalx("%s: a job ended in step %d", __func__, (int)b->step);
	}
}

/* A command ended; a cancelled build has nothing more to do. */
static void
build_job_complete(struct job *job __unused, int status, int timed_out,
    void *arg)
{
	struct build	*b = arg;

	build_enter(b);
	b->job = NULL;
	if (!b->dead)
		build_step_done(b, status, timed_out);
	build_leave(b);
}

/* Copies the spec and schedules the first step; see build.h. */
struct build *
build_start(const struct build_spec *spec, build_phase_cb phase_cb,
    build_log_cb log_cb, build_done_cb done_cb, void *arg, char **cause)
{
	struct build	*b;
	struct timeval	 now = { 0, 0 };

	if (build_base == NULL)
		fatalx("%s: build_init was not called", __func__);
	if (spec->ib_dir == NULL || spec->work_dir == NULL ||
	    spec->bin_dir == NULL || spec->profile == NULL ||
	    *spec->profile == '\0' || done_cb == NULL) {
		*cause = xstrdup("incomplete build specification");
		return (NULL);
	}
	b = xcalloc(1, sizeof *b);
	if (runner_name(spec->hash, b->job_name, sizeof b->job_name) == -1 &&
	    runner_slurm()) {
		free(b);
		*cause = xstrdup("no request hash to name the cluster job");
		return (NULL);
	}
	b->ib_dir = xstrdup(spec->ib_dir);
	b->work_dir = xstrdup(spec->work_dir);
	b->bin_dir = xstrdup(spec->bin_dir);
	b->bin_dir_label = build_strdup(spec->bin_dir_label);
	b->profile = xstrdup(spec->profile);
	b->version_code = build_strdup(spec->version_code);
	b->defaults = build_strdup(spec->defaults);
	b->filesystem = build_strdup(spec->filesystem);
	build_strv_copy(&b->packages, spec->packages);
	build_strv_copy(&b->pv_names, spec->pv_names);
	build_strv_copy(&b->pv_versions, spec->pv_versions);
	build_strv_copy(&b->wrapper, spec->wrapper);
	b->sandbox_bwrap = build_strdup(spec->sandbox_bwrap);
	build_strv_copy(&b->sandbox_hide, spec->sandbox_hide);
	build_strv_copy(&b->repo_names, spec->repo_names);
	build_strv_copy(&b->repo_urls, spec->repo_urls);
	b->repositories_mode = build_strdup(spec->repositories_mode);
	build_strv_copy(&b->repository_keys, spec->repository_keys);
	b->feed_mirror = build_strdup(spec->feed_mirror);
	b->diff_packages = spec->diff_packages;
	b->rootfs_size_mb = spec->rootfs_size_mb;
	b->timeout = spec->timeout;
	b->changes_cb = spec->changes_cb;
	b->changes_arg = spec->changes_arg;
	b->phase_cb = phase_cb;
	b->log_cb = log_cb;
	b->done_cb = done_cb;
	b->arg = arg;
	build_env(&b->env);
	if (b->timeout > 0) {
		clock_gettime(CLOCK_MONOTONIC, &b->deadline);
		b->deadline.tv_sec += b->timeout;
	}
	if ((b->start_ev = evtimer_new(build_base, build_start_cb, b)) == NULL)
		fatalx("out of memory");
	evtimer_add(b->start_ev, &now);
	return (b);
}

/* Stops a build without telling anyone; see build.h. */
void
build_cancel(struct build *b)
{
	if (b->dead)
		return;
	b->dead = 1;
	if (b->job != NULL) {
		job_kill(b->job);
		b->job = NULL;
		/* SIGKILL reaches srun only: the cluster job may stay. */
		runner_cancel(build_base, b->job_name, NULL, NULL);
	}
	runner_forget(b);
	build_teardown(b);
	if (b->busy == 0)
		build_free(b);
}

/*
 * build.h: one firmware build in an ImageBuilder directory, as
 * reference/asu-api.md §5.3 describes: `make info` (revision check, default
 * and profile packages), package selection, `make manifest` (the
 * packages_versions check), `make image`, then the checks of its output.
 * Everything runs as jobs on the caller's event loop; results and errors
 * come back through callbacks. Knows nothing of HTTP or LMDB.
 */
#ifndef ASUD_BUILD_H
#define ASUD_BUILD_H

#include <stddef.h>

#include "lib/strv.h"
#include "imagebuilder/manifest.h"

struct build;
struct event_base;
struct info;

/*
 * Server-side package changes (reference/asu-api.md §4.2): called once
 * after `make info` and before diff_packages, with a copy of the requested
 * list to edit in place and what make info printed.
 */
typedef void (*build_changes_cb)(struct strv *packages, const struct info *,
	    void *arg);

enum build_phase {
	BUILD_PHASE_SETUP,		/* "container_setup" */
	BUILD_PHASE_REVISION,		/* "validate_revision": make info */
	BUILD_PHASE_MANIFEST,		/* "validate_manifest": make manifest */
	BUILD_PHASE_IMAGE		/* "building_image": make image */
};

struct build_spec {
	const char		*ib_dir;	/* absolute: the ImageBuilder */
	const char		*work_dir;	/* absolute: scratch, created
						   for a defaults script */
	const char		*bin_dir;	/* absolute: BIN_DIR, created */
	const char		*bin_dir_label;	/* BIN_DIR shown in build_cmd */
	const char		*profile;	/* canonical profile id */
	const char		*version_code;	/* "" or NULL: any revision */
	const struct strv	*packages;	/* requested, in user order */
	const struct strv	*pv_names;	/* packages_versions keys */
	const struct strv	*pv_versions;	/* and their versions */
	int			 diff_packages;
	const char		*defaults;	/* NULL or "": no script */
	int			 rootfs_size_mb; /* 0: not set */
	const char		*filesystem;	/* NULL: not set */
	int			 timeout;	/* seconds for all steps */
	const char		*hash;		/* the request's: names its
						   cluster job (runner.h) */
	const struct strv	*wrapper;	/* argv placed first, or NULL */
	/*
	 * Runs each command under bubblewrap (imagebuilder/sandbox.h):
	 * sandbox_bwrap is the program (NULL: no sandbox), sandbox_hide
	 * the directories the build must not see. ib_dir, work_dir (when
	 * made) and bin_dir stay writable; file:// repositories readable; only
	 * make manifest and make image get the network. The wrapper
	 * comes before bwrap: "wrapper... bwrap ... -- make ...".
	 */
	const char		*sandbox_bwrap;
	const struct strv	*sandbox_hide;
	build_changes_cb	 changes_cb;	/* NULL: no package changes */
	void			*changes_arg;
	/*
	 * Repositories and keys written into the ImageBuilder for this
	 * build only (imagebuilder/repos.h); NULL or empty: none. The URLs
	 * must already have passed the allow-list. repositories_mode is
	 * "append"; anything else (NULL) replaces.
	 */
	const struct strv	*repo_names;
	const struct strv	*repo_urls;	/* same order as repo_names */
	const char		*repositories_mode;
	const struct strv	*repository_keys;
	/*
	 * Where the ImageBuilder's official feeds are fetched from for this
	 * build: the prefix that replaces https://downloads.openwrt.org in
	 * its repository file (repos_rewrite), or NULL. A file:// one is
	 * readable in the sandbox.
	 */
	const char		*feed_mirror;
};

struct build_result {
	int		 ok;		/* 1: images built */
	int		 timed_out;
	int		 signalled;	/* the last command was killed by a
					   signal (not the timeout's) */
	char		*error;		/* on failure, without "Error: " */
	char		*out;		/* stdout of the last command run */
	char		*err;		/* stderr of the last command run */
	char		*revision;	/* from make info, or NULL */
	struct strv	 build_cmd;	/* make image argv shown to clients */
	struct strv	 packages;	/* the PACKAGES list, split */
	struct manifest	 manifest;
	char		*profiles_json;	/* BIN_DIR/profiles.json, with a NUL */
	size_t		 profiles_json_len;
};

typedef void (*build_phase_cb)(enum build_phase, void *arg);
/* Combined output as the ImageBuilder prints it. */
typedef void (*build_log_cb)(const char *buf, size_t len, void *arg);
/* The end of the build; the result is owned by build and freed after. */
typedef void (*build_done_cb)(const struct build_result *, void *arg);

/*
 * Must be called once before the first build_start, with the event base
 * the jobs run on (job_init's).
 */
void		 build_init(struct event_base *);
/*
 * Starts a build. The spec's strings are copied. In the setup step, what
 * an earlier build (or a crash) left of its repositories and keys is put
 * back first, then this build's are written; they are put back before
 * done_cb runs, and at build_cancel. Returns NULL with *cause set if
 * it cannot start; otherwise done_cb is called exactly once, unless
 * build_cancel is called first. No callback runs inside build_start: the
 * first step is deferred to the event loop, so setup errors also arrive
 * through done_cb. The commands get the daemon's environment without
 * make's own variables (MAKEFLAGS...) and the ImageBuilder's (PROFILE,
 * PACKAGES...), plus LC_ALL=C. Any callback may call build_cancel.
 */
struct build	*build_start(const struct build_spec *, build_phase_cb,
		    build_log_cb, build_done_cb, void *arg, char **cause);
/*
 * Someone follows the build's log: its lines reach log_cb at most a tenth
 * of a second after the ImageBuilder printed them (else within a second).
 */
void		 build_set_live(struct build *);
/* Kills what runs and frees the build; no callback is called after. */
void		 build_cancel(struct build *);
/* The client-facing name of a phase ("validate_manifest"...). */
const char	*build_phase_name(enum build_phase);

#endif

/*
 * validate.c: new-request validation as a small asynchronous state
 * machine: each step either answers from what is cached or waits for one
 * upstream fetch and runs again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/keys.h"
#include "imagebuilder/repos.h"
#include "imagebuilder/versions.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/meta.h"
#include "server/request.h"
#include "server/upstream.h"
#include "server/validate.h"

#define VALIDATE_RESCAN_MS	2000

enum validate_step {
	VALIDATE_VERSION,
	VALIDATE_TARGET,
	VALIDATE_PROFILE
};

struct validate {
	struct asud		*a;
	const struct request	*r;
	validate_done_cb	 done;
	void			*arg;
	enum validate_step	 step;
	int			 forced;	/* this step refetched */
	uint64_t		 since;		/* its upstream clock */
	char			*path;		/* upstream file of this step */
};

static void	validate_run(struct validate *);

/* Rescans the ImageBuilders on disk, rate-limited. */
int
validate_rescan(struct asud *a)
{
	struct catalog	*c;
	char		*cause = NULL;
	long long	 now = clock_now_ms();

	if (now - a->catalog_scanned_ms < VALIDATE_RESCAN_MS)
		return (0);
	a->catalog_scanned_ms = now;
	c = catalog_new();
	if (catalog_scan(c, a->conf->imagebuilder_dir, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		catalog_free(c);
		return (0);
	}
	catalog_free(a->catalog);
	a->catalog = c;
	validate_disk_branches(a);
	return (1);
}

/* Versions with an ImageBuilder on disk bring their branch along. */
void
validate_disk_branches(struct asud *a)
{
	struct strv	 versions = STRV_INITIALIZER, names = STRV_INITIALIZER;
	size_t		 i;
	char		*b;

	catalog_versions(a->catalog, &versions);
	for (i = 0; i < a->conf->nbranches; i++)
		strv_add(&names, a->conf->branches[i].name);
	for (i = 0; i < versions.n; i++) {
		if ((b = versions_branch_of(versions.v[i], &names)) == NULL)
			continue;
		if (conf_branch(a->conf, b) == NULL) {
			conf_branch_ensure(a->conf, b);
			strv_add(&names, b);
		}
		free(b);
	}
	strv_clear(&versions);
	strv_clear(&names);
}

/* Ends the validation with an answer. */
static void
validate_finish(struct validate *v, int code, const char *msg,
    const char *profile_id, const char *ib_dir)
{
	char	*id = profile_id != NULL ? xstrdup(profile_id) : NULL;
	char	*dir = ib_dir != NULL ? xstrdup(ib_dir) : NULL;

	v->done(code, msg, id, dir, v->arg);
	free(id);
	free(dir);
	free(v->path);
	free(v);
}

/* Ends with a formatted message. */
static void __attribute__((format(printf, 3, 4)))
validate_fail(struct validate *v, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	validate_finish(v, code, msg, NULL, NULL);
	free(msg);
}

/* An upstream fetch this validation waited for has ended. */
static void
validate_fetched(struct upstream_doc *doc, void *arg)
{
	validate_run(arg);
}

/*
 * The upstream document of this step: 1 with *doc when it can be used
 * now, 0 when the validation waits for a fetch.
 */
static int
validate_doc(struct validate *v, int force, struct upstream_doc **doc)
{
	struct upstream	*u = v->a->upstream;

	*doc = NULL;
	if (v->path == NULL || !upstream_enabled(u))
		return (1);
	if (upstream_want(u, v->path, force, v->since, validate_fetched,
	    v) == 0)
		return (0);
	*doc = upstream_doc(u, v->path);
	return (1);
}

/* Why upstream could not help, for a 503. */
static const char *
validate_why(struct upstream_doc *doc)
{
	if (doc != NULL && doc->error != NULL)
		return (doc->error);
	return ("no answer");
}

/* Moves to the next step. */
static void
validate_next(struct validate *v, enum validate_step step, char *path)
{
	v->step = step;
	v->forced = 0;
	v->since = upstream_clock(v->a->upstream);
	free(v->path);
	v->path = path;
}

/* Step 1: the version is in the versions list. */
static int
validate_version(struct validate *v)
{
	struct upstream_doc	*doc;

	if (!validate_doc(v, v->forced, &doc))
		return (0);
	if (meta_has_version(v->a, doc, v->r->version)) {
		validate_next(v, VALIDATE_TARGET,
		    meta_targets_path(v->a, v->r->version));
		return (1);
	}
	if (validate_rescan(v->a) && catalog_has_version(v->a->catalog,
	    v->r->version))
		return (1);
	if (!v->forced && upstream_enabled(v->a->upstream)) {
		v->forced = 1;
		v->since = upstream_clock(v->a->upstream);
		return (1);
	}
	if (upstream_enabled(v->a->upstream) && !upstream_ok(doc))
		validate_fail(v, 503, "Upstream metadata is unavailable "
		    "(.versions.json: %s); try again later", validate_why(doc));
	else
		validate_fail(v, 400, "Unsupported version: %s",
		    v->r->version);
	return (0);
}

/* Step 2: the target is built for that version. */
static int
validate_target(struct validate *v)
{
	struct upstream_doc	*doc;

	if (catalog_target(v->a->catalog, v->r->version, v->r->target) !=
	    NULL) {
		validate_next(v, VALIDATE_PROFILE, meta_profiles_path(v->a,
		    v->r->version, v->r->target));
		return (1);
	}
	if (!validate_doc(v, v->forced, &doc))
		return (0);
	if (doc != NULL && meta_target_arch(doc, v->r->target) != NULL) {
		validate_next(v, VALIDATE_PROFILE, meta_profiles_path(v->a,
		    v->r->version, v->r->target));
		return (1);
	}
	if (validate_rescan(v->a))
		return (1);
	if (!v->forced && upstream_enabled(v->a->upstream)) {
		v->forced = 1;
		v->since = upstream_clock(v->a->upstream);
		return (1);
	}
	if (upstream_enabled(v->a->upstream) && !upstream_ok(doc) &&
	    (doc == NULL || doc->status != 404))
		validate_fail(v, 503, "Upstream metadata is unavailable "
		    "(.targets.json of %s: %s); try again later",
		    v->r->version, validate_why(doc));
	else
		validate_fail(v, 400, "Unsupported target: %s. The requested "
		    "target was either dropped, is still being built or is not "
		    "supported by the selected version. Please check the "
		    "forums or try again later.", v->r->target);
	return (0);
}

/* Step 3: the profile resolves; upstream first, then the disk. */
static int
validate_profile(struct validate *v)
{
	const struct catalog_target	*local, *up = NULL;
	struct upstream_doc		*doc;
	const char			*id = NULL, *dir = NULL;

	local = catalog_target(v->a->catalog, v->r->version, v->r->target);
	if (local != NULL)
		dir = catalog_target_dir(local);
	if (!validate_doc(v, v->forced, &doc))
		return (0);
	if (doc != NULL && upstream_ok(doc))
		up = meta_profiles(doc, v->r->version, v->r->target);
	if (up != NULL)
		id = catalog_resolve(up, v->r->profile);
	if (id == NULL && local != NULL)
		id = catalog_resolve(local, v->r->profile);
	if (id != NULL) {
		validate_finish(v, 0, NULL, id, dir);
		return (0);
	}
	if (local != NULL && validate_rescan(v->a))
		return (1);
	if (!v->forced && upstream_enabled(v->a->upstream)) {
		v->forced = 1;
		v->since = upstream_clock(v->a->upstream);
		return (1);
	}
	if (local == NULL && upstream_enabled(v->a->upstream) &&
	    !upstream_ok(doc) && (doc == NULL || doc->status != 404))
		validate_fail(v, 503, "Upstream metadata is unavailable "
		    "(profiles.json of %s %s: %s); try again later",
		    v->r->version, v->r->target, validate_why(doc));
	else
		validate_fail(v, 400, "Unsupported profile: %s. The requested "
		    "profile was either dropped or never existed. Please check "
		    "the forums for more information.", v->r->profile);
	return (0);
}

/* Runs steps until one waits or the validation ends. */
static void
validate_run(struct validate *v)
{
	int	go = 1;

	while (go) {
		switch (v->step) {
		case VALIDATE_VERSION:
			go = validate_version(v);
			break;
		case VALIDATE_TARGET:
			go = validate_target(v);
			break;
		case VALIDATE_PROFILE:
			go = validate_profile(v);
			break;
		}
	}
}

/* The checks that need no metadata (§3 items 1 to 4). */
static int
validate_local(struct validate *v)
{
	const struct request	*r = v->r;
	struct conf_branch	*b;
	size_t			 i;
	char			*cause = NULL;

	if (r->defaults != NULL && *r->defaults != '\0' &&
	    !v->a->conf->allow_defaults) {
		validate_fail(v, 400, "Handling `defaults` not enabled on "
		    "server");
		return (-1);
	}
	for (i = 0; i < r->repo_urls.n; i++) {
		if (!repos_allowed(r->repo_urls.v[i],
		    &v->a->conf->repository_allow_list)) {
			validate_fail(v, 400, "Repository not allowed: %s",
			    r->repo_urls.v[i]);
			return (-1);
		}
	}
	if (r->repo_urls.n > 0 && v->a->repos_refused) {
		validate_fail(v, 400, "Custom repositories are not accepted: "
		    "builds on this server cannot run in a sandbox");
		return (-1);
	}
	for (i = 0; i < r->repository_keys.n; i++) {
		if (keys_check(r->repository_keys.v[i], &cause) == -1) {
			validate_fail(v, 400, "Invalid repository key: %s",
			    cause);
			free(cause);
			return (-1);
		}
	}
	if (strcmp(r->distro, "openwrt") != 0) {
		validate_fail(v, 400, "Unsupported distro: %s", r->distro);
		return (-1);
	}
	if ((b = meta_branch_of(v->a, r->version)) == NULL &&
	    validate_rescan(v->a))
		b = meta_branch_of(v->a, r->version);
	if (b == NULL) {
		validate_fail(v, 400, "Unsupported branch: %s", r->version);
		return (-1);
	}
	return (0);
}

/* Starts the validation of a new request. */
void
validate_start(struct asud *a, const struct request *r,
    validate_done_cb done, void *arg)
{
	struct validate	*v;

	v = xcalloc(1, sizeof *v);
	v->a = a;
	v->r = r;
	v->done = done;
	v->arg = arg;
	if (validate_local(v) == -1)
		return;
	validate_next(v, VALIDATE_VERSION, xstrdup(".versions.json"));
	validate_run(v);
}

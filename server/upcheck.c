/*
 * upcheck.c: the upgrade check. The body is checked (server/upreq.c),
 * then the versions list says which releases are newer than the router's
 * version: the newest of its own branch (for a snapshot: the same
 * version at a newer revision) and the newest of a newer branch. Each
 * candidate, and the router's own version when it is still offered, is
 * validated like a build request for the router's target and profile
 * (server/validate.c), one after the other; a candidate that does not
 * build them is dropped. The packages are compared with the feeds of the
 * version the answer's build request is for (server/apijson.c), and the
 * package-change table's renames and removals between the two versions
 * are applied to that request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "lib/compat.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/pkgchanges.h"
#include "imagebuilder/pkgindex.h"
#include "imagebuilder/vercmp.h"
#include "imagebuilder/versions.h"
#include "server/api.h"
#include "server/apijson.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/meta.h"
#include "server/request.h"
#include "server/upcheck.h"
#include "server/upreq.h"
#include "server/upstream.h"
#include "server/validate.h"

/* The versions validated, in this order. */
enum upcheck_slot {
	UPCHECK_OWN_BRANCH,	/* a newer release of the router's branch */
	UPCHECK_NEWER_BRANCH,	/* the newest release of a newer branch */
	UPCHECK_RUNNING,	/* the router's version, still offered */
	UPCHECK_NSLOTS
};

/* One version validated for the router's target and profile. */
struct upcheck_cand {
	char	*version;	/* NULL: no such candidate */
	int	 code;		/* 0: it builds them; else the answer's */
	char	*msg;
	char	*profile_id;
	char	*version_code;	/* upstream's, NULL when not known */
};

/* One upgrade check, from its body to its answer. */
struct upcheck {
	struct asud		*a;
	struct http_hold	*hold;
	struct upreq		 u;
	char			*branch;	/* the router's branch */
	uint64_t		 since;
	struct upcheck_cand	 c[UPCHECK_NSLOTS];
	size_t			 slot;		/* being validated */
	struct request		 vreq;		/* what validate_start sees */
	int			 to;		/* the request's slot, or -1 */
	struct strv		 pk_names;	/* newer packages, by name */
	struct strv		 pk_installed;
	struct strv		 pk_available;
};

static void	upcheck_validate_next(struct upcheck *);
static void	upcheck_decide(struct upcheck *);

/* Frees an upgrade check. */
static void
upcheck_free(struct upcheck *uc)
{
	size_t	i;

	http_hold_free(uc->hold);
	upreq_free(&uc->u);
	free(uc->branch);
	for (i = 0; i < UPCHECK_NSLOTS; i++) {
		free(uc->c[i].version);
		free(uc->c[i].msg);
		free(uc->c[i].profile_id);
		free(uc->c[i].version_code);
	}
	strv_clear(&uc->pk_names);
	strv_clear(&uc->pk_installed);
	strv_clear(&uc->pk_available);
	free(uc);
}

/* Answers {"detail", "status"} and ends the check. */
static void
upcheck_fail(struct upcheck *uc, int code, const char *detail)
{
	struct evhttp_request	*req = http_hold_req(uc->hold);

	if (req != NULL) {
		if (code == 503)
			http_header(req, "Retry-After", "60");
		http_reply_detail(req, code, detail);
	}
	upcheck_free(uc);
}

/* The configured branch called name, or NULL (the table may grow). */
static const struct conf_branch *
upcheck_branch(struct upcheck *uc, const char *name)
{
	return (name != NULL ? conf_branch(uc->a->conf, name) : NULL);
}

/* The name of a version's branch, or NULL. */
static const char *
upcheck_branch_name(struct upcheck *uc, const char *version)
{
	const struct conf_branch	*b = meta_branch_of(uc->a, version);

	return (b != NULL ? b->name : NULL);
}

/* True for a release: not a snapshot of any kind. */
static int
upcheck_is_release(const char *version)
{
	return (!versions_is_snapshot(version));
}

/* True when branch a is newer than branch b (SNAPSHOT is newest). */
static int
upcheck_branch_newer(const struct conf_branch *a, const struct conf_branch *b)
{
	if (a->snapshot || b->snapshot)
		return (a->snapshot && !b->snapshot);
	return (vercmp_release(a->name, b->name) > 0);
}

/*
 * The candidates from the versions list: a release of the router's own
 * branch newer than its version (release candidates count there only),
 * and the newest final release of the newest newer branch that has one.
 */
static void
upcheck_candidates(struct upcheck *uc, const struct strv *versions)
{
	const struct conf_branch	*own, *b, *best = NULL;
	const char			*v, *rel = NULL, *brel = NULL;
	size_t				 i;

	own = upcheck_branch(uc, uc->branch);
	for (i = 0; own != NULL && i < versions->n; i++) {
		v = versions->v[i];
		if (!upcheck_is_release(v) ||
		    (b = meta_branch_of(uc->a, v)) == NULL)
			continue;
		if (b == own) {
			if (!versions_is_snapshot(uc->u.version) &&
			    vercmp_release(v, uc->u.version) > 0 &&
			    (rel == NULL || vercmp_release(v, rel) > 0))
				rel = v;
		} else if (upcheck_branch_newer(b, own) &&
		    strstr(v, "-rc") == NULL && (best == NULL ||
		    upcheck_branch_newer(b, best) || (b == best &&
		    vercmp_release(v, brel) > 0))) {
			best = b;
			brel = v;
		}
	}
	if (versions_is_snapshot(uc->u.version))
		rel = uc->u.version;	/* newer if its revision is */
	if (rel != NULL)
		uc->c[UPCHECK_OWN_BRANCH].version = xstrdup(rel);
	if (brel != NULL)
		uc->c[UPCHECK_NEWER_BRANCH].version = xstrdup(brel);
	if (!versions_is_snapshot(uc->u.version) &&
	    strv_find(versions, uc->u.version) != -1)
		uc->c[UPCHECK_RUNNING].version = xstrdup(uc->u.version);
}

/* .versions.json arrived (or failed): go on. */
static void
upcheck_versions_fetched(struct upstream_doc *doc, void *arg)
{
	struct upcheck	*uc = arg;
	struct strv	 versions = STRV_INITIALIZER;
	char		*detail;

	doc = upstream_doc(uc->a->upstream, ".versions.json");
	if (!upstream_ok(doc)) {
		xasprintf(&detail, "Upstream metadata is unavailable "
		    "(.versions.json: %s); try again later",
		    doc != NULL && doc->error != NULL ? doc->error :
		    "no answer");
		upcheck_fail(uc, 503, detail);
		free(detail);
		return;
	}
	meta_versions(uc->a, doc, &versions, NULL);
	upcheck_candidates(uc, &versions);
	strv_clear(&versions);
	upcheck_validate_next(uc);
}

/* Starts with the versions list: fetched first when upstream is used. */
static void
upcheck_versions(struct upcheck *uc)
{
	struct upstream	*u = uc->a->upstream;
	struct strv	 versions = STRV_INITIALIZER;

	if (upstream_enabled(u)) {
		if (upstream_want(u, ".versions.json", 0, uc->since,
		    upcheck_versions_fetched, uc) != 0)
			upcheck_versions_fetched(NULL, uc);
		return;
	}
	meta_versions(uc->a, NULL, &versions, NULL);
	upcheck_candidates(uc, &versions);
	strv_clear(&versions);
	upcheck_validate_next(uc);
}

/* A version of the router's branch that is its own: no newer revision. */
static int
upcheck_same_revision(struct upcheck *uc, const struct upcheck_cand *c)
{
	long	mine = versions_revision_number(uc->u.version_code);
	long	theirs = versions_revision_number(c->version_code);

	if (strcmp(c->version, uc->u.version) != 0)
		return (0);
	/* A revision that cannot be compared is taken as older. */
	return (theirs < 0 || (mine >= 0 && theirs <= mine));
}

/* The validation of the current slot ended. */
static void
upcheck_validated(int code, const char *msg, const char *profile_id,
    const char *ib_dir, void *arg)
{
	struct upcheck		*uc = arg;
	struct upcheck_cand	*c = &uc->c[uc->slot];
	const char		*vc;

	c->code = code;
	c->msg = msg != NULL ? xstrdup(msg) : NULL;
	if (code == 0) {
		c->profile_id = xstrdup(profile_id);
		vc = meta_upstream_revision(uc->a, c->version, uc->u.target);
		c->version_code = vc != NULL ? xstrdup(vc) : NULL;
	}
	uc->slot++;
	upcheck_validate_next(uc);
}

/* Validates the next candidate, or goes on to the answer. */
static void
upcheck_validate_next(struct upcheck *uc)
{
	struct upcheck_cand	*c;

	for (; uc->slot < UPCHECK_NSLOTS; uc->slot++) {
		c = &uc->c[uc->slot];
		if (c->version == NULL)
			continue;
		memset(&uc->vreq, 0, sizeof uc->vreq);
		uc->vreq.distro = uc->u.distro;
		uc->vreq.version = c->version;
		uc->vreq.version_code = uc->u.version_code;
		uc->vreq.target = uc->u.target;
		uc->vreq.profile = uc->u.profile;
		validate_start(uc->a, &uc->vreq, upcheck_validated, uc);
		return;
	}
	upcheck_decide(uc);
}

/* True when a slot was validated and builds the target and profile. */
static int
upcheck_ok(const struct upcheck_cand *c)
{
	return (c->version != NULL && c->code == 0);
}

/* The newer release of the router's branch, or NULL. */
static const struct upcheck_cand *
upcheck_release(struct upcheck *uc)
{
	const struct upcheck_cand	*c = &uc->c[UPCHECK_OWN_BRANCH];

	return (upcheck_ok(c) && !upcheck_same_revision(uc, c) ? c : NULL);
}

/* The newest release of a newer branch, or NULL. */
static const struct upcheck_cand *
upcheck_branch_release(struct upcheck *uc)
{
	const struct upcheck_cand	*c = &uc->c[UPCHECK_NEWER_BRANCH];

	return (upcheck_ok(c) ? c : NULL);
}

/* The router's own version when it builds (a snapshot's own slot). */
static int
upcheck_running_slot(struct upcheck *uc)
{
	if (upcheck_ok(&uc->c[UPCHECK_RUNNING]))
		return (UPCHECK_RUNNING);
	if (upcheck_ok(&uc->c[UPCHECK_OWN_BRANCH]) &&
	    strcmp(uc->c[UPCHECK_OWN_BRANCH].version, uc->u.version) == 0)
		return (UPCHECK_OWN_BRANCH);
	return (-1);
}

/* A change's place: listed for a version of branch b at revision rev. */
static int
upcheck_change_in(const struct pkgchanges_client *c,
    const struct conf_branch *b, long rev)
{
	if (b == NULL)
		return (0);
	if (!pkgchanges_client_applies(c, b->snapshot ? -1 :
	    b->branch_off_rev))
		return (0);
	return (rev < 0 || c->revision <= rev);
}

/*
 * True when a change lies after the router's version and at or before
 * the request's: the request's branch lists it at its revision and the
 * router's does not. A snapshot router that sends no revision has none
 * of its branch's changes.
 */
static int
upcheck_change_applies(struct upcheck *uc, const struct pkgchanges_client *c)
{
	const struct conf_branch	*own, *to;
	const struct upcheck_cand	*t = &uc->c[uc->to];
	long				 mine, theirs;

	own = upcheck_branch(uc, uc->branch);
	to = meta_branch_of(uc->a, t->version);
	mine = versions_revision_number(uc->u.version_code);
	if (mine < 0 && own != NULL && own->snapshot)
		mine = 0;
	theirs = versions_revision_number(t->version_code);
	return (upcheck_change_in(c, to, theirs) &&
	    !upcheck_change_in(c, own, mine));
}

/* The i-th change of the table, or NULL past its end. */
static const struct pkgchanges_client *
upcheck_change_at(struct upcheck *uc, size_t i)
{
	if (uc->a->pkgchanges == NULL)
		return (NULL);
	return (pkgchanges_client_at(uc->a->pkgchanges, i));
}

/* "package_changes": the table's entries between the two versions. */
static void
upcheck_changes_json(struct upcheck *uc, yajl_gen g)
{
	const struct pkgchanges_client	*c;
	size_t				 i;

	jsonw_key(g, "package_changes");
	yajl_gen_array_open(g);
	for (i = 0; (c = upcheck_change_at(uc, i)) != NULL; i++) {
		if (!upcheck_change_applies(uc, c))
			continue;
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "source", c->source);
		if (c->target != NULL)
			jsonw_kv_str(g, "target", c->target);
		jsonw_kv_int(g, "revision", c->revision);
		if (c->mandatory)
			jsonw_kv_bool(g, "mandatory", 1);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/* The installed names with the changes' renames and removals, sorted. */
static void
upcheck_request_packages(struct upcheck *uc, struct strv *out)
{
	const struct pkgchanges_client	*c;
	const char			*name;
	size_t				 i, j;

	for (i = 0; i < uc->u.names.n; i++) {
		name = uc->u.names.v[i];
		for (j = 0; name != NULL &&
		    (c = upcheck_change_at(uc, j)) != NULL; j++) {
			if (strcmp(c->source, name) == 0 &&
			    upcheck_change_applies(uc, c))
				name = c->target;
		}
		if (name != NULL)
			strv_add(out, name);
	}
	strv_sort_unique(out);
}

/* "request": the build request that upgrades the router. */
static void
upcheck_request_json(struct upcheck *uc, yajl_gen g)
{
	const struct upcheck_cand	*t = &uc->c[uc->to];
	struct strv			 pkgs = STRV_INITIALIZER;

	upcheck_request_packages(uc, &pkgs);
	jsonw_key(g, "request");
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "distro", uc->u.distro);
	jsonw_kv_str(g, "version", t->version);
	if (t->version_code != NULL)
		jsonw_kv_str(g, "version_code", t->version_code);
	jsonw_kv_str(g, "target", uc->u.target);
	jsonw_kv_str(g, "profile", t->profile_id);
	jsonw_kv_strv(g, "packages", &pkgs);
	yajl_gen_map_close(g);
	strv_clear(&pkgs);
}

/* "release" or "branch_release": {"version", "version_code"} or null. */
static void
upcheck_release_json(yajl_gen g, const char *key,
    const struct upcheck_cand *c)
{
	if (c == NULL) {
		jsonw_kv_null(g, key);
		return;
	}
	jsonw_key(g, key);
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "version", c->version);
	if (c->version_code != NULL)
		jsonw_kv_str(g, "version_code", c->version_code);
	else
		jsonw_kv_null(g, "version_code");
	yajl_gen_map_close(g);
}

/* "packages": the installed packages the feeds have newer. */
static void
upcheck_packages_json(struct upcheck *uc, yajl_gen g)
{
	size_t	i;

	jsonw_key(g, "packages");
	yajl_gen_map_open(g);
	for (i = 0; i < uc->pk_names.n; i++) {
		jsonw_key(g, uc->pk_names.v[i]);
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "installed", uc->pk_installed.v[i]);
		jsonw_kv_str(g, "available", uc->pk_available.v[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/* Sends the 200, or the 204 when nothing is newer; ends the check. */
static void
upcheck_answer(struct upcheck *uc)
{
	struct evhttp_request		*req = http_hold_req(uc->hold);
	const struct upcheck_cand	*rel, *brel;
	yajl_gen			 g;
	char				*body;
	size_t				 len;

	rel = upcheck_release(uc);
	brel = upcheck_branch_release(uc);
	if (req == NULL)
		;
	else if (rel == NULL && brel == NULL && uc->pk_names.n == 0)
		http_reply(req, 204, NULL, NULL);
	else {
		g = jsonw_new();
		yajl_gen_map_open(g);
		jsonw_kv_int(g, "status", 200);
		upcheck_release_json(g, "release", rel);
		upcheck_release_json(g, "branch_release", brel);
		upcheck_packages_json(uc, g);
		upcheck_changes_json(uc, g);
		upcheck_request_json(uc, g);
		yajl_gen_map_close(g);
		body = jsonw_finish(g, &len);
		http_reply_json(req, 200, body, len);
		free(body);
	}
	upcheck_free(uc);
}

/* One installed package, for sorting by name. */
struct upcheck_pkg {
	const char	*name;
	const char	*version;
};

/* Orders installed packages by name. */
static int
upcheck_pkg_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct upcheck_pkg *)a)->name,
	    ((const struct upcheck_pkg *)b)->name));
}

/* The feeds of the request's version arrived: compare, then answer. */
static void
upcheck_feeds_done(const struct pkgindex *idx, const char *why, void *arg)
{
	struct upcheck		*uc = arg;
	struct upcheck_pkg	*p;
	const char		*av;
	char			*detail;
	size_t			 i, n = uc->u.names.n;

	if (idx == NULL) {
		xasprintf(&detail, "The package feeds of %s %s cannot be read "
		    "(%s); try again later", uc->c[uc->to].version,
		    uc->u.target, why);
		upcheck_fail(uc, 503, detail);
		free(detail);
		return;
	}
	p = xreallocarray(NULL, n, sizeof *p);
	for (i = 0; i < n; i++) {
		p[i].name = uc->u.names.v[i];
		p[i].version = uc->u.versions.v[i];
	}
	qsort(p, n, sizeof *p, upcheck_pkg_cmp);
	for (i = 0; i < n; i++) {
		av = pkgindex_lookup(idx, p[i].name);
		if (av == NULL || vercmp_package(av, p[i].version) <= 0)
			continue;
		strv_add(&uc->pk_names, p[i].name);
		strv_add(&uc->pk_installed, p[i].version);
		strv_add(&uc->pk_available, av);
	}
	free(p);
	upcheck_answer(uc);
}

/* The package architecture of the request's version and target. */
static const char *
upcheck_arch(struct upcheck *uc)
{
	const struct upcheck_cand	*t = &uc->c[uc->to];
	const struct catalog_target	*ct;
	struct upstream_doc		*doc = NULL;
	yajl_val			 v;
	char				*path;

	if (upstream_enabled(uc->a->upstream) && (path =
	    meta_profiles_path(uc->a, t->version, uc->u.target)) != NULL) {
		doc = upstream_doc(uc->a->upstream, path);
		free(path);
	}
	if (doc != NULL && upstream_ok(doc)) {
		v = jsonw_get(upstream_json(doc), "arch_packages");
		if (v != NULL && YAJL_IS_STRING(v))
			return (YAJL_GET_STRING(v));
	}
	ct = catalog_target(uc->a->catalog, t->version, uc->u.target);
	return (ct != NULL ? catalog_target_arch(ct) : NULL);
}

/*
 * Every version is validated: picks the request's (the newer release of
 * the router's branch first, the safer upgrade), then reads the feeds.
 */
static void
upcheck_decide(struct upcheck *uc)
{
	const struct upcheck_cand	*c;
	const char			*arch;
	char				*detail;
	size_t				 i;

	for (i = 0; i < UPCHECK_NSLOTS; i++) {
		c = &uc->c[i];
		if (c->version != NULL && c->code != 0 && c->code != 400) {
			upcheck_fail(uc, c->code, c->msg);
			return;
		}
	}
	if (upcheck_release(uc) != NULL)
		uc->to = UPCHECK_OWN_BRANCH;
	else if (upcheck_branch_release(uc) != NULL)
		uc->to = UPCHECK_NEWER_BRANCH;
	else
		uc->to = upcheck_running_slot(uc);
	if (uc->to < 0) {
		for (i = 0; i < UPCHECK_NSLOTS; i++) {
			if (uc->c[i].version != NULL) {
				upcheck_fail(uc, 400, uc->c[i].msg);
				return;
			}
		}
		xasprintf(&detail, "Unsupported version: %s", uc->u.version);
		upcheck_fail(uc, 400, detail);
		free(detail);
		return;
	}
	if (!uc->u.upgrade_packages || uc->u.names.n == 0) {
		upcheck_answer(uc);
		return;
	}
	arch = upcheck_arch(uc);
	apijson_feeds(uc->a, uc->c[uc->to].version, uc->u.target,
	    arch != NULL ? arch : "", upcheck_feeds_done, uc);
}

/*
 * The checks that need no metadata: the distro, the router's branch and
 * the installed names, which become a build's package names.
 */
static int
upcheck_local(struct upcheck *uc)
{
	const char	*name;
	char		*detail;
	size_t		 i;

	if (strcmp(uc->u.distro, "openwrt") != 0) {
		xasprintf(&detail, "Unsupported distro: %s", uc->u.distro);
		upcheck_fail(uc, 400, detail);
		free(detail);
		return (-1);
	}
	if (upcheck_branch_name(uc, uc->u.version) == NULL)
		(void)validate_rescan(uc->a);	/* a branch on disk */
	if ((name = upcheck_branch_name(uc, uc->u.version)) == NULL) {
		xasprintf(&detail, "Unsupported branch: %s", uc->u.version);
		upcheck_fail(uc, 400, detail);
		free(detail);
		return (-1);
	}
	uc->branch = xstrdup(name);
	for (i = 0; i < uc->u.names.n; i++) {
		name = uc->u.names.v[i];
		if (pkgindex_name_ok(name, strlen(name)) && name[0] != '-')
			continue;
		xasprintf(&detail, "Invalid package name in installed: '%.64s'",
		    name);
		upcheck_fail(uc, 400, detail);
		free(detail);
		return (-1);
	}
	return (0);
}

/* POST /api/v1/upgrade-check */
void
upcheck_post(struct asud *a, struct evhttp_request *req, const char *arg)
{
	struct upcheck		*uc;
	struct request_error	 err;
	char			*body;
	size_t			 len;

	body = api_body(req, (size_t)a->conf->max_request_body, &len);
	if (body == NULL) {
		http_reply_titled(req, 413, "Content Too Large",
		    "the request body is larger than the server accepts");
		return;
	}
	uc = xcalloc(1, sizeof *uc);
	uc->a = a;
	uc->to = -1;
	uc->since = upstream_clock(a->upstream);
	if (upreq_parse(body, len, &uc->u, &err) == -1) {
		free(body);
		http_reply_json(req, err.status != 0 ? err.status : 422,
		    err.body, strlen(err.body));
		request_error_free(&err);
		free(uc);
		return;
	}
	free(body);
	uc->hold = http_hold_new(req);
	if (upcheck_local(uc) == -1)
		return;
	upcheck_versions(uc);
}

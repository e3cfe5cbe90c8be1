/*
 * apijson.c: metadata endpoints. Each answer is rendered from cached
 * upstream documents; a render that misses documents asks for them and
 * runs again when they arrive (at most a few rounds), so that one request
 * never waits for more than the fetches it really needs, and concurrent
 * requests share them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/pkgchanges.h"
#include "imagebuilder/pkgindex.h"
#include "imagebuilder/versions.h"
#include "server/apijson.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/http.h"
#include "server/jsonw.h"
#include "server/meta.h"
#include "server/upstream.h"

#define APIJSON_ROUNDS	4

enum apijson_kind {
	APIJSON_OVERVIEW,
	APIJSON_BRANCHES,
	APIJSON_LATEST,
	APIJSON_PROFILE,
	APIJSON_INDEX,
	APIJSON_ARCH_INDEX,
	APIJSON_REVISION,
	APIJSON_FEEDS
};

struct apijson_op {
	struct asud		*a;
	struct http_hold	*hold;
	enum apijson_kind	 kind;
	char			*path;		/* "releases/23.05.4" */
	char			*version;
	char			*target;	/* "ath79/generic" */
	char			*name;		/* profile or architecture */
	int			 pending;	/* fetches waited for */
	uint64_t		 since;		/* upstream clock at start */
	int			 rounds;
	int			 missing;	/* a needed document absent */
	char			*why;		/* the first one's cause */
	long			 status;	/* its status (404...) */
	apijson_feeds_cb	 feeds_done;	/* APIJSON_FEEDS: no request */
	void			*feeds_arg;
};

static void	apijson_run(struct apijson_op *);

/* Frees an operation. */
static void
apijson_free(struct apijson_op *op)
{
	http_hold_free(op->hold);
	free(op->path);
	free(op->version);
	free(op->target);
	free(op->name);
	free(op->why);
	free(op);
}

/* A fetch the operation waited for ended. */
static void
apijson_fetched(struct upstream_doc *doc, void *arg)
{
	struct apijson_op	*op = arg;

	if (--op->pending == 0)
		apijson_run(op);
}

/*
 * The document at path if it can be used now; NULL when it is absent
 * (op->missing is set) or being fetched (op->pending counts it).
 */
static struct upstream_doc *
apijson_need(struct apijson_op *op, const char *path)
{
	struct upstream		*u = op->a->upstream;
	struct upstream_doc	*doc;

	if (!upstream_enabled(u)) {
		op->missing = 1;
		if (op->why == NULL)
			op->why = xstrdup("no upstream is configured");
		return (NULL);
	}
	if (upstream_want(u, path, 0, op->since, apijson_fetched, op) == 0) {
		op->pending++;
		return (NULL);
	}
	doc = upstream_doc(u, path);
	if (upstream_ok(doc) && (strstr(path, ".json") == NULL ||
	    upstream_json(doc) != NULL))
		return (doc);
	if (!op->missing) {
		op->missing = 1;
		op->status = doc->status;
		free(op->why);
		op->why = xstrdup(doc->error != NULL ? doc->error :
		    "not available");
	}
	return (NULL);
}

/* Sends JSON generated into g and frees it. */
static void
apijson_send(struct apijson_op *op, yajl_gen g)
{
	struct evhttp_request	*req = http_hold_req(op->hold);
	char			*body;
	size_t			 len;

	body = jsonw_finish(g, &len);
	if (req != NULL)
		http_reply_json(req, 200, body, len);
	free(body);
}

/* Answers that a needed upstream file is absent or unreachable. */
static void
apijson_unavailable(struct apijson_op *op, const char *what)
{
	struct evhttp_request	*req;
	char			*detail;

	if (op->feeds_done != NULL) {
		xasprintf(&detail, "%s is unavailable from upstream (%s)", what,
		    op->why != NULL ? op->why : "no answer");
		op->feeds_done(NULL, detail, op->feeds_arg);
		op->feeds_done = NULL;
		free(detail);
		return;
	}
	if ((req = http_hold_req(op->hold)) == NULL)
		return;
	if (op->status == 404) {
		xasprintf(&detail, "%s not found upstream", what);
		http_reply_detail(req, 404, detail);
	} else {
		xasprintf(&detail, "%s is unavailable from upstream (%s); try "
		    "again later", what,
		    op->why != NULL ? op->why : "no answer");
		http_header(req, "Retry-After", "60");
		http_reply_detail(req, 503, detail);
	}
	free(detail);
}

/* A branch's versions, in the versions list's order. */
static void
apijson_branch_versions(struct asud *a, const struct strv *versions,
    const struct conf_branch *b, struct strv *out)
{
	size_t	i;

	for (i = 0; i < versions->n; i++)
		if (meta_branch_of(a, versions->v[i]) == b)
			strv_add(out, versions->v[i]);
}

/* The client-facing package changes of a branch (§4.1). */
static void
apijson_package_changes(yajl_gen g, struct asud *a, const struct conf_branch *b)
{
	const struct pkgchanges_client	*c;
	size_t				 i;
	int				 rev;

	rev = b->snapshot ? -1 : b->branch_off_rev;
	jsonw_key(g, "package_changes");
	yajl_gen_array_open(g);
	for (i = 0; a->pkgchanges != NULL &&
	    (c = pkgchanges_client_at(a->pkgchanges, i)) != NULL; i++) {
		if (!pkgchanges_client_applies(c, rev))
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

/* The targets of a version: upstream's .targets.json and the disk. */
static void
apijson_targets(struct apijson_op *op, yajl_gen g, const char *version)
{
	struct upstream_doc	*doc = NULL;
	struct strv		 disk = STRV_INITIALIZER;
	yajl_val		 root = NULL;
	char			*path;
	const char		*arch;
	const struct catalog_target *t;
	size_t			 i;

	jsonw_key(g, "targets");
	yajl_gen_map_open(g);
	if (version != NULL && (path = meta_targets_path(op->a, version)) !=
	    NULL) {
		if (upstream_enabled(op->a->upstream) &&
		    upstream_want(op->a->upstream, path, 0, op->since,
		    apijson_fetched, op) == 0)
			op->pending++;
		else
			doc = upstream_doc(op->a->upstream, path);
		free(path);
	}
	if (doc != NULL && (root = upstream_json(doc)) != NULL &&
	    YAJL_IS_OBJECT(root)) {
		for (i = 0; i < root->u.object.len; i++) {
			if (!YAJL_IS_STRING(root->u.object.values[i]))
				continue;
			jsonw_kv_str(g, root->u.object.keys[i],
			    YAJL_GET_STRING(root->u.object.values[i]));
		}
	}
	if (version != NULL)
		catalog_targets(op->a->catalog, version, &disk);
	for (i = 0; i < disk.n; i++) {
		if (root != NULL && jsonw_get(root, disk.v[i]) != NULL)
			continue;
		t = catalog_target(op->a->catalog, version, disk.v[i]);
		arch = t != NULL ? catalog_target_arch(t) : NULL;
		jsonw_kv_str(g, disk.v[i], arch != NULL ? arch : "");
	}
	strv_clear(&disk);
	yajl_gen_map_close(g);
}

/* One branch object of overview.json and branches.json. */
static void
apijson_branch(struct apijson_op *op, yajl_gen g, const struct conf_branch *b,
    const struct strv *versions)
{
	struct strv	mine = STRV_INITIALIZER;
	size_t		i;

	apijson_branch_versions(op->a, versions, b, &mine);
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "name", b->name);
	jsonw_kv_str(g, "path", b->path);
	jsonw_kv_str(g, "path_packages", "DEPRECATED");
	jsonw_kv_bool(g, "enabled", b->enabled);
	jsonw_kv_bool(g, "snapshot", b->snapshot);
	if (b->branch_off_rev >= 0)
		jsonw_kv_int(g, "branch_off_rev", b->branch_off_rev);
	apijson_package_changes(g, op->a, b);
	jsonw_key(g, "versions");
	yajl_gen_array_open(g);
	for (i = 0; i < mine.n; i++)
		jsonw_str(g, mine.v[i]);
	yajl_gen_array_close(g);
	apijson_targets(op, g, mine.n > 0 ? mine.v[0] : NULL);
	yajl_gen_map_close(g);
	strv_clear(&mine);
}

/* overview.json, branches.json or latest.json. */
static int
apijson_overview(struct apijson_op *op)
{
	struct asud		*a = op->a;
	struct upstream_doc	*doc = NULL;
	struct strv		 versions = STRV_INITIALIZER;
	struct strv		 latest = STRV_INITIALIZER;
	yajl_gen		 g;
	size_t			 i;

	if (upstream_enabled(a->upstream)) {
		doc = apijson_need(op, ".versions.json");
		if (op->pending > 0)
			return (0);
		if (doc == NULL) {
			/* A list without upstream's versions would mislead. */
			op->status = 503;
			apijson_unavailable(op, ".versions.json");
			return (1);
		}
	}
	meta_versions(a, doc, &versions, &latest);
	g = jsonw_new();
	if (op->kind == APIJSON_LATEST) {
		yajl_gen_map_open(g);
		jsonw_kv_strv(g, "latest", &latest);
		yajl_gen_map_close(g);
	} else if (op->kind == APIJSON_BRANCHES) {
		yajl_gen_array_open(g);
		for (i = 0; i < a->conf->nbranches; i++)
			apijson_branch(op, g, &a->conf->branches[i], &versions);
		yajl_gen_array_close(g);
	} else {
		yajl_gen_map_open(g);
		jsonw_kv_strv(g, "latest", &latest);
		jsonw_key(g, "branches");
		yajl_gen_map_open(g);
		for (i = 0; i < a->conf->nbranches; i++) {
			jsonw_key(g, a->conf->branches[i].name);
			apijson_branch(op, g, &a->conf->branches[i], &versions);
		}
		yajl_gen_map_close(g);
		jsonw_kv_str(g, "upstream_url", a->conf->upstream_url != NULL ?
		    a->conf->upstream_url : "");
		jsonw_key(g, "server");
		yajl_gen_map_open(g);
		jsonw_kv_str(g, "version", PACKAGE_VERSION);
		jsonw_kv_str(g, "contact", a->conf->contact != NULL ?
		    a->conf->contact : "");
		jsonw_kv_bool(g, "allow_defaults", a->conf->allow_defaults);
		jsonw_key(g, "repository_allow_list");
		yajl_gen_array_open(g);
		for (i = 0; i < a->conf->repository_allow_list.n; i++)
			jsonw_str(g, a->conf->repository_allow_list.v[i]);
		yajl_gen_array_close(g);
		jsonw_kv_int(g, "max_custom_rootfs_size_mb",
		    a->conf->max_custom_rootfs_size_mb);
		jsonw_kv_int(g, "max_defaults_length",
		    a->conf->max_defaults_length);
		yajl_gen_map_close(g);
		yajl_gen_map_close(g);
	}
	strv_clear(&versions);
	strv_clear(&latest);
	if (op->pending > 0) {
		yajl_gen_free(g);
		return (0);
	}
	apijson_send(op, g);
	return (1);
}

/* build_at: UTC, from profiles.json's source_date_epoch. */
static void
apijson_build_at(yajl_gen g, yajl_val root)
{
	yajl_val	sde = jsonw_get(root, "source_date_epoch");
	char		stamp[40];
	long long	t = 0;

	if (sde != NULL && YAJL_IS_INTEGER(sde))
		t = YAJL_GET_INTEGER(sde);
	else if (sde != NULL && YAJL_IS_STRING(sde))
		t = strtoll(sde->u.string, NULL, 10);
	jsonw_time(t * 1000, stamp);
	jsonw_kv_str(g, "build_at", stamp);
}

/* The profiles.json path of op's target. */
static char *
apijson_profiles_path(struct apijson_op *op)
{
	char	*p;

	xasprintf(&p, "%s/targets/%s/profiles.json", op->path, op->target);
	return (p);
}

/* Orders object keys, for bsearch. */
static int
apijson_key_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* /json/v1/<path>/targets/<t>/<s>/<profile>.json */
static int
apijson_profile(struct apijson_op *op)
{
	const struct catalog_target	*t;
	struct upstream_doc		*doc;
	yajl_val			 root, prof;
	yajl_gen			 g;
	const char			*id, **keys;
	char				*path;
	size_t				 i, n;

	path = apijson_profiles_path(op);
	doc = apijson_need(op, path);
	free(path);
	if (op->pending > 0)
		return (0);
	if (doc == NULL) {
		apijson_unavailable(op, "profiles.json");
		return (1);
	}
	root = upstream_json(doc);
	t = meta_profiles(doc, op->version, op->target);
	id = t != NULL ? catalog_resolve(t, op->name) : NULL;
	prof = id != NULL ? jsonw_get(jsonw_get(root, "profiles"), id) : NULL;
	g = jsonw_new();
	yajl_gen_map_open(g);
	if (prof != NULL && YAJL_IS_OBJECT(prof) && YAJL_IS_OBJECT(root)) {
		/* Sorted, so that hostile key counts cost n log n, not n^2. */
		n = prof->u.object.len;
		keys = xreallocarray(NULL, n + 1, sizeof *keys);
		if (n > 0)
			memcpy(keys, prof->u.object.keys, n * sizeof *keys);
		qsort(keys, n, sizeof *keys, apijson_key_cmp);
		for (i = 0; i < root->u.object.len; i++) {
			if (strcmp(root->u.object.keys[i], "profiles") == 0 ||
			    bsearch(&root->u.object.keys[i], keys, n,
			    sizeof *keys, apijson_key_cmp) != NULL)
				continue;
			jsonw_str(g, root->u.object.keys[i]);
			jsonw_tree(g, root->u.object.values[i]);
		}
		free(keys);
		for (i = 0; i < prof->u.object.len; i++) {
			jsonw_str(g, prof->u.object.keys[i]);
			jsonw_tree(g, prof->u.object.values[i]);
		}
		jsonw_kv_str(g, "id", id);
		apijson_build_at(g, root);
	}
	yajl_gen_map_close(g);
	apijson_send(op, g);
	return (1);
}

/* Reads a package index file (index.json v2, else Packages) into idx. */
static int
apijson_read_index(struct apijson_op *op, const char *dir,
    struct pkgindex *idx)
{
	struct upstream_doc	*doc;
	char			*path, *cause = NULL;
	int			 rc;

	xasprintf(&path, "%s/index.json", dir);
	doc = apijson_need(op, path);
	free(path);
	if (op->pending > 0)
		return (0);
	rc = doc != NULL ? pkgindex_parse_json(doc->body, doc->len, idx,
	    &cause) : PKGINDEX_OLD;
	free(cause);
	cause = NULL;
	if (rc == 0)
		return (1);
	op->missing = 0;	/* index.json may be absent: try Packages */
	xasprintf(&path, "%s/Packages", dir);
	doc = apijson_need(op, path);
	free(path);
	if (op->pending > 0 || doc == NULL)
		return (0);
	if (pkgindex_parse_packages(doc->body, doc->len, idx, &cause) != 0) {
		free(cause);
		return (0);
	}
	return (1);
}

/* Emits a package map. */
static void
apijson_index_json(yajl_gen g, const struct pkgindex *idx)
{
	size_t	i;

	yajl_gen_map_open(g);
	for (i = 0; i < idx->n; i++)
		jsonw_kv_str(g, idx->v[i].name, idx->v[i].version);
	yajl_gen_map_close(g);
}

/* The kmods index directory of a target, when the version has one. */
static char *
apijson_kmods_dir(struct apijson_op *op)
{
	struct upstream_doc	*doc;
	yajl_val		 lk;
	const char		*v, *r, *m;
	char			*path, *dir, *full = NULL;

	if (!pkgindex_has_kmods(op->version))
		return (NULL);
	path = apijson_profiles_path(op);
	doc = apijson_need(op, path);
	free(path);
	if (doc == NULL)
		return (NULL);
	lk = jsonw_get(upstream_json(doc), "linux_kernel");
	v = YAJL_GET_STRING(jsonw_get(lk, "version"));
	r = YAJL_GET_STRING(jsonw_get(lk, "release"));
	m = YAJL_GET_STRING(jsonw_get(lk, "vermagic"));
	if ((dir = pkgindex_kmods_dir(op->version, v, r, m)) == NULL)
		return (NULL);
	xasprintf(&full, "%s/targets/%s/kmods/%s", op->path, op->target, dir);
	free(dir);
	return (full);
}

/* The packages of op's target, kmods included: 1 when read. */
static int
apijson_target_packages(struct apijson_op *op, struct pkgindex *idx)
{
	struct pkgindex	 kmods = PKGINDEX_INITIALIZER;
	char		*dir, *kdir;
	int		 ok;

	xasprintf(&dir, "%s/targets/%s/packages", op->path, op->target);
	ok = apijson_read_index(op, dir, idx);
	free(dir);
	kdir = ok ? apijson_kmods_dir(op) : NULL;
	if (kdir != NULL) {
		if (apijson_read_index(op, kdir, &kmods))
			pkgindex_merge(idx, &kmods);
		op->missing = 0;	/* kmods are optional */
		free(kdir);
	}
	pkgindex_free(&kmods);
	return (ok);
}

/* /json/v1/<path>/targets/<t>/<s>/index.json */
static int
apijson_index(struct apijson_op *op)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	yajl_gen	 g;
	int		 ok;

	ok = apijson_target_packages(op, &idx);
	if (op->pending > 0) {
		pkgindex_free(&idx);
		return (0);
	}
	if (!ok) {
		pkgindex_free(&idx);
		apijson_unavailable(op, "the package index");
		return (1);
	}
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "architecture", idx.architecture != NULL ?
	    idx.architecture : "");
	jsonw_key(g, "packages");
	apijson_index_json(g, &idx);
	yajl_gen_map_close(g);
	pkgindex_free(&idx);
	apijson_send(op, g);
	return (1);
}

/* The packages of every feed of op's architecture: how many feeds read. */
static size_t
apijson_arch_packages(struct apijson_op *op, struct pkgindex *all)
{
	static const char	*fallback[] = { "base", "luci", "packages",
				    "routing", "telephony", NULL };
	struct upstream_doc	*doc;
	struct strv		 feeds = STRV_INITIALIZER;
	struct pkgindex		 one;
	char			*path, *dir;
	size_t			 i, got = 0;

	xasprintf(&path, "%s/packages/%s/feeds.conf", op->path, op->name);
	doc = apijson_need(op, path);
	free(path);
	if (op->pending > 0)
		return (0);
	if (doc != NULL)
		pkgindex_parse_feeds_conf(doc->body, doc->len, &feeds);
	for (i = 0; feeds.n == 0 && fallback[i] != NULL; i++)
		strv_add(&feeds, fallback[i]);
	for (i = 0; i < feeds.n; i++) {
		memset(&one, 0, sizeof one);
		xasprintf(&dir, "%s/packages/%s/%s", op->path, op->name,
		    feeds.v[i]);
		if (apijson_read_index(op, dir, &one)) {
			pkgindex_merge(all, &one);
			got++;
		}
		op->missing = 0;
		free(dir);
		pkgindex_free(&one);
	}
	strv_clear(&feeds);
	return (got);
}

/* /json/v1/<path>/packages/<arch>-index.json: every feed, flat. */
static int
apijson_arch_index(struct apijson_op *op)
{
	struct pkgindex	 all = PKGINDEX_INITIALIZER;
	yajl_gen	 g;
	size_t		 got;

	got = apijson_arch_packages(op, &all);
	if (op->pending > 0 || got == 0) {
		pkgindex_free(&all);
		if (op->pending > 0)
			return (0);
		apijson_unavailable(op, "the package feeds");
		return (1);
	}
	g = jsonw_new();
	apijson_index_json(g, &all);
	pkgindex_free(&all);
	apijson_send(op, g);
	return (1);
}

/* /api/v1/revision/<v>/<t>/<s> */
static int
apijson_revision_render(struct apijson_op *op)
{
	struct evhttp_request	*req;
	struct upstream_doc	*doc;
	yajl_val		 vc;
	yajl_gen		 g;
	char			*path, *detail;

	path = apijson_profiles_path(op);
	doc = apijson_need(op, path);
	free(path);
	if (op->pending > 0)
		return (0);
	vc = doc != NULL ? jsonw_get(upstream_json(doc), "version_code") : NULL;
	if (vc == NULL || !YAJL_IS_STRING(vc)) {
		if ((req = http_hold_req(op->hold)) == NULL)
			return (1);
		xasprintf(&detail, "Failed to fetch revision for %s/%s",
		    op->version, op->target);
		if (op->status == 404)
			http_reply_detail(req, 404, detail);
		else {
			http_header(req, "Retry-After", "60");
			http_reply_detail(req, 503, detail);
		}
		free(detail);
		return (1);
	}
	g = jsonw_new();
	yajl_gen_map_open(g);
	jsonw_kv_str(g, "revision", YAJL_GET_STRING(vc));
	yajl_gen_map_close(g);
	apijson_send(op, g);
	return (1);
}

/* The feeds of a version's target and architecture, for a caller. */
static int
apijson_feeds_render(struct apijson_op *op)
{
	struct pkgindex	 idx = PKGINDEX_INITIALIZER;
	struct pkgindex	 arch = PKGINDEX_INITIALIZER;
	int		 ok;
	size_t		 got;

	ok = apijson_target_packages(op, &idx);
	op->missing = 0;
	got = apijson_arch_packages(op, &arch);
	if (op->pending > 0 || !ok || got == 0) {
		pkgindex_free(&idx);
		pkgindex_free(&arch);
		if (op->pending > 0)
			return (0);
		apijson_unavailable(op, "the package index");
		return (1);
	}
	if (pkgindex_merge(&idx, &arch) == -1) {
		op->feeds_done(NULL, "the package index is too big",
		    op->feeds_arg);
	} else
		op->feeds_done(&idx, NULL, op->feeds_arg);
	op->feeds_done = NULL;
	pkgindex_free(&idx);
	pkgindex_free(&arch);
	return (1);
}

/* What renders each kind of document: 1 when it was sent. */
static int (*const apijson_render[])(struct apijson_op *) = {
	[APIJSON_OVERVIEW] = apijson_overview,
	[APIJSON_BRANCHES] = apijson_overview,
	[APIJSON_LATEST] = apijson_overview,
	[APIJSON_PROFILE] = apijson_profile,
	[APIJSON_INDEX] = apijson_index,
	[APIJSON_ARCH_INDEX] = apijson_arch_index,
	[APIJSON_REVISION] = apijson_revision_render,
	[APIJSON_FEEDS] = apijson_feeds_render,
};

/* Renders; reruns after fetches, a bounded number of times. */
static void
apijson_run(struct apijson_op *op)
{
	int	done;

	op->missing = 0;
	op->status = 0;
	/* The feeds read both indexes: twice the rounds. */
	if (++op->rounds > APIJSON_ROUNDS * (op->kind == APIJSON_FEEDS ?
	    2 : 1)) {
		apijson_unavailable(op, "upstream metadata");
		apijson_free(op);
		return;
	}
	done = apijson_render[op->kind](op);
	if (done || op->pending == 0) {
		if (!done)
			apijson_unavailable(op, "upstream metadata");
		apijson_free(op);
	}
}

/* True for a path segment made of safe characters, not "." or "..". */
static int
apijson_segment_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > 128 || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return (0);
	return (1);
}

/* True when every "/"-separated segment of s is safe. */
static int
apijson_path_ok(const char *s)
{
	const char	*slash;

	for (;;) {
		slash = strchr(s, '/');
		if (!apijson_segment_ok(s, slash != NULL ?
		    (size_t)(slash - s) : strlen(s)))
			return (0);
		if (slash == NULL)
			return (1);
		s = slash + 1;
	}
}

/* The version a published path stands for ("snapshots" -> SNAPSHOT). */
static char *
apijson_path_version(const char *path)
{
	const char	*slash;

	if (strcmp(path, "snapshots") == 0)
		return (xstrdup("SNAPSHOT"));
	if ((slash = strrchr(path, '/')) != NULL)
		return (xstrdup(slash + 1));
	return (xstrdup(path));
}

/* True when s ends with suffix. */
static int
apijson_ends(const char *s, const char *suffix)
{
	size_t	a = strlen(s), b = strlen(suffix);

	return (a >= b && strcmp(s + a - b, suffix) == 0);
}

/* Splits <path>/targets/<t>/<s>/<file> or <path>/packages/<arch>-index.json. */
static int
apijson_parse(struct apijson_op *op, const char *rest)
{
	const char	*t, *file;
	char		*copy;
	int		 ok = 0;

	if (!apijson_path_ok(rest))
		return (-1);
	copy = xstrdup(rest);
	if ((t = strstr(copy, "/targets/")) != NULL) {
		op->path = xstrndup(copy, (size_t)(t - copy));
		t += strlen("/targets/");
		if ((file = strrchr(t, '/')) != NULL && file > t &&
		    memchr(t, '/', (size_t)(file - t)) != NULL &&
		    apijson_ends(file, ".json")) {
			op->target = xstrndup(t, (size_t)(file - t));
			op->name = xstrndup(file + 1, strlen(file + 1) - 5);
			op->kind = strcmp(op->name, "index") == 0 ?
			    APIJSON_INDEX : APIJSON_PROFILE;
			ok = strchr(strchr(op->target, '/') + 1, '/') == NULL;
		}
	} else if ((t = strstr(copy, "/packages/")) != NULL &&
	    apijson_ends(copy, "-index.json")) {
		op->path = xstrndup(copy, (size_t)(t - copy));
		t += strlen("/packages/");
		if (strchr(t, '/') == NULL) {
			op->name = xstrndup(t,
			    strlen(t) - strlen("-index.json"));
			op->kind = APIJSON_ARCH_INDEX;
			ok = *op->name != '\0';
		}
	}
	free(copy);
	if (ok)
		op->version = apijson_path_version(op->path);
	return (ok ? 0 : -1);
}

/* Starts an operation for a request. */
static struct apijson_op *
apijson_new(struct asud *a, struct evhttp_request *req,
    enum apijson_kind kind)
{
	struct apijson_op	*op;

	op = xcalloc(1, sizeof *op);
	op->a = a;
	op->kind = kind;
	op->hold = http_hold_new(req);
	op->since = upstream_clock(a->upstream);
	return (op);
}

/* The documents named by their file name alone. */
static const struct apijson_name {
	const char		*file;
	enum apijson_kind	 kind;
} apijson_names[] = {
	{ "overview.json", APIJSON_OVERVIEW },
	{ "branches.json", APIJSON_BRANCHES },
	{ "latest.json", APIJSON_LATEST },
};

/* GET /json/v1/<rest> */
void
apijson_get(struct asud *a, struct evhttp_request *req, const char *rest)
{
	struct apijson_op	*op;
	size_t			 i;

	for (i = 0; i < nitems(apijson_names); i++) {
		if (strcmp(rest, apijson_names[i].file) == 0) {
			apijson_run(apijson_new(a, req, apijson_names[i].kind));
			return;
		}
	}
	op = apijson_new(a, req, APIJSON_PROFILE);
	if (apijson_parse(op, rest) == -1) {
		apijson_free(op);
		http_reply_detail(req, 404, "Not Found");
		return;
	}
	apijson_run(op);
}

/* GET /api/v1/revision/<version>/<target>/<subtarget> */
void
apijson_revision(struct asud *a, struct evhttp_request *req,
    const char *rest)
{
	struct apijson_op	*op;
	const char		*slash;
	char			*detail;

	if (!apijson_path_ok(rest) || (slash = strchr(rest, '/')) == NULL ||
	    strchr(slash + 1, '/') == NULL ||
	    strchr(strchr(slash + 1, '/') + 1, '/') != NULL) {
		http_reply_detail(req, 404, "Not Found");
		return;
	}
	op = apijson_new(a, req, APIJSON_REVISION);
	op->version = xstrndup(rest, (size_t)(slash - rest));
	op->target = xstrdup(slash + 1);
	if ((op->path = meta_version_path(a, op->version)) == NULL) {
		xasprintf(&detail, "Unsupported version: %s", op->version);
		http_reply_detail(req, 400, detail);
		free(detail);
		apijson_free(op);
		return;
	}
	apijson_run(op);
}

/* The packages of a version's feeds, for the upgrade check. */
void
apijson_feeds(struct asud *a, const char *version, const char *target,
    const char *arch, apijson_feeds_cb done, void *arg)
{
	struct apijson_op	*op;
	char			*why;

	op = xcalloc(1, sizeof *op);
	op->a = a;
	op->kind = APIJSON_FEEDS;
	op->since = upstream_clock(a->upstream);
	op->feeds_done = done;
	op->feeds_arg = arg;
	op->version = xstrdup(version);
	op->target = xstrdup(target);
	op->name = xstrdup(arch);
	if ((op->path = meta_version_path(a, version)) == NULL ||
	    !apijson_path_ok(op->path) || !apijson_path_ok(target) ||
	    !apijson_path_ok(arch)) {
		xasprintf(&why, "no package index for %s %s", version, target);
		done(NULL, why, arg);
		free(why);
		apijson_free(op);
		return;
	}
	apijson_run(op);
}

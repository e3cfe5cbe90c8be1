/*
 * meta.c: derived views of the upstream metadata.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/versions.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/jsonw.h"
#include "server/meta.h"
#include "server/upstream.h"

/*
 * The most entries of versions_list read: upstream lists a few dozen, and
 * each entry is checked against those taken, on every build request.
 */
#define META_MAX_VERSIONS	1024

/* The names of the configured branches. */
static void
meta_branch_names(struct asud *a, struct strv *names)
{
	size_t	i;

	for (i = 0; i < a->conf->nbranches; i++)
		strv_add(names, a->conf->branches[i].name);
}

/* The branch of a version (§3 item 4). */
struct conf_branch *
meta_branch_of(struct asud *a, const char *version)
{
	struct strv		 names = STRV_INITIALIZER;
	struct conf_branch	*b;
	char			*name;

	meta_branch_names(a, &names);
	name = versions_branch_of(version, &names);
	b = name != NULL ? conf_branch(a->conf, name) : NULL;
	free(name);
	strv_clear(&names);
	return (b);
}

/* The upstream path of a version, from its branch's template. */
char *
meta_version_path(struct asud *a, const char *version)
{
	struct conf_branch	*b;

	if ((b = meta_branch_of(a, version)) == NULL)
		return (NULL);
	return (versions_path(b->path, version));
}

/* Adds v when it belongs to an enabled branch and is new. */
static void
meta_add_version(struct asud *a, struct strv *out, const char *v)
{
	struct conf_branch	*b;

	if (v == NULL || *v == '\0' || strv_find(out, v) != -1)
		return;
	if ((b = meta_branch_of(a, v)) == NULL || !b->enabled)
		return;
	strv_add(out, v);
}

/* A string member of an object, or NULL. */
static const char *
meta_str(yajl_val obj, const char *key)
{
	yajl_val	v = jsonw_get(obj, key);

	return (v != NULL && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL);
}

/* The versions and latest lists of reference/asu-api.md §6.1. */
void
meta_versions(struct asud *a, struct upstream_doc *doc, struct strv *versions,
    struct strv *latest)
{
	static const char	*keys[] = { "upcoming_version",
				    "stable_version", "oldstable_version",
				    NULL };
	yajl_val		 root = doc != NULL ? upstream_json(doc) : NULL;
	yajl_val		 list;
	struct strv		 disk = STRV_INITIALIZER;
	size_t			 i;
	char			*snap;

	for (i = 0; latest != NULL && keys[i] != NULL; i++)
		meta_add_version(a, latest, meta_str(root, keys[i]));
	meta_add_version(a, versions, meta_str(root, "upcoming_version"));
	list = jsonw_get(root, "versions_list");
	for (i = 0; list != NULL && YAJL_IS_ARRAY(list) &&
	    i < list->u.array.len && i < META_MAX_VERSIONS; i++)
		if (YAJL_IS_STRING(list->u.array.values[i]))
			meta_add_version(a, versions,
			    YAJL_GET_STRING(list->u.array.values[i]));
	meta_add_version(a, versions, "SNAPSHOT");
	for (i = 0; i < a->conf->nbranches; i++) {
		if (a->conf->branches[i].snapshot)
			continue;
		xasprintf(&snap, "%s-SNAPSHOT", a->conf->branches[i].name);
		meta_add_version(a, versions, snap);
		free(snap);
	}
	catalog_versions(a->catalog, &disk);
	for (i = 0; i < disk.n; i++)
		meta_add_version(a, versions, disk.v[i]);
	strv_clear(&disk);
	versions_sort(versions);
}

/* True when the version is listed. */
int
meta_has_version(struct asud *a, struct upstream_doc *doc,
    const char *version)
{
	struct strv	versions = STRV_INITIALIZER;
	int		found;

	meta_versions(a, doc, &versions, NULL);
	found = strv_find(&versions, version) != -1;
	strv_clear(&versions);
	return (found);
}

/* The architecture a .targets.json gives a target. */
const char *
meta_target_arch(struct upstream_doc *doc, const char *target)
{
	return (meta_str(upstream_json(doc), target));
}

/* Frees a cached profiles view. */
static void
meta_view_free(void *p)
{
	catalog_free(p);
}

/* Builds (once per body) a catalog of one target from profiles.json. */
const struct catalog_target *
meta_profiles(struct upstream_doc *doc, const char *version,
    const char *target)
{
	struct catalog		*c;
	struct catalog_target	*t;
	struct strv		 sup = STRV_INITIALIZER;
	yajl_val		 root, profiles, p, sd;
	size_t			 i, j;
	const char		*arch;

	if (doc->view != NULL)
		return (catalog_target(doc->view, version, target));
	root = upstream_json(doc);
	profiles = jsonw_get(root, "profiles");
	if (profiles == NULL || !YAJL_IS_OBJECT(profiles))
		return (NULL);
	c = catalog_new();
	t = catalog_add_target(c, version, target);
	if ((arch = meta_str(root, "arch_packages")) != NULL)
		catalog_target_set_arch(t, arch);
	for (i = 0; i < profiles->u.object.len; i++) {
		p = profiles->u.object.values[i];
		sd = jsonw_get(p, "supported_devices");
		for (j = 0; sd != NULL && YAJL_IS_ARRAY(sd) &&
		    j < sd->u.array.len; j++)
			if (YAJL_IS_STRING(sd->u.array.values[j]))
				strv_add(&sup,
				    YAJL_GET_STRING(sd->u.array.values[j]));
		catalog_add_profile(t, profiles->u.object.keys[i], &sup);
		strv_clear(&sup);
	}
	doc->view = c;
	doc->view_free = meta_view_free;
	return (catalog_target(c, version, target));
}

/* releases/<v>/.targets.json */
char *
meta_targets_path(struct asud *a, const char *version)
{
	char	*base, *path;

	if ((base = meta_version_path(a, version)) == NULL)
		return (NULL);
	xasprintf(&path, "%s/.targets.json", base);
	free(base);
	return (path);
}

/* releases/<v>/targets/<t>/<s>/profiles.json */
char *
meta_profiles_path(struct asud *a, const char *version, const char *target)
{
	char	*base, *path;

	if ((base = meta_version_path(a, version)) == NULL)
		return (NULL);
	xasprintf(&path, "%s/targets/%s/profiles.json", base, target);
	free(base);
	return (path);
}

/* Nothing to do when a background refresh ends. */
static void
meta_refreshed(struct upstream_doc *doc, void *arg)
{
}

/* The version_code of the cached profiles.json of version/target. */
const char *
meta_upstream_revision(struct asud *a, const char *version,
    const char *target)
{
	struct upstream_doc	*doc;
	char			*path;

	if (!upstream_enabled(a->upstream) ||
	    (path = meta_profiles_path(a, version, target)) == NULL)
		return (NULL);
	upstream_want(a->upstream, path, 0, upstream_clock(a->upstream),
	    meta_refreshed, NULL);
	doc = upstream_doc(a->upstream, path);
	free(path);
	return (meta_str(upstream_json(doc), "version_code"));
}

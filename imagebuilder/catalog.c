/*
 * catalog.c: the versions, targets and profiles asud can build, and the
 * mapping of a requested profile name (an id or a board name from
 * supported_devices) to a canonical profile id. Everything is kept in
 * sorted arrays, so every lookup done while validating a request is a
 * binary search. The catalog is filled by hand or from the .targetinfo
 * files of unpacked ImageBuilders.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"

/*
 * Limits well above real data (ath79/generic: 349 profiles, 518 aliases).
 * Profiles and aliases live in sorted arrays, so these also bound the
 * work of building a target from a hostile profiles.json: every alias
 * ever added counts, also those of a profile that was replaced.
 */
#define CATALOG_MAX_PROFILES	8192
#define CATALOG_MAX_DEVICES	256
#define CATALOG_MAX_ALIASES	8192
#define CATALOG_MAX_NAME	256
/* The bytes of a name besides letters and digits. */
#define CATALOG_NAME_CHARS	"._-"
#define CATALOG_MAX_TARGETINFO	(64 * 1024 * 1024)

struct catalog_profile {
	char		*id;
	struct strv	 devices;	/* supported_devices, commas kept */
	size_t		 naliases;	/* aliases that point here */
};

struct catalog_alias {
	char			*name;		/* a device with "," -> "_" */
	struct catalog_profile	*profile;
	int			 first;		/* the profile's first device */
};

struct catalog_target {
	char			 *name;		/* "ath79/generic" */
	char			 *version;
	char			 *dir;		/* ImageBuilder, or NULL */
	char			 *arch;		/* arch_packages, or NULL */
	struct catalog_profile	**profiles;	/* sorted by id */
	size_t			  nprofiles;
	size_t			  profcap;
	struct catalog_alias	 *aliases;	/* sorted by name, then id */
	size_t			  naliases;
	size_t			  aliascap;
	size_t			  aliasadds;	/* aliases ever added */
};

struct catalog_version {
	char			 *name;
	struct catalog_target	**targets;	/* sorted by name */
	size_t			  ntargets;
	size_t			  cap;
};

struct catalog {
	struct catalog_version	**versions;	/* sorted by name */
	size_t			  nversions;
	size_t			  cap;
};

/* State while reading one .targetinfo file. */
struct catalog_tinfo {
	struct catalog		*catalog;
	const char		*version;
	const char		*target;	/* the block wanted */
	const char		*dir;
	struct catalog_target	*t;		/* set once the block is seen */
	int			 in_target;	/* inside the wanted block */
	int			 multiline;	/* skipping text up to "@@" */
	char			*id;		/* profile being read */
	struct strv		 devices;
};

typedef int (*catalog_cmp_cb)(const void *, const void *);

static int	catalog_name_ok(const char *, const char *);
static size_t	catalog_lower(const void *, size_t, size_t, const void *,
		    catalog_cmp_cb, int *);
static void	*catalog_insert(void *, size_t *, size_t *, size_t, size_t,
		    const void *);
static int	catalog_version_cmp(const void *, const void *);
static int	catalog_target_cmp(const void *, const void *);
static int	catalog_profile_cmp(const void *, const void *);
static int	catalog_alias_name_cmp(const void *, const void *);
static int	catalog_alias_cmp(const void *, const void *);
static struct catalog_version *catalog_version(const struct catalog *,
		    const char *);
static void	catalog_target_free(struct catalog_target *);
static void	catalog_drop_aliases(struct catalog_target *,
		    struct catalog_profile *);
static void	catalog_add_alias(struct catalog_target *,
		    struct catalog_profile *, const char *, int);
static char	*catalog_underscore(const char *);
static char	*catalog_value(const char *, const char *);
static void	catalog_tinfo_flush(struct catalog_tinfo *);
static void	catalog_tinfo_line(struct catalog_tinfo *, const char *);
static void	catalog_tinfo_parse(struct catalog_tinfo *, const char *,
		    size_t);
static int	catalog_dir_ok(const char *, const char *);
static void	catalog_scan_ib(struct catalog *, const char *, const char *,
		    const char *);
static void	catalog_scan_level(struct catalog *, const char *,
		    const char *, const char *, int, const char *);

/* Names on disk and ids: letters, digits and the bytes of chars. */
static int
catalog_name_ok(const char *s, const char *chars)
{
	return (text_word_ok(s, strlen(s), CATALOG_MAX_NAME, chars));
}

/* Binary search: the first slot not below key, and whether it matches. */
static size_t
catalog_lower(const void *base, size_t n, size_t size, const void *key,
    catalog_cmp_cb cmp, int *found)
{
	const char	*b = base;
	size_t		 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cmp(key, b + mid * size) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (found != NULL)
		*found = lo < n && cmp(key, b + lo * size) == 0;
	return (lo);
}

/* Inserts one element at slot at of a growable array; returns the array. */
static void *
catalog_insert(void *base, size_t *n, size_t *cap, size_t size, size_t at,
    const void *elt)
{
	char	*b;

	if (*n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		base = xreallocarray(base, *cap, size);
	}
	b = base;
	memmove(b + (at + 1) * size, b + at * size, (*n - at) * size);
	memcpy(b + at * size, elt, size);
	(*n)++;
	return (base);
}

/* Compares a name with a version slot. */
static int
catalog_version_cmp(const void *key, const void *slot)
{
	return (strcmp(key, (*(struct catalog_version *const *)slot)->name));
}

/* Compares a name with a target slot. */
static int
catalog_target_cmp(const void *key, const void *slot)
{
	return (strcmp(key, (*(struct catalog_target *const *)slot)->name));
}

/* Compares an id with a profile slot. */
static int
catalog_profile_cmp(const void *key, const void *slot)
{
	return (strcmp(key, (*(struct catalog_profile *const *)slot)->id));
}

/* Compares a name with an alias slot, ignoring the profile. */
static int
catalog_alias_name_cmp(const void *key, const void *slot)
{
	return (strcmp(key, ((const struct catalog_alias *)slot)->name));
}

/* Orders aliases by name, then by profile id. */
static int
catalog_alias_cmp(const void *key, const void *slot)
{
	const struct catalog_alias	*a = key, *b = slot;
	int				 c;

	if ((c = strcmp(a->name, b->name)) != 0)
		return (c);
	return (strcmp(a->profile->id, b->profile->id));
}

/* Makes an empty catalog. */
struct catalog *
catalog_new(void)
{
	return (xcalloc(1, sizeof (struct catalog)));
}

/* Frees a target with its profiles and aliases. */
static void
catalog_target_free(struct catalog_target *t)
{
	size_t	i;

	for (i = 0; i < t->nprofiles; i++) {
		free(t->profiles[i]->id);
		strv_clear(&t->profiles[i]->devices);
		free(t->profiles[i]);
	}
	for (i = 0; i < t->naliases; i++)
		free(t->aliases[i].name);
	free(t->profiles);
	free(t->aliases);
	free(t->name);
	free(t->version);
	free(t->dir);
	free(t->arch);
	free(t);
}

/* Frees everything. */
void
catalog_free(struct catalog *c)
{
	struct catalog_version	*v;
	size_t			 i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nversions; i++) {
		v = c->versions[i];
		for (j = 0; j < v->ntargets; j++)
			catalog_target_free(v->targets[j]);
		free(v->targets);
		free(v->name);
		free(v);
	}
	free(c->versions);
	free(c);
}

/* Finds a version, or NULL. */
static struct catalog_version *
catalog_version(const struct catalog *c, const char *version)
{
	size_t	i;
	int	found;

	i = catalog_lower(c->versions, c->nversions, sizeof *c->versions,
	    version, catalog_version_cmp, &found);
	return (found ? c->versions[i] : NULL);
}

/* Adds a target under its version, creating both as needed. */
struct catalog_target *
catalog_add_target(struct catalog *c, const char *version, const char *target)
{
	struct catalog_version	*v;
	struct catalog_target	*t;
	size_t			 i;
	int			 found;

	i = catalog_lower(c->versions, c->nversions, sizeof *c->versions,
	    version, catalog_version_cmp, &found);
	if (!found) {
		v = xcalloc(1, sizeof *v);
		v->name = xstrdup(version);
		c->versions = catalog_insert(c->versions, &c->nversions,
		    &c->cap, sizeof *c->versions, i, &v);
	}
	v = c->versions[i];
	i = catalog_lower(v->targets, v->ntargets, sizeof *v->targets, target,
	    catalog_target_cmp, &found);
	if (found)
		return (v->targets[i]);
	t = xcalloc(1, sizeof *t);
	t->name = xstrdup(target);
	t->version = xstrdup(version);
	v->targets = catalog_insert(v->targets, &v->ntargets, &v->cap,
	    sizeof *v->targets, i, &t);
	return (t);
}

/* Returns a copy of s with every "," turned into "_". */
static char *
catalog_underscore(const char *s)
{
	char	*u, *p;

	u = xstrdup(s);
	for (p = u; *p != '\0'; p++) {
		if (*p == ',')
			*p = '_';
	}
	return (u);
}

/* Removes every alias that points at profile p. */
static void
catalog_drop_aliases(struct catalog_target *t, struct catalog_profile *p)
{
	size_t	i, j;

	if (p->naliases == 0)
		return;
	p->naliases = 0;
	for (i = 0, j = 0; i < t->naliases; i++) {
		if (t->aliases[i].profile == p)
			free(t->aliases[i].name);
		else
			t->aliases[j++] = t->aliases[i];
	}
	t->naliases = j;
}

/* Records that profile p answers to the board name device. */
static void
catalog_add_alias(struct catalog_target *t, struct catalog_profile *p,
    const char *device, int first)
{
	struct catalog_alias	a;
	size_t			i;
	int			found;

	a.name = catalog_underscore(device);
	a.profile = p;
	a.first = first;
	i = catalog_lower(t->aliases, t->naliases, sizeof *t->aliases, &a,
	    catalog_alias_cmp, &found);
	if (found) {
		if (first)
			t->aliases[i].first = 1;
		free(a.name);
		return;
	}
	if (t->aliasadds >= CATALOG_MAX_ALIASES) {
		free(a.name);
		return;
	}
	t->aliasadds++;
	p->naliases++;
	t->aliases = catalog_insert(t->aliases, &t->naliases, &t->aliascap,
	    sizeof *t->aliases, i, &a);
}

/*
 * Adds a profile, or replaces the devices of a known one. Ids and device
 * names that could not come from OpenWrt are ignored.
 */
void
catalog_add_profile(struct catalog_target *t, const char *id,
    const struct strv *supported_devices)
{
	struct catalog_profile	*p;
	size_t			 i;
	int			 found;

	if (!catalog_name_ok(id, CATALOG_NAME_CHARS ",+"))
		return;
	i = catalog_lower(t->profiles, t->nprofiles, sizeof *t->profiles, id,
	    catalog_profile_cmp, &found);
	if (found) {
		p = t->profiles[i];
		catalog_drop_aliases(t, p);
		strv_clear(&p->devices);
	} else {
		if (t->nprofiles >= CATALOG_MAX_PROFILES)
			return;
		p = xcalloc(1, sizeof *p);
		p->id = xstrdup(id);
		t->profiles = catalog_insert(t->profiles, &t->nprofiles,
		    &t->profcap, sizeof *t->profiles, i, &p);
	}
	for (i = 0; supported_devices != NULL && i < supported_devices->n;
	    i++) {
		if (p->devices.n >= CATALOG_MAX_DEVICES)
			break;
		if (!catalog_name_ok(supported_devices->v[i],
		    CATALOG_NAME_CHARS ",+"))
			continue;
		strv_add(&p->devices, supported_devices->v[i]);
		catalog_add_alias(t, p, supported_devices->v[i],
		    p->devices.n == 1);
	}
}

/* Whether any target of this version is known. */
int
catalog_has_version(const struct catalog *c, const char *version)
{
	return (catalog_version(c, version) != NULL);
}

/* Finds a target of a version, or NULL. */
const struct catalog_target *
catalog_target(const struct catalog *c, const char *version,
    const char *target)
{
	struct catalog_version	*v;
	size_t			 i;
	int			 found;

	if ((v = catalog_version(c, version)) == NULL)
		return (NULL);
	i = catalog_lower(v->targets, v->ntargets, sizeof *v->targets, target,
	    catalog_target_cmp, &found);
	return (found ? v->targets[i] : NULL);
}

/* Maps a requested name to a canonical id: id, then alias, then generic. */
const char *
catalog_resolve(const struct catalog_target *t, const char *profile)
{
	const struct catalog_alias	*a, *last = NULL, *lastfirst = NULL;
	char				*name;
	size_t				 i;
	int				 found;

	if (t == NULL || profile == NULL)
		return (NULL);
	name = catalog_underscore(profile);
	i = catalog_lower(t->profiles, t->nprofiles, sizeof *t->profiles,
	    name, catalog_profile_cmp, &found);
	if (found) {
		free(name);
		return (t->profiles[i]->id);
	}
	i = catalog_lower(t->aliases, t->naliases, sizeof *t->aliases, name,
	    catalog_alias_name_cmp, NULL);
	for (; i < t->naliases && strcmp(t->aliases[i].name, name) == 0;
	    i++) {
		a = &t->aliases[i];
		last = a;
		if (a->first)
			lastfirst = a;
	}
	free(name);
	if (lastfirst != NULL)
		return (lastfirst->profile->id);
	if (last != NULL)
		return (last->profile->id);
	if (t->nprofiles == 1 && strcmp(t->profiles[0]->id, "generic") == 0)
		return (t->profiles[0]->id);
	return (NULL);
}

/* Number of profiles of a target. */
size_t
catalog_nprofiles(const struct catalog_target *t)
{
	return (t->nprofiles);
}

/* The i-th profile id in id order, or NULL past the end. */
const char *
catalog_profile_id(const struct catalog_target *t, size_t i)
{
	return (i < t->nprofiles ? t->profiles[i]->id : NULL);
}

/* The target's name, "ath79/generic". */
const char *
catalog_target_name(const struct catalog_target *t)
{
	return (t->name);
}

/* The version the target belongs to. */
const char *
catalog_target_version(const struct catalog_target *t)
{
	return (t->version);
}

/* The ImageBuilder directory a scan found, or NULL. */
const char *
catalog_target_dir(const struct catalog_target *t)
{
	return (t->dir);
}

/* The package architecture (Target-Arch-Packages), or NULL. */
const char *
catalog_target_arch(const struct catalog_target *t)
{
	return (t->arch);
}

/* Sets the package architecture of a target added by hand. */
void
catalog_target_set_arch(struct catalog_target *t, const char *arch)
{
	free(t->arch);
	t->arch = arch != NULL ? xstrdup(arch) : NULL;
}

/* Indexed access to the versions, for callers that walk them. */
const char *
catalog_version_at(const struct catalog *c, size_t i)
{
	return (i < c->nversions ? c->versions[i]->name : NULL);
}

/* Indexed access to the targets of a version. */
const struct catalog_target *
catalog_target_at(const struct catalog *c, const char *version, size_t i)
{
	struct catalog_version	*v;

	if ((v = catalog_version(c, version)) == NULL || i >= v->ntargets)
		return (NULL);
	return (v->targets[i]);
}

/* Appends every version name, in strcmp order. */
void
catalog_versions(const struct catalog *c, struct strv *out)
{
	size_t	i;

	for (i = 0; i < c->nversions; i++)
		strv_add(out, c->versions[i]->name);
}

/* Appends every target name of a version, in strcmp order. */
void
catalog_targets(const struct catalog *c, const char *version,
    struct strv *out)
{
	struct catalog_version	*v;
	size_t			 i;

	if ((v = catalog_version(c, version)) == NULL)
		return;
	for (i = 0; i < v->ntargets; i++)
		strv_add(out, v->targets[i]->name);
}

/* Returns the trimmed value after "key:" at the start of line, or NULL. */
static char *
catalog_value(const char *line, const char *key)
{
	size_t	 len = strlen(key);
	char	*s;

	if (strncmp(line, key, len) != 0 || line[len] != ':')
		return (NULL);
	line += len + 1;
	line += strspn(line, " \t");
	s = xstrdup(line);
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	return (s);
}

/* Adds the profile read so far, if any. */
static void
catalog_tinfo_flush(struct catalog_tinfo *ti)
{
	if (ti->id != NULL && ti->t != NULL)
		catalog_add_profile(ti->t, ti->id, &ti->devices);
	free(ti->id);
	ti->id = NULL;
	strv_clear(&ti->devices);
}

/*
 * Handles one .targetinfo line. Descriptions and profile configs run up
 * to a line "@@", as in OpenWrt's scripts/metadata.pm; other keys are
 * ignored.
 */
static void
catalog_tinfo_line(struct catalog_tinfo *ti, const char *line)
{
	char	*v = NULL;

	if (ti->multiline) {
		ti->multiline = strcmp(line, "@@") != 0;
		return;
	}
	if ((v = catalog_value(line, "Target")) != NULL) {
		catalog_tinfo_flush(ti);
		ti->in_target = strcmp(v, ti->target) == 0;
		if (ti->in_target && ti->t == NULL) {
			ti->t = catalog_add_target(ti->catalog, ti->version,
			    ti->target);
			free(ti->t->dir);
			ti->t->dir = xstrdup(ti->dir);
		}
	} else if (strncmp(line, "Target-Description:", 19) == 0 ||
	    strncmp(line, "Target-Profile-Description:", 27) == 0 ||
	    strncmp(line, "Target-Profile-Config:", 22) == 0)
		ti->multiline = 1;
	else if (!ti->in_target)
		return;
	else if ((v = catalog_value(line, "Target-Arch-Packages")) != NULL) {
		if (catalog_name_ok(v, CATALOG_NAME_CHARS))
			catalog_target_set_arch(ti->t, v);
	} else if ((v = catalog_value(line, "Target-Profile")) != NULL) {
		catalog_tinfo_flush(ti);
		ti->id = xstrdup(strncmp(v, "DEVICE_", 7) == 0 ? v + 7 : v);
	} else if ((v = catalog_value(line,
	    "Target-Profile-SupportedDevices")) != NULL) {
		strv_clear(&ti->devices);
		strv_split(&ti->devices, v, " \t");
	}
	free(v);
}

/* Reads a whole .targetinfo text, line by line within len. */
static void
catalog_tinfo_parse(struct catalog_tinfo *ti, const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *l;
	char		*line;
	size_t		 n;

	while (text_next_line(&p, end, &l, &n)) {
		line = xstrndup(l, n);
		catalog_tinfo_line(ti, line);
		free(line);
	}
	catalog_tinfo_flush(ti);
}

/* A directory, or a link to one that stays inside root (a real path). */
static int
catalog_dir_ok(const char *path, const char *root)
{
	struct stat	 st;
	char		*real;
	size_t		 len = strlen(root);
	int		 ok;

	if (lstat(path, &st) == -1)
		return (0);
	if (S_ISDIR(st.st_mode))
		return (1);
	if (!S_ISLNK(st.st_mode) || (real = realpath(path, NULL)) == NULL)
		return (0);
	ok = strncmp(real, root, len) == 0 && real[len] == '/' &&
	    stat(real, &st) == 0 && S_ISDIR(st.st_mode);
	free(real);
	return (ok);
}

/* Adds what one ImageBuilder's .targetinfo says about its target. */
static void
catalog_scan_ib(struct catalog *c, const char *dir, const char *version,
    const char *target)
{
	struct catalog_tinfo	 ti;
	struct stat		 st;
	char			*path, *text;
	size_t			 len;

	xasprintf(&path, "%s/.targetinfo", dir);
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		free(path);
		return;
	}
	if (fs_read_file(path, CATALOG_MAX_TARGETINFO, &text, &len) == -1) {
		log_warn("catalog: %s", path);
		free(path);
		return;
	}
	memset(&ti, 0, sizeof ti);
	ti.catalog = c;
	ti.version = version;
	ti.target = target;
	ti.dir = dir;
	catalog_tinfo_parse(&ti, text, len);
	if (ti.t == NULL)
		log_debug("catalog: %s has no block for %s", path, target);
	free(text);
	free(path);
}

/*
 * Walks one level of <root>/<version>/<target>/<subtarget>: depth 0 lists
 * versions, 1 targets, 2 subtargets, which are the ImageBuilders.
 */
static void
catalog_scan_level(struct catalog *c, const char *root, const char *dir,
    const char *version, int depth, const char *board)
{
	DIR		*d;
	struct dirent	*de;
	char		*path, *target;

	if ((d = opendir(dir)) == NULL) {
		log_warn("catalog: %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !catalog_name_ok(de->d_name,
		    CATALOG_NAME_CHARS))
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (!catalog_dir_ok(path, root)) {
			free(path);
			continue;
		}
		if (depth == 0)
			catalog_scan_level(c, root, path, de->d_name, 1, NULL);
		else if (depth == 1)
			catalog_scan_level(c, root, path, version, 2,
			    de->d_name);
		else {
			xasprintf(&target, "%s/%s", board, de->d_name);
			catalog_scan_ib(c, path, version, target);
			free(target);
		}
		free(path);
	}
	closedir(d);
}

/* Scans root for unpacked ImageBuilders. */
int
catalog_scan(struct catalog *c, const char *root, char **cause)
{
	struct stat	 st;
	char		*real;

	if ((real = realpath(root, NULL)) == NULL ||
	    stat(real, &st) == -1 || !S_ISDIR(st.st_mode)) {
		xasprintf(cause, "cannot read %s: %s", root,
		    real == NULL ? strerror(errno) : "not a directory");
		free(real);
		return (-1);
	}
	catalog_scan_level(c, real, root, NULL, 0, NULL);
	free(real);
	return (0);
}

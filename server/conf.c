/*
 * conf.c: the configuration file parser. The table below is the whole list
 * of keys with their defaults; the README's configuration reference
 * follows it.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/runner.h"
#include "server/conf.h"

enum conf_type { CONF_STRING, CONF_INT, CONF_BOOL, CONF_DURATION, CONF_LIST,
    CONF_SIZE };

/* One key: its type, its field in struct conf, its range and default. */
struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	long		 min;
	long		 max;
	const char	*def;	/* as in the file; NULL: none (NULL or 0) */
};

#define CONF_OFF(n)		offsetof(struct conf, n)
#define CONF_S(n, def)		{ #n, CONF_STRING, CONF_OFF(n), 0, 0, def }
#define CONF_I(n, lo, hi, def)	{ #n, CONF_INT, CONF_OFF(n), lo, hi, def }
#define CONF_B(n, def)		{ #n, CONF_BOOL, CONF_OFF(n), 0, 1, def }
#define CONF_D(n, lo, hi, def)	{ #n, CONF_DURATION, CONF_OFF(n), lo, hi, def }
#define CONF_L(n)		{ #n, CONF_LIST, CONF_OFF(n), 0, 0, NULL }
#define CONF_Z(n, def)		{ #n, CONF_SIZE, CONF_OFF(n), 0, 0, def }

/* The defaults are those documented in conf/asud.conf and the README. */
static const struct conf_key conf_keys[] = {
	CONF_S(listen, "127.0.0.1:8000"),
	CONF_S(state_dir, "/var/lib/asud"),
	CONF_S(imagebuilder_dir, "/var/lib/asud/imagebuilders"),
	CONF_I(build_jobs, 1, 256, "1"),
	CONF_I(slots_per_imagebuilder, 0, 64, "0"),
	CONF_D(job_timeout, 1, 86400, "600"),
	CONF_I(max_pending_jobs, 0, 1000000, "200"),
	CONF_B(allow_defaults, "false"),
	CONF_I(max_defaults_length, 0, 1048576, "20480"),
	CONF_I(max_custom_rootfs_size_mb, 1, 1048576, "1024"),
	CONF_D(build_ttl, 0, 365 * 86400, "7d"),
	CONF_D(build_ttl_unversioned, 0, 365 * 86400, "1d"),
	CONF_D(build_defaults_ttl, 0, 365 * 86400, "1800"),
	CONF_D(build_failure_ttl, 0, 365 * 86400, "3600"),
	CONF_D(queue_class_delay, 0, 86400, "300"),
	CONF_I(max_request_body, 1024, 64 * 1048576, "1048576"),
	CONF_I(store_map_size_mb, 1, 1048576, "4096"),
	CONF_S(build_wrapper, NULL),
	CONF_S(build_runner, "local"),
	CONF_S(slurm_partition, NULL),
	CONF_S(slurm_args, NULL),
	CONF_B(sandbox, "true"),
	CONF_S(sandbox_bwrap, "bwrap"),
	CONF_S(upstream_url, CONF_OFFICIAL_URL),
	CONF_D(metadata_refresh, 1, 7 * 86400, "300"),
	CONF_D(upstream_timeout, 1, 3600, "30"),
	CONF_S(package_cache_url, NULL),
	CONF_L(repository_allow_list),
	CONF_S(package_changes, ASUD_PKGDATADIR "/package-changes.conf"),
	CONF_S(contact, NULL),
	CONF_S(upstream_keys, NULL),
	CONF_Z(imagebuilder_cache_max, "0"),
	CONF_Z(store_max, "0"),
	CONF_D(max_wait, 0, 3600, "60"),
	CONF_Z(log_follow_max, "1M"),
	CONF_D(events_keepalive, 0, 3600, "15"),
	CONF_Z(answer_cache_max, "32M"),
	CONF_I(rate_limit_builds, 0, 10000, "10"),
	CONF_I(max_followers_per_client, 0, 1000000, "20"),
	CONF_I(max_waiters_per_client, 0, 1000000, "100"),
	CONF_L(trusted_proxies),
	CONF_D(request_timeout, 1, 3600, "30"),
	CONF_D(keepalive_timeout, 1, 3600, "75"),
	CONF_I(max_connections, 0, 1000000, "0"),
};
_Static_assert(nitems(conf_keys) <= 64, "set_keys has one bit per key");

static char	*conf_trim(char *);
static int	 conf_apply(struct conf *, const struct conf_key *,
		    const char *, char **);

/* The reference's default branches and their branch-off revisions. */
static const struct {
	const char	*name;
	int		 rev;
} conf_default_branches[] = {
	{ "SNAPSHOT", -1 }, { "25.12", 32295 }, { "24.10", 27990 },
	{ "23.05", 23069 }, { "22.03", 19160 }, { "21.02", 15812 },
};

/* Adds a branch with the defaults of a release branch. */
static struct conf_branch *
conf_branch_add(struct conf *c, const char *name)
{
	struct conf_branch	*b;

	c->branches = xreallocarray(c->branches, c->nbranches + 1,
	    sizeof *c->branches);
	b = &c->branches[c->nbranches++];
	b->name = xstrdup(name);
	b->path = xstrdup("releases/{version}");
	b->enabled = 1;
	b->snapshot = 0;
	b->branch_off_rev = -1;
	return (b);
}

/* The branch called name, added with release defaults when missing. */
struct conf_branch *
conf_branch_ensure(struct conf *c, const char *name)
{
	struct conf_branch	*b;

	if ((b = conf_branch(c, name)) == NULL)
		b = conf_branch_add(c, name);
	return (b);
}

/* Finds a branch by name. */
struct conf_branch *
conf_branch(const struct conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nbranches; i++)
		if (strcmp(c->branches[i].name, name) == 0)
			return (&c->branches[i]);
	return (NULL);
}

/* The defaults of the key table, and the default branches. */
void
conf_defaults(struct conf *c)
{
	const struct conf_key	*k;
	struct conf_branch	*b;
	size_t			 i;
	char			*cause;

	memset(c, 0, sizeof *c);
	for (i = 0; i < nitems(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->def != NULL && conf_apply(c, k, k->def, &cause) != 0)
			fatalx("conf: default of %s: %s", k->name, cause);
	}
	for (i = 0; i < nitems(conf_default_branches); i++) {
		b = conf_branch_add(c, conf_default_branches[i].name);
		b->branch_off_rev = conf_default_branches[i].rev;
		if (b->branch_off_rev == -1) {
			free(b->path);
			b->path = xstrdup("snapshots");
			b->snapshot = 1;
		}
	}
}

/* Parses a decimal integer within bounds. */
static int
conf_parse_int(const char *v, long min, long max, long *out, char **cause)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0) {
		xasprintf(cause, "'%s' is not a whole number", v);
		return (-1);
	}
	if (n < min || n > max) {
		xasprintf(cause, "%ld is out of range (%ld to %ld)", n, min,
		    max);
		return (-1);
	}
	*out = n;
	return (0);
}

/* Parses a duration: a number with an optional s, m, h or d unit. */
static int
conf_parse_duration(const char *v, long min, long max, long *out,
    char **cause)
{
	char	*end;
	long	 n, mult = 1;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || end == v || errno != 0 || n < 0)
		goto bad;
	if (*end != '\0') {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: goto bad;
		}
		if (end[1] != '\0')
			goto bad;
	}
	if (n > max / mult || n * mult < min) {
		xasprintf(cause, "'%s' is out of range (%ld to %ld seconds)",
		    v, min, max);
		return (-1);
	}
	*out = n * mult;
	return (0);
bad:
	xasprintf(cause, "'%s' is not a duration (a number with s, m, h "
	    "or d)", v);
	return (-1);
}

/* Parses a size in bytes with an optional K, M, G or T (powers of 1024). */
static int
conf_parse_size(const char *v, long long *out, char **cause)
{
	char		*end;
	long long	 n, mult = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || errno != 0 || n < 0)
		goto bad;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': mult = 1LL << 10; break;
	case 'M': case 'm': mult = 1LL << 20; break;
	case 'G': case 'g': mult = 1LL << 30; break;
	case 'T': case 't': mult = 1LL << 40; break;
	default: goto bad;
	}
	if (*end != '\0' && end[1] != '\0' && strcmp(end + 1, "B") != 0 &&
	    strcmp(end + 1, "iB") != 0)
		goto bad;
	if (n > (1LL << 62) / mult)
		goto bad;
	*out = n * mult;
	return (0);
bad:
	xasprintf(cause, "'%s' is not a size (a number with K, M, G or T)", v);
	return (-1);
}

/* Parses true/false and their usual spellings. */
static int
conf_parse_bool(const char *v, long *out, char **cause)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else {
		xasprintf(cause, "'%s' is not true or false", v);
		return (-1);
	}
	return (0);
}

/*
 * upstream_url ("none" disables it; otherwise http, https or file) and
 * package_cache_url (http or https); trailing slashes are dropped.
 */
static int
conf_check_url(const char *key, char **url, char **cause)
{
	int	up = strcmp(key, "upstream_url") == 0;
	size_t	len;

	if (up && strcmp(*url, "none") == 0) {
		free(*url);
		*url = NULL;
		return (0);
	}
	if (strncmp(*url, "http://", 7) != 0 &&
	    strncmp(*url, "https://", 8) != 0 &&
	    (!up || strncmp(*url, "file:///", 8) != 0)) {
		xasprintf(cause, "%s must start with http://, https://%s",
		    key, up ? " or file:/// (or be none)" : "");
		return (-1);
	}
	if (strpbrk(*url, " \t\"'<>\\") != NULL) {
		xasprintf(cause, "%s has spaces or quotes", key);
		return (-1);
	}
	len = strlen(*url);
	while (len > 8 && (*url)[len - 1] == '/')
		(*url)[--len] = '\0';
	return (0);
}

/* Where builds fetch the official feeds from; see conf.h. */
const char *
conf_feed_mirror(const struct conf *c)
{
	if (c->package_cache_url != NULL)
		return (c->package_cache_url);
	if (c->upstream_url == NULL ||
	    strcasecmp(c->upstream_url, CONF_OFFICIAL_URL) == 0)
		return (NULL);
	return (c->upstream_url);
}

/* Sets a key of a [branch NAME] section. */
static int
conf_set_branch(struct conf_branch *b, const char *key, const char *value,
    char **cause)
{
	long	n;

	if (strcmp(key, "path") == 0) {
		if (*value == '\0' || *value == '/' || strstr(value, "..") ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/{}") !=
		    strlen(value)) {
			xasprintf(cause, "'%s' is not a relative path", value);
			return (-1);
		}
		free(b->path);
		b->path = xstrdup(value);
		return (0);
	}
	if (strcmp(key, "enabled") == 0 || strcmp(key, "snapshot") == 0) {
		if (conf_parse_bool(value, &n, cause) == -1)
			return (-1);
		if (*key == 'e')
			b->enabled = (int)n;
		else
			b->snapshot = (int)n;
		return (0);
	}
	if (strcmp(key, "branch_off_rev") == 0) {
		if (conf_parse_int(value, -1, 100000000, &n, cause) == -1)
			return (-1);
		b->branch_off_rev = (int)n;
		return (0);
	}
	xasprintf(cause, "unknown key '%s' in [branch %s]", key, b->name);
	return (-1);
}

/* Starts a section: only "[branch NAME]" exists. */
static int
conf_section(struct conf *c, char *line, struct conf_branch **b,
    char **cause)
{
	char	*name, *end;

	end = line + strlen(line) - 1;
	if (*end != ']' || strncmp(line, "[branch ", 8) != 0) {
		xasprintf(cause, "unknown section %s (only [branch NAME])",
		    line);
		return (-1);
	}
	*end = '\0';
	name = conf_trim(line + 8);
	if (*name == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(name)) {
		xasprintf(cause, "bad branch name '%s'", name);
		return (-1);
	}
	if ((*b = conf_branch(c, name)) == NULL)
		*b = conf_branch_add(c, name);
	return (0);
}

/* build_runner, slurm_partition and slurm_args, as runner.c takes them. */
static int
conf_check_runner(const char *key, const char *value, char **cause)
{
	enum runner_kind	kind;

	if (strcmp(key, "build_runner") == 0)
		return (runner_kind_parse(value, &kind, cause));
	if (strcmp(key, "slurm_partition") == 0)
		return (runner_partition_check(value, cause));
	if (strcmp(key, "slurm_args") == 0)
		return (runner_args_check(value, cause));
	return (0);
}

/* Parses value into the field of key k; the table gives type and range. */
static int
conf_apply(struct conf *c, const struct conf_key *k, const char *value,
    char **cause)
{
	long	 n = 0;
	char	**sp;

	switch (k->type) {
	case CONF_STRING:
		if (*value == '\0') {
			xasprintf(cause, "%s needs a value", k->name);
			return (-1);
		}
		if (conf_check_runner(k->name, value, cause) == -1)
			return (-1);
		sp = (char **)((char *)c + k->off);
		free(*sp);
		*sp = xstrdup(value);
		if (strcmp(k->name, "upstream_url") == 0 ||
		    strcmp(k->name, "package_cache_url") == 0)
			return (conf_check_url(k->name, sp, cause));
		return (0);
	case CONF_SIZE:
		return (conf_parse_size(value,
		    (long long *)((char *)c + k->off), cause));
	case CONF_LIST:
		strv_clear((struct strv *)((char *)c + k->off));
		if (strcmp(k->name, "trusted_proxies") == 0) {
			strv_split(&c->trusted_proxies, value, " \t,");
			return (addr_check_list("trusted_proxies",
			    &c->trusted_proxies, cause));
		}
		strv_split((struct strv *)((char *)c + k->off), value, " \t");
		return (0);
	case CONF_INT:
		if (conf_parse_int(value, k->min, k->max, &n, cause) == -1)
			return (-1);
		break;
	case CONF_BOOL:
		if (conf_parse_bool(value, &n, cause) == -1)
			return (-1);
		break;
	case CONF_DURATION:
		if (conf_parse_duration(value, k->min, k->max, &n, cause) == -1)
			return (-1);
		break;
	}
	*(int *)((char *)c + k->off) = (int)n;
	return (0);
}

/* Sets one key from the file or the command line. */
int
conf_set(struct conf *c, const char *key, const char *value, char **cause)
{
	const struct conf_key	*k = NULL;
	size_t			 i, at = 0;

	for (i = 0; i < nitems(conf_keys); i++) {
		if (strcmp(conf_keys[i].name, key) == 0) {
			k = &conf_keys[i];
			at = i;
		}
	}
	if (k == NULL) {
		xasprintf(cause, "unknown key '%s'", key);
		return (-1);
	}
	if (conf_apply(c, k, value, cause) == -1)
		return (-1);
	c->set_keys |= 1ULL << at;
	return (0);
}

/* Whether key was set; see conf.h. */
int
conf_is_set(const struct conf *c, const char *key)
{
	size_t	i;

	for (i = 0; i < nitems(conf_keys); i++)
		if (strcmp(conf_keys[i].name, key) == 0)
			return ((c->set_keys >> i) & 1);
	return (0);
}

/* Trims spaces at both ends in place. */
static char *
conf_trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}

/* Parses one line; blank lines and comments are fine. */
static int
conf_line(struct conf *c, char *line, struct conf_branch **b, char **cause)
{
	char	*eq, *key, *value, *hash;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	line = conf_trim(line);
	if (*line == '\0')
		return (0);
	if (*line == '[')
		return (conf_section(c, line, b, cause));
	if ((eq = strchr(line, '=')) == NULL) {
		xasprintf(cause, "expected 'key = value'");
		return (-1);
	}
	*eq = '\0';
	key = conf_trim(line);
	value = conf_trim(eq + 1);
	if (*b != NULL)
		return (conf_set_branch(*b, key, value, cause));
	return (conf_set(c, key, value, cause));
}

/* Reads a whole file; stops at the first bad line. */
int
conf_load(struct conf *c, const char *path, char **cause)
{
	FILE			*f;
	struct conf_branch	*b = NULL;
	char			*line = NULL, *why = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	int	 lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (strlen(line) != (size_t)len) {
			xasprintf(cause, "%s:%d: NUL byte in line", path,
			    lineno);
			rc = -1;
			break;
		}
		if (conf_line(c, line, &b, &why) == -1) {
			xasprintf(cause, "%s:%d: %s", path, lineno, why);
			free(why);
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return (rc);
}

/* Releases the strings and lists of the key table, and the branches. */
void
conf_free(struct conf *c)
{
	const struct conf_key	*k;
	size_t			 i;

	for (i = 0; i < nitems(conf_keys); i++) {
		k = &conf_keys[i];
		if (k->type == CONF_STRING)
			free(*(char **)((char *)c + k->off));
		else if (k->type == CONF_LIST)
			strv_clear((struct strv *)((char *)c + k->off));
	}
	for (i = 0; i < c->nbranches; i++) {
		free(c->branches[i].name);
		free(c->branches[i].path);
	}
	free(c->branches);
	memset(c, 0, sizeof *c);
}

/*
 * conf.h: asud's configuration: `key = value` lines with `#` comments.
 * Every key has a default; an unknown key or a bad value is an error that
 * names the file and line.
 */
#ifndef ASUD_CONF_H
#define ASUD_CONF_H

#include "lib/strv.h"

/* The official downloads server, upstream_url's default. */
#define CONF_OFFICIAL_URL	"https://downloads.openwrt.org"

/* A release branch (reference/asu-api.md §7.4 "branches"). */
struct conf_branch {
	char	*name;			/* "23.05", "SNAPSHOT" */
	char	*path;			/* "releases/{version}", "snapshots" */
	int	 enabled;
	int	 snapshot;
	int	 branch_off_rev;	/* -1: none (SNAPSHOT) */
};

struct conf {
	char	*listen;			/* "127.0.0.1:8000" */
	char	*state_dir;			/* LMDB, built images */
	char	*imagebuilder_dir;		/* <version>/<target>/<sub>/ */
	int	 build_jobs;			/* parallel builds */
	int	 slots_per_imagebuilder;	/* copies per target; 0: jobs */
	int	 job_timeout;			/* seconds per build */
	int	 max_pending_jobs;		/* 529 above this */
	int	 allow_defaults;
	int	 max_defaults_length;		/* characters */
	int	 max_custom_rootfs_size_mb;
	int	 build_ttl;			/* s, with packages_versions */
	int	 build_ttl_unversioned;		/* seconds, without */
	int	 build_defaults_ttl;		/* seconds, with defaults */
	int	 build_failure_ttl;		/* seconds, failures */
	int	 queue_class_delay;		/* seconds of aging per class */
	int	 max_request_body;		/* bytes */
	int	 store_map_size_mb;		/* LMDB map size */
	char	*build_wrapper;			/* argv before make, or NULL */
	char	*build_runner;			/* "local" or "slurm" */
	char	*slurm_partition;		/* srun --partition, or NULL */
	char	*slurm_args;			/* more srun words, or NULL */
	int	 sandbox;			/* builds under bubblewrap */
	char	*sandbox_bwrap;			/* the bwrap program */
	char	*upstream_url;			/* NULL: no upstream ("none") */
	int	 metadata_refresh;		/* seconds */
	int	 upstream_timeout;		/* seconds per metadata fetch */
	char	*package_cache_url;		/* feeds via a cache, or NULL */
	struct strv repository_allow_list;	/* URL prefixes */
	char	*package_changes;		/* the package-change table */
	char	*contact;			/* shown in overview.json */
	char	*upstream_keys;			/* trusted usign keys (a dir) */
	long long imagebuilder_cache_max;	/* bytes; 0: no limit */
	long long store_max;			/* bytes of results; 0: none */
	int	 max_wait;			/* seconds a long poll waits */
	long long log_follow_max;		/* bytes unsent to a follower */
	int	 events_keepalive;		/* s between event comments */
	long long answer_cache_max;		/* bytes of answers in memory */
	int	 rate_limit_builds;		/* builds a client a minute */
	int	 max_followers_per_client;	/* log followers; 0: no cap */
	int	 max_waiters_per_client;	/* long polls; 0: no cap */
	struct strv trusted_proxies;		/* addresses, ADDR/LEN */
	int	 request_timeout;		/* seconds for one request */
	int	 keepalive_timeout;		/* idle seconds of keep-alive */
	int	 max_connections;		/* 0: by the descriptor limit */
	unsigned long long set_keys;		/* bit i: key i was set */
	struct conf_branch *branches;
	size_t	 nbranches;
};

/* Fills c with the defaults. */
void	conf_defaults(struct conf *c);
/*
 * Reads path over the current values. Returns -1 with *cause
 * "FILE:LINE: reason" on the first error.
 */
int	conf_load(struct conf *c, const char *path, char **cause);
/* Sets one key from text; returns -1 with *cause "reason". */
int	conf_set(struct conf *c, const char *key, const char *value,
	    char **cause);
void	conf_free(struct conf *c);
/* The branch called name, added with release defaults when missing. */
struct conf_branch *conf_branch_ensure(struct conf *c, const char *name);
/*
 * The prefix that replaces the official downloads server in the
 * ImageBuilders' feed lines: package_cache_url if set, else upstream_url
 * unless it is the official server or none; NULL for no rewrite.
 */
const char *conf_feed_mirror(const struct conf *c);
/* Whether key was set in the file or on the command line. */
int	conf_is_set(const struct conf *c, const char *key);
/* The branch called name, or NULL. */
struct conf_branch *conf_branch(const struct conf *c, const char *name);

#endif

/*
 * request.h: the build request model (POST /api/v1/build). A body is typed
 * and checked the way the reference's Pydantic model does it (lax types,
 * field patterns, bounds), and a failure is described as a 422 body whose
 * "detail" is one readable string and whose "errors" is the Pydantic-style
 * list.
 */
#ifndef ASUD_REQUEST_H
#define ASUD_REQUEST_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "lib/strv.h"
#include "server/reqerr.h"

/* Bodies larger than this are refused with 413 (the HTTP cap is lower). */
#define REQUEST_MAX_BODY	(64 * 1024 * 1024)
/* So are bodies holding more JSON values than this. */
#define REQUEST_MAX_VALUES	(2 * 1024 * 1024)
/* Arrays and objects nested deeper than this are a JSON error (422). */
#define REQUEST_MAX_DEPTH	32
/* At most this many entries are listed in "errors" (all are counted). */
#define REQUEST_MAX_ERRORS	REQERR_MAX_KEPT

struct request_limits {
	int	max_defaults_length;		/* characters, default 20480 */
	int	max_custom_rootfs_size_mb;	/* default 1024 */
};

struct request {
	char		*distro;		/* default "openwrt" */
	char		*version;
	char		*version_code;		/* default "" */
	char		*target;
	char		*profile;		/* "," already made "_" */
	struct strv	 packages;		/* as sent: order, duplicates */
	struct strv	 pv_names;		/* packages_versions keys */
	struct strv	 pv_versions;
	int		 diff_packages;		/* default 0 */
	char		*defaults;		/* NULL when null or absent */
	int		 rootfs_size_mb;	/* 0 when null or absent */
	char		*filesystem;		/* NULL when null or absent */
	struct strv	 repo_names;		/* repositories, in order */
	struct strv	 repo_urls;
	char		*repositories_mode;	/* "replace" or "append" */
	struct strv	 repository_keys;
	char		*client;		/* NULL when null or absent */
};

struct request_error {
	int	 status;	/* 422 (schema or JSON syntax) or 413 (size) */
	char	*detail;	/* one readable line */
	char	*body;		/* the whole JSON response body */
};

/*
 * Parses and checks a request body of len bytes (it need not be
 * NUL-terminated). A NULL limits uses the defaults. On success returns 0
 * and fills r, which the caller frees with request_free. On failure
 * returns -1, leaves r empty (request_free is still safe) and fills err,
 * which the caller frees with request_error_free. Dictionaries are
 * de-duplicated the way Python does it: a repeated key keeps its first
 * position and takes its last value.
 */
int	request_parse(const char *body, size_t len,
	    const struct request_limits *, struct request *r,
	    struct request_error *err);
/* Frees what r holds and leaves it empty. */
void	request_free(struct request *r);
/* Frees what err holds and leaves it empty. */
void	request_error_free(struct request_error *err);
/*
 * The effective package names: pv_names when non-empty, else packages
 * (reference §3 item 6). Points into r.
 */
const struct strv *request_package_names(const struct request *r);
/*
 * Writes the normalised request (every field, defaults filled) as one JSON
 * object, with g positioned where a value is expected.
 */
void	request_to_json(const struct request *r, yajl_gen g);
/*
 * Parses what request_to_json wrote (for records). Returns 0, or -1 with
 * an allocated *cause; r is filled as by request_parse.
 */
int	request_from_json(const char *json, size_t len, struct request *r,
	    char **cause);

#endif

/*
 * apijson.h: the published metadata of reference/asu-api.md §6.2 and the
 * revision endpoint: overview.json, branches.json, latest.json, the
 * per-profile JSON, the target and architecture package indexes.
 */
#ifndef ASUD_APIJSON_H
#define ASUD_APIJSON_H

struct asud;
struct evhttp_request;
struct pkgindex;

/*
 * Called once with the packages of the feeds (NULL with why when they
 * cannot be read); idx is the callee's only during the call.
 */
typedef void	(*apijson_feeds_cb)(const struct pkgindex *idx,
		    const char *why, void *arg);

/* GET /json/v1/<rest> */
void	apijson_get(struct asud *, struct evhttp_request *, const char *rest);
/* GET /api/v1/revision/<version>/<target>/<subtarget> */
void	apijson_revision(struct asud *, struct evhttp_request *,
	    const char *rest);

/*
 * Reads the package versions a version offers a target: the target's
 * packages (kmods included) and every feed of arch, as the two index
 * endpoints publish them; done may run before this returns.
 */
void	apijson_feeds(struct asud *, const char *version, const char *target,
	    const char *arch, apijson_feeds_cb done, void *arg);

#endif

/*
 * apijson.h: the published metadata of reference/asu-api.md §6.2 and the
 * revision endpoint: overview.json, branches.json, latest.json, the
 * per-profile JSON, the target and architecture package indexes.
 */
#ifndef ASUD_APIJSON_H
#define ASUD_APIJSON_H

struct asud;
struct evhttp_request;

/* GET /json/v1/<rest> */
void	apijson_get(struct asud *, struct evhttp_request *, const char *rest);
/* GET /api/v1/revision/<version>/<target>/<subtarget> */
void	apijson_revision(struct asud *, struct evhttp_request *,
	    const char *rest);

#endif

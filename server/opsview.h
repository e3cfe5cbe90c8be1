/*
 * opsview.h: GET /api/v1/queue, the operators' view of the build queue.
 */
#ifndef ASUD_OPSVIEW_H
#define ASUD_OPSVIEW_H

struct asud;
struct evhttp_request;

/* The listing as JSON, allocated; now_ms gives the waiting times. */
char	*opsview_queue_json(struct asud *, long long now_ms, size_t *len);
/* GET /api/v1/queue (arg: unused, as every route's handler has one). */
void	 opsview_queue(struct asud *, struct evhttp_request *,
	    const char *arg);

#endif

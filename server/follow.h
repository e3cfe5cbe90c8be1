/*
 * follow.h: build logs over HTTP. GET /api/v1/build/{hash}/log streams
 * the ImageBuilder's combined output while the build runs (chunked,
 * following it as it is printed, ending with the build) and serves
 * finished logs from the store (zstd as stored when the client accepts
 * it) in pieces as the client reads, within one memory budget for all of
 * them. ?since=BYTES resumes. A follower that reads slower than the build
 * writes is cut off past a per-connection cap.
 */
#ifndef ASUD_FOLLOW_H
#define ASUD_FOLLOW_H

#include <stddef.h>

struct asud;
struct evbuffer;
struct evhttp_request;
struct followers;

/* The live log of a running build, or NULL (sched provides it). */
typedef struct evbuffer *(*follow_live_cb)(struct asud *, const char *hash);

/*
 * cap: unsent bytes a follower may have; keepalive: seconds between the
 * comments sent on event streams (0: none).
 */
struct followers *follow_new(struct asud *, follow_live_cb, size_t cap,
		    int keepalive);
/* Ends every follower's stream and frees. */
void		 follow_free(struct followers *);
/* GET /api/v1/build/{hash}/log, followed by a->followers. */
void		 follow_get(struct asud *, struct evhttp_request *,
		    const char *hash);
/* New output of the build of hash, at offset in its log. */
void		 follow_append(struct followers *, const char *hash,
		    size_t offset, const char *buf, size_t len);
/* The build of hash ended: its followers' streams end. */
void		 follow_end(struct followers *, const char *hash);
/* GET /api/v1/build/{hash}/events: a text/event-stream of "state" events
 * (status, detail, imagebuilder_status, queue_position) and "log" events
 * (one per output line, cut at 8 kB), ending with the build. */
void		 follow_events_get(struct asud *, struct evhttp_request *,
		    const char *hash);
/* The state of hash (NULL: of every build) may have changed. */
void		 follow_state(struct followers *, const char *hash);
/* Followers now (metrics). */
size_t		 follow_count(const struct followers *);

#endif

/*
 * storefile.h: a stored file answered the way a static file server does:
 * validators (an ETag made of the file's sha256, Last-Modified), caching
 * (Cache-Control for as long as the result lives), conditional requests
 * (If-None-Match, If-Modified-Since: 304) and one byte range (206, 416,
 * If-Range). HEAD gets every header of GET and no body.
 */
#ifndef ASUD_STOREFILE_H
#define ASUD_STOREFILE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct asud;
struct evhttp_request;

/* What storefile_range makes of a Range header. */
enum storefile_range {
	STOREFILE_RANGE_NONE,	/* invalid or several ranges: send it all */
	STOREFILE_RANGE_PART,	/* bytes *first to *last: 206 */
	STOREFILE_RANGE_UNSAT	/* no byte of the file: 416 */
};

/*
 * Answers GET or HEAD of the file name (already checked to be a plain
 * name) in the directory dir; anything but a regular file is a 404.
 * expires is when the file's result ends (seconds since the epoch, 0:
 * never), what Cache-Control lets caches keep it for. dir holds the
 * result of hash, whose downloads are counted.
 */
void	storefile_reply(struct asud *, struct evhttp_request *,
	    const char *hash, const char *dir, const char *name,
	    int64_t expires);

/* Parses a Range header against a file of size bytes (size > 0). */
enum storefile_range storefile_range(const char *h, off_t size, off_t *first,
	    off_t *last);
/*
 * Whether the If-None-Match list h names etag (a quoted tag) under the
 * weak comparison; "*" names any file. etag may be NULL (no tag known).
 */
int	storefile_none_match(const char *h, const char *etag);
/* Parses an HTTP-date (any of its three forms); -1 when it is none. */
time_t	storefile_parse_date(const char *s);
/* Room for a date storefile_format_date writes (29 bytes and a NUL). */
#define STOREFILE_DATE_MAX	96
/* Formats t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void	storefile_format_date(time_t t, char out[STOREFILE_DATE_MAX]);

#endif

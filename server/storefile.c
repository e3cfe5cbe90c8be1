/*
 * storefile.c: a stored file answered the way a static file server does.
 *
 * The ETag is the file's sha256, which must never be computed on the
 * event loop for a large file: it is taken from the sha256sums the
 * ImageBuilder writes into BIN_DIR (its `checksum` step lists every file
 * but itself; the same sums the build's JSON gives clients to check the
 * images against). A file it does not list is hashed here only when it
 * is small (STOREFILE_HASH_MAX: sha256sums itself, say); a larger one
 * has no ETag and is validated by Last-Modified alone. Every sum found
 * is remembered in a small table keyed by the file's identity (device,
 * inode, size, mtime, ctime), so that sha256sums is not read again per
 * request; a result built again is a new directory of new inodes, whose
 * sums are looked up afresh. Nothing is written next to the images.
 *
 * The bytes go out as a libevent file segment (over the open
 * descriptor, sendfile where it can): a range is its offset and
 * length, nothing of the file is copied into memory, and a slow reader
 * only leaves the segment waiting in the connection's output buffer
 * (where libevent maps the file rather than sendfile()s it, the pages
 * are the page cache's, shared and dropped at will, never a copy). Such
 * a download may outlast evhttp's read timeout, which runs while it
 * writes: http_long_answer lifts it for the answer, and the write one
 * still ends a reader that takes nothing for that long.
 *
 * A GET that sends the file's first byte (a 200, or a 206 from byte 0)
 * counts as a download (dlstat.c) before the answer starts; a HEAD, a
 * 304, a 416 or a resumed download does not. While its segment is held
 * the result counts as being downloaded, so the budget keeps it.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "server/dlstat.h"
#include "server/http.h"
#include "server/storefile.h"
#include "server/storemax.h"

/* The largest file whose sum is computed here (on the event loop). */
#define STOREFILE_HASH_MAX	(4 * 1024 * 1024)
/* The largest sha256sums read (a build's lists a few dozen files). */
#define STOREFILE_SUMS_MAX	(256 * 1024)
/* Sums remembered; the oldest is forgotten first. */
#define STOREFILE_SLOTS		256
/* Cache-Control of a result that never expires: a year. */
#define STOREFILE_FOREVER	31536000

/* One remembered sum and the identity of the file it is of. */
struct storefile_sum {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
	struct timespec	 ctim;
	char		 hex[SHA256_HEX_LEN + 1];
};

/* The file being answered and what its headers say. */
struct storefile {
	struct asud		*a;
	struct evhttp_request	*req;
	const char		*hash;
	const char		*name;
	int			 fd;
	struct stat		 st;
	int64_t			 expires;
	char			 etag[SHA256_HEX_LEN + 3];	/* "" unknown */
};

static struct storefile_sum	storefile_sums[STOREFILE_SLOTS];
static size_t			storefile_nsums, storefile_next;

static const char *storefile_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *storefile_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* True when two timestamps are equal. */
static int
storefile_ts_eq(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec);
}

/* True when the remembered sum s is of the file st. */
static int
storefile_same(const struct storefile_sum *s, const struct stat *st)
{
	return (s->dev == st->st_dev && s->ino == st->st_ino &&
	    s->size == st->st_size && storefile_ts_eq(&s->mtim, &st->st_mtim) &&
	    storefile_ts_eq(&s->ctim, &st->st_ctim));
}

/* The remembered sum of the file st, or NULL. */
static const char *
storefile_recall(const struct stat *st)
{
	size_t	i;

	for (i = 0; i < storefile_nsums; i++)
		if (storefile_same(&storefile_sums[i], st))
			return (storefile_sums[i].hex);
	return (NULL);
}

/* Remembers the sum of the file st in place of the oldest one. */
static void
storefile_remember(const struct stat *st, const char *hex)
{
	struct storefile_sum	*s = &storefile_sums[storefile_next];

	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtim = st->st_mtim;
	s->ctim = st->st_ctim;
	memcpy(s->hex, hex, sizeof s->hex);
	storefile_next = (storefile_next + 1) % STOREFILE_SLOTS;
	if (storefile_nsums < STOREFILE_SLOTS)
		storefile_nsums++;
}

/*
 * Finds name in the directory's sha256sums ("<hex> *<name>" lines, or
 * "<hex>  <name>"); 1 and the sum in hex when it is listed.
 */
static int
storefile_listed(int dirfd, const char *name, char hex[SHA256_HEX_LEN + 1])
{
	const char	*p, *end, *line, *f;
	char		*buf;
	size_t		 len, n, flen, namelen = strlen(name);
	int		 found = 0;

	if (fs_read_file_at(dirfd, "sha256sums", STOREFILE_SUMS_MAX, &buf,
	    &len, NULL) == -1)
		return (0);
	p = buf;
	end = buf + len;
	while (!found && text_next_line(&p, end, &line, &n)) {
		if (!text_sums_line(line, n, &f, &flen))
			continue;
		if (flen == namelen && memcmp(f, name, namelen) == 0) {
			memcpy(hex, line, SHA256_HEX_LEN);
			hex[SHA256_HEX_LEN] = '\0';
			found = 1;
		}
	}
	free(buf);
	return (found);
}

/* Hashes the small open file fd; 0, or -1 when it cannot be read. */
static int
storefile_hash(int fd, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256	*h = sha256_new();
	char		 buf[65536];
	off_t		 off = 0;
	ssize_t		 n;

	while ((n = pread(fd, buf, sizeof buf, off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || off + n > STOREFILE_HASH_MAX) {
			sha256_final(h, hex);
			return (-1);
		}
		sha256_update(h, buf, (size_t)n);
		off += n;
	}
	sha256_final(h, hex);
	return (0);
}

/*
 * Sets f->etag from the file's sha256: remembered, listed in sha256sums,
 * or computed for a small file; left empty when none is known.
 */
static void
storefile_etag(struct storefile *f, int dirfd)
{
	const char	*known;
	char		 hex[SHA256_HEX_LEN + 1];

	if ((known = storefile_recall(&f->st)) == NULL) {
		if (!storefile_listed(dirfd, f->name, hex) &&
		    (f->st.st_size > STOREFILE_HASH_MAX ||
		    storefile_hash(f->fd, hex) == -1))
			return;
		storefile_remember(&f->st, hex);
		known = hex;
	}
	snprintf(f->etag, sizeof f->etag, "\"%s\"", known);
}

/* Formats t as an IMF-fixdate, whatever the locale. */
void
storefile_format_date(time_t t, char out[STOREFILE_DATE_MAX])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(out, STOREFILE_DATE_MAX, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    storefile_days[tm.tm_wday % 7], tm.tm_mday,
	    storefile_months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* The number of a month's three-letter name (0 to 11), or -1. */
static int
storefile_month(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(storefile_months); i++)
		if (strcmp(s, storefile_months[i]) == 0)
			return ((int)i);
	return (-1);
}

/* Makes the broken-down date a time; -1 when a field is out of range. */
static time_t
storefile_mktime(int year, const char *mon, int mday, int hour, int min,
    int sec)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	if ((tm.tm_mon = storefile_month(mon)) == -1 || year < 1900 ||
	    year > 9999 || mday < 1 || mday > 31 || hour < 0 || hour > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 60)
		return (-1);
	tm.tm_year = year - 1900;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return (timegm(&tm));
}

/*
 * Parses an HTTP-date: the IMF-fixdate, the obsolete RFC 850 form (a
 * two-digit year below 70 is 20xx) or asctime's; -1 when it is none.
 */
time_t
storefile_parse_date(const char *s)
{
	char	wd[10], mon[4];
	int	y, d, h, mi, sec, n = -1;

	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
	    wd, &d, mon, &y, &h, &mi, &sec, &n) == 7 && n > 0 && s[n] == '\0')
		return (storefile_mktime(y, mon, d, h, mi, sec));
	n = -1;
	if (sscanf(s, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n",
	    wd, &d, mon, &y, &h, &mi, &sec, &n) == 7 && n > 0 && s[n] == '\0')
		return (storefile_mktime(y + (y < 70 ? 2000 : 1900), mon, d, h,
		    mi, sec));
	n = -1;
	if (sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n",
	    wd, mon, &d, &h, &mi, &sec, &y, &n) == 7 && n > 0 && s[n] == '\0')
		return (storefile_mktime(y, mon, d, h, mi, sec));
	return (-1);
}

/* Skips optional white space (spaces and tabs). */
static const char *
storefile_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return (p);
}

/*
 * Reads the decimal digits at *p (at least one) into *v, saturating at
 * the largest off_t; *p moves past them. -1 when there is no digit.
 */
static int
storefile_digits(const char **p, off_t *v)
{
	const off_t	 max = (off_t)(((uintmax_t)1 << (sizeof(off_t) * 8 -
			    1)) - 1);
	const char	*s = *p;

	if (!isdigit((unsigned char)*s))
		return (-1);
	for (*v = 0; isdigit((unsigned char)*s); s++)
		*v = *v > (max - (*s - '0')) / 10 ? max :
		    *v * 10 + (*s - '0');
	*p = s;
	return (0);
}

/*
 * Parses a Range header against a file of size bytes (size > 0): one
 * "bytes=a-b", "bytes=a-" or "bytes=-n". As RFC 9110 (14.2) lets a
 * server, a Range it cannot parse, of another unit, or of several ranges
 * is ignored (the whole file is sent, 200): no multipart answers. A
 * range whose last byte is before its first is invalid, hence ignored;
 * one that starts past the end, or "-0", is unsatisfiable (416); a last
 * byte past the end is the end.
 */
enum storefile_range
storefile_range(const char *h, off_t size, off_t *first, off_t *last)
{
	const char	*p = storefile_ows(h);
	off_t		 a, b;

	if (strncasecmp(p, "bytes=", 6) != 0)
		return (STOREFILE_RANGE_NONE);
	p = storefile_ows(p + 6);
	if (*p == '-') {
		p++;
		if (storefile_digits(&p, &b) == -1 || *storefile_ows(p) != '\0')
			return (STOREFILE_RANGE_NONE);
		if (b == 0)
			return (STOREFILE_RANGE_UNSAT);
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return (STOREFILE_RANGE_PART);
	}
	if (storefile_digits(&p, &a) == -1 || *p++ != '-')
		return (STOREFILE_RANGE_NONE);
	if (!isdigit((unsigned char)*p))
		b = a > size - 1 ? a : size - 1;	/* "a-": to the end */
	else if (storefile_digits(&p, &b) == -1)
		return (STOREFILE_RANGE_NONE);
	if (*storefile_ows(p) != '\0' || b < a)
		return (STOREFILE_RANGE_NONE);
	if (a >= size)
		return (STOREFILE_RANGE_UNSAT);
	*first = a;
	*last = b >= size ? size - 1 : b;
	return (STOREFILE_RANGE_PART);
}

/*
 * Whether the If-None-Match list h names etag under the weak comparison
 * (a W/ prefix is ignored on either side); "*" names any file. A list
 * that stops parsing names nothing more.
 */
int
storefile_none_match(const char *h, const char *etag)
{
	const char	*p = h, *q;
	size_t		 elen = etag != NULL ? strlen(etag) : 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return (1);
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"' || (q = strchr(p + 1, '"')) == NULL)
			return (0);
		q++;
		if (elen > 0 && (size_t)(q - p) == elen &&
		    memcmp(p, etag, elen) == 0)
			return (1);
		p = q;
	}
}

/*
 * Whether If-Range h still describes the file: a strong tag equal to its
 * ETag (a weak one never is), or a date equal to its Last-Modified.
 */
static int
storefile_if_range(const struct storefile *f, const char *h)
{
	const char	*p = storefile_ows(h);
	size_t		 n = strlen(p);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (*p == '"')
		return (f->etag[0] != '\0' && strlen(f->etag) == n &&
		    memcmp(p, f->etag, n) == 0);
	if (strncmp(p, "W/", 2) == 0)
		return (0);
	return (storefile_parse_date(p) == f->st.st_mtim.tv_sec);
}

/* An input header of the request, or NULL. */
static const char *
storefile_in(const struct storefile *f, const char *name)
{
	return (evhttp_find_header(evhttp_request_get_input_headers(f->req),
	    name));
}

/*
 * True when the conditions make this a 304 (RFC 9110 13.2.2): a matching
 * If-None-Match, or without one an If-Modified-Since not older than the
 * file (an invalid date is ignored).
 */
static int
storefile_not_modified(const struct storefile *f)
{
	const char	*h;
	time_t		 since;

	if ((h = storefile_in(f, "If-None-Match")) != NULL)
		return (storefile_none_match(h, f->etag[0] != '\0' ? f->etag :
		    NULL));
	if ((h = storefile_in(f, "If-Modified-Since")) == NULL ||
	    (since = storefile_parse_date(h)) == -1)
		return (0);
	return (f->st.st_mtim.tv_sec <= since);
}

/* The seconds a cache may keep the file: until its result expires. */
static long long
storefile_max_age(const struct storefile *f)
{
	int64_t	left;

	if (f->expires == 0)
		return (STOREFILE_FOREVER);
	left = f->expires - (int64_t)time(NULL);
	if (left < 0)
		return (0);
	return (left > STOREFILE_FOREVER ? STOREFILE_FOREVER : left);
}

/* The headers of every answer about the file: validators and caching. */
static void
storefile_headers(const struct storefile *f)
{
	char	buf[STOREFILE_DATE_MAX];

	if (f->etag[0] != '\0')
		http_header(f->req, "ETag", f->etag);
	storefile_format_date(f->st.st_mtim.tv_sec, buf);
	http_header(f->req, "Last-Modified", buf);
	snprintf(buf, sizeof buf, "public, max-age=%lld",
	    storefile_max_age(f));
	http_header(f->req, "Cache-Control", buf);
	http_header(f->req, "Accept-Ranges", "bytes");
	http_header(f->req, "X-Content-Type-Options", "nosniff");
}

/* The header of the answers that are (or stand for) the file's bytes. */
static void
storefile_disposition(const struct storefile *f)
{
	char	*disp;

	xasprintf(&disp, "attachment; filename=\"%s\"", f->name);
	http_header(f->req, "Content-Disposition", disp);
	free(disp);
}

/* The segment of a download is freed: its result is no longer sent. */
static void
storefile_sent_cb(const struct evbuffer_file_segment *seg, int flags,
    void *arg)
{
	char	*hash = arg;

	(void)seg;
	(void)flags;
	dlstat_sending(hash, -1);
	free(hash);
}

/* A GET that sends the first byte: one download, counted now. */
static void
storefile_count(struct storefile *f, off_t first)
{
	if (http_is_head(f->req) || first != 0)
		return;
	dlstat_count(f->a, f->hash, f->name);
	storemax_used(f->hash);
}

/*
 * Sends len bytes of the file from first (the whole: 200, else 206); a
 * GET from the first byte is a download, counted before it is sent.
 */
static void
storefile_send(struct storefile *f, int code, off_t first, off_t len)
{
	struct evbuffer_file_segment	*seg;
	struct evbuffer			*b;
	int				 rc;

	storefile_disposition(f);
	if (http_is_head(f->req) || len == 0) {
		storefile_count(f, first);
		close(f->fd);
		http_reply_head(f->req, code, "application/octet-stream",
		    (uintmax_t)len);
		return;
	}
	/*
	 * evbuffer_add_file, with its failures handled: the segment closes
	 * fd once the buffer is done with it, or at once if adding failed.
	 */
	if ((seg = evbuffer_file_segment_new(f->fd, first, len,
	    EVBUF_FS_CLOSE_ON_FREE)) == NULL) {
		close(f->fd);
		http_reply_detail(f->req, 500, "Error: cannot read the file");
		return;
	}
	dlstat_sending(f->hash, 1);
	evbuffer_file_segment_add_cleanup_cb(seg, storefile_sent_cb,
	    xstrdup(f->hash));
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new: out of memory");
	rc = evbuffer_add_file_segment(b, seg, 0, len);
	evbuffer_file_segment_free(seg);	/* b holds its own reference */
	if (rc == -1) {
		evbuffer_free(b);
		http_reply_detail(f->req, 500, "Error: cannot read the file");
		return;
	}
	storefile_count(f, first);
	http_long_answer(f->req);
	http_reply(f->req, code, "application/octet-stream", b);
	evbuffer_free(b);
}

/* Answers the open file: 304, 416, 206 or 200. */
static void
storefile_answer(struct storefile *f)
{
	const char	*range, *ifr;
	char		 cr[96];
	off_t		 first = 0, last = 0, size = f->st.st_size;
	int		 r = STOREFILE_RANGE_NONE;

	storefile_headers(f);
	if (storefile_not_modified(f)) {
		close(f->fd);
		storefile_disposition(f);
		/* The length of the 200 (RFC 9110 8.6), and no body. */
		http_reply_head(f->req, 304, NULL, (uintmax_t)size);
		return;
	}
	/* HEAD gets the headers of the GET: a 206 too (RFC 9110 9.3.2). */
	if ((range = storefile_in(f, "Range")) != NULL && size > 0 &&
	    ((ifr = storefile_in(f, "If-Range")) == NULL ||
	    storefile_if_range(f, ifr)))
		r = storefile_range(range, size, &first, &last);
	if (r == STOREFILE_RANGE_UNSAT) {
		close(f->fd);
		snprintf(cr, sizeof cr, "bytes */%jd", (intmax_t)size);
		http_header(f->req, "Content-Range", cr);
		http_reply_detail(f->req, 416, "Range Not Satisfiable");
		return;
	}
	if (r == STOREFILE_RANGE_NONE) {
		storefile_send(f, 200, 0, size);
		return;
	}
	snprintf(cr, sizeof cr, "bytes %jd-%jd/%jd", (intmax_t)first,
	    (intmax_t)last, (intmax_t)size);
	http_header(f->req, "Content-Range", cr);
	storefile_send(f, 206, first, last - first + 1);
}

/* Answers GET or HEAD of the regular file name in the directory dir. */
void
storefile_reply(struct asud *a, struct evhttp_request *req,
    const char *hash, const char *dir, const char *name, int64_t expires)
{
	struct storefile	 f;
	int			 dirfd;

	memset(&f, 0, sizeof f);
	f.a = a;
	f.hash = hash;
	f.req = req;
	f.name = name;
	f.expires = expires;
	f.fd = -1;
	/* A FIFO must not block the loop in open(): only files are served. */
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1)
		f.fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
		    O_CLOEXEC);
	if (f.fd == -1 || fstat(f.fd, &f.st) == -1 || !S_ISREG(f.st.st_mode)) {
		if (f.fd != -1)
			close(f.fd);
		if (dirfd != -1)
			close(dirfd);
		http_reply_json(req, 404, "{\"detail\":\"Not found\"}", 22);
		return;
	}
	storefile_etag(&f, dirfd);
	close(dirfd);
	storefile_answer(&f);
}

/*
 * unpack.c: tests for imagebuilder/unpack.c with tarballs written by
 * libarchive in the test: good .tar.zst and .tar.xz archives extract with
 * their top directory stripped; hostile or broken ones are refused whole
 * and leave nothing behind; cancel ends the child; the loop keeps
 * running during a large extraction.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "imagebuilder/job.h"
#include "imagebuilder/unpack.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

/* One entry of a test archive; size > 0 means generated data. */
struct tu_entry {
	const char	*name;
	mode_t		 type;
	int		 perm;
	const char	*data;		/* file text, link target */
	int		 hardlink;	/* data names the link's target */
	size_t		 size;
};

/* The outcome of one extraction. */
struct tu_result {
	int	 done;
	int	 ok;
	char	*error;
};

static struct event_base	*tu_base;
/* The unpack callback. */
static void
tu_done(int okay, const char *error, void *arg)
{
	struct tu_result	*r = arg;

	r->done++;
	r->ok = okay;
	r->error = error != NULL ? xstrdup(error) : NULL;
}

/* Fills buf with data that does not compress. */
static void
tu_noise(char *buf, size_t len, unsigned int seed)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
	}
}

/* Writes a tarball with libarchive; filter is "zstd" or "xz". */
static int
tu_tarball(const char *path, const char *filter, const struct tu_entry *ents,
    size_t n)
{
	struct archive		*a = archive_write_new();
	struct archive_entry	*e;
	const char		*data;
	char			*buf = NULL;
	size_t			 i, len;
	int			 rv = 0;

	if (strcmp(filter, "zstd") == 0)
		archive_write_add_filter_zstd(a);
	else
		archive_write_add_filter_xz(a);
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return (-1);
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_mtime(e, 1700000000, 0);
		data = ents[i].data;
		len = 0;
		if (ents[i].hardlink) {
			archive_entry_set_hardlink(e, data);
		} else {
			archive_entry_set_filetype(e, ents[i].type);
			archive_entry_set_perm(e, ents[i].perm);
		}
		if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, data);
		else if (ents[i].type == AE_IFREG && !ents[i].hardlink) {
			len = ents[i].size > 0 ? ents[i].size : strlen(data);
			if (ents[i].size > 0) {
				buf = xmalloc(len);
				tu_noise(buf, len, (unsigned int)i);
				data = buf;
			}
		}
		archive_entry_set_size(e, (la_int64_t)len);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (len > 0 && archive_write_data(a, data, len) !=
		    (la_ssize_t)len))
			rv = -1;
		free(buf);
		buf = NULL;
		archive_entry_free(e);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rv = -1;
	archive_write_free(a);
	return (rv);
}

/* Runs the loop until the extraction ends or seconds pass. */
static void
tu_wait(struct tu_result *r, int seconds)
{
	tutil_wait_all(r, 1, sizeof *r, offsetof(struct tu_result, done),
	    seconds);
}

/* Extracts archive into dest and waits for the result. */
static void
tu_unpack(const char *archive, const char *dest, struct tu_result *r)
{
	struct unpack	*u;
	char		*cause = NULL;

	memset(r, 0, sizeof *r);
	u = unpack_start(tu_base, archive, dest, tu_done, r, &cause);
	if (u == NULL) {
		r->done = 1;
		r->error = cause;
		return;
	}
	tu_wait(r, 60);
}

/* Reads a small file into a static buffer. */
static const char *
tu_read(const char *path)
{
	static char	 buf[256];
	ssize_t		 n = -1;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return (buf);
}

/* Whether a path exists (without following a final link). */
static int
tu_exists(const char *path)
{
	struct stat	sb;

	return (lstat(path, &sb) == 0);
}

static const struct tu_entry tu_good[] = {
	{ "ib-1/", AE_IFDIR, 0755, NULL, 0, 0 },
	{ "ib-1/Makefile", AE_IFREG, 0644, "all:\n", 0, 0 },
	{ "ib-1/scripts/", AE_IFDIR, 0755, NULL, 0, 0 },
	{ "ib-1/scripts/run.sh", AE_IFREG, 04755, "#!/bin/sh\n", 0, 0 },
	{ "ib-1/staging/bin/", AE_IFDIR, 0755, NULL, 0, 0 },
	{ "ib-1/staging/bin/mk", AE_IFLNK, 0777, "../../Makefile", 0, 0 },
	{ "./ib-1/hard", AE_IFREG, 0644, "ib-1/Makefile", 1, 0 },
};

/* A good archive extracts with its top directory stripped. */
static void
test_good(const char *filter)
{
	struct tu_result	 r;
	struct stat		 sb;
	char			 buf[64], msg[128];
	ssize_t			 n;

	snprintf(msg, sizeof msg, "%s archive written", filter);
	ok(tu_tarball("good.tar", filter, tu_good, nitems(tu_good)) == 0, msg);
	tu_unpack("good.tar", "out", &r);
	snprintf(msg, sizeof msg, "%s archive extracted", filter);
	ok(r.done == 1 && r.ok == 1, msg);
	if (r.error != NULL)
		printf("# error: %s\n", r.error);
	is_str(r.error, NULL, "no error");
	is_str(tu_read("out/Makefile"), "all:\n", "top directory stripped");
	ok(!tu_exists("out/ib-1"), "no top directory inside");
	ok(stat("out/scripts/run.sh", &sb) == 0 &&
	    (sb.st_mode & 07777) == 0755,
	    "executable bit kept, setuid dropped");
	n = readlink("out/staging/bin/mk", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "../../Makefile", "in-tree symlink");
	is_str(tu_read("out/staging/bin/mk"), "all:\n", "symlink resolves");
	ok(stat("out/hard", &sb) == 0 && sb.st_nlink == 2, "hardlink");
	ok(stat("out/Makefile", &sb) == 0 && sb.st_mtime == 1700000000,
	    "mtime restored");
	free(r.error);
	fs_rmtree("out");
	unlink("good.tar");
}

/* A hostile archive is refused with a message and leaves nothing. */
static void
test_refused(const char *what, const struct tu_entry *ents, size_t n,
    const char *want)
{
	struct tu_result	r;
	char			msg[160];

	ok(tu_tarball("bad.tar", "zstd", ents, n) == 0, "archive written");
	tu_unpack("bad.tar", "out", &r);
	snprintf(msg, sizeof msg, "refused: %s", what);
	ok(r.done == 1 && r.ok == 0, msg);
	snprintf(msg, sizeof msg, "message for %s", what);
	ok(r.error != NULL && strstr(r.error, want) != NULL, msg);
	if (r.error == NULL || strstr(r.error, want) == NULL)
		printf("#   got '%s'\n#   want '%s'\n", r.error, want);
	snprintf(msg, sizeof msg, "nothing left after %s", what);
	ok(!tu_exists("out"), msg);
	free(r.error);
	fs_rmtree("out");
	unlink("bad.tar");
}

/* Each kind of hostile entry. */
static void
test_hostile(void)
{
	const struct tu_entry	dotdot[] = {
		{ "ib-1/", AE_IFDIR, 0755, NULL, 0, 0 },
		{ "ib-1/../evil", AE_IFREG, 0644, "x", 0, 0 },
	};
	const struct tu_entry	absolute[] = {
		{ "/etc/evil", AE_IFREG, 0644, "x", 0, 0 },
	};
	const struct tu_entry	outward[] = {
		{ "ib-1/a/", AE_IFDIR, 0755, NULL, 0, 0 },
		{ "ib-1/a/l", AE_IFLNK, 0777, "../../etc", 0, 0 },
	};
	const struct tu_entry	abslink[] = {
		{ "ib-1/l", AE_IFLNK, 0777, "/etc/passwd", 0, 0 },
	};
	const struct tu_entry	second[] = {
		{ "ib-1/x", AE_IFREG, 0644, "x", 0, 0 },
		{ "ib-2/y", AE_IFREG, 0644, "y", 0, 0 },
	};
	const struct tu_entry	fifo[] = {
		{ "ib-1/p", AE_IFIFO, 0644, NULL, 0, 0 },
	};
	const struct tu_entry	midlink[] = {
		{ "ib-1/a/", AE_IFDIR, 0755, NULL, 0, 0 },
		{ "ib-1/a/l", AE_IFLNK, 0777, "x/../..", 0, 0 },
	};
	const struct tu_entry	linkout[] = {
		{ "ib-1/x", AE_IFREG, 0644, "x", 0, 0 },
		{ "ib-1/h", AE_IFREG, 0644, "ib-2/x", 1, 0 },
	};

	test_refused("a ../ entry", dotdot, nitems(dotdot),
	    "\"ib-1/../evil\": refused: \"..\" component");
	test_refused("an absolute path", absolute, nitems(absolute),
	    "\"/etc/evil\": refused: absolute path");
	test_refused("an outward symlink", outward, nitems(outward),
	    "\"ib-1/a/l\": refused: symlink target leaves the tree");
	test_refused("an absolute symlink", abslink, nitems(abslink),
	    "\"ib-1/l\": refused: absolute symlink target");
	test_refused("a second top directory", second, nitems(second),
	    "\"ib-2/y\": refused: outside the single top-level directory "
	    "\"ib-1\"");
	test_refused("a fifo", fifo, nitems(fifo),
	    "\"ib-1/p\": refused: device file, fifo or socket");
	test_refused("a .. after a name in a symlink", midlink,
	    nitems(midlink), "\"ib-1/a/l\": refused: symlink target has");
	test_refused("a hardlink outside", linkout, nitems(linkout),
	    "\"ib-1/h\": refused: outside the single top-level");
}

/* Truncated archives, non-archives, and bad arguments. */
static void
test_broken(void)
{
	const struct tu_entry	big[] = {
		{ "ib-1/", AE_IFDIR, 0755, NULL, 0, 0 },
		{ "ib-1/blob", AE_IFREG, 0644, NULL, 0, 1 << 20 },
	};
	struct tu_result	r;
	struct stat		sb;
	struct unpack		*u;
	char			*cause = NULL;

	ok(tu_tarball("trunc.tar", "zstd", big, nitems(big)) == 0 &&
	    stat("trunc.tar", &sb) == 0 &&
	    truncate("trunc.tar", sb.st_size / 2) == 0, "truncated archive");
	tu_unpack("trunc.tar", "out", &r);
	ok(r.done == 1 && r.ok == 0 && r.error != NULL, "truncated refused");
	printf("# %s\n", r.error != NULL ? r.error : "(null)");
	ok(!tu_exists("out"), "nothing left after a truncated archive");
	free(r.error);
	unlink("trunc.tar");

	ok(fs_write_file("text.tar", "hello\n", 6, 0644) == 0, "text file");
	tu_unpack("text.tar", "out", &r);
	ok(r.done == 1 && r.ok == 0 && r.error != NULL &&
	    strstr(r.error, "not a .tar.zst or .tar.xz archive") != NULL,
	    "a non-archive is refused");
	ok(!tu_exists("out"), "nothing left after a non-archive");
	free(r.error);

	u = unpack_start(tu_base, "missing.tar", "out", tu_done, &r, &cause);
	ok(u == NULL && cause != NULL &&
	    strstr(cause, "missing.tar") != NULL, "missing archive");
	free(cause);
	cause = NULL;
	ok(mkdir("out", 0755) == 0, "existing destination");
	u = unpack_start(tu_base, "text.tar", "out", tu_done, &r, &cause);
	ok(u == NULL && cause != NULL && strstr(cause, "File exists") != NULL,
	    "destination must not exist");
	free(cause);
	rmdir("out");
	unlink("text.tar");
}

/* Writes an archive big enough that extracting it takes a while. */
static int
tu_large(const char *path)
{
	struct tu_entry	ents[9];
	char		names[8][32];
	size_t		i;

	ents[0] = (struct tu_entry){ "ib-1/", AE_IFDIR, 0755, NULL, 0, 0 };
	for (i = 0; i < 8; i++) {
		snprintf(names[i], sizeof names[i], "ib-1/blob%zu", i);
		ents[i + 1] = (struct tu_entry){ names[i], AE_IFREG, 0644,
		    NULL, 0, 8 << 20 };
	}
	return (tu_tarball(path, "zstd", ents, nitems(ents)));
}

/* Whether a cancelled child is gone and its tree removed. */
static int
tu_cancelled(void *arg)
{
	return (kill(*(pid_t *)arg, 0) == -1 && !tu_exists("out"));
}

/* Cancel ends the child, which removes the tree; no callback. */
static void
test_cancel(void)
{
	struct tu_result	 r;
	struct unpack		*u;
	char			*cause = NULL;
	pid_t			 pid;

	memset(&r, 0, sizeof r);
	u = unpack_start(tu_base, "large.tar", "out", tu_done, &r, &cause);
	ok(u != NULL, "large extraction started");
	if (u == NULL)
		return;
	pid = unpack_pid(u);
	unpack_cancel(u);
	tutil_wait(tu_cancelled, &pid, 20);
	ok(kill(pid, 0) == -1 && errno == ESRCH, "cancelled child reaped");
	ok(!tu_exists("out"), "cancelled extraction removed");
	ok(r.done == 0, "no callback after cancel");
}

/* The loop keeps running while the child extracts. */
static void
test_not_blocking(void)
{
	struct tu_result	r;
	int			ticks;

	ticks = tutil_ticks();
	tu_unpack("large.tar", "out", &r);
	ticks = tutil_ticks() - ticks;
	ok(r.done == 1 && r.ok == 1, "large archive extracted");
	ok(ticks >= 3, "the timer kept firing during the extraction");
	printf("# %d ticks\n", ticks);
	free(r.error);
	fs_rmtree("out");
}

/* Runs every case in a scratch directory, on one event loop. */
int
main(void)
{
	char	*dir;

	signal(SIGPIPE, SIG_IGN);
	tu_base = tutil_loop_init(5000, job_sigchld);
	job_init(tu_base);
	dir = tutil_scratch("unpack-test");
	if (chdir(dir) == -1) {
		ok(0, "temporary directory");
		return (done_testing());
	}

	test_good("zstd");
	test_good("xz");
	test_hostile();
	test_broken();
	ok(tu_large("large.tar") == 0, "large archive written");
	test_not_blocking();
	test_cancel();

	unlink("large.tar");
	if (chdir("..") == 0)
		fs_rmtree(dir);
	free(dir);
	tutil_loop_free();
	return (done_testing());
}

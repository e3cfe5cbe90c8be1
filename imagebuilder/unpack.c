/*
 * unpack.c: ImageBuilder tarballs extracted by libarchive in a forked
 * child, so that the event loop never waits for hundreds of megabytes of
 * decompression. The child checks every entry before it writes it (one
 * top-level directory, stripped; nothing absolute, no "..", no link out
 * of the tree, no device or fifo, setuid and setgid bits dropped, caps on
 * entries and bytes), removes the directory on any refusal and writes
 * the reason to a pipe. The parent reads that pipe through a bufferevent
 * and learns the exit status from job_sigchld.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/job.h"
#include "imagebuilder/spawn.h"
#include "imagebuilder/unpack.h"

/* At most this many entries and bytes of file data in one archive. */
#define UNPACK_MAX_ENTRIES	(2ULL * 1000 * 1000)
#define UNPACK_MAX_BYTES	(20ULL * 1000 * 1000 * 1000)
/* The longest error text kept from the child. */
#define UNPACK_MSG_MAX		2048
/* How much of an entry name goes into a message. */
#define UNPACK_NAME_MAX		200
/* Where the child finds its two descriptors. */
#define UNPACK_FD_ERR		3
#define UNPACK_FD_ARCHIVE	4

#define UNPACK_FLAGS	(ARCHIVE_EXTRACT_SECURE_NODOTDOT |		\
	ARCHIVE_EXTRACT_SECURE_SYMLINKS |				\
	ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |			\
	ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM)

struct unpack {
	pid_t			 pid;
	struct bufferevent	*bev;
	int			 dead;
	int			 status;
	int			 cancelled;
	char			 msg[UNPACK_MSG_MAX + 1];
	size_t			 msglen;
	unpack_done_cb		 done_cb;
	void			*arg;
};

/* What the child knows about the archive so far. */
struct unpack_state {
	char			*top;
	unsigned long long	 entries;
	unsigned long long	 bytes;
};

/* Set by SIGTERM in the child: unpack_cancel wants it to stop. */
static volatile sig_atomic_t	unpack_stop;

/* The child's SIGTERM handler. */
static void
unpack_sigterm(int sig __unused)
{
	unpack_stop = 1;
}

/* An entry name made safe to print: no control bytes, bounded length. */
static char *
unpack_quote(const char *name)
{
	char	*q;
	size_t	 i, len = strlen(name);

	if (len > UNPACK_NAME_MAX)
		len = UNPACK_NAME_MAX;
	q = xmalloc(len + 4);
	for (i = 0; i < len; i++) {
		q[i] = name[i];
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f ||
		    name[i] == '"')
			q[i] = '?';
	}
	strcpy(q + len, strlen(name) > len ? "..." : "");
	return (q);
}

/* Sets *cause to a refusal naming the entry. */
static int
unpack_refuse(const char *name, const char *why, char **cause)
{
	char	*q = unpack_quote(name);

	xasprintf(cause, "archive entry \"%s\": refused: %s", q, why);
	free(q);
	return (-1);
}

/*
 * Splits a path into its first component and the rest, dropping empty
 * and "." components; refuses absolute paths and "..".
 */
static int
unpack_split(const char *path, char **top, char **rest, const char **why)
{
	const char	*p = path, *end;
	size_t		 len, off = 0;

	*top = NULL;
	*rest = xcalloc(1, strlen(path) + 1);
	if (*path == '/') {
		*why = "absolute path";
		goto fail;
	}
	while (*p != '\0') {
		end = strchr(p, '/');
		len = end == NULL ? strlen(p) : (size_t)(end - p);
		if (len == 2 && strncmp(p, "..", 2) == 0) {
			*why = "\"..\" component";
			goto fail;
		}
		if (len > 0 && !(len == 1 && *p == '.')) {
			if (*top == NULL)
				*top = xstrndup(p, len);
			else {
				if (off > 0)
					(*rest)[off++] = '/';
				memcpy(*rest + off, p, len);
				off += len;
			}
		}
		p += len;
		if (*p == '/')
			p++;
	}
	if (*top != NULL)
		return (0);
	*why = "empty path";
fail:
	free(*top);
	free(*rest);
	*top = *rest = NULL;
	return (-1);
}

/*
 * Whether a symlink at rest (relative to the tree) with this target stays
 * inside the tree: relative, and its ".." only leading ones that do not
 * climb above the root. A ".." after a name could climb out through
 * another link, so it is refused too.
 */
static const char *
unpack_link_check(const char *rest, const char *target)
{
	const char	*p;
	size_t		 len;
	long		 depth = 0;
	int		 named = 0;

	if (*target == '\0')
		return ("empty symlink target");
	if (*target == '/')
		return ("absolute symlink target");
	for (p = rest; (p = strchr(p, '/')) != NULL; p++)
		depth++;
	for (p = target; *p != '\0'; p += *p == '/' ? 1 : 0) {
		len = strcspn(p, "/");
		if (len == 2 && strncmp(p, "..", 2) == 0) {
			if (named)
				return ("symlink target has \"..\" after a "
				    "name");
			if (--depth < 0)
				return ("symlink target leaves the tree");
		} else if (len > 0 && !(len == 1 && *p == '.'))
			named = 1;
		p += len;
	}
	return (NULL);
}

/* Checks the archive's top-level directory name against the first one. */
static int
unpack_check_top(struct unpack_state *st, const char *name, const char *top,
    char **cause)
{
	char	*why, *q;
	int	 rv;

	if (st->top == NULL) {
		st->top = xstrdup(top);
		return (0);
	}
	if (strcmp(st->top, top) == 0)
		return (0);
	q = unpack_quote(st->top);
	xasprintf(&why, "outside the single top-level directory \"%s\"", q);
	rv = unpack_refuse(name, why, cause);
	free(why);
	free(q);
	return (rv);
}

/*
 * Splits path (of the entry called name) and checks its top-level
 * directory; *rest gets what is below it, allocated.
 */
static int
unpack_strip(struct unpack_state *st, const char *name, const char *path,
    char **rest, char **cause)
{
	const char	*why;
	char		*top;
	int		 rv;

	if (unpack_split(path, &top, rest, &why) == -1)
		return (unpack_refuse(name, why, cause));
	rv = unpack_check_top(st, name, top, cause);
	free(top);
	if (rv == -1) {
		free(*rest);
		*rest = NULL;
	}
	return (rv);
}

/* Rewrites a hardlink entry to the stripped name of an extracted file. */
static int
unpack_hardlink(struct unpack_state *st, struct archive_entry *e,
    const char *name, const char *link, char **cause)
{
	struct stat	 sb;
	char		*rest;
	int		 rv = 0;

	if (unpack_strip(st, name, link, &rest, cause) == -1)
		return (-1);
	/* A hardlinked symlink would keep its target from another depth. */
	if (*rest == '\0' || lstat(rest, &sb) == -1 || !S_ISREG(sb.st_mode))
		rv = unpack_refuse(name, "hardlink to something that is not an "
		    "extracted regular file", cause);
	else
		archive_entry_set_hardlink(e, rest);
	free(rest);
	return (rv);
}

/* Checks an entry's type, links, size and mode; fixes its names. */
static int
unpack_vet(struct unpack_state *st, struct archive_entry *e,
    const char *name, const char *rest, char **cause)
{
	const char	*link, *why;
	mode_t		 type = archive_entry_filetype(e);
	long long	 size = archive_entry_size(e);

	if ((link = archive_entry_hardlink(e)) != NULL)
		return (unpack_hardlink(st, e, name, link, cause));
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return (unpack_refuse(name, "device file, fifo or socket",
		    cause));
	if (type == AE_IFLNK) {
		if ((link = archive_entry_symlink(e)) == NULL)
			return (unpack_refuse(name, "unreadable symlink",
			    cause));
		if ((why = unpack_link_check(rest, link)) != NULL)
			return (unpack_refuse(name, why, cause));
	}
	if (size < 0 || (unsigned long long)size > UNPACK_MAX_BYTES - st->bytes)
		return (unpack_refuse(name, "the archive is too large", cause));
	archive_entry_set_perm(e, archive_entry_perm(e) & ~(S_ISUID | S_ISGID));
	return (0);
}

/* Copies an entry's data to disk, counting it against the byte cap. */
static int
unpack_copy(struct unpack_state *st, struct archive *a, struct archive *disk,
    const char *name, char **cause)
{
	const void	*buf;
	size_t		 len;
	la_int64_t	 off;
	int		 r;

	for (;;) {
		if (unpack_stop) {
			*cause = xstrdup("cancelled");
			return (-1);
		}
		r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return (0);
		if (r < ARCHIVE_WARN) {
			xasprintf(cause, "reading the archive: %s",
			    archive_error_string(a));
			return (-1);
		}
		if (len > UNPACK_MAX_BYTES - st->bytes)
			return (unpack_refuse(name, "the archive is too large",
			    cause));
		st->bytes += len;
		if (archive_write_data_block(disk, buf, len, off) <
		    ARCHIVE_WARN) {
			xasprintf(cause, "writing \"%s\": %s", name,
			    archive_error_string(disk));
			return (-1);
		}
	}
}

/* Checks one entry, strips its top directory and writes it. */
static int
unpack_entry(struct unpack_state *st, struct archive *a,
    struct archive *disk, struct archive_entry *e, char **cause)
{
	const char	*name;
	char		*rest, *q;
	int		 rv = -1;

	if ((name = archive_entry_pathname(e)) == NULL) {
		*cause = xstrdup("archive entry with an unreadable name");
		return (-1);
	}
	if (++st->entries > UNPACK_MAX_ENTRIES)
		return (unpack_refuse(name, "too many entries", cause));
	if (unpack_strip(st, name, name, &rest, cause) == -1)
		return (-1);
	if (*rest == '\0') {
		/* The top-level directory itself: dest_tmp stands for it. */
		if (archive_entry_filetype(e) == AE_IFDIR &&
		    archive_entry_hardlink(e) == NULL)
			rv = 0;
		else
			unpack_refuse(name, "the top-level entry is not a "
			    "directory", cause);
		goto out;
	}
	if (unpack_vet(st, e, name, rest, cause) == -1)
		goto out;
	archive_entry_set_pathname(e, rest);
	if (archive_write_header(disk, e) < ARCHIVE_WARN) {
		q = unpack_quote(name);
		xasprintf(cause, "archive entry \"%s\": %s", q,
		    archive_error_string(disk));
		free(q);
		goto out;
	}
	if (archive_entry_size(e) > 0 &&
	    unpack_copy(st, a, disk, name, cause) == -1)
		goto out;
	if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
		xasprintf(cause, "finishing \"%s\": %s", rest,
		    archive_error_string(disk));
		goto out;
	}
	rv = 0;
out:
	free(rest);
	return (rv);
}

/*
 * Leaves the unpacked size in ".asud-size" (the child's cwd is the new
 * tree), so that the cache can keep its disk budget without walking it.
 */
static int
unpack_note_size(unsigned long long bytes, char **cause)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof buf, "%llu\n", bytes);
	if (fs_write_file(UNPACK_SIZE_FILE, buf, (size_t)n, 0644) == -1) {
		xasprintf(cause, "writing %s: %s", UNPACK_SIZE_FILE,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Reads every entry of the archive on fd into the current directory. */
static int
unpack_extract(int fd, char **cause)
{
	struct unpack_state	 st = { NULL, 0, 0 };
	struct archive		*a, *disk;
	struct archive_entry	*e;
	int			 r, rv = -1;

	if ((a = archive_read_new()) == NULL ||
	    (disk = archive_write_disk_new()) == NULL) {
		*cause = xstrdup("out of memory");
		return (-1);
	}
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(disk, UNPACK_FLAGS);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		xasprintf(cause, "not a .tar.zst or .tar.xz archive: %s",
		    archive_error_string(a));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (unpack_stop) {
			*cause = xstrdup("cancelled");
			goto out;
		}
		if (r < ARCHIVE_WARN) {
			xasprintf(cause, "reading the archive: %s",
			    archive_error_string(a));
			goto out;
		}
		if (unpack_entry(&st, a, disk, e, cause) == -1)
			goto out;
	}
	if (st.top == NULL) {
		*cause = xstrdup("the archive has no entries");
		goto out;
	}
	if (archive_write_close(disk) < ARCHIVE_WARN) {
		xasprintf(cause, "finishing the extraction: %s",
		    archive_error_string(disk));
		goto out;
	}
	if (unpack_note_size(st.bytes, cause) == -1)
		goto out;
	rv = 0;
out:
	free(st.top);
	archive_read_free(a);
	archive_write_free(disk);
	return (rv);
}

/* The child's signals (spawn_fork set the defaults): SIGTERM, no SIGPIPE. */
static void
unpack_child_signals(void)
{
	struct sigaction	sa;
	sigset_t		none;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = unpack_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Puts the error pipe and the archive on their fixed descriptors. */
static int
unpack_child_fds(int afd, int errfd)
{
	int	null, a, e;

	if ((a = fcntl(afd, F_DUPFD, 10)) == -1 ||
	    (e = fcntl(errfd, F_DUPFD, 10)) == -1)
		return (-1);
	if (dup2(e, UNPACK_FD_ERR) == -1 || dup2(a, UNPACK_FD_ARCHIVE) == -1)
		return (-1);
	fs_closefrom(UNPACK_FD_ARCHIVE + 1);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1)
		return (-1);
	if (null != STDIN_FILENO)
		close(null);
	return (0);
}

/* Runs in the forked child: extracts into dest or removes it. */
static void __attribute__((noreturn))
unpack_child(int afd, const char *dest, int errfd, pid_t parent)
{
	char	*cause = NULL;
	size_t	 len;

	unpack_child_signals();
#ifdef __linux__
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() != parent)
		_exit(127);
#endif
	if (unpack_child_fds(afd, errfd) == -1)
		xasprintf(&cause, "setting up the child: %s", strerror(errno));
	else if (chdir(dest) == -1)
		xasprintf(&cause, "%s: %s", dest, strerror(errno));
	else if (unpack_extract(UNPACK_FD_ARCHIVE, &cause) == 0)
		_exit(0);
	/* Remove the tree before reporting, so the parent finds it gone. */
	if (chdir("/") == 0)
		fs_rmtree(dest);
	if (unpack_stop)
		_exit(2);
	len = strlen(cause);
	if (len > UNPACK_MSG_MAX)
		len = UNPACK_MSG_MAX;
	if (write(UNPACK_FD_ERR, cause, len) == -1)
		_exit(3);
	_exit(1);
}

/* Finishes the extraction once the child is reaped and its pipe closed. */
static void
unpack_check(struct unpack *u)
{
	char	*error = NULL;
	int	 ok;

	if (!u->dead || u->bev != NULL)
		return;
	if (!u->cancelled) {
		ok = WIFEXITED(u->status) && WEXITSTATUS(u->status) == 0 &&
		    u->msglen == 0;
		if (!ok && u->msglen > 0)
			error = xstrdup(u->msg);
		else if (!ok)
			xasprintf(&error, "unpacking failed: child %s",
			    job_status_string(u->status));
		u->done_cb(ok, error, u->arg);
		free(error);
	}
	free(u);
}

/* Keeps what the child wrote, up to the cap, and discards the rest. */
static void
unpack_drain(struct unpack *u, struct bufferevent *bev)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 room;
	int		 n;

	room = UNPACK_MSG_MAX - u->msglen;
	if (room > 0 && (n = evbuffer_remove(in, u->msg + u->msglen,
	    room)) > 0)
		u->msglen += (size_t)n;
	u->msg[u->msglen] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The child wrote part of its error message. */
static void
unpack_read_cb(struct bufferevent *bev, void *arg)
{
	unpack_drain(arg, bev);
}

/* The error pipe reached EOF (or failed): the child is done writing. */
static void
unpack_event_cb(struct bufferevent *bev, short what __unused, void *arg)
{
	struct unpack	*u = arg;

	unpack_drain(u, bev);
	bufferevent_free(u->bev);
	u->bev = NULL;
	unpack_check(u);
}

/* job_sigchld reaped the child. */
static void
unpack_reaped(pid_t pid, int status, void *arg)
{
	struct unpack	*u = arg;

	log_debug("unpack %ld %s", (long)pid, job_status_string(status));
	u->dead = 1;
	u->status = status;
	unpack_check(u);
}

/* Forks the child, which runs none of the daemon's signal handlers. */
static pid_t
unpack_fork(int afd, const char *dest, int errfd)
{
	pid_t	pid, parent = getpid();

	if ((pid = spawn_fork()) == 0)
		unpack_child(afd, dest, errfd, parent);
	return (pid);
}

/* Creates dest and returns its absolute name, for the child's chdir. */
static char *
unpack_mkdest(const char *dest, char **cause)
{
	char	*abs;

	if (mkdir(dest, 0755) == -1) {
		xasprintf(cause, "%s: %s", dest, strerror(errno));
		return (NULL);
	}
	if ((abs = realpath(dest, NULL)) == NULL) {
		xasprintf(cause, "%s: %s", dest, strerror(errno));
		rmdir(dest);
	}
	return (abs);
}

/* Starts an extraction; see unpack.h. */
struct unpack *
unpack_start(struct event_base *base, const char *archive,
    const char *dest_tmp, unpack_done_cb done_cb, void *arg, char **cause)
{
	struct unpack	*u;
	char		*abs = NULL;
	int		 afd, p[2] = { -1, -1 };
	pid_t		 pid;

	if ((afd = open(archive, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", archive, strerror(errno));
		return (NULL);
	}
	if ((abs = unpack_mkdest(dest_tmp, cause)) == NULL)
		goto fail;
	if (pipe2(p, O_CLOEXEC) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		goto fail_dest;
	}
	if ((pid = unpack_fork(afd, abs, p[1])) == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		goto fail_dest;
	}
	close(afd);
	close(p[1]);
	free(abs);

	u = xcalloc(1, sizeof *u);
	u->pid = pid;
	u->done_cb = done_cb;
	u->arg = arg;
	if (evutil_make_socket_nonblocking(p[0]) == -1)
		fatal("fcntl O_NONBLOCK");
	u->bev = bufferevent_socket_new(base, p[0], BEV_OPT_CLOSE_ON_FREE);
	if (u->bev == NULL)
		fatalx("out of memory");
	bufferevent_setcb(u->bev, unpack_read_cb, NULL, unpack_event_cb, u);
	bufferevent_enable(u->bev, EV_READ);
	job_watch_pid(pid, unpack_reaped, u);
	log_debug("unpack %ld started: %s", (long)pid, archive);
	return (u);

fail_dest:
	if (p[0] != -1) {
		close(p[0]);
		close(p[1]);
	}
	rmdir(abs);
fail:
	free(abs);
	close(afd);
	return (NULL);
}

/* Stops the child; the handle is freed once it is reaped. */
void
unpack_cancel(struct unpack *u)
{
	u->cancelled = 1;
	if (!u->dead)
		kill(u->pid, SIGTERM);
	if (u->bev != NULL) {
		bufferevent_free(u->bev);
		u->bev = NULL;
	}
	unpack_check(u);
}

/* The child's process id; see unpack.h. */
pid_t
unpack_pid(const struct unpack *u)
{
	return (u->pid);
}

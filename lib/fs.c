/*
 * fs.c: directory creation, walks and removal, whole-file reads and writes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"

static int	fs_rmtree_at(int, const char *);

/* Creates path and its missing parents. */
int
fs_mkdirs(const char *path, int mode)
{
	char	*p, *s;
	int	 rc = 0;

	/* Most calls find every parent there: one system call. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return (0);
	if (errno != ENOENT)
		return (-1);
	p = xstrdup(path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = '/';
	}
	if (rc == 0 && mkdir(p, mode) == -1 && errno != EEXIST)
		rc = -1;
	free(p);
	return (rc);
}

/* Calls cb for each entry of a directory that is not a link. */
int
fs_dir_each(int parent, const char *name, fs_dir_cb cb, void *arg)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return (-1);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		cb(dirfd(d), de->d_name, arg);
	}
	closedir(d);
	return (0);
}

/* Removes one entry of a directory being emptied; *arg is set on error. */
static void
fs_rmtree_entry(int dirfd, const char *name, void *arg)
{
	int	*rc = arg;

	if (fs_rmtree_at(dirfd, name) == -1)
		*rc = -1;
}

/* Removes the entries of an open directory, then the directory. */
static int
fs_rmtree_at(int parent, const char *name)
{
	int	 rc = 0;

	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return (0);
	if (errno != EISDIR && errno != EPERM)
		return (-1);
	if (fs_dir_each(parent, name, fs_rmtree_entry, &rc) == -1)
		return (-1);
	if (unlinkat(parent, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
	return (rc);
}

/* Removes a tree without following links. */
int
fs_rmtree(const char *path)
{
	return (fs_rmtree_at(AT_FDCWD, path));
}

/* Adds the bytes of one entry (a directory's: recursively) to *arg. */
static void
fs_tree_size_entry(int dirfd, const char *name, void *arg)
{
	long long	*bytes = arg;
	struct stat	 st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (S_ISDIR(st.st_mode))
		fs_dir_each(dirfd, name, fs_tree_size_entry, arg);
	else if (S_ISREG(st.st_mode))
		*bytes += (long long)st.st_size;
}

/* Bytes of file data in a tree, links not followed. */
long long
fs_tree_size(int parent, const char *name)
{
	long long	bytes = 0;

	fs_tree_size_entry(parent, name, &bytes);
	return (bytes);
}

/* Reads a regular file whole, refusing anything larger than max. */
int
fs_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	return (fs_read_file_at(AT_FDCWD, path, max, buf, len, NULL));
}

/* Reads a regular file below dirfd whole; st, if not NULL, gets its stat. */
int
fs_read_file_at(int dirfd, const char *path, size_t max, char **buf,
    size_t *len, struct stat *stp)
{
	struct stat	 st;
	char		*p;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, saved;

	/* O_NONBLOCK: a FIFO in place of the file must not block in open. */
	if ((fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	p = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, p + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	p[got] = '\0';
	*buf = p;
	*len = got;
	if (stp != NULL)
		*stp = st;
	return (0);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/* Writes through a temporary file so readers never see half a file. */
int
fs_write_file(const char *path, const void *buf, size_t len, int mode)
{
	char		*tmp;
	const char	*p = buf;
	ssize_t		 n;
	int		 fd, saved;

	xasprintf(&tmp, "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1)
		goto fail;
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = errno;
			close(fd);
			errno = saved;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return (0);
fail:
	saved = errno;
	unlink(tmp);
	free(tmp);
	errno = saved;
	return (-1);
}

/* Closes every descriptor from fd up: closefrom where libc has it. */
void
fs_closefrom(int fd)
{
#ifdef HAVE_CLOSEFROM
	closefrom(fd);
#else
	long	max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > INT_MAX)
		max = 65536;
	for (; fd < max; fd++)
		close(fd);
#endif
}

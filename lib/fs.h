/*
 * fs.h: small file-system helpers.
 */
#ifndef ASUD_FS_H
#define ASUD_FS_H

#include <stddef.h>

struct stat;

/* Closes every descriptor from fd up (in a child before exec). */
void	fs_closefrom(int fd);
/* mkdir -p with mode; 0 or -1 with errno. */
int	fs_mkdirs(const char *path, int mode);
/* What fs_dir_each calls: an entry name in the open directory dirfd. */
typedef void (*fs_dir_cb)(int dirfd, const char *name, void *arg);
/*
 * Calls cb for every entry but "." and ".." of the directory name
 * (relative to the directory parent, or AT_FDCWD), never following a
 * symbolic link to it; 0, or -1 with errno when it cannot be read.
 */
int	fs_dir_each(int parent, const char *name, fs_dir_cb cb, void *arg);
/*
 * Bytes of file data in the tree name (relative to parent, or AT_FDCWD),
 * symbolic links not followed; unreadable parts count nothing.
 */
long long fs_tree_size(int parent, const char *name);
/* rm -rf that never follows symbolic links; 0 or -1 with errno. */
int	fs_rmtree(const char *path);
/*
 * Reads a whole regular file up to max bytes into *buf (allocated,
 * NUL-terminated), never through a symbolic link and never blocking on a
 * FIFO. 0, or -1 with errno: EFBIG for a larger file, EINVAL for one that
 * is not regular, else that of open or fstat (ELOOP for a link).
 */
int	fs_read_file(const char *path, size_t max, char **buf, size_t *len);
/* As fs_read_file, path relative to dirfd; st, if not NULL, gets its stat. */
int	fs_read_file_at(int dirfd, const char *path, size_t max, char **buf,
	    size_t *len, struct stat *st);
/* Writes a file atomically (temp file, fsync, rename). */
int	fs_write_file(const char *path, const void *buf, size_t len, int mode);

#endif

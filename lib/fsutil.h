/*
 * fsutil.h: small file-system helpers.
 */
#ifndef ASUD_FSUTIL_H
#define ASUD_FSUTIL_H

#include <stddef.h>

/* Closes every descriptor from fd up (in a child before exec). */
void	fs_closefrom(int fd);
/* mkdir -p with mode; 0 or -1 with errno. */
int	fs_mkdirs(const char *path, int mode);
/* rm -rf that never follows symbolic links; 0 or -1 with errno. */
int	fs_rmtree(const char *path);
/* Reads a whole regular file up to max bytes; NUL-terminated. */
int	fs_read_file(const char *path, size_t max, char **buf, size_t *len);
/* Writes a file atomically (temp file, fsync, rename). */
int	fs_write_file(const char *path, const void *buf, size_t len, int mode);

#endif

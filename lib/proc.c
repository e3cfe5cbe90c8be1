/*
 * proc.c: other processes as Linux's /proc shows them; see proc.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"
#include "lib/xmalloc.h"

/* Reads up to max bytes of a /proc file into buf; the length, or -1. */
static ssize_t
proc_read(const char *path, char *buf, size_t max)
{
	ssize_t	n;
	size_t	len = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	return ((ssize_t)len);
}

/* The state and ids of a process from /proc/<pid>/stat. */
int
proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp, pid_t *sid)
{
	char	 path[64], buf[1024], *p, state;
	long	 a, b, c;
	ssize_t	 n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((n = proc_read(path, buf, sizeof buf - 1)) <= 0)
		return (-1);
	buf[n] = '\0';
	/* The command name may hold anything, parentheses too. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld %ld %ld", &state, &a, &b, &c) != 4 ||
	    state == 'Z')
		return (-1);
	*ppid = (pid_t)a;
	*pgrp = (pid_t)b;
	*sid = (pid_t)c;
	return (0);
}

/* A value of a process's environment. */
char *
proc_environ_value(pid_t pid, const char *prefix, size_t max)
{
	char	 path[64], *buf, *p, *v = NULL;
	size_t	 plen = strlen(prefix);
	ssize_t	 n;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	buf = xmalloc(max + 1);
	if ((n = proc_read(path, buf, max)) < 0) {
		free(buf);
		return (NULL);
	}
	buf[n] = '\0';
	for (p = buf; p < buf + n; p += strlen(p) + 1) {
		if (strncmp(p, prefix, plen) == 0) {
			v = xstrdup(p + plen);
			break;
		}
	}
	free(buf);
	return (v);
}

/* The children of pid from /proc/<pid>/task/<pid>/children. */
int
proc_children(pid_t pid, proc_cb cb, void *arg)
{
	char	 path[64], buf[4096], *p, *end;
	ssize_t	 n;
	long	 child;

	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	if ((n = proc_read(path, buf, sizeof buf - 1)) < 0 ||
	    (size_t)n == sizeof buf - 1)
		return (-1);
	buf[n] = '\0';
	for (p = buf; *p != '\0'; p = end) {
		child = strtol(p, &end, 10);
		if (end == p)
			break;
		cb((pid_t)child, arg);
	}
	return (0);
}

/* Every process of /proc. */
void
proc_each(proc_cb cb, void *arg)
{
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 pid;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end == '\0' && end != de->d_name)
			cb((pid_t)pid, arg);
	}
	closedir(d);
}

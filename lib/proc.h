/*
 * proc.h: reading other processes from Linux's /proc: their state and
 * ids, a value of their environment, the children of one, or all.
 */
#ifndef ASUD_PROC_H
#define ASUD_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* What proc_children and proc_each call for each process id. */
typedef void (*proc_cb)(pid_t pid, void *arg);

/*
 * The parent, group and session of pid; -1 when it is gone or a zombie
 * (exited, waiting to be reaped).
 */
int	proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp, pid_t *sid);
/*
 * The value of the variable prefix ("NAME=") in pid's environment, of
 * which at most max bytes are read, allocated; NULL when absent or
 * unreadable.
 */
char	*proc_environ_value(pid_t pid, const char *prefix, size_t max);
/*
 * Calls cb for each child of the single-threaded process pid; -1 when the
 * kernel does not list them (or lists too many to read here).
 */
int	proc_children(pid_t pid, proc_cb cb, void *arg);
/* Calls cb for every process in /proc. */
void	proc_each(proc_cb cb, void *arg);

#endif

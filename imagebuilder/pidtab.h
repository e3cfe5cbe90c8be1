/*
 * pidtab.h: the process groups of running jobs, on disk, for the daemon
 * that starts after a crash.
 */
#ifndef PIDTAB_H
#define PIDTAB_H

#include <sys/types.h>

/*
 * Kills the groups an earlier daemon of this boot listed in dir (killed
 * with -9, say), so that a build interrupted by a crash cannot collide
 * with its rerun in the same ImageBuilder; then keeps an empty table
 * there for this daemon's groups.
 */
void	pidtab_open(const char *dir);
/* Records a running group; returns its slot, or -1 if not recorded. */
int	pidtab_add(pid_t pgid);
/* Forgets the group in a slot pidtab_add returned (-1: nothing). */
void	pidtab_del(int slot);
/* Closes the table (what it lists stays for the next daemon). */
void	pidtab_close(void);

#endif

/*
 * spawn.h: starting a child program for a job, or a forked child of our
 * own, with none of the daemon's signal handlers.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

/*
 * The absolute path of the program name, looked up in the PATH of envp
 * (name itself when it holds a '/'); NULL with *cause when not found.
 * Done in the parent, so the child only has to execve.
 */
char	*spawn_find_path(const char *name, char *const envp[], char **cause);
/*
 * Starts path in its own session and process group, with stdin on
 * /dev/null, and waits until it has exec'd. fds are stdout r/w, stderr
 * r/w, exec report r/w, all close-on-exec; on success only the two read
 * ends are left open and *pidp is the child; -1 with *cause otherwise.
 */
int	spawn_start(const char *path, char *const argv[], const char *cwd,
	    char *const envp[], int fds[6], pid_t *pidp, char **cause);
/*
 * fork(2) for a child that must run none of the daemon's signal handlers:
 * every signal is blocked around the fork, and the child starts with
 * every signal at its default action and still blocked; it installs what
 * it needs, then unblocks (sigprocmask). Returns 0 in the child, the pid
 * in the parent (whose mask is restored), or -1 with errno.
 */
pid_t	spawn_fork(void);
/*
 * Runs argv blocking, for at most ms: in its own session, stdin on
 * /dev/null, stdout and stderr into out (size bytes, NUL-terminated, the
 * rest read and dropped). Only where nothing else may run (start, stop).
 * 0 with *status once it ended in time; -1 when it did not (its group is
 * killed and reaped); -2 when it could not start (out says why).
 */
int	spawn_run(char *const argv[], int ms, char *out, size_t size,
	    int *status);

#endif

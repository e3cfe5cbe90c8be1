/*
 * spawn.c: starting a job's program. The child is vforked: it shares the
 * daemon's memory until it execs, so it makes system calls only, and the
 * parent waits for the exec or for the child's report of why it could
 * not (a pipe closed by a good exec).
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "imagebuilder/spawn.h"

/* The PATH searched when the environment has none. */
#define SPAWN_DEFAULT_PATH	"/usr/bin:/bin"

/* What a child reports through its exec pipe when it cannot exec. */
enum spawn_stage {
	SPAWN_STAGE_SETSID,
	SPAWN_STAGE_CHDIR,
	SPAWN_STAGE_STDIN,
	SPAWN_STAGE_DUP,
	SPAWN_STAGE_EXEC
};

struct spawn_report {
	int	stage;
	int	error;
};

/* Finds the value of PATH in an environment vector. */
static const char *
spawn_env_path(char *const envp[])
{
	size_t	i;

	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return (envp[i] + 5);
	}
	return (SPAWN_DEFAULT_PATH);
}

/*
 * The last programs found, by name and PATH: a build starts the same
 * few (make, bwrap, srun) again and again. A hit is checked with one
 * stat instead of a walk through PATH.
 */
#define SPAWN_CACHE_SIZE	4
static struct {
	char	*name;
	char	*path_env;
	char	*found;
} spawn_cache[SPAWN_CACHE_SIZE];
static size_t	spawn_cache_next;

/* Whether try is a regular file we may execute. */
static int
spawn_runnable(const char *try)
{
	struct stat	st;

	return (stat(try, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(try, X_OK) == 0);
}

/* The cached path of name under path_env, still runnable, or NULL. */
static char *
spawn_cache_get(const char *name, const char *path_env)
{
	size_t	i;

	for (i = 0; i < SPAWN_CACHE_SIZE; i++) {
		if (spawn_cache[i].name == NULL ||
		    strcmp(spawn_cache[i].name, name) != 0 ||
		    strcmp(spawn_cache[i].path_env, path_env) != 0)
			continue;
		if (spawn_runnable(spawn_cache[i].found))
			return (xstrdup(spawn_cache[i].found));
		return (NULL);
	}
	return (NULL);
}

/* Remembers where name was found, in place of the oldest entry. */
static void
spawn_cache_put(const char *name, const char *path_env, const char *found)
{
	size_t	i;

	for (i = 0; i < SPAWN_CACHE_SIZE; i++)
		if (spawn_cache[i].name != NULL &&
		    strcmp(spawn_cache[i].name, name) == 0 &&
		    strcmp(spawn_cache[i].path_env, path_env) == 0)
			break;
	if (i == SPAWN_CACHE_SIZE)
		i = spawn_cache_next++ % SPAWN_CACHE_SIZE;
	free(spawn_cache[i].name);
	free(spawn_cache[i].path_env);
	free(spawn_cache[i].found);
	spawn_cache[i].name = xstrdup(name);
	spawn_cache[i].path_env = xstrdup(path_env);
	spawn_cache[i].found = xstrdup(found);
}

/* Walks PATH for name; the first runnable file, or NULL. */
static char *
spawn_walk_path(const char *name, const char *path)
{
	const char	*end;
	char		*try;
	size_t		 len;

	while (*path != '\0') {
		end = strchr(path, ':');
		len = end == NULL ? strlen(path) : (size_t)(end - path);
		/* Relative and empty entries would depend on our cwd. */
		if (len > 0 && *path == '/') {
			xasprintf(&try, "%.*s/%s", (int)len, path, name);
			if (spawn_runnable(try))
				return (try);
			free(try);
		}
		path += len;
		if (*path == ':')
			path++;
	}
	return (NULL);
}

/* See spawn.h. */
char *
spawn_find_path(const char *name, char *const envp[], char **cause)
{
	const char	*path;
	char		*found;

	if (*name == '\0') {
		*cause = xstrdup("empty command name");
		return (NULL);
	}
	if (strchr(name, '/') != NULL)
		return (xstrdup(name));
	path = spawn_env_path(envp);
	if ((found = spawn_cache_get(name, path)) != NULL)
		return (found);
	if ((found = spawn_walk_path(name, path)) == NULL) {
		xasprintf(cause, "%s: command not found", name);
		return (NULL);
	}
	spawn_cache_put(name, path, found);
	return (found);
}

/* Sends the reason of a failed start to the parent and gives up. */
static void __attribute__((noreturn))
spawn_child_fail(int fd, int stage)
{
	struct spawn_report	rep;
	ssize_t			n;

	rep.stage = stage;
	rep.error = errno;
	do
		n = write(fd, &rep, sizeof rep);
	while (n == -1 && errno == EINTR);
	_exit(127);
}

/* Every signal at its default action (the child's own table). */
static void
spawn_child_signals(void)
{
	struct sigaction	sa;
	int			sig;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
}

/*
 * Runs in the vforked child, on the daemon's memory until it execs: it
 * makes system calls only (no allocation, no stdio, no shared state but
 * errno). Sets up signals, session and descriptors, then execs.
 */
static void __attribute__((noreturn))
spawn_child(const char *path, char *const argv[], const char *cwd,
    char *const envp[], int out, int err, int rep, pid_t parent)
{
	sigset_t	none;
	int		fd;

	spawn_child_signals();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setsid() == -1)
		spawn_child_fail(rep, SPAWN_STAGE_SETSID);
#ifdef __linux__
	/* Our own process group outlives a crashed daemon; its leader not. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() != parent)
		_exit(127);
#endif
	if (cwd != NULL && chdir(cwd) == -1)
		spawn_child_fail(rep, SPAWN_STAGE_CHDIR);
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		spawn_child_fail(rep, SPAWN_STAGE_STDIN);
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1)
		spawn_child_fail(rep, SPAWN_STAGE_DUP);
	/* Keep the report pipe as descriptor 3, closed by a good exec. */
	if (rep != 3 && dup2(rep, 3) == -1)
		spawn_child_fail(rep, SPAWN_STAGE_DUP);
	rep = 3;
	if (fcntl(rep, F_SETFD, FD_CLOEXEC) == -1)
		spawn_child_fail(rep, SPAWN_STAGE_DUP);
	fs_closefrom(4);

	execve(path, argv, envp);
	spawn_child_fail(rep, SPAWN_STAGE_EXEC);
}

/* Turns a child's report into a cause string. */
static char *
spawn_report_cause(const struct spawn_report *rep, const char *path,
    const char *cwd)
{
	char	*cause;

	switch (rep->stage) {
	case SPAWN_STAGE_SETSID:
		xasprintf(&cause, "setsid: %s", strerror(rep->error));
		break;
	case SPAWN_STAGE_CHDIR:
		xasprintf(&cause, "%s: %s", cwd, strerror(rep->error));
		break;
	case SPAWN_STAGE_STDIN:
		xasprintf(&cause, "/dev/null: %s", strerror(rep->error));
		break;
	case SPAWN_STAGE_DUP:
		xasprintf(&cause, "dup2: %s", strerror(rep->error));
		break;
	default:
		xasprintf(&cause, "%s: %s", path, strerror(rep->error));
		break;
	}
	return (cause);
}

/*
 * Waits for the child to exec or to report why it could not. The wait is
 * as short as a fork-to-exec and never depends on the program run.
 */
static int
spawn_wait_exec(pid_t pid, int fd, const char *path, const char *cwd,
    char **cause)
{
	struct spawn_report	rep;
	ssize_t			n;
	size_t			got = 0;
	int			status;

	while (got < sizeof rep) {
		n = read(fd, (char *)&rep + got, sizeof rep - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == 0)
		return (0);
	if (got == sizeof rep)
		*cause = spawn_report_cause(&rep, path, cwd);
	else
		*cause = xstrdup("child failed before exec");
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return (-1);
}

/* See spawn.h. */
pid_t
spawn_fork(void)
{
	struct sigaction	sa;
	sigset_t		all, old;
	pid_t			pid;
	int			sig, saved;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		for (sig = 1; sig < NSIG; sig++)
			sigaction(sig, &sa, NULL);
		return (0);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return (pid);
}

/* See spawn.h. */
int
spawn_start(const char *path, char *const argv[], const char *cwd,
    char *const envp[], int fds[6], pid_t *pidp, char **cause)
{
	sigset_t	all, old;
	pid_t		pid, parent = getpid();
	int		saved;

	/*
	 * vfork: no copy of the daemon's page tables for each command. The
	 * child runs none of our handlers: every signal stays blocked until
	 * it has reset them.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = vfork()) == 0)
		spawn_child(path, argv, cwd, envp, fds[1], fds[3], fds[5],
		    parent);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	if (pid == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		return (-1);
	}
	close(fds[1]);
	close(fds[3]);
	close(fds[5]);
	fds[1] = fds[3] = fds[5] = -1;
	if (spawn_wait_exec(pid, fds[4], path, cwd, cause) == -1)
		return (-1);
	close(fds[4]);
	fds[4] = -1;
	*pidp = pid;
	return (0);
}

/* The child of spawn_run: its own session, output on fd, then exec. */
static void __attribute__((noreturn))
spawn_run_child(char *const argv[], int fd)
{
	sigset_t	none;
	int		null;

	setsid();
	if ((null = open("/dev/null", O_RDONLY)) != -1)
		dup2(null, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	fs_closefrom(3);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reads the command's output until EOF or end; 0 at EOF. */
static int
spawn_run_read(int fd, long long end, char *buf, size_t size)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	long long	left;
	size_t		len = 0;
	ssize_t		n;
	char		junk[4096];

	buf[0] = '\0';
	while ((left = end - clock_mono_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (len + 1 < size)
			n = read(fd, buf + len, size - len - 1);
		else
			n = read(fd, junk, sizeof junk);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return (n == 0 ? 0 : -1);
		if (len + 1 < size) {
			len += (size_t)n;
			buf[len] = '\0';
		}
	}
	return (-1);
}

/* Reaps pid by end, else kills its group and reaps it; 0 if in time. */
static int
spawn_run_reap(pid_t pid, long long end, int *status)
{
	struct timespec	 pause = { 0, 10 * 1000 * 1000 };
	pid_t		 r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return (0);
		if (r == -1 && errno != EINTR)
			return (-1);
		if (clock_mono_ms() >= end)
			break;
		nanosleep(&pause, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return (-1);
}

/* See spawn.h. */
int
spawn_run(char *const argv[], int ms, char *out, size_t size, int *status)
{
	long long	 end = clock_mono_ms() + ms;
	int		 fds[2], late;
	pid_t		 pid;

	*status = 0;
	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(out, size, "%s: pipe: %s", argv[0], strerror(errno));
		return (-2);
	}
	if ((pid = spawn_fork()) == 0)
		spawn_run_child(argv, fds[1]);
	close(fds[1]);
	if (pid == -1) {
		snprintf(out, size, "%s: fork: %s", argv[0], strerror(errno));
		close(fds[0]);
		return (-2);
	}
	late = spawn_run_read(fds[0], end, out, size) == -1;
	close(fds[0]);
	if (spawn_run_reap(pid, late ? 0 : end, status) == -1)
		late = 1;
	return (late ? -1 : 0);
}

/*
 * sandbox.c: builds the bubblewrap command line of one ImageBuilder
 * command, and checks once at start that bubblewrap can run here (no
 * user namespaces, or no bwrap, and it cannot).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/sandbox.h"

/* The longest the start-up check may take, in milliseconds. */
#define SANDBOX_PROBE_MS	10000
/* The most of bwrap's complaint kept for the cause. */
#define SANDBOX_PROBE_OUT	512

/* Options every sandboxed command gets, before the directories. */
static const char *sandbox_base[] = {
	"--die-with-parent", "--new-session", "--unshare-all",
	"--unshare-pid", "--ro-bind", "/", "/", "--dev", "/dev",
	"--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run",
	/* The resolver's configuration may live there (systemd). */
	"--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve",
	NULL
};

/* The resolved path, or NULL when it does not exist. */
static char *
sandbox_real(const char *path)
{
	char	buf[PATH_MAX];

	if (path == NULL || *path != '/' || realpath(path, buf) == NULL)
		return (NULL);
	return (xstrdup(buf));
}

/* Whether path is dir or lies below it. */
static int
sandbox_under(const char *path, const char *dir)
{
	size_t	len = strlen(dir);

	if (len == 1 && *dir == '/')
		return (1);
	return (strncmp(path, dir, len) == 0 &&
	    (path[len] == '/' || path[len] == '\0'));
}

/* Whether path lies in one of the hidden directories (resolved). */
static int
sandbox_hidden(const char *path, const struct strv *hide)
{
	size_t	i;

	for (i = 0; i < hide->n; i++)
		if (sandbox_under(path, hide->v[i]))
			return (1);
	return (0);
}

/* Adds one mount option for each existing path of a list. */
static void
sandbox_mounts(struct strv *argv, const char *opt, const struct strv *paths,
    const struct strv *hide)
{
	char	*p;
	size_t	 i;

	for (i = 0; paths != NULL && i < paths->n; i++) {
		if ((p = sandbox_real(paths->v[i])) == NULL)
			continue;
		if (hide == NULL || !sandbox_hidden(p, hide)) {
			strv_add(argv, opt);
			strv_add(argv, p);
			if (strcmp(opt, "--bind") == 0 ||
			    strcmp(opt, "--ro-bind-try") == 0)
				strv_add(argv, p);
		}
		free(p);
	}
}

/* Adds opt and each hidden directory (already resolved). */
static void
sandbox_each_hidden(struct strv *argv, const char *opt,
    const struct strv *hide)
{
	size_t	i;

	for (i = 0; i < hide->n; i++) {
		strv_add(argv, opt);
		strv_add(argv, hide->v[i]);
	}
}

/* Binds read-only the shown paths that neither are nor hold a hidden one. */
static void
sandbox_shown(struct strv *argv, const struct strv *shown,
    const struct strv *hide)
{
	char	*p;
	size_t	 i, j;
	int	 ok;

	for (i = 0; shown != NULL && i < shown->n; i++) {
		if ((p = sandbox_real(shown->v[i])) == NULL)
			continue;
		ok = 1;
		for (j = 0; j < hide->n && ok; j++)
			ok = !sandbox_under(hide->v[j], p);
		if (ok) {
			strv_add(argv, "--ro-bind");
			strv_add(argv, p);
			strv_add(argv, p);
		}
		free(p);
	}
}

/*
 * The bwrap argv up to the command; see sandbox.h. The hidden
 * directories are resolved once, not for each path they are held against.
 */
void
sandbox_argv(struct strv *argv, const struct sandbox_spec *spec)
{
	struct strv	 hide = STRV_INITIALIZER;
	char		*p;
	size_t		 i;

	for (i = 0; spec->hide != NULL && i < spec->hide->n; i++) {
		if ((p = sandbox_real(spec->hide->v[i])) != NULL) {
			strv_add(&hide, p);
			free(p);
		}
	}
	strv_add(argv, spec->bwrap);
	for (i = 0; sandbox_base[i] != NULL; i++)
		strv_add(argv, sandbox_base[i]);
	if (spec->net)
		strv_add(argv, "--share-net");
	/* Root keeps its capabilities in bwrap unless told otherwise. */
	if (geteuid() == 0) {
		strv_add(argv, "--cap-drop");
		strv_add(argv, "ALL");
	}
	/* Read-only ones first: a hidden directory below stays hidden. */
	sandbox_mounts(argv, "--ro-bind-try", spec->ro, &hide);
	sandbox_each_hidden(argv, "--tmpfs", &hide);
	sandbox_shown(argv, spec->shown, &hide);
	sandbox_mounts(argv, "--bind", spec->rw, NULL);
	/* Not even a write into the empty stand-in goes unnoticed. */
	sandbox_each_hidden(argv, "--remount-ro", &hide);
	strv_add(argv, "--");
	strv_clear(&hide);
}

/* The probe's child: bwrap's output on fd, then exec. */
static void __attribute__((noreturn))
sandbox_probe_child(char *const argv[], int fd)
{
	int	null;

	signal(SIGPIPE, SIG_DFL);
	if ((null = open("/dev/null", O_RDONLY)) != -1)
		dup2(null, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	fs_closefrom(3);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Milliseconds of the monotonic clock. */
static long long
sandbox_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Reads what the probe prints until EOF or the deadline; 0 at EOF. */
static int
sandbox_probe_read(int fd, char *buf, size_t size)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	long long	end = sandbox_now_ms() + SANDBOX_PROBE_MS, left;
	size_t		len = 0;
	ssize_t		n;
	char		junk[256];

	while ((left = end - sandbox_now_ms()) > 0) {
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (len + 1 < size)
			n = read(fd, buf + len, size - len - 1);
		else
			n = read(fd, junk, sizeof junk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf[len] = '\0';
			return (n == 0 ? 0 : -1);
		}
		if (len + 1 < size)
			len += (size_t)n;
	}
	buf[len] = '\0';
	return (-1);
}

/* The first line of what bwrap printed, or the wait status. */
static char *
sandbox_probe_cause(const char *out, int status, int late)
{
	char	*cause;
	int	 len = (int)strcspn(out, "\n");

	if (late)
		return (xstrdup("bwrap did not finish in time"));
	if (len > 0)
		xasprintf(&cause, "%.*s", len, out);
	else if (WIFEXITED(status))
		xasprintf(&cause, "bwrap exited %d", WEXITSTATUS(status));
	else
		xasprintf(&cause, "bwrap was killed by signal %d",
		    WTERMSIG(status));
	return (cause);
}

/* Runs `true` in the sandbox once; see sandbox.h. */
int
sandbox_probe(const struct sandbox_spec *spec, char **cause)
{
	struct strv	argv = STRV_INITIALIZER;
	char		out[SANDBOX_PROBE_OUT];
	int		fds[2], status = 0, late;
	pid_t		pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		return (-1);
	}
	sandbox_argv(&argv, spec);
	strv_add(&argv, "true");
	if ((pid = fork()) == 0)
		sandbox_probe_child(argv.v, fds[1]);
	strv_clear(&argv);
	close(fds[1]);
	if (pid == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(fds[0]);
		return (-1);
	}
	late = sandbox_probe_read(fds[0], out, sizeof out) == -1;
	close(fds[0]);
	if (late)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!late && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	*cause = sandbox_probe_cause(out, status, late);
	return (-1);
}

/*
 * sandbox.c: builds the bubblewrap command line of one ImageBuilder
 * command, and checks once at start that bubblewrap can run here (no
 * user namespaces, or no bwrap, and it cannot).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/sandbox.h"
#include "imagebuilder/spawn.h"

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
	int		rc, status;

	sandbox_argv(&argv, spec);
	strv_add(&argv, "true");
	rc = spawn_run(argv.v, SANDBOX_PROBE_MS, out, sizeof out, &status);
	strv_clear(&argv);
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	if (rc == -2)
		*cause = xstrdup(out);
	else
		*cause = sandbox_probe_cause(out, status, rc == -1);
	return (-1);
}

/*
 * demo.c: the demo mode. The stand-in generator is a script shipped with
 * asud (in the source tree, or installed under the package data
 * directory); it runs once, before the event loop starts.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "server/conf.h"
#include "server/demo.h"

#define DEMO_MARK	".standin-generated"

/* Finds the generator: $ASUD_STANDIN_DIR, the source tree, the install. */
static char *
demo_generator(void)
{
	const char	*dirs[3];
	char		*path;
	int		 i;

	dirs[0] = getenv("ASUD_STANDIN_DIR");
	dirs[1] = ASUD_SRCDIR "/t/standin";
	dirs[2] = ASUD_PKGDATADIR "/standin";
	for (i = 0; i < 3; i++) {
		if (dirs[i] == NULL)
			continue;
		xasprintf(&path, "%s/mkstandin", dirs[i]);
		if (access(path, X_OK) == 0)
			return (path);
		free(path);
	}
	return (NULL);
}

/* Runs the generator and waits for it (startup only, so blocking is fine). */
static int
demo_run(const char *gen, const char *ibdir, const char *mirror,
    char **cause)
{
	char	*argv[] = { (char *)gen, (char *)"--ib-root", (char *)ibdir,
		    (char *)"--mirror", (char *)mirror, NULL };
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		return (-1);
	}
	if (pid == 0) {
		execv(gen, argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			xasprintf(cause, "waitpid: %s", strerror(errno));
			return (-1);
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		xasprintf(cause, "the stand-in generator %s failed", gen);
		return (-1);
	}
	return (0);
}

/* Generates the stand-in once per state directory and configures for it. */
int
demo_prepare(struct conf *c, const char *dir, char **cause)
{
	char	*gen, *ibdir, *mirror, *mark, abs[PATH_MAX];
	int	 rc = 0;

	if (fs_mkdirs(dir, 0755) == -1 || realpath(dir, abs) == NULL) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	xasprintf(&ibdir, "%s/imagebuilders", abs);
	xasprintf(&mirror, "%s/mirror", abs);
	xasprintf(&mark, "%s/%s", abs, DEMO_MARK);
	free(c->state_dir);
	c->state_dir = xstrdup(abs);
	free(c->imagebuilder_dir);
	c->imagebuilder_dir = xstrdup(ibdir);
	c->allow_defaults = 1;
	/* The stand-in mirror is the demo's upstream. */
	free(c->upstream_url);
	xasprintf(&c->upstream_url, "file://%s", mirror);
	conf_branch_ensure(c, "1.2");
	/* Builds take a few seconds, so that progress can be watched. */
	setenv("STANDIN_TIME_SCALE", "0.2", 0);
	if (access(mark, F_OK) != 0) {
		if ((gen = demo_generator()) == NULL) {
			xasprintf(cause, "the stand-in generator (mkstandin) "
			    "was not found; set ASUD_STANDIN_DIR");
			rc = -1;
		} else {
			log_info("generating the stand-in ImageBuilders in %s",
			    abs);
			rc = demo_run(gen, ibdir, mirror, cause);
			free(gen);
			if (rc == 0 &&
			    fs_write_file(mark, "1\n", 2, 0644) == -1)
				log_warn("%s", mark);
		}
	}
	free(ibdir);
	free(mirror);
	free(mark);
	return (rc);
}

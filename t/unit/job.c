/*
 * job.c: tests for imagebuilder/job.c with small /bin/sh scripts: output
 * delivery, exit statuses, timeouts killing whole process groups, job_kill
 * from inside and outside callbacks, the free callback, start failures,
 * many parallel jobs.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/job.h"
#include "imagebuilder/spawn.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

struct tjob {
	struct job	*job;
	struct evbuffer	*out;
	struct evbuffer	*err;
	int		 ncomplete;
	int		 status;
	int		 timed_out;
	int		 kill_on_output;
	int		 noutput_after_kill;
	int		 killed;
	int		 nfree;
	int		 ncomplete_at_free;
	int		 noutput;	/* deliveries */
	double		 ended;
};

/* Collects output; may kill the job from inside the callback. */
static void
tjob_output(struct job *job, int which, const char *buf, size_t len,
    void *arg)
{
	struct tjob	*t = arg;

	if (t->killed)
		t->noutput_after_kill++;
	t->noutput++;
	evbuffer_add(which == JOB_STDOUT ? t->out : t->err, buf, len);
	if (t->kill_on_output && !t->killed) {
		t->killed = 1;
		job_kill(job);
	}
}

/* Records the end of a job. */
static void
tjob_complete(struct job *job, int status, int timed_out, void *arg)
{
	struct tjob	*t = arg;

	t->ncomplete++;
	t->status = status;
	t->timed_out = timed_out;
	t->ended = tutil_now();
}

/* The job's free callback: counts, and notes whether complete came first. */
static void
tjob_free(void *arg)
{
	struct tjob	*t = arg;

	t->nfree++;
	t->ncomplete_at_free = t->ncomplete;
}

/* Runs the loop until every job of a set completed or time ran out. */
static int
tjob_run_until(struct tjob *t, size_t n, double seconds)
{
	return (tutil_wait_all(t, n, sizeof *t, offsetof(struct tjob,
	    ncomplete), seconds));
}

/* Prepares a record and starts argv, copying the constant strings. */
static struct job *
tjob_start(struct tjob *t, const char *const *argv, const char *cwd,
    const char *const *env, int timeout, char **cause)
{
	struct strv	a = STRV_INITIALIZER, e = STRV_INITIALIZER;

	memset(t, 0, sizeof *t);
	t->out = evbuffer_new();
	t->err = evbuffer_new();
	for (; *argv != NULL; argv++)
		strv_add(&a, *argv);
	for (; env != NULL && *env != NULL; env++)
		strv_add(&e, *env);
	t->job = job_run(a.v, cwd, env != NULL ? e.v : NULL, timeout,
	    tjob_output, tjob_complete, tjob_free, t, cause);
	strv_clear(&a);
	strv_clear(&e);
	return (t->job);
}

/* Starts sh -c script. */
static struct job *
tjob_sh(struct tjob *t, const char *script, int timeout, char **cause)
{
	const char	*argv[] = { "sh", "-c", script, NULL };

	return (tjob_start(t, argv, NULL, NULL, timeout, cause));
}

/* Returns the collected bytes of a buffer as a string (static storage). */
static const char *
tjob_str(struct evbuffer *b)
{
	static char	buf[4][4096];
	static int	slot;
	size_t		len = evbuffer_get_length(b);
	char		*p = buf[slot++ % 4];

	if (len >= sizeof buf[0])
		len = sizeof buf[0] - 1;
	evbuffer_copyout(b, p, len);
	p[len] = '\0';
	return (p);
}

/* The process id a job printed first on b; 0 if none. */
static long
tjob_pid(struct evbuffer *b)
{
	long	pid;

	return (sscanf(tjob_str(b), "%ld", &pid) == 1 && pid > 0 ? pid : 0);
}

/* Whether a process was reaped: not even a zombie is left. */
static int
tjob_reaped(long pid)
{
	return (pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH);
}

/* Frees a record's buffers. */
static void
tjob_done(struct tjob *t)
{
	evbuffer_free(t->out);
	evbuffer_free(t->err);
}

/* Whether a process is gone (or only a zombie waiting for init). */
static int
tjob_gone(pid_t pid)
{
	char	 path[64], buf[256], *p;
	int	 fd;
	ssize_t	 n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (1);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return (0);
	return (p[1] == ' ' && p[2] == 'Z');
}

/* tjob_gone for tutil_wait. */
static int
tjob_gone_cb(void *arg)
{
	return (tjob_gone(*(pid_t *)arg));
}

/* Waits up to a second for a process to disappear. */
static int
tjob_wait_gone(pid_t pid)
{
	tutil_wait(tjob_gone_cb, &pid, 1.0);
	return (tjob_gone(pid));
}

/* Output on both streams, exit codes and signals. */
static void
test_basic(void)
{
	struct tjob	 t;
	char		*cause = NULL;

	ok(tjob_sh(&t, "echo out1; echo err1 >&2; printf out2; exit 3", 0,
	    &cause) != NULL, "job starts");
	ok(tjob_run_until(&t, 1, 10) == 0, "job completes");
	is_int(t.ncomplete, 1, "complete called once");
	is_int(t.nfree, 1, "free callback called once");
	is_int(t.ncomplete_at_free, 1, "free callback after complete");
	is_str(tjob_str(t.out), "out1\nout2", "stdout delivered");
	is_str(tjob_str(t.err), "err1\n", "stderr delivered separately");
	ok(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 3, "exit status 3");
	is_str(job_status_string(t.status), "exited 3", "status string exit");
	is_int(t.timed_out, 0, "not timed out");
	tjob_done(&t);

	tjob_sh(&t, "kill -9 $$", 0, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "killed job completes");
	ok(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL,
	    "signal status");
	is_str(job_status_string(t.status), "killed by signal 9",
	    "status string signal");
	tjob_done(&t);

	tjob_sh(&t, "cat; echo done", 0, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "stdin job completes");
	is_str(tjob_str(t.out), "done\n", "stdin is /dev/null");
	tjob_done(&t);
}

/* Much more output than the read watermark arrives whole. */
static void
test_large(void)
{
	struct tjob	 t;
	char		*cause = NULL;

	tjob_sh(&t, "head -c 3000000 /dev/zero | tr '\\0' a; "
	    "head -c 70000 /dev/zero | tr '\\0' b >&2", 0, &cause);
	ok(tjob_run_until(&t, 1, 20) == 0, "large job completes");
	is_int(evbuffer_get_length(t.out), 3000000, "all stdout bytes");
	is_int(evbuffer_get_length(t.err), 70000, "all stderr bytes");
	tjob_done(&t);
}

/* The child gets our environment, cwd, a new session and no extra fds. */
static void
test_child_setup(void)
{
	struct tjob	 t;
	const char	*env[] = { "PATH=/usr/bin:/bin", "JOBTEST=ok", NULL };
	const char	*argv[] = { "sh", "-c", "echo $JOBTEST; pwd -P", NULL };
	char		*cause = NULL, script[256], want[64];
	char		 dir[] = "job-test.XXXXXX", *real;
	const char	*out;
	int		 fd;
	long		 pid, pgrp, sid;
	unsigned long long blk = 1, ign = 1;

	ok(mkdtemp(dir) != NULL, "temporary directory");
	real = realpath(dir, NULL);
	tjob_start(&t, argv, real, env, 0, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "env job completes");
	snprintf(want, sizeof want, "ok\n%s\n", real);
	is_str(tjob_str(t.out), want, "environment and cwd");
	tjob_done(&t);
	rmdir(dir);
	free(real);

	fd = open("/dev/null", O_RDONLY);
	snprintf(script, sizeof script, "if [ -e /dev/fd/%d ]; then "
	    "echo open; else echo closed; fi; "
	    "while read -r l; do case $l in Sig[BI]*) echo \"$l\";; esac; "
	    "done </proc/self/status", fd);
	signal(SIGUSR1, SIG_IGN);
	tjob_sh(&t, script, 0, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "fd job completes");
	out = tjob_str(t.out);
	ok(strncmp(out, "closed\n", 7) == 0, "extra fds closed");
	/* glibc keeps signals 32 and 33 to itself: no one can reset them. */
	ok(sscanf(out, "closed SigBlk: %llx SigIgn: %llx", &blk, &ign) == 2 &&
	    blk == 0 && (ign & ~(3ULL << 31)) == 0,
	    "signal mask and ignored signals reset");
	signal(SIGUSR1, SIG_DFL);
	close(fd);
	tjob_done(&t);

	tjob_sh(&t, "echo $$ $(cut -d' ' -f5,6 /proc/$$/stat)", 0, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "session job completes");
	out = tjob_str(t.out);
	ok(sscanf(out, "%ld %ld %ld", &pid, &pgrp, &sid) == 3 &&
	    pid == pgrp && pid == sid, "own session and process group");
	tjob_done(&t);
}

/* A program that cannot start, and the cause job_run gives (or NULL). */
struct tjob_refusal {
	const char	*argv[4];
	const char	*cwd;
	const char	*path;		/* the only variable of envp, or NULL */
	const char	*cause;
	const char	*name;
	const char	*cause_name;
};

static const struct tjob_refusal tjob_refusals[] = {
	{ { "no-such-command-asud" }, NULL, NULL,
	    "no-such-command-asud: command not found",
	    "unknown command fails", "unknown command cause" },
	{ { "/nonexistent/prog" }, NULL, NULL,
	    "/nonexistent/prog: No such file or directory",
	    "missing path fails", "missing path cause" },
	{ { "sh", "-c", "true" }, "/nonexistent/dir", NULL,
	    "/nonexistent/dir: No such file or directory",
	    "bad cwd fails", "bad cwd cause" },
	{ { "sh", "-c", "true" }, NULL, "PATH=/nonexistent", NULL,
	    "PATH comes from envp", NULL },
};

/* Programs that cannot start fail in job_run with a cause. */
static void
test_start_failures(void)
{
	const struct tjob_refusal	*r;
	struct tjob			 t[nitems(tjob_refusals)];
	const char			*env[2];
	char				*cause;
	size_t				 i;
	int				 ncomplete = 0;

	for (i = 0; i < nitems(tjob_refusals); i++) {
		r = &tjob_refusals[i];
		env[0] = r->path;
		env[1] = NULL;
		cause = NULL;
		ok(tjob_start(&t[i], r->argv, r->cwd, r->path != NULL ? env :
		    NULL, 0, &cause) == NULL, r->name);
		if (r->cause != NULL)
			is_str(cause, r->cause, r->cause_name);
		free(cause);
	}
	tutil_spin(0.2);
	for (i = 0; i < nitems(tjob_refusals); i++) {
		ncomplete += t[i].ncomplete + t[i].nfree;
		tjob_done(&t[i]);
	}
	is_int(ncomplete, 0, "no callback after a failed start");
}

/* A timeout or the leader's end kills the whole group, grandchildren too. */
static void
test_timeout(void)
{
	struct tjob	 t;
	char		*cause = NULL;
	double		 start;
	long		 gc = 0;

	tjob_sh(&t, "sleep 30 & echo $!; sleep 30", 1, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "timed-out job completes");
	is_int(t.timed_out, 1, "timed_out set");
	ok(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGTERM,
	    "killed by SIGTERM");
	ok((gc = tjob_pid(t.out)) > 0, "grandchild pid printed");
	ok(gc > 0 && tjob_wait_gone((pid_t)gc), "grandchild killed");
	tjob_done(&t);

	start = tutil_now();
	tjob_sh(&t, "trap '' TERM; sleep 30", 1, &cause);
	ok(tjob_run_until(&t, 1, 15) == 0, "TERM-proof job completes");
	ok(t.ended - start >= 5.5, "SIGKILL after the grace period");
	is_int(t.timed_out, 1, "timed_out set");
	ok(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL,
	    "killed by SIGKILL");
	tjob_done(&t);

	/* A grandchild holding the pipes cannot keep a finished job alive. */
	tjob_sh(&t, "sleep 30 & echo $!; exit 4", 0, &cause);
	ok(tjob_run_until(&t, 1, 10) == 0, "lingering job completes");
	ok(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 4,
	    "status of the leader");
	is_int(t.timed_out, 0, "not a timeout");
	gc = tjob_pid(t.out);
	ok(gc > 0 && tjob_wait_gone((pid_t)gc), "lingering grandchild killed");
	tjob_done(&t);
}

/* job_kill from outside and from inside the output callback. */
static void
test_kill(void)
{
	struct tjob	 t;
	char		*cause = NULL;
	long		 pid;

	tjob_sh(&t, "echo $$; sleep 30", 0, &cause);
	t.kill_on_output = 1;
	tutil_spin(1.0);
	ok(t.killed, "output arrived and job_kill was called");
	is_int(t.ncomplete, 0, "no completion after job_kill in callback");
	is_int(t.noutput_after_kill, 0, "no output after job_kill");
	ok(tjob_reaped(tjob_pid(t.out)), "killed process reaped");
	is_int(t.nfree, 1, "free callback once the killed job is reaped");
	tjob_done(&t);

	tjob_sh(&t, "echo $$ >&2; exec sleep 30", 0, &cause);
	tutil_spin(0.3);
	ok((pid = tjob_pid(t.err)) > 0, "pid on stderr");
	job_kill(t.job);
	tutil_spin(0.5);
	is_int(t.ncomplete, 0, "no completion after job_kill");
	ok(tjob_reaped(pid), "killed process reaped");
	is_int(t.nfree, 1, "free callback after job_kill from outside");
	tjob_done(&t);
}

/* Many jobs at once each get their own output and status. */
static void
test_parallel(void)
{
	struct tjob	 t[40];
	char		 script[128], want[64];
	char		*cause = NULL;
	size_t		 i;
	int		 good_out = 0, good_err = 0, good_status = 0;
	int		 started = 0;

	for (i = 0; i < nitems(t); i++) {
		snprintf(script, sizeof script,
		    "echo o%zu; sleep 0.%zu; echo e%zu >&2; exit %zu",
		    i, i % 3, i, i % 5);
		if (tjob_sh(&t[i], script, 20, &cause) != NULL)
			started++;
	}
	is_int(started, nitems(t), "all parallel jobs started");
	ok(tjob_run_until(t, nitems(t), 20) == 0, "all parallel jobs done");
	for (i = 0; i < nitems(t); i++) {
		snprintf(want, sizeof want, "o%zu\n", i);
		good_out += strcmp(tjob_str(t[i].out), want) == 0;
		snprintf(want, sizeof want, "e%zu\n", i);
		good_err += strcmp(tjob_str(t[i].err), want) == 0;
		good_status += t[i].ncomplete == 1 &&
		    WIFEXITED(t[i].status) &&
		    WEXITSTATUS(t[i].status) == (int)(i % 5);
		tjob_done(&t[i]);
	}
	is_int(good_out, nitems(t), "every stdout right");
	is_int(good_err, nitems(t), "every stderr right");
	is_int(good_status, nitems(t), "every status right");
}

/* Shutdown kills and reaps everything without callbacks. */
static void
test_killall(void)
{
	struct tjob	 t[3];
	long		 pids[3];
	size_t		 i;
	char		*cause = NULL;
	int		 gone = 0, have = 0, freed = 0;

	for (i = 0; i < nitems(t); i++)
		tjob_sh(&t[i], "echo $$; exec sleep 30", 0, &cause);
	tutil_spin(0.3);
	for (i = 0; i < nitems(t); i++)
		have += (pids[i] = tjob_pid(t[i].out)) > 0;
	is_int(have, 3, "three pids");
	job_killall();
	for (i = 0; i < nitems(t); i++) {
		gone += tjob_reaped(pids[i]);
		gone -= t[i].ncomplete;
		freed += t[i].nfree;
		tjob_done(&t[i]);
	}
	is_int(gone, 3, "job_killall reaped all, no callbacks");
	is_int(freed, 3, "job_killall called every free callback");
}

/* What a pacing run saw: deliveries and the seconds it took. */
static int
tjob_paced(int live, double *took)
{
	const char	*script = "i=0; while [ $i -lt 30 ]; do echo line$i; "
			    "i=$((i+1)); sleep 0.05; done";
	struct tjob	 t;
	struct evbuffer	*want = evbuffer_new();
	char		*cause = NULL;
	double		 t0 = tutil_now();
	int		 i, n;

	if (tjob_sh(&t, script, 0, &cause) == NULL) {
		printf("Bail out! %s\n", cause);
		exit(1);
	}
	if (live)
		job_set_live(t.job);
	ok(tjob_run_until(&t, 1, 60) == 0, live ? "pace: a followed job "
	    "completes" : "pace: a job completes");
	*took = tutil_now() - t0;
	for (i = 0; i < 30; i++)
		evbuffer_add_printf(want, "line%d\n", i);
	is_str(tjob_str(t.out), tjob_str(want), "pace: every line, in order");
	n = t.noutput;
	evbuffer_free(want);
	tjob_done(&t);
	return (n);
}

/*
 * A child printing a line every 50 ms is read after rests: a second long
 * when nobody follows it (a few deliveries, not one per line), a tenth
 * of that once followed, and to its end once it has exited.
 */
static void
test_pace(void)
{
	double	slow_took, live_took;
	int	slow, live;

	slow = tjob_paced(0, &slow_took);
	live = tjob_paced(1, &live_took);
	ok(slow <= slow_took + 3, "pace: unfollowed, a delivery a second");
	ok(live > slow, "pace: followed, more often");
	if (slow > slow_took + 3 || live <= slow)
		printf("# %d deliveries in %.1f s, followed %d in %.1f s\n",
		    slow, slow_took, live, live_took);
}

/* Writes an executable script at dir/name. */
static void
tjob_program(const char *dir, const char *name)
{
	const char	*text = "#!/bin/sh\n";
	char		*path;

	xasprintf(&path, "%s/%s", dir, name);
	if (fs_write_file(path, text, strlen(text), 0755) == -1 ||
	    chmod(path, 0755) == -1) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	free(path);
}

/*
 * The PATH lookup remembers what it found, but never hands out a program
 * that is gone: the walk starts again, and finds the next one or none.
 */
static void
test_path_cache(void)
{
	char	*root = tutil_scratch("pathcache"), *a, *b, *path, *env[2];
	char	*found, *want, *cause = NULL;

	xasprintf(&a, "%s/a", root);
	xasprintf(&b, "%s/b", root);
	if (mkdir(a, 0755) == -1 || mkdir(b, 0755) == -1) {
		printf("Bail out! cannot make %s\n", a);
		exit(1);
	}
	tjob_program(a, "tool");
	tjob_program(b, "tool");
	xasprintf(&path, "PATH=%s:%s", a, b);
	env[0] = path;
	env[1] = NULL;
	xasprintf(&want, "%s/tool", a);
	found = spawn_find_path("tool", env, &cause);
	is_str(found, want, "path: the first of PATH");
	free(found);
	found = spawn_find_path("tool", env, &cause);
	is_str(found, want, "path: the same again");
	free(found);
	unlink(want);
	free(want);
	xasprintf(&want, "%s/tool", b);
	found = spawn_find_path("tool", env, &cause);
	is_str(found, want, "path: the next one once the first is gone");
	free(found);
	unlink(want);
	found = spawn_find_path("tool", env, &cause);
	ok(found == NULL, "path: none once both are gone");
	is_str(cause, "tool: command not found", "path: and says so");
	free(found);
	free(cause);
	free(want);
	free(path);
	rmdir(a);
	rmdir(b);
	rmdir(root);
	free(a);
	free(b);
	free(root);
}

/* Runs every case on one event loop, as the daemon would. */
int
main(void)
{
	struct event_base	*base;

	signal(SIGPIPE, SIG_IGN);
	base = tutil_loop_init(50000, job_sigchld);
	job_init(base);

	test_basic();
	test_large();
	test_child_setup();
	test_start_failures();
	test_path_cache();
	test_pace();
	test_timeout();
	test_kill();
	test_parallel();
	test_killall();

	tutil_loop_free();
	return (done_testing());
}

/*
 * runner.c: the Slurm runner's pieces that need no cluster: the settings'
 * checks, the job name, the words before each command, Slurm's reason
 * read from real srun and slurmstepd lines and from hostile text, and
 * the start, stop and cancel against stand-in srun, squeue, scancel and
 * scontrol scripts that record how they were called.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/job.h"
#include "imagebuilder/runner.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

#define HASH	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define LOST	RUNNER_LOST_PREFIX

/* The stand-in tools' directory, and the file they record calls in. */
static char	*runner_bin;
static char	*runner_calls;

/* Runs the parse on an exact-size heap copy, so ASan sees any overread. */
static char *
runner_test_lost(const char *text, size_t len)
{
	char	*copy, *msg;

	copy = malloc(len == 0 ? 1 : len);
	memcpy(copy, text, len);
	msg = runner_lost(copy, len);
	free(copy);
	return (msg);
}

/* Checks one text. */
#define LOST_IS(text, want, name) do {					\
	char *tmp_m = runner_test_lost((text), strlen(text));		\
	is_str(tmp_m, (want), (name));					\
	free(tmp_m);							\
} while (0)

/* Whether a checker accepts s. */
static int
runner_test_ok(int (*check)(const char *, char **), const char *s)
{
	char	*cause = NULL;
	int	 rc;

	rc = check(s, &cause);
	if (rc == -1 && cause == NULL)
		printf("# no cause for '%s'\n", s);
	free(cause);
	return (rc == 0);
}

/* build_runner, slurm_args and slurm_partition. */
static void
runner_test_settings(void)
{
	struct strv		 words = STRV_INITIALIZER;
	enum runner_kind	 kind = RUNNER_LOCAL;
	char			*cause = NULL, long_word[300];
	size_t			 i;

	ok(runner_kind_parse("slurm", &kind, &cause) == 0 &&
	    kind == RUNNER_SLURM, "build_runner slurm");
	ok(runner_kind_parse("local", &kind, &cause) == 0 &&
	    kind == RUNNER_LOCAL, "build_runner local");
	ok(runner_kind_parse("Slurm", &kind, &cause) == -1 &&
	    strstr(cause, "neither local nor slurm") != NULL,
	    "build_runner: case matters, and the cause says what is valid");
	free(cause);
	cause = NULL;
	ok(runner_kind_parse("slurm ", &kind, &cause) == -1,
	    "build_runner: no trailing blank");
	free(cause);

	ok(runner_test_ok(runner_args_check, "--time=30 --mem=2G"),
	    "slurm_args: options");
	ok(runner_test_ok(runner_args_check, " -c 2\t--exclusive  "),
	    "slurm_args: blanks and tabs separate");
	ok(runner_test_ok(runner_args_check, "--constraint=a&b|c"),
	    "slurm_args: shell bytes are plain bytes of a word");
	ok(!runner_test_ok(runner_args_check, "--comment='a b'"),
	    "slurm_args: no quotes (no shell splits them)");
	ok(!runner_test_ok(runner_args_check, "--comment=\"a\""),
	    "slurm_args: no double quotes");
	ok(!runner_test_ok(runner_args_check, "a\\ b"),
	    "slurm_args: no backslash");
	ok(!runner_test_ok(runner_args_check, "-c 2 -- rm"),
	    "slurm_args: no '--'");
	ok(!runner_test_ok(runner_args_check, "--job-name=x"),
	    "slurm_args: not the job name (asud finds its jobs by it)");
	ok(!runner_test_ok(runner_args_check, "--job=x"),
	    "slurm_args: nor its abbreviation");
	ok(!runner_test_ok(runner_args_check, "-Jx"),
	    "slurm_args: nor -J");
	ok(!runner_test_ok(runner_args_check, "--time=5 --output=/dev/null"),
	    "slurm_args: no --output (asud reads the output)");
	ok(!runner_test_ok(runner_args_check, "-l"),
	    "slurm_args: no --label (it changes the lines)");
	ok(!runner_test_ok(runner_args_check, "--chdir=/"),
	    "slurm_args: no --chdir");
	ok(!runner_test_ok(runner_args_check, "--pty"), "slurm_args: no --pty");
	ok(runner_test_ok(runner_args_check, "--exclusive -c2 -pdebug --"
	    "overcommit --mem-per-cpu=1G"),
	    "slurm_args: other options, short ones with their argument");
	ok(runner_test_ok(runner_args_check, "- -v"),
	    "slurm_args: a lone dash is srun's to refuse");
	ok(!runner_test_ok(runner_args_check, "-c\n2"),
	    "slurm_args: no newline");
	ok(!runner_test_ok(runner_args_check, "-c\r2"),
	    "slurm_args: no carriage return");
	ok(!runner_test_ok(runner_args_check, "--comment=\xc3\xa9"),
	    "slurm_args: ASCII only");
	ok(!runner_test_ok(runner_args_check, "--comment=\x7f"),
	    "slurm_args: no DEL");
	for (i = 0; i < 33; i++)
		strv_add(&words, "-v");
	cause = strv_join(&words, " ");
	ok(!runner_test_ok(runner_args_check, cause),
	    "slurm_args: at most 32 words");
	free(cause);
	strv_clear(&words);
	memset(long_word, 'a', sizeof long_word - 1);
	long_word[sizeof long_word - 1] = '\0';
	ok(!runner_test_ok(runner_args_check, long_word),
	    "slurm_args: a word of 299 bytes");

	ok(runner_test_ok(runner_partition_check, "builds"),
	    "slurm_partition: a name");
	ok(runner_test_ok(runner_partition_check, "a-1,b_2.x"),
	    "slurm_partition: a list");
	ok(!runner_test_ok(runner_partition_check, "a b"),
	    "slurm_partition: one word");
	ok(!runner_test_ok(runner_partition_check, "--x"),
	    "slurm_partition: not an option");
	ok(!runner_test_ok(runner_partition_check, "a;b"),
	    "slurm_partition: no other bytes");
}

/* The job name and the words before a command. */
static void
runner_test_argv(void)
{
	struct strv	 argv = STRV_INITIALIZER;
	char		 name[RUNNER_NAME_SIZE], *s;

	ok(runner_name(HASH, name, sizeof name) == 0, "name of a hash");
	is_str(name, "asud-0123456789ab", "asud- and 12 hex digits");
	ok(runner_name("0123456789AB", name, sizeof name) == -1,
	    "uppercase hex is no request hash");
	ok(runner_name("0123456789a", name, sizeof name) == -1,
	    "a short hash");
	ok(runner_name(NULL, name, sizeof name) == -1, "no hash");
	ok(runner_name(HASH, name, sizeof name - 1) == -1, "a small buffer");

	runner_reset();
	ok(!runner_slurm(), "local by default");
	runner_argv(&argv, "asud-0123456789ab");
	is_int(argv.n, 0, "local: nothing before the command");

	runner_setup(RUNNER_SLURM, NULL, NULL);
	ok(runner_slurm(), "slurm on");
	runner_argv(&argv, "asud-0123456789ab");
	strv_add(&argv, "make");
	s = strv_join(&argv, "|");
	is_str(s, "srun|--job-name=asud-0123456789ab|--quiet|--|make",
	    "slurm: srun, name, quiet, then the command");
	free(s);
	strv_clear(&argv);

	runner_setup(RUNNER_SLURM, "builds", " --time=30\t-c 2 ");
	strv_add(&argv, "nice");
	runner_argv(&argv, "asud-0123456789ab");
	strv_add(&argv, "make");
	s = strv_join(&argv, "|");
	is_str(s, "nice|srun|--job-name=asud-0123456789ab|--quiet|"
	    "--partition=builds|--time=30|-c|2|--|make",
	    "slurm: partition, then slurm_args word by word");
	free(s);
	strv_clear(&argv);
	runner_reset();
}

/* Lines as srun and slurmstepd print them when Slurm ends a step. */
static void
runner_test_real(void)
{
	LOST_IS("slurmstepd-vm: error: *** STEP 5.0 ON vm CANCELLED AT "
	    "2026-12-04T01:10:35 ***\nsrun: error: vm: task 0: Terminated\n",
	    LOST "cancelled the job: STEP 5.0 ON vm CANCELLED AT "
	    "2026-12-04T01:10:35", "scancel of the step (22.05, host tag)");
	LOST_IS("make[2]: Entering directory '/ib'\n"
	    "slurmstepd: error: *** STEP 12.0 ON host CANCELLED AT "
	    "2026-12-04T01:00:00 ***\n",
	    LOST "cancelled the job: STEP 12.0 ON host CANCELLED AT "
	    "2026-12-04T01:00:00", "cancel after make's lines, no host tag");
	LOST_IS("slurmstepd: error: *** JOB 12 ON host CANCELLED AT "
	    "2026-12-04T01:00:00 DUE TO NODE FAILURE ***\r\n",
	    LOST "cancelled the job: JOB 12 ON host CANCELLED AT "
	    "2026-12-04T01:00:00 DUE TO NODE FAILURE",
	    "a job cancelled for a node failure, CRLF");
	LOST_IS("slurmstepd-n1: error: *** JOB 7 ON n1 CANCELLED AT "
	    "2026-12-04T01:00:00 DUE TO PREEMPTION ***",
	    LOST "cancelled the job: JOB 7 ON n1 CANCELLED AT "
	    "2026-12-04T01:00:00 DUE TO PREEMPTION", "preemption, no newline");
	LOST_IS("srun: error: vm: task 0: Terminated\n"
	    "srun: error: Node failure on node3\n",
	    LOST "lost the node: Node failure on node3",
	    "a node failure wins over the task line");
	LOST_IS("srun: Job step aborted: Waiting up to 32 seconds for job "
	    "step to finish.\n",
	    LOST "aborted the step: Job step aborted: Waiting up to 32 "
	    "seconds for job step to finish.", "an aborted step");
	LOST_IS("srun: error: vm: task 0: Killed\n",
	    LOST "ended the task: vm: task 0: Killed", "a killed task");
	LOST_IS("srun: error: node-1.cluster: tasks 0-3,5: Segmentation "
	    "fault\n",
	    LOST "ended the task: node-1.cluster: tasks 0-3,5: Segmentation "
	    "fault", "tasks ended by a signal");
	LOST_IS("srun: Force Terminated job 12\n",
	    LOST "terminated the job: Force Terminated job 12",
	    "a forced termination");
	LOST_IS("srun: error: Unable to allocate resources: Invalid "
	    "partition name specified\n",
	    LOST "could not allocate: Unable to allocate resources: Invalid "
	    "partition name specified", "no allocation");
	LOST_IS("srun: error: Job allocation 12 has been revoked.\n",
	    LOST "revoked the allocation: Job allocation 12 has been "
	    "revoked.", "a revoked allocation");
	LOST_IS("srun: error: Unable to create step for job 9: Job/step "
	    "already completing or completed\n",
	    LOST "could not start the step: Unable to create step for job 9: "
	    "Job/step already completing or completed", "no step");

	LOST_IS("Collected errors:\n * opkg_install_cmd: Cannot install "
	    "package foo.\nmake: *** [Makefile:327: manifest] Error 2\n"
	    "srun: error: vm: task 0: Exited with exit code 2\n", NULL,
	    "the ImageBuilder's own failure stays its own");
	LOST_IS("make: *** [Makefile] Terminated\n", NULL, "make alone");
	LOST_IS("", NULL, "no stderr");
	ok(runner_lost(NULL, 0) == NULL, "NULL stderr");
}

/* Text a build prints could be anything: none of it is trusted. */
static void
runner_test_hostile(void)
{
	static const char	 ctl[] =
	    "srun: error: Node failure on a\x1b[31m\0b\x80";
	char			*big, *msg;
	size_t			 n, i, j;

	LOST_IS("  srun: error: Node failure on x\n", NULL,
	    "not at the start of a line");
	LOST_IS("make: srun: error: Node failure on x\n", NULL,
	    "inside another line");
	LOST_IS("slurmstepd-: error: *** STEP 1.0 ON x CANCELLED AT t ***\n",
	    NULL, "an empty host tag");
	LOST_IS("slurmstepd-a b: error: *** STEP 1.0 ON x CANCELLED AT t "
	    "***\n", NULL, "a blank in the host tag");
	LOST_IS("slurmstepd: error: *** STEP 1.0 ON x RUNNING ***\n", NULL,
	    "a step line without a cancel");
	LOST_IS("slurmstepd: error: *** PIZZA 1 CANCELLED AT t ***\n", NULL,
	    "neither step nor job");
	LOST_IS("slurmstepd: error: *** STEP", NULL, "cut short");
	LOST_IS("srun: error: : task 0: Killed\n", NULL, "no host");
	LOST_IS("srun: error: vm: task : Killed\n", NULL, "no task number");
	LOST_IS("srun: error: vm: task 0: \n", NULL, "nothing after");
	LOST_IS("srun: error: vm: task 0:", NULL, "cut after the number");
	LOST_IS("srun: error: Job allocation 12 is fine\n", NULL,
	    "an allocation line that is no revocation");
	LOST_IS("srun:", NULL, "a bare tag");
	LOST_IS("\n\n\n\r\n", NULL, "empty lines");

	msg = runner_test_lost(ctl, sizeof ctl - 1);
	is_str(msg, LOST "lost the node: Node failure on a?[31m?b?",
	    "control bytes, NUL and high bytes become '?'");
	free(msg);

	big = xmalloc(8192);
	n = (size_t)snprintf(big, 8192, "srun: error: Node failure on ");
	memset(big + n, 'x', 900);
	big[n + 900] = '\0';
	msg = runner_test_lost(big, strlen(big));
	ok(msg != NULL && strlen(msg) <= strlen(LOST) + 40 + 203 &&
	    strcmp(msg + strlen(msg) - 3, "...") == 0,
	    "a long quote is cut, and says so");
	free(msg);
	memset(big + n, 'x', 2000);
	big[n + 2000] = '\0';
	LOST_IS(big, NULL, "a line longer than Slurm's is none of Slurm's");
	free(big);

	/* Slurm speaks last: a line older than the end read is not read. */
	n = 64 * 1024;
	big = xmalloc(n + 1);
	memset(big, 'y', n);
	memcpy(big, "srun: error: Node failure on old\n", 33);
	for (i = 100; i < n; i += 100)
		big[i] = '\n';
	big[n] = '\0';
	LOST_IS(big, NULL, "a line before the end read");
	memcpy(big + n - 40, "\nsrun: error: vm: task 0: Killed\n", 33);
	big[n - 7] = '\0';
	LOST_IS(big, LOST "ended the task: vm: task 0: Killed",
	    "a line at the end of a long stderr");
	memset(big, 'z', n);
	memcpy(big + n - 33, "srun: error: vm: task 0: Killed\n", 32);
	big[n - 1] = '\0';
	LOST_IS(big, NULL, "a long line running into the end read");
	free(big);

	/* Random bytes from the patterns' own pieces: never a crash. */
	srandom(11);
	big = xmalloc(2048);
	for (i = 0; i < 3000; i++) {
		static const char *const bits[] = { "srun: ", "error: ",
		    "slurmstepd", "-", ": ", "*** ", " ***", "STEP ", "JOB ",
		    " CANCELLED AT ", "task", "s", " ", "0", "-", ",", "\n",
		    "\r", "Node failure on ", "Exited with exit code", "\0",
		    "Killed", "Job allocation ", " has been revoked" };
		n = 0;
		for (j = 0; j < 1 + (size_t)random() % 40; j++) {
			const char *b = bits[random() % nitems(bits)];
			size_t l = *b == '\0' ? 1 : strlen(b);
			if (n + l > 2048)
				break;
			memcpy(big + n, b, l);
			n += l;
		}
		msg = runner_test_lost(big, n);
		if (msg != NULL && (strncmp(msg, LOST, strlen(LOST)) != 0 ||
		    strlen(msg) > 300 || strcspn(msg, "\n\r") != strlen(msg)))
			break;
		free(msg);
		msg = NULL;
	}
	ok(i == 3000, "3000 random texts: a bounded one-line detail or none");
	free(msg);
	free(big);
}

/* Writes an executable stand-in tool. */
static void
runner_test_tool(const char *name, const char *body)
{
	char	*path, *text;

	xasprintf(&path, "%s/%s", runner_bin, name);
	xasprintf(&text, "#!/bin/sh\necho \"%s $*\" >> %s\n%s\n", name,
	    runner_calls, body);
	if (fs_write_file(path, text, strlen(text), 0755) == -1 ||
	    chmod(path, 0755) == -1) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	free(path);
	free(text);
}

/* What the stand-ins recorded, and forgets it. */
static char *
runner_test_calls(void)
{
	char	*buf = NULL;
	size_t	 len;

	if (fs_read_file(runner_calls, 65536, &buf, &len) == -1)
		return (xstrdup(""));
	unlink(runner_calls);
	return (buf);
}

/* Whether the calls file exists yet. */
static int
runner_test_called(void *arg __unused)
{
	return (access(runner_calls, F_OK) == 0);
}

/* A wait's callback: 1 and how many squeues had run when it came. */
static void
runner_test_gone(void *arg)
{
	int		*seen = arg;
	char		*calls;
	const char	*p;

	calls = runner_test_calls();
	*seen = 1;
	for (p = calls; (p = strstr(p, "squeue -h")) != NULL; p++)
		(*seen)++;
	free(calls);
}

/* Whether a wait called back. */
static int
runner_test_seen(void *arg)
{
	return (*(int *)arg != 0);
}

/* runner_cancel: the scancel, then squeue until the job is gone. */
static void
runner_test_waits(const char *dir, const char *uid)
{
	struct event_base	*base;
	char			*calls, *want, *path, *path_env;
	int			 seen = 0, never = 0;

	base = tutil_loop_init(10000, job_sigchld);
	job_init(base);
	runner_test_tool("scancel", "exit 0");
	/* The job stays in the queue for the first two squeues. */
	xasprintf(&want, "echo x >> %s/polls\n"
	    "[ $(wc -l < %s/polls) -gt 2 ] || echo 42", dir, dir);
	runner_test_tool("squeue", want);
	free(want);
	runner_cancel(base, "asud-0123456789ab", runner_test_gone, &seen);
	ok(seen == 0, "slurm: no callback inside runner_cancel");
	ok(tutil_wait(runner_test_seen, &seen, 20) == 0, "the wait ends");
	is_int(seen, 1 + 3, "the callback comes after the third squeue, "
	    "the first that lists nothing");
	xasprintf(&path, "%s/polls", dir);
	unlink(path);

	/* Without a callback, the scancel alone. */
	runner_cancel(base, "asud-0123456789ab", NULL, NULL);
	tutil_wait(runner_test_called, NULL, 10);
	tutil_spin(0.8);
	calls = runner_test_calls();
	xasprintf(&want, "scancel --name=asud-0123456789ab --user=%s\n", uid);
	is_str(calls, want, "a background cancel by name and user, no poll");
	free(want);
	free(calls);

	/* A forgotten wait calls nobody back, whatever the queue says. */
	runner_test_tool("squeue", "echo 42");
	runner_cancel(base, "asud-0123456789ab", runner_test_gone, &never);
	tutil_spin(1.2);
	runner_forget(&never);
	tutil_spin(1.2);
	ok(never == 0, "forgotten: no callback");
	calls = runner_test_calls();
	xasprintf(&want, "scancel --name=asud-0123456789ab --user=%s\n"
	    "squeue -h -o %%i -n asud-0123456789ab -u %s\n", uid, uid);
	ok(strncmp(calls, want, strlen(want)) == 0,
	    "the scancel, then squeue by name and user");
	free(want);
	free(calls);

	/* No scancel to run: nothing would make the job leave, no wait. */
	xasprintf(&want, "%s/scancel", runner_bin);
	unlink(want);
	free(want);
	path_env = xstrdup(getenv("PATH"));
	setenv("PATH", runner_bin, 1);
	seen = 0;
	runner_cancel(base, "asud-0123456789ab", runner_test_gone, &seen);
	is_int(seen, 1, "scancel cannot run: called back at once, no squeue");
	setenv("PATH", path_env, 1);
	free(path_env);
	runner_reset();
	seen = 0;
	runner_cancel(base, "asud-0123456789ab", runner_test_gone, &seen);
	is_int(seen, 1, "local: called back at once");
	tutil_spin(0.3);
	calls = runner_test_calls();
	is_str(calls, "", "local: no cancel");
	free(calls);
	job_killall();
	tutil_loop_free();
	unlink(path);
	free(path);
}

/* runner_start, runner_stop and runner_cancel with stand-in tools. */
static void
runner_test_tools(void)
{
	char	*dir, *cause = NULL, *calls, *want, *path;
	char	 uid[24];

	dir = tutil_scratch("runner");
	xasprintf(&runner_bin, "%s/bin", dir);
	xasprintf(&runner_calls, "%s/calls", dir);
	fs_mkdirs(runner_bin, 0755);
	xasprintf(&path, "%s:/usr/bin:/bin", runner_bin);
	setenv("PATH", path, 1);
	snprintf(uid, sizeof uid, "%lu", (unsigned long)getuid());

	runner_reset();
	ok(runner_start(&cause) == 0 && access(runner_calls, F_OK) != 0,
	    "local: start runs nothing");
	runner_setup(RUNNER_SLURM, NULL, NULL);

	setenv("PATH", runner_bin, 1);
	ok(runner_start(&cause) == -1 && cause != NULL &&
	    strncmp(cause, "build_runner = slurm: srun does not run", 39) == 0,
	    "no srun on PATH: one line naming srun");
	printf("# %s\n", cause);
	free(cause);
	cause = NULL;
	setenv("PATH", path, 1);

	runner_test_tool("srun", "exit 0");
	runner_test_tool("squeue", "exit 0");
	runner_test_tool("scancel", "exit 0");
	runner_test_tool("scontrol", "[ \"$1\" = ping ] || exit 0\n"
	    "echo 'Slurmctld(primary) at vm is DOWN'; exit 1");
	ok(runner_start(&cause) == -1 && cause != NULL &&
	    strstr(cause, "controller does not answer") != NULL &&
	    strstr(cause, "is DOWN") != NULL,
	    "a controller down: the line says so, with scontrol's words");
	printf("# %s\n", cause);
	free(cause);
	cause = NULL;
	free(runner_test_calls());

	/* The queue lists our jobs until scancel has run. */
	runner_test_tool("scontrol", "exit 0");
	xasprintf(&want, "[ -f %s/cancelled ] && exit 0\n"
	    "printf '12 asud-0123456789ab\\n13 other\\n"
	    "14 asud-0123456789AB\\n15 asud-0123456789abc\\n"
	    "x16 asud-0123456789ab\\n17 asud-fedcba987654\\n'", dir);
	runner_test_tool("squeue", want);
	free(want);
	xasprintf(&want, "[ \"$1\" = --version ] || touch %s/cancelled", dir);
	runner_test_tool("scancel", want);
	free(want);
	ok(runner_start(&cause) == 0, "start: the sweep");
	calls = runner_test_calls();
	xasprintf(&want, "srun --version\nsqueue --version\n"
	    "scancel --version\nscontrol --version\nscontrol ping\n"
	    "squeue -h -u %s -o %%i %%j\nscancel --user=%s 12 17\n"
	    "squeue -h -u %s -o %%i %%j\n", uid, uid, uid);
	is_str(calls, want, "the checks, then only our names are cancelled, "
	    "then the queue is read until they are gone");
	free(want);
	free(calls);

	/* A job that ended before scancel got to it fails scancel only. */
	xasprintf(&want, "%s/cancelled", dir);
	unlink(want);
	free(want);
	xasprintf(&want, "[ \"$1\" = --version ] && exit 0\n"
	    "touch %s/cancelled\n"
	    "echo 'scancel: error: Kill job error on job id 12: Invalid job "
	    "id specified' >&2; exit 1", dir);
	runner_test_tool("scancel", want);
	free(want);
	ok(runner_start(&cause) == 0,
	    "scancel failing for jobs that are gone: no failure");
	free(runner_test_calls());

	xasprintf(&want, "%s/cancelled", dir);
	unlink(want);
	free(want);
	runner_stop();
	calls = runner_test_calls();
	xasprintf(&want, "squeue -h -u %s -o %%i %%j\nscancel --user=%s 12 17\n"
	    "squeue -h -u %s -o %%i %%j\n", uid, uid, uid);
	is_str(calls, want, "stop: the same sweep");
	free(want);
	free(calls);

	runner_test_tool("squeue", "[ \"$1\" = --version ] && exit 0\n"
	    "echo 'slurm_load_jobs error: Unable to contact slurm "
	    "controller' >&2; exit 1");
	ok(runner_start(&cause) == -1 && cause != NULL &&
	    strstr(cause, "Unable to contact") != NULL,
	    "squeue failing at start: the line has its words");
	printf("# %s\n", cause);
	free(cause);
	cause = NULL;
	free(runner_test_calls());

	runner_test_waits(dir, uid);

	fs_rmtree(dir);
	free(dir);
	free(path);
	free(runner_bin);
	free(runner_calls);
}

/* Each part in turn. */
int
main(void)
{
	runner_test_settings();
	runner_test_argv();
	runner_test_real();
	runner_test_hostile();
	runner_test_tools();
	return (done_testing());
}

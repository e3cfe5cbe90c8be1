/*
 * runner.c: the local and the Slurm runner (runner.h). With Slurm, every
 * command of a build is "srun ... -- command": srun is the job's process,
 * its stdout and stderr are the job's pipes, its exit status is the
 * command's, so build.c reads the ImageBuilder's texts exactly as from a
 * local child. What Slurm adds is read here: its own lines when it ended
 * a step, the cancel of a job srun may have left and the wait until it
 * left the queue, and the sweep of the jobs a crashed daemon left (the
 * cluster outlives us; local process groups are job.c's).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/clock.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/job.h"
#include "imagebuilder/runner.h"
#include "imagebuilder/spawn.h"

/* The most words and bytes of slurm_args, and of one word. */
#define RUNNER_ARGS_MAX		32
#define RUNNER_ARG_LEN		256
#define RUNNER_PARTITION_LEN	64
/* The end of a failed command's stderr that Slurm's lines are read in. */
#define RUNNER_SCAN_MAX		(16 * 1024)
/* Longer lines are none of Slurm's. */
#define RUNNER_LINE_MAX		1024
/* The most of Slurm's words quoted in a detail. */
#define RUNNER_QUOTE_MAX	200
/* A background scancel, seconds. */
#define RUNNER_CANCEL_SECS	60
/* Each check at start (and squeue in a wait), the whole stop, in ms. */
#define RUNNER_CHECK_MS		20000
#define RUNNER_STOP_MS		20000
/* How long cancelled jobs may take to leave the queue (start, waits). */
#define RUNNER_GONE_MS		60000
#define RUNNER_POLL_MS		500
/* What one blocking command may print that is kept. */
#define RUNNER_OUT_MAX		(256 * 1024)
/* Job ids per scancel. */
#define RUNNER_IDS_PER_CALL	100

/* The settings of the runner chosen at start. */
static struct {
	enum runner_kind	 kind;
	char			*partition;
	struct strv		 args;
	char			 uid[24];
} runner;

/* The names of build_runner. */
static const struct {
	const char		*name;
	enum runner_kind	 kind;
} runner_kinds[] = {
	{ "local", RUNNER_LOCAL },
	{ "slurm", RUNNER_SLURM },
};

/*
 * srun options slurm_args must not have: the job name is how asud finds
 * its jobs, and the others move the command's output, input or directory
 * away from what asud reads and runs in. A long one also in getopt's
 * abbreviated form ("--job=x"), a short one as the word's first letter.
 */
static const struct {
	const char	*name;
	char		 letter;
} runner_denied[] = {
	{ "job-name", 'J' }, { "chdir", 'D' }, { "output", 'o' },
	{ "error", 'e' }, { "input", 'i' }, { "label", 'l' }, { "pty", 0 },
};

/* The tools that must run at start, each with a harmless argument. */
static const char *const runner_tools[] = { "srun", "squeue", "scancel",
    "scontrol" };

/*
 * A line of srun's ("srun: error: Node failure on host"): lead is skipped,
 * head must follow and starts the quote, has (if set) must be in the rest.
 */
struct runner_srun_line {
	const char	*lead;
	const char	*head;
	const char	*has;
};

/* One way Slurm ends a step, what that is called, and its line. */
struct runner_pattern {
	const char			*verb;
	int				(*match)(const struct runner_pattern *,
					    const char *, size_t,
					    const char **, size_t *);
	struct runner_srun_line		 line;
};

static int	runner_match_cancelled(const struct runner_pattern *,
		    const char *, size_t, const char **, size_t *);
static int	runner_match_srun(const struct runner_pattern *,
		    const char *, size_t, const char **, size_t *);
static int	runner_match_task(const struct runner_pattern *,
		    const char *, size_t, const char **, size_t *);

/*
 * In order of precedence: when a step is cancelled, srun also says its
 * task was terminated; the cancel names the reason, so it wins.
 */
static const struct runner_pattern runner_patterns[] = {
	{ "cancelled the job", runner_match_cancelled, { NULL, NULL, NULL } },
	{ "lost the node", runner_match_srun,
	    { "srun: error: ", "Node failure on ", NULL } },
	{ "revoked the allocation", runner_match_srun,
	    { "srun: error: ", "Job allocation ", " has been revoked" } },
	{ "terminated the job", runner_match_srun,
	    { "srun: ", "Force Terminated ", NULL } },
	{ "aborted the step", runner_match_srun,
	    { "srun: ", "Job step aborted", NULL } },
	{ "could not allocate", runner_match_srun,
	    { "srun: error: ", "Unable to allocate resources", NULL } },
	{ "could not start the step", runner_match_srun,
	    { "srun: error: ", "Unable to create step for job ", NULL } },
	{ "ended the task", runner_match_task, { NULL, NULL, NULL } },
};

/* Parses build_runner; see runner.h. */
int
runner_kind_parse(const char *s, enum runner_kind *kind, char **cause)
{
	size_t	i;

	for (i = 0; i < nitems(runner_kinds); i++) {
		if (strcmp(s, runner_kinds[i].name) == 0) {
			*kind = runner_kinds[i].kind;
			return (0);
		}
	}
	xasprintf(cause, "build_runner '%s' is neither local nor slurm", s);
	return (-1);
}

/* The srun option of runner_denied that w is, or NULL. */
static const char *
runner_arg_denied(const char *w)
{
	size_t	i, n;

	if (w[0] != '-' || w[1] == '\0')
		return (NULL);
	n = w[1] == '-' ? strcspn(w + 2, "=") : 0;
	for (i = 0; i < nitems(runner_denied); i++) {
		if (w[1] != '-' && w[1] == runner_denied[i].letter)
			return (runner_denied[i].name);
		if (n > 0 && strncmp(w + 2, runner_denied[i].name, n) == 0)
			return (runner_denied[i].name);
	}
	return (NULL);
}

/* Checks one word of slurm_args. */
static int
runner_arg_check(const char *w, char **cause)
{
	const char	*p, *opt;

	if (strlen(w) > RUNNER_ARG_LEN) {
		xasprintf(cause, "slurm_args: a word is longer than %d bytes",
		    RUNNER_ARG_LEN);
		return (-1);
	}
	if (strcmp(w, "--") == 0) {
		*cause = xstrdup("slurm_args: '--' would end srun's options");
		return (-1);
	}
	if ((opt = runner_arg_denied(w)) != NULL) {
		xasprintf(cause, "slurm_args: '%s' is asud's own (--%s)", w,
		    opt);
		return (-1);
	}
	for (p = w; *p != '\0'; p++) {
		if (*p == '\'' || *p == '"' || *p == '\\') {
			*cause = xstrdup("slurm_args: no quotes or "
			    "backslashes (words are split on blanks, never "
			    "by a shell)");
			return (-1);
		}
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			*cause = xstrdup("slurm_args: only printable ASCII "
			    "words separated by blanks");
			return (-1);
		}
	}
	return (0);
}

/* Checks slurm_args; see runner.h. */
int
runner_args_check(const char *args, char **cause)
{
	struct strv	 words = STRV_INITIALIZER;
	const char	*p;
	size_t		 i;
	int		 rc = 0;

	/* Blanks separate; any other control byte is refused below. */
	for (p = args; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			*cause = xstrdup("slurm_args: only printable ASCII "
			    "words separated by blanks");
			return (-1);
		}
	}
	strv_split(&words, args, " \t");
	if (words.n > RUNNER_ARGS_MAX) {
		xasprintf(cause, "slurm_args: more than %d words",
		    RUNNER_ARGS_MAX);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < words.n; i++)
		rc = runner_arg_check(words.v[i], cause);
	strv_clear(&words);
	return (rc);
}

/* Checks slurm_partition; see runner.h. */
int
runner_partition_check(const char *partition, char **cause)
{
	size_t	len = strlen(partition);

	if (len == 0 || len > RUNNER_PARTITION_LEN ||
	    strspn(partition, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,-") != len ||
	    *partition == '-') {
		xasprintf(cause, "slurm_partition: '%s' is not a partition "
		    "name (letters, digits, '_', '.', '-'; ',' between "
		    "names)", partition);
		return (-1);
	}
	return (0);
}

/* Chooses the runner; see runner.h. */
void
runner_setup(enum runner_kind kind, const char *partition, const char *args)
{
	runner_reset();
	runner.kind = kind;
	if (partition != NULL && *partition != '\0')
		runner.partition = xstrdup(partition);
	if (args != NULL)
		strv_split(&runner.args, args, " \t");
	snprintf(runner.uid, sizeof runner.uid, "%lu",
	    (unsigned long)getuid());
}

/* Back to the local runner without settings. */
void
runner_reset(void)
{
	free(runner.partition);
	strv_clear(&runner.args);
	memset(&runner, 0, sizeof runner);
	runner.kind = RUNNER_LOCAL;
}

/* Whether builds go to the cluster. */
int
runner_slurm(void)
{
	return (runner.kind == RUNNER_SLURM);
}

/* Whether c is a lowercase hex digit. */
static int
runner_hex(int c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
}

/* The job name of a hash; see runner.h. */
int
runner_name(const char *hash, char *buf, size_t size)
{
	size_t	i;

	if (size < RUNNER_NAME_SIZE || hash == NULL)
		return (-1);
	for (i = 0; i < RUNNER_NAME_HEX; i++)
		if (!runner_hex((unsigned char)hash[i]))
			return (-1);
	snprintf(buf, size, "%s%.*s", RUNNER_NAME_PREFIX, RUNNER_NAME_HEX,
	    hash);
	return (0);
}

/* Whether name (len bytes) is one of our job names. */
static int
runner_is_name(const char *name, size_t len)
{
	size_t	i, n = strlen(RUNNER_NAME_PREFIX);

	if (len != n + RUNNER_NAME_HEX ||
	    memcmp(name, RUNNER_NAME_PREFIX, n) != 0)
		return (0);
	for (i = n; i < len; i++)
		if (!runner_hex((unsigned char)name[i]))
			return (0);
	return (1);
}

/* The runner's words before each command; see runner.h. */
void
runner_argv(struct strv *argv, const char *name)
{
	if (runner.kind != RUNNER_SLURM)
		return;
	strv_add(argv, "srun");
	strv_addf(argv, "--job-name=%s", name);
	strv_add(argv, "--quiet");
	if (runner.partition != NULL)
		strv_addf(argv, "--partition=%s", runner.partition);
	strv_copy(argv, &runner.args);
	strv_add(argv, "--");
}

/* Whether the line (len bytes at *p) goes on with s; if so, skips it. */
static int
runner_skip(const char **p, const char *end, const char *s)
{
	size_t	n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return (0);
	*p += n;
	return (1);
}

/* Skips the bytes of set; returns how many. */
static size_t
runner_span(const char **p, const char *end, const char *set)
{
	const char	*s = *p;

	while (*p < end && **p != '\0' && strchr(set, **p) != NULL)
		(*p)++;
	return ((size_t)(*p - s));
}

#define RUNNER_HOST_BYTES	"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/*
 * "slurmstepd[-HOST]: error: *** STEP 12.0 ON host CANCELLED AT ... ***",
 * also "*** JOB 12 ..." and "... DUE TO NODE FAILURE ***": the quote is
 * what stands between the stars.
 */
static int
runner_match_cancelled(const struct runner_pattern *pat __unused,
    const char *line, size_t len, const char **q, size_t *qlen)
{
	const char	*p = line, *end = line + len, *start;

	if (!runner_skip(&p, end, "slurmstepd"))
		return (0);
	if (runner_skip(&p, end, "-") &&
	    runner_span(&p, end, RUNNER_HOST_BYTES) == 0)
		return (0);
	if (!runner_skip(&p, end, ": error: *** "))
		return (0);
	start = p;
	if (!runner_skip(&p, end, "STEP ") && !runner_skip(&p, end, "JOB "))
		return (0);
	if (memmem(p, (size_t)(end - p), " CANCELLED AT ", 14) == NULL)
		return (0);
	*q = start;
	*qlen = (size_t)(end - start);
	if (*qlen >= 4 && memcmp(end - 4, " ***", 4) == 0)
		*qlen -= 4;
	return (1);
}

/* One of srun's lines in the pattern's line; the quote starts at head. */
static int
runner_match_srun(const struct runner_pattern *pat, const char *line,
    size_t len, const char **q, size_t *qlen)
{
	const char	*p = line, *end = line + len, *head;
	const char	*has = pat->line.has;

	if (!runner_skip(&p, end, pat->line.lead))
		return (0);
	head = p;
	if (!runner_skip(&p, end, pat->line.head))
		return (0);
	if (has != NULL && memmem(p, (size_t)(end - p), has,
	    strlen(has)) == NULL)
		return (0);
	*q = head;
	*qlen = (size_t)(end - head);
	return (1);
}

/*
 * "srun: error: HOST: task 0: Killed" (or "tasks 0-3: Terminated"):
 * srun saying its task ended by a signal, as a local command killed by
 * one is a lost build. "Exited with exit code N" is the command's own
 * failure and stays the ImageBuilder's.
 */
static int
runner_match_task(const struct runner_pattern *pat __unused,
    const char *line, size_t len, const char **q, size_t *qlen)
{
	const char	*p = line, *end = line + len, *host;

	if (!runner_skip(&p, end, "srun: error: "))
		return (0);
	host = p;
	if (runner_span(&p, end, RUNNER_HOST_BYTES) == 0 ||
	    !runner_skip(&p, end, ": task"))
		return (0);
	runner_skip(&p, end, "s");
	if (!runner_skip(&p, end, " ") ||
	    runner_span(&p, end, "0123456789,-") == 0 ||
	    !runner_skip(&p, end, ": ") || p == end ||
	    runner_skip(&p, end, "Exited with exit code"))
		return (0);
	*q = host;
	*qlen = (size_t)(end - host);
	return (1);
}

/* Whether one line of the scanned text is the pattern's; sets the quote. */
static int
runner_line(const struct runner_pattern *pat, const char *line, size_t len,
    const char **q, size_t *qlen)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || len > RUNNER_LINE_MAX)
		return (0);
	return (pat->match(pat, line, len, q, qlen));
}

/* Finds the first line of the pattern in text; 1 with the quote set. */
static int
runner_find(const struct runner_pattern *pat, const char *text, size_t len,
    const char **q, size_t *qlen)
{
	const char	*p = text, *end = text + len, *nl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (runner_line(pat, p, (size_t)(nl - p), q, qlen))
			return (1);
		p = nl + 1;
	}
	return (0);
}

/* The detail: prefix, verb, and Slurm's words, printable and bounded. */
static char *
runner_detail(const char *verb, const char *q, size_t qlen)
{
	char	 quote[RUNNER_QUOTE_MAX + 4], *msg;
	size_t	 i, n = 0;

	for (i = 0; i < qlen && n < RUNNER_QUOTE_MAX; i++) {
		if ((unsigned char)q[i] >= 0x20 && (unsigned char)q[i] < 0x7f)
			quote[n++] = q[i];
		else
			quote[n++] = '?';
	}
	if (i < qlen)
		n += (size_t)snprintf(quote + n, sizeof quote - n, "...");
	while (n > 0 && quote[n - 1] == ' ')
		n--;
	quote[n] = '\0';
	xasprintf(&msg, "%s%s: %s", RUNNER_LOST_PREFIX, verb, quote);
	return (msg);
}

/* Slurm's reason for ending a command, if it did; see runner.h. */
char *
runner_lost(const char *err, size_t len)
{
	const char	*text = err, *q, *nl;
	size_t		 i, qlen;

	if (err == NULL)
		return (NULL);
	if (len > RUNNER_SCAN_MAX) {
		/* From the first whole line of the end. */
		text = err + len - RUNNER_SCAN_MAX;
		if ((nl = memchr(text, '\n', RUNNER_SCAN_MAX)) == NULL)
			return (NULL);
		text = nl + 1;
	}
	len -= (size_t)(text - err);
	for (i = 0; i < nitems(runner_patterns); i++) {
		if (runner_find(&runner_patterns[i], text, len, &q, &qlen))
			return (runner_detail(runner_patterns[i].verb, q,
			    qlen));
	}
	return (NULL);
}

/*
 * A cancel in the background: scancel, then (if someone waits) squeue
 * every RUNNER_POLL_MS until it lists no job of that name.
 */
struct runner_wait {
	char			 name[RUNNER_NAME_SIZE];
	runner_gone_cb		 cb;
	void			*arg;
	struct event		*timer;
	int			 jobs;		/* running, or held */
	int			 listed;	/* squeue printed a job */
	long long		 end;		/* 0: in the scancel */
	TAILQ_ENTRY(runner_wait) entry;
};
static TAILQ_HEAD(, runner_wait) runner_waits =
    TAILQ_HEAD_INITIALIZER(runner_waits);

static void	runner_wait_done(struct job *, int, int, void *);

/*
 * Lets go of a job or a hold of a wait. With none left and no timer set,
 * nothing can go on: the wait ends, its caller (if any) told once.
 */
static void
runner_wait_release(void *arg)
{
	struct runner_wait	*w = arg;
	runner_gone_cb		 cb = w->cb;

	if (--w->jobs > 0 || evtimer_pending(w->timer, NULL))
		return;
	arg = w->arg;
	TAILQ_REMOVE(&runner_waits, w, entry);
	event_free(w->timer);
	free(w);
	if (cb != NULL)
		cb(arg);
}

/* What scancel or squeue prints: the debug log, and squeue's jobs. */
static void
runner_wait_output(struct job *job __unused, int which, const char *buf,
    size_t len, void *arg)
{
	struct runner_wait	*w = arg;
	const char		*nl;
	size_t			 i;

	/* Any byte but a blank is a job: when in doubt, wait. */
	for (i = 0; which == JOB_STDOUT && w->end != 0 && i < len; i++) {
		if (!isspace((unsigned char)buf[i]))
			w->listed = 1;
	}
	if ((nl = memchr(buf, '\n', len)) != NULL)
		len = (size_t)(nl - buf);
	log_debug("%s: %.*s", w->name, (int)(len > 200 ? 200 : len), buf);
}

/* Starts scancel or squeue for a wait; a failure is logged. */
static void
runner_wait_run(struct runner_wait *w, struct strv *argv, int secs)
{
	char	*cause = NULL;

	w->listed = 0;
	if (job_run(argv->v, "/", NULL, secs, runner_wait_output,
	    runner_wait_done, runner_wait_release, w, &cause) != NULL)
		w->jobs++;
	else {
		log_warnx("cannot run %s for cluster job %s: %s", argv->v[0],
		    w->name, cause);
		free(cause);
	}
	strv_clear(argv);
}

/* Asks squeue whether the job is still there; also the timer's callback. */
static void
runner_wait_poll(evutil_socket_t fd __unused, short events __unused,
    void *arg)
{
	struct runner_wait	*w = arg;
	struct strv		 argv = STRV_INITIALIZER;

	w->jobs++;	/* a hold, as the end may come here */
	strv_split(&argv, "squeue -h -o %i -n", " ");
	strv_add(&argv, w->name);
	strv_add(&argv, "-u");
	strv_add(&argv, runner.uid);
	runner_wait_run(w, &argv, RUNNER_CHECK_MS / 1000);
	runner_wait_release(w);
}

/* scancel or squeue ended: the next squeue, or the end of the wait. */
static void
runner_wait_done(struct job *job __unused, int status, int timed_out,
    void *arg)
{
	struct runner_wait	*w = arg;
	struct timeval		 tv = { 0, RUNNER_POLL_MS * 1000 };
	int			 failed;

	failed = timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (failed)
		log_warnx("%s of cluster job %s %s", w->end == 0 ? "scancel" :
		    "squeue", w->name, timed_out ? "did not finish" :
		    job_status_string(status));
	if (w->cb == NULL)
		return;
	if (w->end == 0) {
		w->end = clock_mono_ms() + RUNNER_GONE_MS;
		runner_wait_poll(-1, 0, w);
	} else if ((failed || w->listed) &&
	    clock_mono_ms() + RUNNER_POLL_MS < w->end)
		evtimer_add(w->timer, &tv);
	else if (failed || w->listed) {
		/* A dead controller or a stuck job must not keep a slot. */
		log_warnx("cluster job %s still in the queue after %d seconds",
		    w->name, RUNNER_GONE_MS / 1000);
	}
}

/* Cancels one cluster job in the background; see runner.h. */
void
runner_cancel(struct event_base *base, const char *name, runner_gone_cb cb,
    void *arg)
{
	struct strv		 argv = STRV_INITIALIZER;
	struct runner_wait	*w;

	if (runner.kind != RUNNER_SLURM) {
		if (cb != NULL)
			cb(arg);
		return;
	}
	w = xcalloc(1, sizeof *w);
	snprintf(w->name, sizeof w->name, "%s", name);
	w->cb = cb;
	w->arg = arg;
	if ((w->timer = evtimer_new(base, runner_wait_poll, w)) == NULL)
		fatalx("out of memory");
	TAILQ_INSERT_TAIL(&runner_waits, w, entry);
	strv_add(&argv, "scancel");
	strv_addf(&argv, "--name=%s", name);
	strv_addf(&argv, "--user=%s", runner.uid);
	w->jobs++;
	/* Without the scancel, nothing makes the job leave: no wait. */
	runner_wait_run(w, &argv, RUNNER_CANCEL_SECS);
	runner_wait_release(w);
}

/* Forgets the callers of the waits for arg; see runner.h. */
void
runner_forget(void *arg)
{
	struct runner_wait	*w, *w1;

	TAILQ_FOREACH_SAFE(w, &runner_waits, entry, w1) {
		if (w->cb == NULL || (arg != NULL && w->arg != arg))
			continue;
		w->cb = NULL;
		w->jobs++;
		evtimer_del(w->timer);
		runner_wait_release(w);
	}
}

/*
 * Runs argv, blocking for at most ms, with what it prints in out (size
 * bytes, NUL-terminated). Only at start and stop, when nothing else may
 * run. 0 when it exited 0; else -1 with *cause, one line.
 */
static int
runner_exec(char *const argv[], int ms, char *out, size_t size,
    char **cause)
{
	int	 rc, status;
	size_t	 n;

	if ((rc = spawn_run(argv, ms, out, size, &status)) == 0 &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	n = strcspn(out, "\n");
	if (rc == -1)
		xasprintf(cause, "%s did not answer within %d seconds",
		    argv[0], ms / 1000);
	else if (n > 0)
		xasprintf(cause, "%.*s", (int)(n > 300 ? 300 : n), out);
	else
		xasprintf(cause, "%s %s", argv[0], job_status_string(status));
	return (-1);
}

/* Appends the id of each of our jobs in squeue's "%i %j" lines to ids. */
static void
runner_parse_queue(const char *out, struct strv *ids)
{
	const char	*p = out, *nl, *sp;
	size_t		 idlen;

	for (; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = p + strcspn(p, "\n");
		idlen = strspn(p, "0123456789");
		sp = p + idlen;
		if (idlen == 0 || idlen > 20 || *sp != ' ' ||
		    !runner_is_name(sp + 1, (size_t)(nl - sp - 1)))
			continue;
		strv_addf(ids, "%.*s", (int)idlen, p);
	}
}

/* The ids of this user's jobs with our names; -1 with *cause. */
static int
runner_list(int ms, struct strv *ids, char **cause)
{
	struct strv	 argv = STRV_INITIALIZER;
	char		*out;
	int		 rc;

	strv_split(&argv, "squeue -h -u", " ");
	strv_add(&argv, runner.uid);
	strv_add(&argv, "-o");
	strv_add(&argv, "%i %j");
	out = xmalloc(RUNNER_OUT_MAX);
	if ((rc = runner_exec(argv.v, ms, out, RUNNER_OUT_MAX, cause)) == 0)
		runner_parse_queue(out, ids);
	free(out);
	strv_clear(&argv);
	return (rc);
}

/* scancel of ids, a hundred at a time; -1 with *cause. */
static int
runner_scancel_ids(const struct strv *ids, long long end, char **cause)
{
	struct strv	 argv = STRV_INITIALIZER;
	char		 out[1024];
	size_t		 i, j;
	int		 rc = 0;

	for (i = 0; rc == 0 && i < ids->n; i += RUNNER_IDS_PER_CALL) {
		strv_add(&argv, "scancel");
		strv_addf(&argv, "--user=%s", runner.uid);
		for (j = i; j < ids->n && j < i + RUNNER_IDS_PER_CALL; j++)
			strv_add(&argv, ids->v[j]);
		rc = runner_exec(argv.v, (int)(end - clock_mono_ms()), out,
		    sizeof out, cause);
		strv_clear(&argv);
	}
	return (rc);
}

/*
 * Cancels this user's jobs with our names, then waits until squeue no
 * longer lists them, everything by end; -1 with *cause. A job may end
 * between squeue and scancel, which then fails for it: what counts is
 * the queue afterwards, and scancel's words go with a job that stayed.
 */
static int
runner_sweep(const char *whose, long long end, char **cause)
{
	struct strv	ids = STRV_INITIALIZER;
	struct timespec	pause = { 0, RUNNER_POLL_MS * 1000 * 1000 };
	char		*why = NULL;
	int		rc;

	if ((rc = runner_list((int)(end - clock_mono_ms()), &ids,
	    cause)) == -1 || ids.n == 0)
		goto out;
	log_info("cancelling %zu cluster job%s %s", ids.n,
	    ids.n == 1 ? "" : "s", whose);
	if (runner_scancel_ids(&ids, end, &why) == -1)
		log_debug("%s", why);
	while (ids.n > 0 && clock_mono_ms() + RUNNER_POLL_MS < end) {
		nanosleep(&pause, NULL);
		strv_clear(&ids);
		if ((rc = runner_list((int)(end - clock_mono_ms()), &ids,
		    cause)) == -1)
			goto out;
	}
	if (ids.n > 0) {
		xasprintf(cause, "%zu cancelled cluster job%s still in the "
		    "queue%s%s%s", ids.n, ids.n == 1 ? " is" : "s are",
		    why != NULL ? " (" : "", why != NULL ? why : "",
		    why != NULL ? ")" : "");
		rc = -1;
	}
out:
	free(why);
	strv_clear(&ids);
	return (rc);
}

/*
 * Runs "tool arg" as one start-up check; -1 with *cause naming what is
 * wrong.
 */
static int
runner_check(const char *tool, const char *arg, const char *what,
    char **cause)
{
	struct strv	 argv = STRV_INITIALIZER;
	char		 out[1024];
	char		*why = NULL;
	int		 rc;

	strv_add(&argv, tool);
	strv_add(&argv, arg);
	rc = runner_exec(argv.v, RUNNER_CHECK_MS, out, sizeof out, &why);
	strv_clear(&argv);
	if (rc == 0)
		return (0);
	xasprintf(cause, "build_runner = slurm: %s: %s", what, why);
	free(why);
	return (-1);
}

/* The checks and the sweep at start; see runner.h. */
int
runner_start(char **cause)
{
	char	*what, *why = NULL;
	size_t	 i;
	int	 rc;

	if (runner.kind != RUNNER_SLURM)
		return (0);
	for (i = 0; i < nitems(runner_tools); i++) {
		xasprintf(&what, "%s does not run (is Slurm's client, Debian's "
		    "slurm-client, on PATH?)", runner_tools[i]);
		rc = runner_check(runner_tools[i], "--version", what, cause);
		free(what);
		if (rc == -1)
			return (-1);
	}
	if (runner_check("scontrol", "ping", "the cluster's controller does "
	    "not answer (SLURM_CONF? munge?)", cause) == -1)
		return (-1);
	if (runner_sweep("an earlier asud left", clock_mono_ms() +
	    RUNNER_GONE_MS, &why) == -1) {
		xasprintf(cause, "build_runner = slurm: cannot clear the jobs "
		    "an earlier asud left: %s", why);
		free(why);
		return (-1);
	}
	return (0);
}

/* The cancel of every job of ours at stop; see runner.h. */
void
runner_stop(void)
{
	char	*cause = NULL;

	if (runner.kind != RUNNER_SLURM)
		return;
	runner_forget(NULL);
	if (runner_sweep("of this asud", clock_mono_ms() + RUNNER_STOP_MS,
	    &cause) == -1) {
		log_warnx("cluster jobs at stop: %s", cause);
		free(cause);
	}
}

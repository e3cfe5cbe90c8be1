/*
 * job.c: child processes run the tmux job.c way. Each job is one execve'd
 * program in its own session and process group, with stdin on /dev/null
 * and stdout and stderr on two pipes read through bufferevents. A job is
 * finished only when both pipes reached EOF and the process was reaped;
 * whichever happens last calls complete_cb and frees the job.
 */
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/xmalloc.h"
#include "imagebuilder/job.h"
#include "imagebuilder/pidtab.h"
#include "imagebuilder/spawn.h"

/* Seconds between SIGTERM and SIGKILL after a timeout. */
#define JOB_KILL_GRACE		5
/* Seconds the pipes may stay open once the process was reaped. */
#define JOB_LINGER		3
/* Bytes read from one pipe before its callback has to drain them. */
#define JOB_READ_MAX		(256 * 1024)
/* The variable that names a job in the environment of its descendants. */
#define JOB_MARK		"ASUD_JOB="
/* A pipe's rest after a small read, in ms: followed, and not. */
#define JOB_PACE_LIVE_MS	100
#define JOB_PACE_MS		1000
#define JOB_PACE_BYTES		4096	/* a read smaller than this is small */
#define JOB_PACE_MIN_MS		10	/* the shortest rest */
/* Bytes read since a rest that make the next one shorter. */
#define JOB_PACE_FULL		(32 * 1024)
/* The most of a process's environment read to find the mark. */
#define JOB_ENVIRON_MAX		(256 * 1024)
/* Seconds after a job's end when orphans are looked for once more. */
#define JOB_SWEEP_AGAIN		1

struct job {
	pid_t			 pid;
	unsigned long		 id;		/* JOB_MARK's value */
	int			 status;
	int			 dead;		/* reaped */
	int			 killed;	/* by job_kill: no callbacks */
	int			 timed_out;
	int			 busy;		/* in one of our callbacks */
	int			 pidslot;	/* in the pid table, or -1 */
	int			 pace_ms;	/* the longest rest */
	int			 rest_ms[2];	/* each pipe's next rest */
	int			 resting[2];	/* waits for job->pace */
	size_t			 burst[2];	/* read since its last rest */

	struct bufferevent	*bev[2];	/* stdout, stderr, or NULL */
	struct event		*timeout;
	struct event		*linger;
	struct event		*pace;		/* reads again after a pause */

	job_output_cb		 output_cb;
	job_complete_cb		 complete_cb;
	job_free_cb		 free_cb;
	void			*arg;

	LIST_ENTRY(job)		 entry;
};

/* A child forked by another module, waiting to be reaped. */
struct job_watch {
	pid_t			 pid;
	void			(*cb)(pid_t, int, void *);
	void			*arg;
	LIST_ENTRY(job_watch)	 entry;
};

static struct event_base	*job_base;
static unsigned long		 job_next_id;
static struct event		*job_sweep_ev;
static LIST_HEAD(, job)		 job_list = LIST_HEAD_INITIALIZER(job_list);
static LIST_HEAD(, job_watch)	 job_watches =
	    LIST_HEAD_INITIALIZER(job_watches);

static void	job_check(struct job *);
static void	job_read_cb(struct bufferevent *, void *);
static void	job_event_cb(struct bufferevent *, short, void *);
static void	job_timeout_cb(evutil_socket_t, short, void *);
static void	job_linger_cb(evutil_socket_t, short, void *);
static void	job_pace_cb(evutil_socket_t, short, void *);
static void	job_sweep_cb(evutil_socket_t, short, void *);
static void	job_sweep(void);

/* Keeps descriptors 0-2 taken so that pipes never land on them. */
static void
job_reserve_stdio(void)
{
	int	fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) == -1)
			fatal("open /dev/null");
	}
}

/* Ends the groups a crashed daemon left behind, then tracks new ones. */
void
job_set_piddir(const char *dir)
{
	pidtab_open(dir);
}

/*
 * Remembers the daemon's event base for every later job, and makes the
 * daemon the reaper of its orphans: a descendant that leaves its job's
 * group (setsid) and loses its parent becomes our child, not init's, so
 * job_sweep can find it.
 */
void
job_init(struct event_base *base)
{
	job_base = base;
	job_reserve_stdio();
#ifdef __linux__
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl PR_SET_CHILD_SUBREAPER");
#endif
	if ((job_sweep_ev = evtimer_new(base, job_sweep_cb, NULL)) == NULL)
		fatalx("out of memory");
}

/* Makes the parent's end of a pipe non-blocking and wraps it. */
static struct bufferevent *
job_wrap_pipe(int fd)
{
	struct bufferevent	*bev;

	if (evutil_make_socket_nonblocking(fd) == -1)
		fatal("fcntl O_NONBLOCK");
	bev = bufferevent_socket_new(job_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fatalx("out of memory");
	bufferevent_setwatermark(bev, EV_READ, 0, JOB_READ_MAX);
	return (bev);
}

/* Closes every descriptor of a failed start. */
static void
job_close_fds(int *fds, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* Makes the record of a started child and arms its pipes and timer. */
static struct job *
job_new(pid_t pid, int outfd, int errfd, int timeout,
    job_output_cb output_cb, job_complete_cb complete_cb,
    job_free_cb free_cb, void *arg)
{
	struct job	*job;
	struct timeval	 tv = { timeout, 0 };
	int		 i;

	job = xcalloc(1, sizeof *job);
	job->pid = pid;
	job->output_cb = output_cb;
	job->complete_cb = complete_cb;
	job->free_cb = free_cb;
	job->arg = arg;
	job->pace_ms = JOB_PACE_MS;
	job->rest_ms[0] = job->rest_ms[1] = JOB_PACE_MS;
	job->bev[0] = job_wrap_pipe(outfd);
	job->bev[1] = job_wrap_pipe(errfd);
	for (i = 0; i < 2; i++) {
		bufferevent_setcb(job->bev[i], job_read_cb, NULL,
		    job_event_cb, job);
		bufferevent_enable(job->bev[i], EV_READ);
	}
	job->timeout = evtimer_new(job_base, job_timeout_cb, job);
	job->linger = evtimer_new(job_base, job_linger_cb, job);
	job->pace = evtimer_new(job_base, job_pace_cb, job);
	if (job->timeout == NULL || job->linger == NULL || job->pace == NULL)
		fatalx("out of memory");
	if (timeout > 0)
		evtimer_add(job->timeout, &tv);
	LIST_INSERT_HEAD(&job_list, job, entry);
	job->pidslot = pidtab_add(pid);
	return (job);
}

/*
 * envp with the job's mark instead of an inherited one, so that its
 * descendants can be told from those of other jobs. The strings are
 * envp's but *mark, which the caller frees with the vector.
 */
static char **
job_env_mark(char *const envp[], unsigned long id, char **mark)
{
	char	**v;
	size_t	  n, i, j = 0;

	for (n = 0; envp[n] != NULL; n++)
		;
	v = xcalloc(n + 2, sizeof *v);
	for (i = 0; i < n; i++) {
		if (strncmp(envp[i], JOB_MARK, strlen(JOB_MARK)) != 0)
			v[j++] = envp[i];
	}
	xasprintf(mark, JOB_MARK "%lu", id);
	v[j] = *mark;
	return (v);
}

/* Forks and execs argv; see job.h. */
struct job *
job_run(char *const argv[], const char *cwd, char *const envp[], int timeout,
    job_output_cb output_cb, job_complete_cb complete_cb, job_free_cb free_cb,
    void *arg, char **cause)
{
	struct job	 *job;
	char		 *path, **env, *mark;
	int		  fds[6] = { -1, -1, -1, -1, -1, -1 }, rc;
	unsigned long	  id;
	pid_t		  pid;

	if (job_base == NULL)
		fatalx("%s: job_init was not called", __func__);
	if (argv == NULL || argv[0] == NULL) {
		*cause = xstrdup("no command");
		return (NULL);
	}
	if (envp == NULL)
		envp = environ;
	if ((path = spawn_find_path(argv[0], envp, cause)) == NULL)
		return (NULL);
	if (pipe2(fds, O_CLOEXEC) == -1 || pipe2(fds + 2, O_CLOEXEC) == -1 ||
	    pipe2(fds + 4, O_CLOEXEC) == -1) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		job_close_fds(fds, nitems(fds));
		free(path);
		return (NULL);
	}
	id = ++job_next_id;
	env = job_env_mark(envp, id, &mark);
	rc = spawn_start(path, argv, cwd, env, fds, &pid, cause);
	free(env);
	free(mark);
	free(path);
	if (rc == -1) {
		job_close_fds(fds, nitems(fds));
		return (NULL);
	}
	log_debug("job %ld started: %s", (long)pid, argv[0]);
	job = job_new(pid, fds[0], fds[2], timeout, output_cb, complete_cb,
	    free_cb, arg);
	job->id = id;
	return (job);
}

/* Closes one pipe; its bufferevent may be the one calling us. */
static void
job_close_pipe(struct job *job, int i)
{
	if (job->bev[i] != NULL) {
		bufferevent_free(job->bev[i]);
		job->bev[i] = NULL;
	}
}

/* Releases a job that is reaped, then the caller's argument. */
static void
job_free(struct job *job)
{
	job_free_cb	 free_cb = job->free_cb;
	void		*arg = job->arg;

	LIST_REMOVE(job, entry);
	pidtab_del(job->pidslot);
	job_close_pipe(job, 0);
	job_close_pipe(job, 1);
	event_free(job->timeout);
	event_free(job->linger);
	event_free(job->pace);
	free(job);
	if (free_cb != NULL && arg != NULL)
		free_cb(arg);
}

/* Finishes or frees the job once nothing more can happen to it. */
static void
job_check(struct job *job)
{
	if (job->busy > 0 || !job->dead)
		return;
	if (job->killed) {
		job_free(job);
		return;
	}
	if (job->bev[0] != NULL || job->bev[1] != NULL)
		return;
	job->busy++;
	job->complete_cb(job, job->status, job->timed_out, job->arg);
	job_free(job);
}

/*
 * Hands what is buffered on one pipe to the owner, as long as it listens;
 * returns how many bytes that was.
 */
static size_t
job_drain(struct job *job, struct bufferevent *bev)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		 buf[16384];
	size_t		 total = 0;
	int		 which, n;

	which = bev == job->bev[0] ? JOB_STDOUT : JOB_STDERR;
	job->busy++;
	while (!job->killed && (n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
		job->output_cb(job, which, buf, (size_t)n, job->arg);
		total += (size_t)n;
	}
	job->busy--;
	return (total);
}

/*
 * What came since the pipe's last rest tells how fast the child writes:
 * a pipe that filled half its buffer halves the next rest, down to none
 * (below JOB_PACE_MIN_MS), so that the rests never hold a chatty child
 * back; else the rest doubles again, up to pace_ms.
 */
static void
job_adapt(struct job *job, int i)
{
	int	ms = job->rest_ms[i];

	if (job->burst[i] >= JOB_PACE_FULL)
		ms = ms / 2 >= JOB_PACE_MIN_MS ? ms / 2 : 0;
	else if (ms < JOB_PACE_MIN_MS)
		ms = JOB_PACE_MIN_MS;
	else
		ms = ms < job->pace_ms / 2 ? ms * 2 : job->pace_ms;
	job->rest_ms[i] = ms;
	job->burst[i] = 0;
}

/* Rests pipe i: it is read again when job->pace fires. */
static void
job_rest(struct job *job, int i)
{
	int		ms = job->rest_ms[i];
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	bufferevent_disable(job->bev[i], EV_READ);
	job->resting[i] = 1;
	if (!evtimer_pending(job->pace, NULL))
		evtimer_add(job->pace, &tv);
}

/*
 * Hands on what pipe i brought; the owner may kill the job from its
 * callback. After a small read the pipe rests (rest_ms, job_adapt): what
 * the child writes meanwhile waits in the pipe and comes in one read, so
 * that a build printing line by line costs the loop one wakeup per rest,
 * not one per line. A child writing a lot is read on at once, and so is
 * a dead one's pipe (only its leftovers still hold it).
 */
static void
job_take(struct job *job, int i)
{
	size_t	n;

	n = job_drain(job, job->bev[i]);
	job->burst[i] += n;
	if (n < JOB_PACE_BYTES && !job->killed && !job->dead &&
	    job->bev[i] != NULL) {
		job_adapt(job, i);
		if (job->rest_ms[i] > 0)
			job_rest(job, i);
	}
}

/* Output arrived while the loop watched the pipe. */
static void
job_read_cb(struct bufferevent *bev, void *arg)
{
	struct job	*job = arg;

	job_take(job, bev == job->bev[0] ? 0 : 1);
	job_check(job);
}

/* See job.h. */
void
job_set_live(struct job *job)
{
	struct timeval	tv = { 0, JOB_PACE_LIVE_MS * 1000 };
	int		i;

	if (job->pace_ms == JOB_PACE_LIVE_MS)
		return;
	job->pace_ms = JOB_PACE_LIVE_MS;
	for (i = 0; i < 2; i++)
		if (job->rest_ms[i] > JOB_PACE_LIVE_MS)
			job->rest_ms[i] = JOB_PACE_LIVE_MS;
	/* A rest begun at the slow pace ends within the fast one. */
	if (evtimer_pending(job->pace, NULL))
		evtimer_add(job->pace, &tv);
}

/*
 * Reads what a pipe holds into its bufferevent's input, as the
 * bufferevent's own read would: it keeps the input's end frozen between
 * its reads, so that only it adds there.
 */
static int
job_read_now(struct bufferevent *bev)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	int		 n;

	evbuffer_unfreeze(in, 0);
	n = evbuffer_read(in, bufferevent_getfd(bev), JOB_READ_MAX);
	evbuffer_freeze(in, 0);
	return (n);
}

/*
 * Ends the rests. A resting pipe of a live job is read once right here,
 * and rests again if that brought a little: a build printing slowly
 * costs one wakeup per rest, not a timer's and the pipe's, and no
 * epoll_ctl. An empty pipe, its end, an error, a dead job's pipe or a lot
 * of output goes back to the loop, which reads on or sees which it was.
 * The caller checks the job afterwards.
 */
static void
job_resume(struct job *job)
{
	struct bufferevent	*bev;
	int			 i;

	job->busy++;
	for (i = 0; i < 2; i++) {
		if ((bev = job->bev[i]) == NULL || !job->resting[i])
			continue;
		job->resting[i] = 0;
		if (!job->dead && job_read_now(bev) > 0)
			job_take(job, i);
		if (job->bev[i] != NULL && !job->resting[i] && !job->killed)
			bufferevent_enable(job->bev[i], EV_READ);
	}
	job->busy--;
}

/* The pause is over. */
static void
job_pace_cb(evutil_socket_t fd __unused, short events __unused, void *arg)
{
	struct job	*job = arg;

	job_resume(job);
	job_check(job);
}

/* A pipe reached EOF or failed: close it and see whether the job is done. */
static void
job_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct job	*job = arg;
	int		 i = bev == job->bev[0] ? 0 : 1;

	if (what & BEV_EVENT_ERROR)
		log_debug("job %ld: pipe %d: %s", (long)job->pid, i,
		    strerror(errno));
	/* Whatever is still buffered belongs to the output. */
	job_drain(job, bev);
	job_close_pipe(job, i);
	job_check(job);
}

/* The timeout: ask the group to stop, then force it. */
static void
job_timeout_cb(evutil_socket_t fd __unused, short events __unused, void *arg)
{
	struct job	*job = arg;
	struct timeval	 tv = { JOB_KILL_GRACE, 0 };

	if (job->dead)
		return;
	if (!job->timed_out) {
		log_debug("job %ld timed out", (long)job->pid);
		job->timed_out = 1;
		kill(-job->pid, SIGTERM);
		evtimer_add(job->timeout, &tv);
		return;
	}
	kill(-job->pid, SIGKILL);
}

/* The process is gone but something still holds its pipes: end that. */
static void
job_linger_cb(evutil_socket_t fd __unused, short events __unused, void *arg)
{
	struct job	*job = arg;

	log_debug("job %ld: pipes still open after exit", (long)job->pid);
	kill(-job->pid, SIGKILL);
	job_close_pipe(job, 0);
	job_close_pipe(job, 1);
	job_check(job);
}

/* The job named in a process's environment, or 0. */
static unsigned long
job_proc_mark(pid_t pid)
{
	char		*v, *end;
	unsigned long	 id;

	if ((v = proc_environ_value(pid, JOB_MARK, JOB_ENVIRON_MAX)) == NULL)
		return (0);
	id = strtoul(v, &end, 10);
	if (*end != '\0')
		id = 0;
	free(v);
	return (id);
}

/* Whether pid is a child we know: a job's process or a watched one. */
static int
job_known(pid_t pid)
{
	struct job		*job;
	struct job_watch	*w;

	LIST_FOREACH(job, &job_list, entry) {
		if (job->pid == pid && !job->dead)
			return (1);
	}
	LIST_FOREACH(w, &job_watches, entry) {
		if (w->pid == pid)
			return (1);
	}
	return (0);
}

/* Whether a running job may still own this orphan. */
static int
job_claimed(pid_t pid, pid_t pgrp, pid_t sid)
{
	struct job	*job;
	unsigned long	 id = 0;
	int		 read_mark = 0;

	LIST_FOREACH(job, &job_list, entry) {
		if (job->dead)
			continue;
		if (job->pid == pgrp || job->pid == sid)
			return (1);
		if (!read_mark) {
			id = job_proc_mark(pid);
			read_mark = 1;
		}
		if (id != 0 && job->id == id)
			return (1);
	}
	return (0);
}

/* Kills pid, an orphan of ours, unless it is ours to keep. */
static void
job_sweep_one(pid_t pid, void *arg)
{
	pid_t	self = *(pid_t *)arg, ppid, pgrp, sid;

	/* Our own children first: most are, and they cost no /proc read. */
	if (pid <= 1 || pid == self || job_known(pid) ||
	    proc_stat(pid, &ppid, &pgrp, &sid) == -1 ||
	    ppid != self || job_claimed(pid, pgrp, sid))
		return;
	log_info("killing process %ld, left behind by a build", (long)pid);
	if (pgrp == pid)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/*
 * Kills the orphans re-parented to us (we are their subreaper) that are
 * no child we started and that no running job may still own: what an
 * ended job left behind, out of its process group. Only the daemon's
 * children are looked at where the kernel lists them; else all of /proc.
 */
static void
job_sweep(void)
{
	pid_t	self = getpid();

	if (proc_children(self, job_sweep_one, &self) == -1)
		proc_each(job_sweep_one, &self);
}

/* A while after a job ended: what was re-parented late. */
static void
job_sweep_cb(evutil_socket_t fd __unused, short events __unused,
    void *arg __unused)
{
	job_sweep();
}

/* Records the exit of a job's process. */
static void
job_died(pid_t pid, int status)
{
	struct job	*job;
	struct timeval	 tv = { JOB_LINGER, 0 };
	struct timeval	 again = { JOB_SWEEP_AGAIN, 0 };

	LIST_FOREACH(job, &job_list, entry) {
		if (job->pid == pid)
			break;
	}
	if (job == NULL) {
		/* An orphan of ours died: its children are ours now. */
		log_debug("reaped unknown child %ld", (long)pid);
		job_sweep();
		return;
	}
	log_debug("job %ld %s", (long)pid, job_status_string(status));
	job->dead = 1;
	job->status = status;
	evtimer_del(job->timeout);
	/* What is left in the pipes is read now, not after a rest. */
	if (evtimer_pending(job->pace, NULL)) {
		evtimer_del(job->pace);
		job_resume(job);
	}
	/* Nothing a job started may outlive it, after success too. */
	kill(-job->pid, SIGKILL);
	job_sweep();
	if (job_sweep_ev != NULL)
		evtimer_add(job_sweep_ev, &again);
	if (!job->killed && (job->bev[0] != NULL || job->bev[1] != NULL))
		evtimer_add(job->linger, &tv);
	job_check(job);
}

/* Hands a reaped child to the module watching it; 0 if none is. */
static int
job_watched(pid_t pid, int status)
{
	struct job_watch	*w;
	void			(*cb)(pid_t, int, void *);
	void			*arg;

	LIST_FOREACH(w, &job_watches, entry) {
		if (w->pid == pid)
			break;
	}
	if (w == NULL)
		return (0);
	cb = w->cb;
	arg = w->arg;
	LIST_REMOVE(w, entry);
	free(w);
	cb(pid, status, arg);
	return (1);
}

/* Watches a child forked outside job_run; see job.h. */
void
job_watch_pid(pid_t pid, void (*cb)(pid_t, int, void *), void *arg)
{
	struct job_watch	*w;

	LIST_FOREACH(w, &job_watches, entry) {
		if (w->pid == pid)
			break;
	}
	if (w != NULL) {
		LIST_REMOVE(w, entry);
		free(w);
	}
	if (cb == NULL)
		return;
	w = xcalloc(1, sizeof *w);
	w->pid = pid;
	w->cb = cb;
	w->arg = arg;
	LIST_INSERT_HEAD(&job_watches, w, entry);
}

/* Reaps every exited child; see job.h. */
void
job_sigchld(void)
{
	pid_t	pid;
	int	status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if (!job_watched(pid, status))
			job_died(pid, status);
	}
}

/* Kills a job's group and forgets its callbacks; see job.h. */
void
job_kill(struct job *job)
{
	if (job->killed)
		return;
	job->killed = 1;
	kill(-job->pid, SIGKILL);
	job_close_pipe(job, 0);
	job_close_pipe(job, 1);
	evtimer_del(job->timeout);
	evtimer_del(job->linger);
	job_check(job);
}

/* Shutdown: kill every group and wait for every leader, blocking. */
void
job_killall(void)
{
	struct job	*job;
	int		 status;

	LIST_FOREACH(job, &job_list, entry)
		kill(-job->pid, SIGKILL);
	/* A free_cb may end other jobs: take the first one each time. */
	while ((job = LIST_FIRST(&job_list)) != NULL) {
		if (!job->dead) {
			while (waitpid(job->pid, &status, 0) == -1 &&
			    errno == EINTR)
				;
		}
		job_free(job);
	}
	job_sweep();
	if (job_sweep_ev != NULL) {
		event_free(job_sweep_ev);
		job_sweep_ev = NULL;
	}
}

/* Describes a wait status for logs and messages. */
const char *
job_status_string(int status)
{
	static char	buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof buf, "killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(buf, sizeof buf, "status %#x", status);
	return (buf);
}

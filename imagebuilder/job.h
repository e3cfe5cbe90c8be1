/*
 * job.h: child processes in the tmux job.c way. A job runs argv with
 * execve (never a shell) in its own process group (setsid), stdin from
 * /dev/null, stdout and stderr on two separate pipes read through
 * bufferevents. A per-job timer kills the whole group (SIGTERM, then
 * SIGKILL after a grace period). A job is complete only when both pipes
 * have reached EOF and the process was reaped; then complete_cb runs once
 * and the job is freed right after it returns, free_cb with it. When the
 * process is reaped, its group is killed, whatever its status: nothing a
 * job started outlives it. The daemon is the subreaper of its
 * descendants, so one that left the group (setsid) and lost its parent
 * becomes the daemon's child; such orphans are killed once no running job
 * can own them (by group, session, or the ASUD_JOB variable each job's
 * environment gets).
 */
#ifndef ASUD_JOB_H
#define ASUD_JOB_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct job;

#define JOB_STDOUT 1
#define JOB_STDERR 2

/* Output as it arrives; which is JOB_STDOUT or JOB_STDERR. */
typedef void (*job_output_cb)(struct job *, int which, const char *buf,
	    size_t len, void *arg);
/*
 * The end of a job: status is the waitpid status; timed_out is non-zero
 * when the timeout killed it.
 */
typedef void (*job_complete_cb)(struct job *, int status, int timed_out,
	    void *arg);
/* Frees the caller's argument once the job is gone (tmux's freecb). */
typedef void (*job_free_cb)(void *arg);

/*
 * Must be called once before the first job_run, with the daemon's base;
 * makes the process a child subreaper (Linux).
 */
void	job_init(struct event_base *);
/*
 * Starts argv[0] (looked up in PATH when it has no slash) in cwd with the
 * environment envp. timeout is in seconds (0: none). Returns NULL with
 * *cause set when the child cannot be started: not found in envp's PATH
 * (only absolute PATH entries are searched), cwd missing, exec failed;
 * arg then stays the caller's. Otherwise free_cb, unless NULL, is called
 * once with arg (unless NULL) when the job is freed: right after
 * complete_cb, or for a killed job once it is reaped (which may be within
 * job_kill), or in job_killall. job_run waits for the child's execve
 * (microseconds), never for the program. envp NULL means the daemon's
 * environment.
 */
struct job *job_run(char *const argv[], const char *cwd, char *const envp[],
	    int timeout, job_output_cb, job_complete_cb, job_free_cb,
	    void *arg, char **cause);
/*
 * Kills the job's process group. Its output and complete callbacks are
 * never called again; the job is freed (and free_cb called) once it is
 * reaped.
 */
void	job_kill(struct job *);
/*
 * Someone follows the job's output: from now on it arrives at most a
 * tenth of a second late, instead of a second.
 */
void	job_set_live(struct job *);
/*
 * Keeps the running process groups in a table in dir (pidtab.h); at the
 * call, the groups listed there by an earlier daemon of this boot (killed
 * with -9, say) are killed, so that a build interrupted by a crash cannot
 * collide with its rerun in the same ImageBuilder.
 */
void	job_set_piddir(const char *dir);
/* Reaps every exited child; called from the daemon's SIGCHLD event. */
void	job_sigchld(void);
/*
 * Has job_sigchld hand the wait status of pid, a child forked outside
 * job_run, to cb once it is reaped; the watch ends with that call. A NULL
 * cb removes the watch of pid.
 */
void	job_watch_pid(pid_t pid, void (*cb)(pid_t, int, void *), void *arg);
/*
 * Kills every running job (at shutdown) and waits for them to exit, with
 * no callbacks but free_cb. Every struct job is freed: cancel the builds
 * holding jobs first (build_cancel), not after.
 */
void	job_killall(void);
/* Describes a wait status: "exited 2", "killed by signal 9". */
const char *job_status_string(int status);

#endif

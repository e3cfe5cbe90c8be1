/*
 * runner.h: where the ImageBuilder's commands of a build run. The local
 * runner starts them as the daemon's own children (job.c); the Slurm
 * runner puts "srun --job-name=asud-<hash12> --quiet [--partition=P]
 * [args] --" before each, so that each runs as a job of the cluster while
 * srun, the daemon's child, carries its output on the same pipes and
 * ends with its exit status. Also here: cancelling a build's cluster job,
 * the jobs a crashed daemon left in the cluster, the checks at start, and
 * Slurm's reason when it ended a step itself. srun, squeue, scontrol and
 * scancel find the cluster from the daemon's environment (SLURM_CONF).
 */
#ifndef ASUD_RUNNER_H
#define ASUD_RUNNER_H

#include <stddef.h>

#include "lib/strv.h"

struct event_base;

/* The cluster job names: the prefix and 12 hex digits of the hash. */
#define RUNNER_NAME_PREFIX	"asud-"
#define RUNNER_NAME_HEX		12
#define RUNNER_NAME_SIZE	(sizeof RUNNER_NAME_PREFIX + RUNNER_NAME_HEX)
/* How the detail of a build that Slurm ended begins. */
#define RUNNER_LOST_PREFIX	"Build lost: Slurm "

enum runner_kind {
	RUNNER_LOCAL,
	RUNNER_SLURM
};

/* "local" or "slurm"; -1 with *cause for anything else. */
int	runner_kind_parse(const char *, enum runner_kind *, char **cause);
/*
 * Checks slurm_args: words of printable ASCII split on blanks, at most
 * a few dozen, none of them "--" (which would end srun's options). They
 * are argv words, never read by a shell.
 */
int	runner_args_check(const char *args, char **cause);
/* Checks slurm_partition: one word of Slurm's partition-name bytes. */
int	runner_partition_check(const char *partition, char **cause);
/*
 * Chooses the runner; partition and args (NULL: none) must have passed
 * their checks. The local runner is the default.
 */
void	runner_setup(enum runner_kind, const char *partition,
	    const char *args);
/* Forgets the settings (at stop and in tests). */
void	runner_reset(void);
/* Whether the Slurm runner is on. */
int	runner_slurm(void);
/*
 * Writes the job name of a build, "asud-" and the first 12 digits of its
 * request hash, into buf (RUNNER_NAME_SIZE bytes); -1 when hash does not
 * start with 12 lowercase hex digits.
 */
int	runner_name(const char *hash, char *buf, size_t size);
/* Appends the runner's prefix of each command to argv (none if local). */
void	runner_argv(struct strv *argv, const char *name);
/*
 * When a command ended because Slurm ended it (a cancel, a lost node, a
 * revoked allocation, a killed task, no allocation), the failure's
 * detail, allocated: RUNNER_LOST_PREFIX, what Slurm did, and
 * its own words from srun's and slurmstepd's lines at the end of the
 * command's stderr; NULL otherwise. Reads only the last bytes of err,
 * line by line, whatever they hold. Whatever the exit status: srun
 * exits 0 when the node of its step fails.
 */
char	*runner_lost(const char *err, size_t len);
/* Called once the cancelled job has left the queue. */
typedef void (*runner_gone_cb)(void *arg);
/*
 * Cancels the cluster job of that name and this user in the background
 * (scancel through job_run): after a timeout or a cancelled build, as
 * srun may not have ended it, and its step may still be running on its
 * node. Then, unless cb is NULL, squeue is asked every half second until
 * it no longer lists the job, for at most a minute, and cb(arg) is called
 * once, from base's loop (right away when nothing can be run). With the
 * local runner nothing is cancelled and cb, if set, is called before
 * runner_cancel returns.
 */
void	runner_cancel(struct event_base *base, const char *name,
	    runner_gone_cb cb, void *arg);
/*
 * The waits of runner_cancel with that arg (NULL: all of them) call back
 * no more; what they run ends and frees itself.
 */
void	runner_forget(void *arg);
/*
 * At start, with Slurm, before any build: srun, squeue, scancel and
 * scontrol run, the controller answers, and the jobs an earlier daemon
 * left (named asud-<12 hex>, this user's) are cancelled and gone.
 * Blocks, each step for a bounded time. -1 with *cause, one line.
 */
int	runner_start(char **cause);
/*
 * At stop, after the builds were cancelled and before job_killall: the
 * cluster jobs of this user and prefix are cancelled, blocking for a
 * bounded time, so that none outlives the daemon, and no wait of
 * runner_cancel calls back. Nothing if local.
 */
void	runner_stop(void);

#endif

/*
 * sandbox.h: the bubblewrap (bwrap) command line an ImageBuilder command
 * runs under, and the start-up check that bwrap works on this machine.
 * The system is read-only, /tmp and /run are private, the hidden
 * directories are empty, only the writable directories can be written,
 * and the command has its own PID, IPC, UTS, cgroup and (unless net is
 * set) network namespace; everything in it dies with its first process.
 */
#ifndef ASUD_SANDBOX_H
#define ASUD_SANDBOX_H

#include "lib/strv.h"

struct sandbox_spec {
	const char		*bwrap;	/* the program, a path or a PATH name */
	const struct strv	*hide;	/* replaced by empty directories */
	const struct strv	*rw;	/* writable (bound after the hiding) */
	const struct strv	*ro;	/* readable where present, if hidden */
	const struct strv	*shown;	/* readable even inside a hidden one */
	int			 net;	/* 1: the host's network */
};

/*
 * Appends bwrap and its options, ending with "--", to argv; the command
 * follows. Paths are resolved (realpath) first; a hidden or read-only
 * path that does not exist is left out, a read-only one inside a hidden
 * directory too. A shown one is bound read-only after the hiding, unless
 * it is or holds a hidden directory. The spec is not kept.
 */
void	sandbox_argv(struct strv *argv, const struct sandbox_spec *);
/*
 * Start-up only (it blocks, for at most a few seconds): runs `true` in
 * the sandbox spec describes. Returns 0 if it ran, or -1 with *cause
 * (bwrap's own message when it printed one).
 */
int	sandbox_probe(const struct sandbox_spec *, char **cause);

#endif

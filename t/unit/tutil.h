/*
 * tutil.h: helpers shared by the C unit tests: a clock, scratch
 * directories, the event loop the asynchronous tests run on, the state
 * of a directory tree for before-and-after checks, and a counter of the
 * store.
 */
#ifndef ASUD_TUTIL_H
#define ASUD_TUTIL_H

#include <stddef.h>
#include <stdlib.h>

#include "store/store.h"

struct event_base;

/* Seconds of the monotonic clock, from an arbitrary start. */
double	tutil_now(void);

/*
 * Makes a fresh directory "name.XXXXXX" in the current directory and
 * returns its real path, or prints "Bail out!" and exits.
 */
char	*tutil_scratch(const char *name);

/*
 * Makes the test's event loop: a base woken every tick_usec microseconds
 * (so that waits can check the clock) whose wake-ups tutil_ticks counts;
 * with on_sigchld given, SIGCHLD is handed to it on the loop (job_sigchld,
 * as the daemon's main() has it). One loop per test program.
 */
struct event_base *tutil_loop_init(long tick_usec, void (*on_sigchld)(void));
/* Frees what tutil_loop_init made. */
void	tutil_loop_free(void);
/* How often the loop's tick fired so far. */
int	tutil_ticks(void);
/* Runs the loop for a while regardless of what happens. */
void	tutil_spin(double seconds);
/*
 * Runs the loop until done(arg) is true or seconds pass: 0 when it is
 * done, -1 when time ran out.
 */
int	tutil_wait(int (*done)(void *), void *arg, double seconds);
/*
 * tutil_wait for a set of n records of size bytes each, done when the int
 * at offset off of every one is no longer 0 (a callback counter).
 */
int	tutil_wait_all(const void *recs, size_t n, size_t size, size_t off,
	    double seconds);

/*
 * Every entry below dir, sorted, one a line: "name mode sha256" for a
 * file, "name/ mode" for a directory (entered down to depth more levels,
 * any depth when depth is negative), "name -> target" for a symbolic
 * link, "name type T" for anything else. A new string.
 */
char	*tutil_tree_state(const char *dir, int depth);
/* A check that tutil_tree_state(dir, depth) is want. */
void	tutil_tree_is(const char *dir, int depth, const char *want,
	    const char *name);

/*
 * A counter of the store's meta names; -1 when it is absent. Inline, so
 * that only the tests that use it need the store's library: tutil.c
 * itself depends on lib/ and libevent only.
 */
static inline long long
tutil_counter(struct store *st, const char *name)
{
	void		*val = NULL;
	size_t		 len = 0;
	char		*cause = NULL;
	long long	 v = -1;

	if (store_meta_get(st, name, &val, &len, &cause) == 1)
		v = (long long)store_meta_counter(val, len);
	free(val);
	free(cause);
	return (v);
}

#endif

/*
 * unpack.h: extracts an ImageBuilder tarball (.tar.zst or .tar.xz) into a
 * new directory in a forked child, off the event loop. The single
 * top-level directory of the archive is stripped; absolute paths, ".."
 * components, entries outside that directory, links leaving the tree,
 * device files and fifos make the child refuse the whole archive.
 */
#ifndef ASUD_UNPACK_H
#define ASUD_UNPACK_H

#include <sys/types.h>

struct event_base;
struct unpack;

/*
 * The end of an extraction: ok is 1 on success, else error says why (it
 * names the offending entry when one was refused). The handle is freed
 * right after the callback returns.
 */
/* The file an unpacked tree's total size (bytes of file data) is left in. */
#define UNPACK_SIZE_FILE	".asud-size"

typedef void (*unpack_done_cb)(int ok, const char *error, void *arg);

/*
 * Creates dest_tmp (it must not exist) and extracts archive into it in a
 * child process. On failure the child removes dest_tmp before it exits.
 * Completion arrives through job_sigchld (the daemon's SIGCHLD event)
 * and the error pipe; the caller renames dest_tmp into place. Returns
 * NULL with *cause set when nothing could be started.
 */
struct unpack	*unpack_start(struct event_base *, const char *archive,
		    const char *dest_tmp, unpack_done_cb, void *arg,
		    char **cause);
/*
 * Stops the child, which removes dest_tmp and exits; the callback is never
 * called. The handle must not be used again.
 */
void		 unpack_cancel(struct unpack *);
/* The child's process id, for logs and tests. */
pid_t		 unpack_pid(const struct unpack *);

#endif

/*
 * outcome.h: the step from a build's result to what is kept and answered:
 * the 200 and 500 bodies (the reference's fields), the images moved into
 * the store (regular files only), the statistics counted, the final
 * record and compressed log written to the store, and the record deleted
 * again when its time is up; which failures are the request's (kept) and
 * which the server's (not kept).
 */
#ifndef ASUD_OUTCOME_H
#define ASUD_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "server/metrics.h"

struct asud;
struct build_result;
struct evbuffer;
struct request;
struct strv;

/* Tells the build log (and its followers) one line, without newline. */
typedef void (*outcome_note_cb)(const char *line, void *arg);

/* One build as the scheduler holds it (everything borrowed). */
struct outcome_job {
	const char		*hash;
	const struct request	*req;
	const char		*profile_id;
	const char		*request_json;	/* normalised, NUL-terminated */
	size_t			 request_len;
	int			 klass;
	long long		 enqueued_ms;
	long long		 started_ms;	/* into the ImageBuilder */
	uint64_t		 qkey;		/* its queue entry */
	const char		*phase;		/* the last one reached */
	const char		*revision;	/* of its ImageBuilder */
	struct evbuffer		*log;		/* its output, or NULL */
	const char		*bin_dir;	/* where the images were made */
	outcome_note_cb		 note;		/* files left out are told */
	void			*note_arg;
};

/* What outcome_done made of a successful build. */
enum outcome_done {
	OUTCOME_OK,		/* *body is the 200 */
	OUTCOME_FAILED,		/* *msg is why the build failed after all */
	OUTCOME_NO_ROOM		/* *msg: the images did not fit in the store */
};

/*
 * The 500 body of a failed build: msg (without "Error: "), the last
 * command's output and its build_cmd (NULL: none). Allocated, *len long.
 */
char	*outcome_fail_body(const struct outcome_job *, const char *msg,
	    const char *out, const char *err, const struct strv *build_cmd,
	    size_t *len);
/*
 * A build whose ImageBuilder said it succeeded: finds the built profile
 * in its profiles.json, moves the images into the store under the hash
 * and makes the 200 body, then counts the success. *body or *msg is
 * allocated (the caller frees both).
 */
enum outcome_done outcome_done(struct asud *, const struct outcome_job *,
	    const struct build_result *, char **body, size_t *len,
	    char **msg);
/*
 * Why a build failed with msg, its last command timed out or killed by a
 * signal asud did not send (struct build_result's flags; 0 when none ran).
 */
enum metrics_failure outcome_classify(const char *msg, int timed_out,
	    int signalled);
/*
 * True when a failure of that kind is the request's own: kept as its
 * answer for build_failure_ttl. The server's (the ImageBuilder not set
 * up, a timeout, a full disk, a lost build) are answered from memory for
 * a while and the next POST of the request builds again (see lost.h).
 */
int	outcome_kept(enum metrics_failure);
/* Says and counts that a build failed with msg, for reason why. */
void	outcome_failed(struct asud *, const struct outcome_job *,
	    const char *msg, enum metrics_failure why);
/*
 * Writes the final record (state RECORD_DONE or RECORD_FAILED, with the
 * answer body and the time it expires) and the compressed log, and
 * removes the queue entry, in one transaction. 0, or -1 with *cause.
 */
int	outcome_store(struct asud *, const struct outcome_job *, int state,
	    const char *body, size_t len, char **cause);
/* Deletes the finished records whose time is up, with their images. */
void	outcome_sweep(struct asud *);

#endif

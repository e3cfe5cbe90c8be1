/*
 * validate.h: the checks a new build request passes before it is queued,
 * in the reference's order (reference/asu-api.md §3): defaults, repository
 * allow-list, distro, branch, version, target, profile. Versions, targets
 * and profiles come from upstream metadata and from the ImageBuilders on
 * disk; a miss refetches the relevant upstream file once before the 400.
 */
#ifndef ASUD_VALIDATE_H
#define ASUD_VALIDATE_H

struct asud;
struct request;

/*
 * code is 0 when the request is valid (profile_id is the canonical
 * profile, ib_dir the ImageBuilder on disk or NULL), else the HTTP status
 * (400, or 503 when upstream is needed and unreachable) with msg.
 */
typedef void (*validate_done_cb)(int code, const char *msg,
	    const char *profile_id, const char *ib_dir, void *arg);

/*
 * Validates r (which must stay valid until done is called). done may be
 * called before validate_start returns.
 */
void	validate_start(struct asud *, const struct request *r,
	    validate_done_cb done, void *arg);
/* Rescans the ImageBuilders on disk, at most every two seconds. */
int	validate_rescan(struct asud *);
/* Adds the branches of versions on disk to the configuration. */
void	validate_disk_branches(struct asud *);

#endif

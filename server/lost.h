/*
 * lost.h: results that are not kept, and the full disk that is mostly
 * why. A build whose result could not be stored, that ran out of disk
 * space, or that failed through the server's fault (outcome_kept) is
 * answered with a 500 kept in memory for a while (not cached in the
 * store); its queued record is deleted as soon as the store lets us, and
 * the request posted again builds again. A full disk is said once and
 * looked at again every few seconds until there is space again.
 */
#ifndef ASUD_LOST_H
#define ASUD_LOST_H

#include <stddef.h>

struct asud;
struct evbuffer;
struct lost;

/* The lost results of a, with their timer. */
struct lost	*lost_new(struct asud *a);
/* Forgets every lost result and frees. */
void		 lost_free(struct lost *);
/*
 * Answers hash with body (taken; len bytes) from now on: its queued
 * record and its images go (the record maybe later), and detail is said.
 */
void		 lost_add(struct lost *, const char *hash, char *body,
		    size_t len, const char *detail);
/* The body of hash (valid until the next turn of the loop); 1 if any. */
int		 lost_answer(struct lost *, const char *hash,
		    const char **body, size_t *len);
/*
 * Forgets the lost result of hash once its queued record is gone from the
 * store. 0 (also when there is none), or -1 with *cause.
 */
int		 lost_forget(struct lost *, const char *hash, char **cause);
/* Remembers (and says once) that the disk or the store is full. */
void		 lost_disk_full_set(struct lost *, const char *cause);
/* Why the disk or the store is full, or NULL while it is not. */
const char	*lost_disk_full(struct lost *);
/*
 * True when a failed build ran out of disk space: its log says so and the
 * file system of the builds, or of the ImageBuilder ib_dir, is low.
 */
int		 lost_no_space(struct lost *, struct evbuffer *log,
		    const char *ib_dir);

#endif

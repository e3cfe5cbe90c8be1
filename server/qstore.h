/*
 * qstore.h: the queue as the store keeps it. A request is durable once
 * qstore_commit wrote its queued record and queue entry together; after
 * a start, qstore_restore hands every queued request back in queue order,
 * and drops the entries that make no sense any more.
 */
#ifndef ASUD_QSTORE_H
#define ASUD_QSTORE_H

#include <stdint.h>

struct record;
struct store;

/*
 * One queued request read back (r is valid during the call only); 0, or
 * -1 with *cause when it cannot be queued again: its entry is dropped.
 */
typedef int (*qstore_cb)(uint64_t qkey, const char *hash,
	    const struct record *r, void *arg, char **cause);

/*
 * Writes the queued record r of hash and its queue entry (r->qkey) in
 * one transaction; 0, or -1 with *cause.
 */
int	qstore_commit(struct store *, const char *hash, const struct record *r,
	    char **cause);
/* Calls cb for every queue entry, in queue order; 0, or -1 with *cause. */
int	qstore_restore(struct store *, qstore_cb cb, void *arg, char **cause);

#endif

/*
 * qstore.c: queued records written at submit and read back after a
 * start. The queue is read whole before any record is, since no store
 * call may run inside a foreach.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/qstore.h"
#include "server/record.h"

/* One queue entry as the store lists it. */
struct qstore_item {
	uint64_t	qkey;
	char		hash[65];
};

/* The queue entries, in queue order. */
struct qstore_list {
	struct qstore_item	*v;
	size_t			 n;
};

/* Writes a queued record and its queue entry. */
int
qstore_commit(struct store *st, const char *hash, const struct record *r,
    char **cause)
{
	void	*rec;
	size_t	 len;
	int	 rc;

	rec = record_encode(r, &len);
	rc = store_enqueue(st, hash, rec, len, r->qkey, cause);
	free(rec);
	return (rc);
}

/* Collects queue entries (no store calls inside a foreach). */
static int
qstore_collect(uint64_t qkey, const char *hash, void *arg)
{
	struct qstore_list	*l = arg;

	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n].qkey = qkey;
	snprintf(l->v[l->n].hash, sizeof l->v[l->n].hash, "%s", hash);
	l->n++;
	return (0);
}

/* Hands one entry back; drops it when it makes no sense. */
static void
qstore_restore_one(struct store *st, uint64_t qkey, const char *hash,
    qstore_cb cb, void *arg)
{
	struct record	 r;
	void		*val = NULL;
	size_t		 len;
	char		*cause = NULL;
	int		 rc = -1;

	if (store_record_get(st, hash, &val, &len, &cause) == 1 &&
	    record_decode(val, len, &r) == 0 && r.state == RECORD_QUEUED)
		rc = cb(qkey, hash, &r, arg, &cause);
	free(val);
	if (rc == 0)
		return;
	log_warnx("dropping queue entry %.12s: %s", hash,
	    cause != NULL ? cause : "no queued record");
	free(cause);
	cause = NULL;
	if (store_queue_del(st, qkey, hash, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
	}
}

/* Reads the persisted queue back after a start. */
int
qstore_restore(struct store *st, qstore_cb cb, void *arg, char **cause)
{
	struct qstore_list	l = { NULL, 0 };
	size_t			i;

	if (store_queue_foreach(st, qstore_collect, &l, cause) == -1)
		return (-1);
	for (i = 0; i < l.n; i++)
		qstore_restore_one(st, l.v[i].qkey, l.v[i].hash, cb, arg);
	if (l.n > 0)
		log_info("restored %zu queued builds", l.n);
	free(l.v);
	return (0);
}

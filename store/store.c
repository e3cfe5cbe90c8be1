/*
 * store.c: asud's durable state, kept in one LMDB environment.
 *
 * Every public function runs one short transaction through struct txn
 * (txn.c), which carries a sticky error in the Knot way: once an
 * operation fails the later ones do nothing, the commit turns into an
 * abort, and the caller looks at one result at the end. Writes use LMDB's
 * default durability: when a write returns 0 the data survives a crash or
 * a power loss, which is what a 202 promises.
 */
#include <sys/types.h>

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "store/storedb.h"
#include "store/txn.h"

#define STORE_QKEY_LEN		(8 + STORE_HASH_LEN)

/*
 * One walk over the records, the queue or the meta names under prefix:
 * exactly one cb is set.
 */
struct store_walk {
	store_record_cb	 record_cb;
	store_queue_cb	 queue_cb;
	store_meta_cb	 meta_cb;
	const char	*prefix;	/* meta_cb: where the cursor starts */
	void		*arg;
};

/* A value copied out by store_copy. */
struct store_copy {
	char	*buf;
	size_t	 len;
};

/* The slice of a log that store_log_read copies. */
struct store_slice {
	size_t	 offset;
	void	*buf;
	size_t	 cap;	/* bytes of buf */
	size_t	 n;	/* bytes copied */
	size_t	 total;	/* the log's size */
};

/* A batch of meta changes, for store_write. */
struct store_batch {
	const struct store_meta_op	*ops;
	size_t				 n;
};

/* The changes of one write transaction, for store_write. */
typedef void (*store_write_cb)(struct store *, struct txn *, const void *);

static int	store_name_check(const char *, size_t *, char **);
static void	store_qkey_make(unsigned char *, uint64_t, const char *);
static void	store_unqueue(struct store *, struct txn *, const char *);
static int	store_view(struct store *, MDB_dbi, const void *, size_t,
		    store_view_cb, void *, const char *, char **);
static void	store_copy_cb(const void *, size_t, void *);
static int	store_copy(struct store *, MDB_dbi, const void *, size_t,
		    void **, size_t *, char **);
static int	store_hash_copy(struct store *, MDB_dbi, const char *,
		    void **, size_t *, char **);
static int	store_write(struct store *, store_write_cb, const void *,
		    int, char **);
static int	store_open_dbs(struct store *, char **);
static int	store_walk_meta(struct store_walk *, const MDB_val *,
		    const MDB_val *);
static int	store_walk_visit(struct store_walk *, const MDB_val *,
		    const MDB_val *);
static int	store_walk(struct store *, MDB_dbi, struct store_walk *,
		    const char *, char **);
static int	store_walk_hashes(struct store *, store_record_cb,
		    store_queue_cb, void *, char **);
static int	store_record_begin(struct store *, struct txn *,
		    const char *, const void *, size_t, char **);
static void	store_record_drop(struct store *, struct txn *,
		    const void *);
static void	store_queue_drop(struct store *, struct txn *,
		    const void *);
static void	store_slice_cb(const void *, size_t, void *);
static int	store_meta_check(const struct store_meta_op *, size_t,
		    int *, char **);
static void	store_meta_do(struct store *, struct txn *,
		    const struct store_meta_op *);
static void	store_meta_batch(struct store *, struct txn *,
		    const void *);

/* Refuses anything but 64 lowercase hex digits (defence in depth). */
int
store_hash_check(const char *hash, char **cause)
{
	if (hash == NULL || strnlen(hash, STORE_HASH_LEN + 1) !=
	    STORE_HASH_LEN || !text_is_hex64(hash)) {
		*cause = xstrdup("store: invalid hash (want 64 lowercase "
		    "hex digits)");
		return (-1);
	}
	return (0);
}

/* Refuses meta names that are empty or longer than 200 bytes. */
static int
store_name_check(const char *name, size_t *len, char **cause)
{
	if (name == NULL || (*len = strnlen(name, STORE_META_MAX + 1)) == 0 ||
	    *len > STORE_META_MAX) {
		xasprintf(cause, "store: invalid meta name (want 1 to %d "
		    "bytes)", STORE_META_MAX);
		return (-1);
	}
	return (0);
}

/* Writes v big-endian so that byte order is numeric order. */
void
store_be64_put(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

/* Reads a big-endian 64-bit number. */
uint64_t
store_be64_get(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* Builds a queue key: the big-endian sort key, then the hash. */
static void
store_qkey_make(unsigned char *key, uint64_t qkey, const char *hash)
{
	store_be64_put(key, qkey);
	memcpy(key + 8, hash, STORE_HASH_LEN);
}

/* Removes every queue entry of hash: collects their keys, then deletes. */
static void
store_unqueue(struct store *s, struct txn *t, const char *hash)
{
	unsigned char	 key[STORE_QKEY_LEN];
	uint64_t	*found = NULL;
	size_t		 n = 0, i;
	MDB_cursor	*c;
	MDB_cursor_op	 op = MDB_FIRST;
	MDB_val		 k, v;
	int		 rc;

	if (t->ret != 0)
		return;
	if ((rc = mdb_cursor_open(t->txn, s->queue, &c)) != 0) {
		txn_fail(t, rc, "scan the queue");
		return;
	}
	while ((rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size != STORE_QKEY_LEN ||
		    memcmp((char *)k.mv_data + 8, hash, STORE_HASH_LEN) != 0)
			continue;
		found = xreallocarray(found, n + 1, sizeof *found);
		found[n++] = store_be64_get(k.mv_data);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		txn_fail(t, rc, "scan the queue");
	for (i = 0; i < n; i++) {
		store_qkey_make(key, found[i], hash);
		txn_del(t, s->queue, key, sizeof key, "delete a queue entry");
	}
	free(found);
}

/*
 * Runs cb on the value of key in dbi inside a read transaction, without a
 * copy; 1 found, 0 not, -1 error. cb must not write to the store.
 */
static int
store_view(struct store *s, MDB_dbi dbi, const void *key, size_t klen,
    store_view_cb cb, void *arg, const char *what, char **cause)
{
	struct txn	 t;
	MDB_val		 v;
	int		 found;

	txn_begin(&s->e, &t, 0);
	found = txn_get(&t, dbi, key, klen, &v, what);
	if (found) {
		s->e.incb++;
		cb(v.mv_data, v.mv_size, arg);
		s->e.incb--;
	}
	if (txn_end(&t, cause) != 0)
		return (-1);
	return (found);
}

/* Copies a value out, with a NUL past its end. */
static void
store_copy_cb(const void *val, size_t len, void *arg)
{
	struct store_copy	*c = arg;

	c->buf = xmalloc(len + 1);
	if (len > 0)
		memcpy(c->buf, val, len);
	c->buf[len] = '\0';
	c->len = len;
}

/* Copies one value out (NUL past the end); 1 found, 0 not, -1 error. */
static int
store_copy(struct store *s, MDB_dbi dbi, const void *key, size_t klen,
    void **val, size_t *len, char **cause)
{
	struct store_copy	c;
	int			found;

	memset(&c, 0, sizeof c);
	found = store_view(s, dbi, key, klen, store_copy_cb, &c,
	    "read a value", cause);
	if (found != 1) {
		free(c.buf);
		return (found);
	}
	*val = c.buf;
	*len = c.len;
	return (1);
}

/* Copies the value of a checked hash out of dbi. */
static int
store_hash_copy(struct store *s, MDB_dbi dbi, const char *hash, void **val,
    size_t *len, char **cause)
{
	if (store_hash_check(hash, cause) != 0)
		return (-1);
	return (store_copy(s, dbi, hash, STORE_HASH_LEN, val, len, cause));
}

/*
 * Runs cb in one write transaction. A batch of deletes (may_grow) that hit
 * a full map runs once more in a slightly larger one (see txn_grow).
 */
static int
store_write(struct store *s, store_write_cb cb, const void *arg,
    int may_grow, char **cause)
{
	struct txn	t;
	int		retried = 0;

	for (;;) {
		txn_begin(&s->e, &t, 1);
		cb(s, &t, arg);
		if (txn_end(&t, cause) == 0)
			return (0);
		if (!may_grow || retried++ || !txn_grow(&s->e, &t, cause))
			return (-1);
	}
}

/* Creates or opens the named databases in one write transaction. */
static int
store_open_dbs(struct store *s, char **cause)
{
	const char	*names[] = {
		"records", "queue", "logs", "meta", "downloads"
	};
	MDB_dbi		*dbis[] = {
		&s->records, &s->queue, &s->logs, &s->meta, &s->downloads
	};
	struct txn	 t;
	size_t		 i;
	int		 rc;

	txn_begin(&s->e, &t, 1);
	for (i = 0; i < nitems(names) && t.ret == 0; i++) {
		rc = mdb_dbi_open(t.txn, names[i], MDB_CREATE, dbis[i]);
		if (rc != 0)
			txn_fail(&t, rc, "open the named databases");
	}
	return (txn_end(&t, cause));
}

/* Hands one meta name under the prefix to the caller; past it, stops. */
static int
store_walk_meta(struct store_walk *w, const MDB_val *k, const MDB_val *v)
{
	char	name[STORE_META_MAX + 1];
	size_t	plen = strlen(w->prefix);

	if (k->mv_size < plen || memcmp(k->mv_data, w->prefix, plen) != 0)
		return (1);
	if (k->mv_size > STORE_META_MAX)
		return (0);
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = '\0';
	return (w->meta_cb(name, v->mv_data, v->mv_size, w->arg));
}

/* Hands one record, queue entry or meta value to the caller; 1 stops. */
static int
store_walk_visit(struct store_walk *w, const MDB_val *k, const MDB_val *v)
{
	const char	*key = k->mv_data;
	char		 hash[STORE_HASH_LEN + 1];

	if (w->meta_cb != NULL)
		return (store_walk_meta(w, k, v));
	if (w->record_cb != NULL) {
		if (k->mv_size != STORE_HASH_LEN) {
			log_warnx("store: skipping a record with a bad key");
			return (0);
		}
	} else if (k->mv_size != STORE_QKEY_LEN) {
		log_warnx("store: skipping a bad queue entry");
		return (0);
	} else
		key += 8;
	if (!text_is_hex64(key)) {
		log_warnx("store: skipping an entry with a bad hash");
		return (0);
	}
	memcpy(hash, key, STORE_HASH_LEN);
	hash[STORE_HASH_LEN] = '\0';
	if (w->record_cb != NULL)
		return (w->record_cb(hash, v->mv_data, v->mv_size, w->arg));
	return (w->queue_cb(store_be64_get(k->mv_data), hash, w->arg));
}

/*
 * Walks one database in key order inside one read transaction, from the
 * first key or, with a prefix, from the prefix itself.
 */
static int
store_walk(struct store *s, MDB_dbi dbi, struct store_walk *w,
    const char *what, char **cause)
{
	struct txn	 t;
	MDB_cursor	*c = NULL;
	MDB_val		 k, v;
	MDB_cursor_op	 op = MDB_FIRST;
	int		 rc = 0, stop = 0;

	txn_begin(&s->e, &t, 0);
	if (t.ret == 0 && (rc = mdb_cursor_open(t.txn, dbi, &c)) != 0)
		txn_fail(&t, rc, what);
	if (t.ret != 0)
		return (txn_end(&t, cause));
	if (w->prefix != NULL && *w->prefix != '\0') {
		k.mv_data = (void *)w->prefix;
		k.mv_size = strlen(w->prefix);
		op = MDB_SET_RANGE;
	}
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		s->e.incb++;
		stop = store_walk_visit(w, &k, &v);
		s->e.incb--;
	}
	mdb_cursor_close(c);
	if (!stop && rc != MDB_NOTFOUND)
		txn_fail(&t, rc, what);
	return (txn_end(&t, cause));
}

/* Walks the records (record_cb set) or the queue (queue_cb set). */
static int
store_walk_hashes(struct store *s, store_record_cb record_cb,
    store_queue_cb queue_cb, void *arg, char **cause)
{
	struct store_walk	w = { record_cb, queue_cb, NULL, NULL, arg };

	if (record_cb != NULL)
		return (store_walk(s, s->records, &w, "list the records",
		    cause));
	return (store_walk(s, s->queue, &w, "list the queue", cause));
}

/* The LMDB version asud was built with, as "MAJOR.MINOR.PATCH". */
const char *
store_version(void)
{
	static char	version[32];

	snprintf(version, sizeof version, "%d.%d.%d", MDB_VERSION_MAJOR,
	    MDB_VERSION_MINOR, MDB_VERSION_PATCH);
	return (version);
}

/* Opens (creating if needed) the one environment of this process. */
int
store_open(struct store **sp, const char *dir, size_t mapsize, char **cause)
{
	struct store	*s;

	if (fs_mkdirs(dir, 0700) != 0) {
		xasprintf(cause, "store: create %s: %s", dir, strerror(errno));
		return (-1);
	}
	s = xcalloc(1, sizeof *s);
	if (txn_env_open(&s->e, dir, mapsize, STORE_MAXDBS, cause) != 0) {
		free(s);
		return (-1);
	}
	if (store_open_dbs(s, cause) != 0) {
		store_close(s);
		return (-1);
	}
	*sp = s;
	return (0);
}

/* Closes the environment; the store must not be used afterwards. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	txn_env_close(&s->e);
	free(s);
}

/* Installs the record watch. */
void
store_set_watch(struct store *s, store_watch_cb cb, void *arg)
{
	s->watch = cb;
	s->watch_arg = arg;
}

/* Whether the last write failed for lack of room, none succeeding since. */
int
store_full(struct store *s)
{
	return (s->e.full);
}

/* Write transactions that failed since the store was opened. */
uint64_t
store_write_failures(struct store *s)
{
	return (s->e.wfail);
}

/* Tells the watch that the record of hash was written; passes rc on. */
static int
store_changed(struct store *s, const char *hash, int rc)
{
	if (s->watch != NULL)
		s->watch(hash, s->watch_arg);
	return (rc);
}

/*
 * Runs cb on the record of hash inside a read transaction, without a copy:
 * the hot path of a status poll. cb must not write to the store.
 */
int
store_record_view(struct store *s, const char *hash, store_view_cb cb,
    void *arg, char **cause)
{
	if (store_hash_check(hash, cause) != 0)
		return (-1);
	return (store_view(s, s->records, hash, STORE_HASH_LEN, cb, arg,
	    "read a record", cause));
}

/* Copies the record of hash out of the store. */
int
store_record_get(struct store *s, const char *hash, void **val, size_t *len,
    char **cause)
{
	return (store_hash_copy(s, s->records, hash, val, len, cause));
}

/*
 * Starts the write transaction t that writes or replaces the record of
 * hash; -1, with nothing started, for a bad hash.
 */
static int
store_record_begin(struct store *s, struct txn *t, const char *hash,
    const void *rec, size_t reclen, char **cause)
{
	if (store_hash_check(hash, cause) != 0)
		return (-1);
	txn_begin(&s->e, t, 1);
	txn_put(t, s->records, hash, STORE_HASH_LEN, rec, reclen,
	    "write a record");
	return (0);
}

/* Writes or replaces the record of hash. */
int
store_record_put(struct store *s, const char *hash, const void *val,
    size_t len, char **cause)
{
	struct txn	t;

	if (store_record_begin(s, &t, hash, val, len, cause) != 0)
		return (-1);
	return (store_changed(s, hash, txn_end(&t, cause)));
}

/* The deletes of store_record_del. */
static void
store_record_drop(struct store *s, struct txn *t, const void *arg)
{
	const char	*hash = arg;

	txn_del(t, s->records, hash, STORE_HASH_LEN, "delete a record");
	txn_del(t, s->logs, hash, STORE_HASH_LEN, "delete a log");
	store_unqueue(s, t, hash);
	store_downloads_drop(s, t, hash);
}

/*
 * Forgets a build entirely: its record, its log, its queue entries and
 * its download counts.
 * Works on a full store too (see txn_grow).
 */
int
store_record_del(struct store *s, const char *hash, char **cause)
{
	if (store_hash_check(hash, cause) != 0)
		return (-1);
	return (store_changed(s, hash, store_write(s, store_record_drop, hash,
	    1, cause)));
}

/*
 * Visits every record in hash order inside one read transaction; keys that
 * are not hashes are skipped. cb must not write to the store.
 */
int
store_record_foreach(struct store *s, store_record_cb cb, void *arg,
    char **cause)
{
	return (store_walk_hashes(s, cb, NULL, arg, cause));
}

/* See store.h. */
void
store_set_rider(struct store *s, store_rider_get_cb get,
    store_rider_done_cb done, void *arg)
{
	s->rider_get = get;
	s->rider_done = done;
	s->rider_arg = arg;
}

/* Adds the rider's pending meta changes to t; 1 when some were added. */
static int
store_ride(struct store *s, struct txn *t)
{
	struct store_batch	 b;
	char			*cause = NULL;
	int			 alldel;

	if (s->rider_get == NULL || t->ret != 0 ||
	    (b.n = s->rider_get(s->rider_arg, &b.ops)) == 0)
		return (0);
	if (store_meta_check(b.ops, b.n, &alldel, &cause) != 0) {
		free(cause);
		s->rider_done(s->rider_arg, 0);
		return (0);
	}
	store_meta_batch(s, t, &b);
	return (1);
}

/*
 * Ends t, with the rider's changes if ride and it has some. 0 when it
 * was committed; 1 when it failed with them (try once more without);
 * -1 when it failed without them.
 */
static int
store_ride_end(struct store *s, struct txn *t, int ride, char **cause)
{
	int	rode = ride && store_ride(s, t), rc;

	rc = txn_end(t, cause);
	if (rode)
		s->rider_done(s->rider_arg, rc == 0);
	if (rc == 0 || !rode)
		return (rc == 0 ? 0 : -1);
	free(*cause);
	*cause = NULL;
	return (1);
}

/* Accepts a build: its record and its queue entry in one transaction. */
int
store_enqueue(struct store *s, const char *hash, const void *rec,
    size_t reclen, uint64_t qkey, char **cause)
{
	struct txn	t;
	unsigned char	key[STORE_QKEY_LEN];
	int		ride = 1, rc;

	do {
		if (store_record_begin(s, &t, hash, rec, reclen,
		    cause) != 0)
			return (-1);
		store_qkey_make(key, qkey, hash);
		txn_put(&t, s->queue, key, sizeof key, "", 0,
		    "write a queue entry");
		rc = store_ride_end(s, &t, ride, cause);
		ride = 0;
	} while (rc == 1);
	return (store_changed(s, hash, rc));
}

/* Ends a build: new record, its log and no queue entry, all at once. */
int
store_finish(struct store *s, const char *hash, uint64_t qkey,
    const void *rec, size_t reclen, const void *log, size_t loglen,
    char **cause)
{
	struct txn	t;
	unsigned char	key[STORE_QKEY_LEN];
	int		ride = 1, rc;

	do {
		if (store_record_begin(s, &t, hash, rec, reclen,
		    cause) != 0)
			return (-1);
		store_qkey_make(key, qkey, hash);
		if (log != NULL)
			txn_put(&t, s->logs, hash, STORE_HASH_LEN, log,
			    loglen, "write a log");
		txn_del(&t, s->queue, key, sizeof key,
		    "delete a queue entry");
		rc = store_ride_end(s, &t, ride, cause);
		ride = 0;
	} while (rc == 1);
	return (store_changed(s, hash, rc));
}

/* The delete of store_queue_del: key is a queue key. */
static void
store_queue_drop(struct store *s, struct txn *t, const void *key)
{
	txn_del(t, s->queue, key, STORE_QKEY_LEN, "delete a queue entry");
}

/* Removes one queue entry; gone already is fine; a full store is too. */
int
store_queue_del(struct store *s, uint64_t qkey, const char *hash,
    char **cause)
{
	unsigned char	key[STORE_QKEY_LEN];

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_qkey_make(key, qkey, hash);
	return (store_write(s, store_queue_drop, key, 1, cause));
}

/*
 * Visits the queue in key order inside one read transaction; malformed
 * keys are skipped. cb must not write to the store: collect, then act.
 */
int
store_queue_foreach(struct store *s, store_queue_cb cb, void *arg,
    char **cause)
{
	return (store_walk_hashes(s, NULL, cb, arg, cause));
}

/* Copies the stored (compressed) log of hash out of the store. */
int
store_log_get(struct store *s, const char *hash, void **val, size_t *len,
    char **cause)
{
	return (store_hash_copy(s, s->logs, hash, val, len, cause));
}

/* Copies the slice of a log that store_log_read asks for. */
static void
store_slice_cb(const void *val, size_t len, void *arg)
{
	struct store_slice	*sl = arg;

	if (sl->offset < len)
		sl->n = len - sl->offset < sl->cap ? len - sl->offset :
		    sl->cap;
	if (sl->n > 0)
		memcpy(sl->buf, (const char *)val + sl->offset, sl->n);
	sl->total = len;
}

/*
 * Copies a slice of the stored log of hash, so that a reader of a large
 * log holds only the piece it is sending, never the whole log, and no read
 * transaction outlives the call.
 */
int
store_log_read(struct store *s, const char *hash, size_t offset, void *buf,
    size_t *len, size_t *total, char **cause)
{
	struct store_slice	sl;
	int			found;

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	memset(&sl, 0, sizeof sl);
	sl.offset = offset;
	sl.buf = buf;
	sl.cap = *len;
	found = store_view(s, s->logs, hash, STORE_HASH_LEN, store_slice_cb,
	    &sl, "read a log", cause);
	if (found == -1)
		return (-1);
	if (found)
		*total = sl.total;
	*len = sl.n;
	return (found);
}

/* Copies a named value out of the store. */
int
store_meta_get(struct store *s, const char *name, void **val, size_t *len,
    char **cause)
{
	size_t	nlen;

	if (store_name_check(name, &nlen, cause) != 0)
		return (-1);
	return (store_copy(s, s->meta, name, nlen, val, len, cause));
}

/* Writes or replaces a named value. */
int
store_meta_put(struct store *s, const char *name, const void *val,
    size_t len, char **cause)
{
	struct txn	t;
	size_t		nlen;

	if (store_name_check(name, &nlen, cause) != 0)
		return (-1);
	txn_begin(&s->e, &t, 1);
	txn_put(&t, s->meta, name, nlen, val, len, "write a meta value");
	return (txn_end(&t, cause));
}

/* Decodes an 8-byte big-endian counter; anything else reads as 0. */
uint64_t
store_meta_counter(const void *val, size_t len)
{
	if (val == NULL || len != 8)
		return (0);
	return (store_be64_get(val));
}

/* Adds delta to a counter inside a write transaction. */
void
store_counter_add(struct store *s, struct txn *t, const char *name,
    size_t nlen, uint64_t delta)
{
	unsigned char	buf[8];
	MDB_val		v;
	uint64_t	cur = 0;

	if (txn_get(t, s->meta, name, nlen, &v, "read a counter")) {
		if (v.mv_size != 8)
			log_warnx("store: meta %.*s is not a counter; "
			    "restarting it", (int)nlen, name);
		cur = store_meta_counter(v.mv_data, v.mv_size);
	}
	store_be64_put(buf, cur + delta);
	txn_put(t, s->meta, name, nlen, buf, sizeof buf, "write a counter");
}

/* Checks every op of a batch first; tells whether all are deletes. */
static int
store_meta_check(const struct store_meta_op *ops, size_t n, int *alldel,
    char **cause)
{
	size_t	i, nlen;

	*alldel = 1;
	for (i = 0; i < n; i++) {
		if (store_name_check(ops[i].name, &nlen, cause) != 0)
			return (-1);
		if (ops[i].op != STORE_META_PUT && ops[i].op !=
		    STORE_META_ADD && ops[i].op != STORE_META_DEL) {
			xasprintf(cause, "store: unknown meta op %d",
			    ops[i].op);
			return (-1);
		}
		if (ops[i].op != STORE_META_DEL)
			*alldel = 0;
	}
	return (0);
}

/* Runs one checked op of a batch. */
static void
store_meta_do(struct store *s, struct txn *t, const struct store_meta_op *op)
{
	size_t	nlen = strlen(op->name);

	switch (op->op) {
	case STORE_META_PUT:
		txn_put(t, s->meta, op->name, nlen, op->val, op->len,
		    "write a meta value");
		break;
	case STORE_META_ADD:
		store_counter_add(s, t, op->name, nlen, op->delta);
		break;
	default:
		txn_del(t, s->meta, op->name, nlen, "delete a meta value");
		break;
	}
}

/* Runs the ops of a batch in order, up to the first failure. */
static void
store_meta_batch(struct store *s, struct txn *t, const void *arg)
{
	const struct store_batch	*b = arg;
	size_t				 i;

	for (i = 0; i < b->n && t->ret == 0; i++)
		store_meta_do(s, t, &b->ops[i]);
}

/*
 * Applies a batch of meta changes in one write transaction, so that a
 * caller that gathers counters pays one commit for many events.
 */
int
store_meta_apply(struct store *s, const struct store_meta_op *ops, size_t n,
    char **cause)
{
	struct store_batch	b;
	int			alldel;

	if (store_meta_check(ops, n, &alldel, cause) != 0)
		return (-1);
	b.ops = ops;
	b.n = n;
	return (store_write(s, store_meta_batch, &b, alldel, cause));
}

/* Adds delta to one counter in its own write transaction. */
int
store_meta_add(struct store *s, const char *name, uint64_t delta,
    char **cause)
{
	struct store_meta_op	op;

	memset(&op, 0, sizeof op);
	op.op = STORE_META_ADD;
	op.name = name;
	op.delta = delta;
	return (store_meta_apply(s, &op, 1, cause));
}

/*
 * Visits the meta names under prefix in byte order: the cursor starts at
 * the prefix itself and stops at the first name past it.
 */
int
store_meta_foreach(struct store *s, const char *prefix, store_meta_cb cb,
    void *arg, char **cause)
{
	struct store_walk	w = { NULL, NULL, cb, prefix, arg };

	return (store_walk(s, s->meta, &w, "list meta values", cause));
}

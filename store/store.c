/*
 * store.c: asud's durable state, kept in one LMDB environment.
 *
 * Every public function runs one short transaction through struct
 * store_txn, which carries a sticky error in the Knot way: once an
 * operation fails the later ones do nothing, the commit turns into an
 * abort, and the caller looks at one result at the end. LMDB codes become
 * cause strings in store_strerror alone. Writes use LMDB's default
 * durability: when a write returns 0 the data survives a crash or a power
 * loss, which is what a 202 promises.
 */
#include <sys/types.h>

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"

/* A map size of 0 asks for this one: 4 GiB, or 1 GiB on 32-bit hosts. */
#if SIZE_MAX > 0xffffffffUL
#define STORE_DEFAULT_MAPSIZE	((size_t)4 << 30)
#else
#define STORE_DEFAULT_MAPSIZE	((size_t)1 << 30)
#endif

#define STORE_MIB		((size_t)1 << 20)
#define STORE_MAXDBS		8
#define STORE_QKEY_LEN		(8 + STORE_HASH_LEN)
#define STORE_META_MAX		200

/* Private error code: a write was attempted from a store callback. */
#define STORE_EINCB		(-1)

struct store {
	MDB_env		*env;
	MDB_dbi		 records;
	MDB_dbi		 queue;
	MDB_dbi		 logs;
	MDB_dbi		 meta;
	MDB_txn		*rtxn;	/* a reset read txn kept for renewal */
	int		 incb;	/* depth of callbacks run inside a read */
	store_watch_cb	 watch;
	void		*watch_arg;
	uint64_t	 wfail;	/* write transactions that failed */
	int		 full;	/* the last write failed for lack of room */
};

struct store_txn {
	struct store	*s;
	MDB_txn		*txn;
	int		 rw;
	int		 ret;	/* first error, sticky */
	const char	*what;	/* what was being done when ret was set */
	int		 wrote;	/* a put or a delete changed something */
};

/* One walk over the records or the queue: exactly one cb is set. */
struct store_walk {
	store_record_cb	 record_cb;
	store_queue_cb	 queue_cb;
	void		*arg;
};

static int	store_hash_check(const char *, char **);
static int	store_name_check(const char *, size_t *, char **);
static char	*store_full_cause(struct store *, const char *);
static char	*store_strerror(struct store *, int, const char *);
static void	store_be64_put(unsigned char *, uint64_t);
static uint64_t	store_be64_get(const unsigned char *);
static void	store_qkey_make(unsigned char *, uint64_t, const char *);
static int	store_hex_valid(const char *, size_t);
static void	store_txn_fail(struct store_txn *, int, const char *);
static int	store_room_code(int);
static void	store_txn_note(struct store_txn *);
static int	store_txn_start(struct store *, MDB_txn **, unsigned int);
static void	store_txn_begin(struct store *, struct store_txn *, int);
static int	store_txn_end(struct store_txn *, char **);
static void	store_txn_put(struct store_txn *, MDB_dbi, const void *,
		    size_t, const void *, size_t, const char *);
static int	store_txn_get(struct store_txn *, MDB_dbi, const void *,
		    size_t, MDB_val *, const char *);
static void	store_txn_del(struct store_txn *, MDB_dbi, const void *,
		    size_t, const char *);
static void	store_txn_unqueue(struct store_txn *, const char *);
static int	store_copy(struct store *, MDB_dbi, const void *, size_t,
		    void **, size_t *, char **);
static int	store_open_dbs(struct store *, char **);
static int	store_grow(struct store *, struct store_txn *, char **);
static int	store_walk_visit(struct store_walk *, const MDB_val *,
		    const MDB_val *);
static int	store_walk(struct store *, MDB_dbi, struct store_walk *,
		    const char *, char **);
static void	store_txn_add(struct store_txn *, const char *, size_t,
		    uint64_t);
static int	store_meta_check(const struct store_meta_op *, size_t,
		    int *, char **);
static void	store_meta_do(struct store_txn *,
		    const struct store_meta_op *);

/* Refuses anything but 64 lowercase hex digits (defence in depth). */
static int
store_hash_check(const char *hash, char **cause)
{
	if (hash == NULL || strnlen(hash, STORE_HASH_LEN + 1) !=
	    STORE_HASH_LEN || !store_hex_valid(hash, STORE_HASH_LEN)) {
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

/* Tells whether the first len bytes of s are lowercase hex digits. */
static int
store_hex_valid(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if ((s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f'))
			return (0);
	}
	return (1);
}

/* Says that the map is full, how big it is and which knob to turn. */
static char *
store_full_cause(struct store *s, const char *what)
{
	MDB_envinfo	 info;
	const char	*unit = "MiB";
	size_t		 size;
	char		*cause;

	if (mdb_env_info(s->env, &info) != 0)
		info.me_mapsize = 0;
	size = info.me_mapsize / STORE_MIB;
	if (size == 0) {
		size = info.me_mapsize >> 10;
		unit = "KiB";
	}
	xasprintf(&cause, "store is full (LMDB map size %zu %s reached while "
	    "trying to %s); raise store_map_size_mb", size, unit, what);
	return (cause);
}

/* Turns an LMDB or errno code into the one cause string callers see. */
static char *
store_strerror(struct store *s, int rc, const char *what)
{
	char	*cause;

	switch (rc) {
	case MDB_MAP_FULL:
		cause = store_full_cause(s, what);
		break;
	case MDB_TXN_FULL:
		xasprintf(&cause, "store: %s: too much data in one "
		    "transaction", what);
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		xasprintf(&cause, "store: %s: the database is damaged or "
		    "not ours (%s)", what, mdb_strerror(rc));
		break;
	case STORE_EINCB:
		xasprintf(&cause, "store: %s: not allowed from inside a "
		    "store callback", what);
		break;
	default:
		xasprintf(&cause, "store: %s: %s", what, mdb_strerror(rc));
		break;
	}
	return (cause);
}

/* Writes v big-endian so that byte order is numeric order. */
static void
store_be64_put(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

/* Reads a big-endian 64-bit number. */
static uint64_t
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

/* Records the first error of a transaction; later ones are ignored. */
static void
store_txn_fail(struct store_txn *t, int rc, const char *what)
{
	if (t->ret == 0) {
		t->ret = rc;
		t->what = what;
	}
}

/* Begins an LMDB transaction, clearing stale readers or a resize once. */
static int
store_txn_start(struct store *s, MDB_txn **txn, unsigned int flags)
{
	int	rc, dead;

	rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_READERS_FULL) {
		if (mdb_reader_check(s->env, &dead) == 0 && dead > 0)
			log_info("store: cleared %d stale readers", dead);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
	} else if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		if ((rc = mdb_env_set_mapsize(s->env, 0)) == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return (rc);
}

/* Starts a read or write transaction; reads reuse a parked handle. */
static void
store_txn_begin(struct store *s, struct store_txn *t, int rw)
{
	int	rc;

	memset(t, 0, sizeof *t);
	t->s = s;
	t->rw = rw;
	if (rw && s->incb > 0) {
		store_txn_fail(t, STORE_EINCB, "write");
		return;
	}
	if (!rw && s->rtxn != NULL) {
		t->txn = s->rtxn;
		s->rtxn = NULL;
		if (mdb_txn_renew(t->txn) == 0)
			return;
		mdb_txn_abort(t->txn);
		t->txn = NULL;
	}
	rc = store_txn_start(s, &t->txn, rw ? 0 : MDB_RDONLY);
	if (rc != 0) {
		t->txn = NULL;
		store_txn_fail(t, rc, rw ? "begin a write transaction" :
		    "begin a read transaction");
	}
}

/* True for the codes that mean "no room": the map or the disk is full. */
static int
store_room_code(int rc)
{
	return (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT);
}

/*
 * Keeps the write health for store_full and store_write_failures: a write
 * that failed for lack of room marks the store full, one that changed
 * something and committed clears it.
 */
static void
store_txn_note(struct store_txn *t)
{
	if (!t->rw || t->ret == STORE_EINCB)
		return;
	if (t->ret != 0) {
		t->s->wfail++;
		t->s->full = store_room_code(t->ret);
	} else if (t->wrote)
		t->s->full = 0;
}

/*
 * Ends a transaction: commits a good write, aborts a failed one, parks a
 * read handle for reuse. Returns 0, or -1 with the cause of the first error.
 */
static int
store_txn_end(struct store_txn *t, char **cause)
{
	int	rc;

	if (t->txn != NULL) {
		if (t->rw && t->ret == 0) {
			if ((rc = mdb_txn_commit(t->txn)) != 0)
				store_txn_fail(t, rc, "commit");
		} else if (t->rw)
			mdb_txn_abort(t->txn);
		else if (t->s->rtxn == NULL) {
			mdb_txn_reset(t->txn);
			t->s->rtxn = t->txn;
		} else
			mdb_txn_abort(t->txn);
		t->txn = NULL;
	}
	store_txn_note(t);
	if (t->ret != 0) {
		*cause = store_strerror(t->s, t->ret, t->what);
		return (-1);
	}
	return (0);
}

/* Writes one key/value pair unless the transaction already failed. */
static void
store_txn_put(struct store_txn *t, MDB_dbi dbi, const void *key,
    size_t klen, const void *val, size_t vlen, const char *what)
{
	MDB_val	k, v;
	int	rc;

	if (t->ret != 0)
		return;
	k.mv_data = (void *)key;
	k.mv_size = klen;
	v.mv_data = (void *)val;
	v.mv_size = vlen;
	if ((rc = mdb_put(t->txn, dbi, &k, &v, 0)) != 0)
		store_txn_fail(t, rc, what);
	else
		t->wrote = 1;
}

/* Looks a key up; 1 found (v valid until the txn ends), 0 not or error. */
static int
store_txn_get(struct store_txn *t, MDB_dbi dbi, const void *key,
    size_t klen, MDB_val *v, const char *what)
{
	MDB_val	k;
	int	rc;

	if (t->ret != 0)
		return (0);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_get(t->txn, dbi, &k, v);
	if (rc == 0)
		return (1);
	if (rc != MDB_NOTFOUND)
		store_txn_fail(t, rc, what);
	return (0);
}

/* Deletes one key; a key that is already gone is not an error. */
static void
store_txn_del(struct store_txn *t, MDB_dbi dbi, const void *key,
    size_t klen, const char *what)
{
	MDB_val	k;
	int	rc;

	if (t->ret != 0)
		return;
	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_del(t->txn, dbi, &k, NULL);
	if (rc == 0)
		t->wrote = 1;
	else if (rc != MDB_NOTFOUND)
		store_txn_fail(t, rc, what);
}

/* Removes every queue entry of hash: collects their keys, then deletes. */
static void
store_txn_unqueue(struct store_txn *t, const char *hash)
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
	if ((rc = mdb_cursor_open(t->txn, t->s->queue, &c)) != 0) {
		store_txn_fail(t, rc, "scan the queue");
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
		store_txn_fail(t, rc, "scan the queue");
	for (i = 0; i < n; i++) {
		store_qkey_make(key, found[i], hash);
		store_txn_del(t, t->s->queue, key, sizeof key,
		    "delete a queue entry");
	}
	free(found);
}

/*
 * Lets a delete that hit a full map run again: deletes are how space comes
 * back, so a full store must never refuse them. The map grows by a small
 * step (1/64, at least 1 MiB of address space; the file grows only with
 * use). Called with no transaction active and no read in progress, as
 * mdb_env_set_mapsize requires. Returns 1 to retry, 0 to give up.
 */
static int
store_grow(struct store *s, struct store_txn *t, char **cause)
{
	MDB_envinfo	info;
	size_t		step;

	if (t->ret != MDB_MAP_FULL || s->incb > 0 ||
	    mdb_env_info(s->env, &info) != 0)
		return (0);
	step = info.me_mapsize / 64;
	if (step < STORE_MIB)
		step = STORE_MIB;
	if (info.me_mapsize > SIZE_MAX - step ||
	    mdb_env_set_mapsize(s->env, info.me_mapsize + step) != 0)
		return (0);
	log_warnx("%s; growing the map by %zu KiB to delete", *cause,
	    step >> 10);
	free(*cause);
	*cause = NULL;
	return (1);
}

/* Copies one value out (NUL past the end); 1 found, 0 not, -1 error. */
static int
store_copy(struct store *s, MDB_dbi dbi, const void *key, size_t klen,
    void **val, size_t *len, char **cause)
{
	struct store_txn	 t;
	MDB_val			 v;
	char			*buf = NULL;
	int			 found;

	store_txn_begin(s, &t, 0);
	found = store_txn_get(&t, dbi, key, klen, &v, "read a value");
	if (found) {
		buf = xmalloc(v.mv_size + 1);
		if (v.mv_size > 0)
			memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
	}
	if (store_txn_end(&t, cause) != 0) {
		free(buf);
		return (-1);
	}
	if (!found)
		return (0);
	*val = buf;
	*len = v.mv_size;
	return (1);
}

/* Creates or opens the named databases in one write transaction. */
static int
store_open_dbs(struct store *s, char **cause)
{
	const char		*names[] = {
		"records", "queue", "logs", "meta"
	};
	MDB_dbi			*dbis[] = {
		&s->records, &s->queue, &s->logs, &s->meta
	};
	struct store_txn	 t;
	size_t			 i;
	int			 rc;

	store_txn_begin(s, &t, 1);
	for (i = 0; i < nitems(names) && t.ret == 0; i++) {
		rc = mdb_dbi_open(t.txn, names[i], MDB_CREATE, dbis[i]);
		if (rc != 0)
			store_txn_fail(&t, rc, "open the named databases");
	}
	return (store_txn_end(&t, cause));
}

/* Hands one record or queue entry to the caller; non-zero stops. */
static int
store_walk_visit(struct store_walk *w, const MDB_val *k, const MDB_val *v)
{
	const char	*key = k->mv_data;
	char		 hash[STORE_HASH_LEN + 1];

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
	if (!store_hex_valid(key, STORE_HASH_LEN)) {
		log_warnx("store: skipping an entry with a bad hash");
		return (0);
	}
	memcpy(hash, key, STORE_HASH_LEN);
	hash[STORE_HASH_LEN] = '\0';
	if (w->record_cb != NULL)
		return (w->record_cb(hash, v->mv_data, v->mv_size, w->arg));
	return (w->queue_cb(store_be64_get(k->mv_data), hash, w->arg));
}

/* Walks one database in key order inside one read transaction. */
static int
store_walk(struct store *s, MDB_dbi dbi, struct store_walk *w,
    const char *what, char **cause)
{
	struct store_txn	 t;
	MDB_cursor		*c = NULL;
	MDB_val			 k, v;
	MDB_cursor_op		 op = MDB_FIRST;
	int			 rc = 0, stop = 0;

	store_txn_begin(s, &t, 0);
	if (t.ret == 0 && (rc = mdb_cursor_open(t.txn, dbi, &c)) != 0)
		store_txn_fail(&t, rc, what);
	if (t.ret != 0)
		return (store_txn_end(&t, cause));
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		s->incb++;
		stop = store_walk_visit(w, &k, &v);
		s->incb--;
	}
	mdb_cursor_close(c);
	if (!stop && rc != MDB_NOTFOUND)
		store_txn_fail(&t, rc, what);
	return (store_txn_end(&t, cause));
}

/* Opens (creating if needed) the one environment of this process. */
int
store_open(struct store **sp, const char *dir, size_t mapsize, char **cause)
{
	struct store	*s;
	char		*what;
	int		 rc, dead;

	if (fs_mkdirs(dir, 0700) != 0) {
		xasprintf(cause, "store: create %s: %s", dir, strerror(errno));
		return (-1);
	}
	s = xcalloc(1, sizeof *s);
	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		goto fail;
	}
	if ((rc = mdb_env_set_maxdbs(s->env, STORE_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, mapsize == 0 ?
	    STORE_DEFAULT_MAPSIZE : mapsize)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	if (mdb_reader_check(s->env, &dead) == 0 && dead > 0)
		log_info("store: cleared %d stale readers", dead);
	if (store_open_dbs(s, cause) != 0) {
		store_close(s);
		return (-1);
	}
	*sp = s;
	return (0);

fail:
	xasprintf(&what, "open the environment in %s", dir);
	*cause = store_strerror(s, rc, what);
	free(what);
	store_close(s);
	return (-1);
}

/* Closes the environment; the store must not be used afterwards. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->rtxn != NULL)
		mdb_txn_abort(s->rtxn);
	if (s->env != NULL)
		mdb_env_close(s->env);
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
	return (s->full);
}

/* Write transactions that failed since the store was opened. */
uint64_t
store_write_failures(struct store *s)
{
	return (s->wfail);
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
	struct store_txn	 t;
	MDB_val			 v;
	int			 found;

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_txn_begin(s, &t, 0);
	found = store_txn_get(&t, s->records, hash, STORE_HASH_LEN, &v,
	    "read a record");
	if (found) {
		s->incb++;
		cb(v.mv_data, v.mv_size, arg);
		s->incb--;
	}
	if (store_txn_end(&t, cause) != 0)
		return (-1);
	return (found);
}

/* Copies the record of hash out of the store. */
int
store_record_get(struct store *s, const char *hash, void **val, size_t *len,
    char **cause)
{
	if (store_hash_check(hash, cause) != 0)
		return (-1);
	return (store_copy(s, s->records, hash, STORE_HASH_LEN, val, len,
	    cause));
}

/* Writes or replaces the record of hash. */
int
store_record_put(struct store *s, const char *hash, const void *val,
    size_t len, char **cause)
{
	struct store_txn	t;

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_txn_begin(s, &t, 1);
	store_txn_put(&t, s->records, hash, STORE_HASH_LEN, val, len,
	    "write a record");
	return (store_changed(s, hash, store_txn_end(&t, cause)));
}

/*
 * Forgets a build entirely: its record, its log and its queue entries.
 * Works on a full store too (see store_grow).
 */
int
store_record_del(struct store *s, const char *hash, char **cause)
{
	struct store_txn	t;
	int			retried = 0;

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	for (;;) {
		store_txn_begin(s, &t, 1);
		store_txn_del(&t, s->records, hash, STORE_HASH_LEN,
		    "delete a record");
		store_txn_del(&t, s->logs, hash, STORE_HASH_LEN,
		    "delete a log");
		store_txn_unqueue(&t, hash);
		if (store_txn_end(&t, cause) == 0)
			return (store_changed(s, hash, 0));
		if (retried++ || !store_grow(s, &t, cause))
			return (store_changed(s, hash, -1));
	}
}

/*
 * Visits every record in hash order inside one read transaction; keys that
 * are not hashes are skipped. cb must not write to the store.
 */
int
store_record_foreach(struct store *s, store_record_cb cb, void *arg,
    char **cause)
{
	struct store_walk	w;

	memset(&w, 0, sizeof w);
	w.record_cb = cb;
	w.arg = arg;
	return (store_walk(s, s->records, &w, "list the records", cause));
}

/* Accepts a build: its record and its queue entry in one transaction. */
int
store_enqueue(struct store *s, const char *hash, const void *rec,
    size_t reclen, uint64_t qkey, char **cause)
{
	struct store_txn	t;
	unsigned char		key[STORE_QKEY_LEN];

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_qkey_make(key, qkey, hash);
	store_txn_begin(s, &t, 1);
	store_txn_put(&t, s->records, hash, STORE_HASH_LEN, rec, reclen,
	    "write a record");
	store_txn_put(&t, s->queue, key, sizeof key, "", 0,
	    "write a queue entry");
	return (store_changed(s, hash, store_txn_end(&t, cause)));
}

/* Ends a build: new record, its log and no queue entry, all at once. */
int
store_finish(struct store *s, const char *hash, uint64_t qkey,
    const void *rec, size_t reclen, const void *log, size_t loglen,
    char **cause)
{
	struct store_txn	t;
	unsigned char		key[STORE_QKEY_LEN];

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_qkey_make(key, qkey, hash);
	store_txn_begin(s, &t, 1);
	store_txn_put(&t, s->records, hash, STORE_HASH_LEN, rec, reclen,
	    "write a record");
	if (log != NULL)
		store_txn_put(&t, s->logs, hash, STORE_HASH_LEN, log, loglen,
		    "write a log");
	store_txn_del(&t, s->queue, key, sizeof key, "delete a queue entry");
	return (store_changed(s, hash, store_txn_end(&t, cause)));
}

/* Removes one queue entry; gone already is fine; a full store is too. */
int
store_queue_del(struct store *s, uint64_t qkey, const char *hash,
    char **cause)
{
	struct store_txn	t;
	unsigned char		key[STORE_QKEY_LEN];
	int			retried = 0;

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_qkey_make(key, qkey, hash);
	for (;;) {
		store_txn_begin(s, &t, 1);
		store_txn_del(&t, s->queue, key, sizeof key,
		    "delete a queue entry");
		if (store_txn_end(&t, cause) == 0)
			return (0);
		if (retried++ || !store_grow(s, &t, cause))
			return (-1);
	}
}

/*
 * Visits the queue in key order inside one read transaction; malformed
 * keys are skipped. cb must not write to the store: collect, then act.
 */
int
store_queue_foreach(struct store *s, store_queue_cb cb, void *arg,
    char **cause)
{
	struct store_walk	w;

	memset(&w, 0, sizeof w);
	w.queue_cb = cb;
	w.arg = arg;
	return (store_walk(s, s->queue, &w, "list the queue", cause));
}

/* Copies the stored (compressed) log of hash out of the store. */
int
store_log_get(struct store *s, const char *hash, void **val, size_t *len,
    char **cause)
{
	if (store_hash_check(hash, cause) != 0)
		return (-1);
	return (store_copy(s, s->logs, hash, STORE_HASH_LEN, val, len,
	    cause));
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
	struct store_txn	 t;
	MDB_val			 v;
	size_t			 n = 0;
	int			 found;

	if (store_hash_check(hash, cause) != 0)
		return (-1);
	store_txn_begin(s, &t, 0);
	found = store_txn_get(&t, s->logs, hash, STORE_HASH_LEN, &v,
	    "read a log");
	if (found) {
		if (offset < v.mv_size)
			n = v.mv_size - offset < *len ? v.mv_size - offset :
			    *len;
		if (n > 0)
			memcpy(buf, (const char *)v.mv_data + offset, n);
		*total = v.mv_size;
	}
	if (store_txn_end(&t, cause) != 0)
		return (-1);
	*len = n;
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
	struct store_txn	t;
	size_t			nlen;

	if (store_name_check(name, &nlen, cause) != 0)
		return (-1);
	store_txn_begin(s, &t, 1);
	store_txn_put(&t, s->meta, name, nlen, val, len, "write a meta value");
	return (store_txn_end(&t, cause));
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
static void
store_txn_add(struct store_txn *t, const char *name, size_t nlen,
    uint64_t delta)
{
	unsigned char	buf[8];
	MDB_val		v;
	uint64_t	cur = 0;

	if (store_txn_get(t, t->s->meta, name, nlen, &v, "read a counter")) {
		if (v.mv_size != 8)
			log_warnx("store: meta %.*s is not a counter; "
			    "restarting it", (int)nlen, name);
		cur = store_meta_counter(v.mv_data, v.mv_size);
	}
	store_be64_put(buf, cur + delta);
	store_txn_put(t, t->s->meta, name, nlen, buf, sizeof buf,
	    "write a counter");
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
store_meta_do(struct store_txn *t, const struct store_meta_op *op)
{
	size_t	nlen = strlen(op->name);

	switch (op->op) {
	case STORE_META_PUT:
		store_txn_put(t, t->s->meta, op->name, nlen, op->val, op->len,
		    "write a meta value");
		break;
	case STORE_META_ADD:
		store_txn_add(t, op->name, nlen, op->delta);
		break;
	default:
		store_txn_del(t, t->s->meta, op->name, nlen,
		    "delete a meta value");
		break;
	}
}

/*
 * Applies a batch of meta changes in one write transaction, so that a
 * caller that gathers counters pays one commit for many events.
 */
int
store_meta_apply(struct store *s, const struct store_meta_op *ops, size_t n,
    char **cause)
{
	struct store_txn	t;
	size_t			i;
	int			alldel, retried = 0;

	if (store_meta_check(ops, n, &alldel, cause) != 0)
		return (-1);
	for (;;) {
		store_txn_begin(s, &t, 1);
		for (i = 0; i < n && t.ret == 0; i++)
			store_meta_do(&t, &ops[i]);
		if (store_txn_end(&t, cause) == 0)
			return (0);
		if (!alldel || retried++ || !store_grow(s, &t, cause))
			return (-1);
	}
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
	struct store_txn	 t;
	MDB_cursor		*c = NULL;
	MDB_val			 k, v;
	MDB_cursor_op		 op = MDB_SET_RANGE;
	char			 name[STORE_META_MAX + 1];
	size_t			 plen = strlen(prefix);
	int			 rc = 0, stop = 0;

	store_txn_begin(s, &t, 0);
	if (t.ret == 0 && (rc = mdb_cursor_open(t.txn, s->meta, &c)) != 0)
		store_txn_fail(&t, rc, "list meta values");
	if (t.ret != 0)
		return (store_txn_end(&t, cause));
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	if (plen == 0)
		op = MDB_FIRST;
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (k.mv_size > STORE_META_MAX)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		s->incb++;
		stop = cb(name, v.mv_data, v.mv_size, arg);
		s->incb--;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		store_txn_fail(&t, rc, "list meta values");
	return (store_txn_end(&t, cause));
}

/*
 * txn.c: the store's LMDB environment and its short transactions with a
 * sticky error. Writes use LMDB's default durability: when a commit
 * returns 0 the data survives a crash or a power loss.
 */
#include <sys/types.h>

#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/txn.h"

/* A map size of 0 asks for this one: 4 GiB, or 1 GiB on 32-bit hosts. */
#if SIZE_MAX > 0xffffffffUL
#define TXN_DEFAULT_MAPSIZE	((size_t)4 << 30)
#else
#define TXN_DEFAULT_MAPSIZE	((size_t)1 << 30)
#endif

#define TXN_MIB			((size_t)1 << 20)

static void	 txn_readers(struct txn_env *);
static char	*txn_full_cause(struct txn_env *, const char *);
static int	 txn_start(struct txn_env *, MDB_txn **, unsigned int);
static int	 txn_room_code(int);
static void	 txn_note(struct txn *);

/* Clears the reader slots of processes that died holding them. */
static void
txn_readers(struct txn_env *e)
{
	int	dead;

	if (mdb_reader_check(e->env, &dead) == 0 && dead > 0)
		log_info("store: cleared %d stale readers", dead);
}

/* Opens the environment of the store in dir. */
int
txn_env_open(struct txn_env *e, const char *dir, size_t mapsize,
    unsigned int maxdbs, char **cause)
{
	char	*what;
	int	 rc;

	memset(e, 0, sizeof *e);
	if ((rc = mdb_env_create(&e->env)) != 0) {
		e->env = NULL;
		goto fail;
	}
	if ((rc = mdb_env_set_maxdbs(e->env, maxdbs)) != 0 ||
	    (rc = mdb_env_set_mapsize(e->env, mapsize == 0 ?
	    TXN_DEFAULT_MAPSIZE : mapsize)) != 0 ||
	    (rc = mdb_env_open(e->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	txn_readers(e);
	return (0);

fail:
	xasprintf(&what, "open the environment in %s", dir);
	*cause = txn_strerror(e, rc, what);
	free(what);
	txn_env_close(e);
	return (-1);
}

/* Closes the environment and the parked read handle. */
void
txn_env_close(struct txn_env *e)
{
	if (e->rtxn != NULL)
		mdb_txn_abort(e->rtxn);
	if (e->env != NULL)
		mdb_env_close(e->env);
	e->rtxn = NULL;
	e->env = NULL;
}

/* Says that the map is full, how big it is and which knob to turn. */
static char *
txn_full_cause(struct txn_env *e, const char *what)
{
	MDB_envinfo	 info;
	const char	*unit = "MiB";
	size_t		 size;
	char		*cause;

	if (mdb_env_info(e->env, &info) != 0)
		info.me_mapsize = 0;
	size = info.me_mapsize / TXN_MIB;
	if (size == 0) {
		size = info.me_mapsize >> 10;
		unit = "KiB";
	}
	xasprintf(&cause, "store is full (LMDB map size %zu %s reached while "
	    "trying to %s); raise store_map_size_mb", size, unit, what);
	return (cause);
}

/* Turns an LMDB or errno code into the one cause string callers see. */
char *
txn_strerror(struct txn_env *e, int rc, const char *what)
{
	char	*cause;

	switch (rc) {
	case MDB_MAP_FULL:
		cause = txn_full_cause(e, what);
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
	case TXN_EINCB:
		xasprintf(&cause, "store: %s: not allowed from inside a "
		    "store callback", what);
		break;
	default:
		xasprintf(&cause, "store: %s: %s", what, mdb_strerror(rc));
		break;
	}
	return (cause);
}

/* Records the first error of a transaction; later ones are ignored. */
void
txn_fail(struct txn *t, int rc, const char *what)
{
	if (t->ret == 0) {
		t->ret = rc;
		t->what = what;
	}
}

/* Begins an LMDB transaction, clearing stale readers or a resize once. */
static int
txn_start(struct txn_env *e, MDB_txn **txn, unsigned int flags)
{
	int	rc;

	rc = mdb_txn_begin(e->env, NULL, flags, txn);
	if (rc == MDB_READERS_FULL) {
		txn_readers(e);
		rc = mdb_txn_begin(e->env, NULL, flags, txn);
	} else if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		if ((rc = mdb_env_set_mapsize(e->env, 0)) == 0)
			rc = mdb_txn_begin(e->env, NULL, flags, txn);
	}
	return (rc);
}

/* Starts a read or write transaction; reads reuse a parked handle. */
void
txn_begin(struct txn_env *e, struct txn *t, int rw)
{
	int	rc;

	memset(t, 0, sizeof *t);
	t->e = e;
	t->rw = rw;
	if (rw && e->incb > 0) {
		txn_fail(t, TXN_EINCB, "write");
		return;
	}
	if (!rw && e->rtxn != NULL) {
		t->txn = e->rtxn;
		e->rtxn = NULL;
		if (mdb_txn_renew(t->txn) == 0)
			return;
		mdb_txn_abort(t->txn);
		t->txn = NULL;
	}
	rc = txn_start(e, &t->txn, rw ? 0 : MDB_RDONLY);
	if (rc != 0) {
		t->txn = NULL;
		txn_fail(t, rc, rw ? "begin a write transaction" :
		    "begin a read transaction");
	}
}

/* True for the codes that mean "no room": the map or the disk is full. */
static int
txn_room_code(int rc)
{
	return (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT);
}

/*
 * Keeps the write health for store_full and store_write_failures: a write
 * that failed for lack of room marks the store full, one that changed
 * something and committed clears it.
 */
static void
txn_note(struct txn *t)
{
	if (!t->rw || t->ret == TXN_EINCB)
		return;
	if (t->ret != 0) {
		t->e->wfail++;
		t->e->full = txn_room_code(t->ret);
	} else if (t->wrote)
		t->e->full = 0;
}

/*
 * Ends a transaction: commits a good write, aborts a failed one, parks a
 * read handle for reuse. Returns 0, or -1 with the cause of the first error.
 */
int
txn_end(struct txn *t, char **cause)
{
	int	rc;

	if (t->txn != NULL) {
		if (t->rw && t->ret == 0) {
			if ((rc = mdb_txn_commit(t->txn)) != 0)
				txn_fail(t, rc, "commit");
		} else if (t->rw)
			mdb_txn_abort(t->txn);
		else if (t->e->rtxn == NULL) {
			mdb_txn_reset(t->txn);
			t->e->rtxn = t->txn;
		} else
			mdb_txn_abort(t->txn);
		t->txn = NULL;
	}
	txn_note(t);
	if (t->ret != 0) {
		*cause = txn_strerror(t->e, t->ret, t->what);
		return (-1);
	}
	return (0);
}

/* Writes one key/value pair unless the transaction already failed. */
void
txn_put(struct txn *t, MDB_dbi dbi, const void *key, size_t klen,
    const void *val, size_t vlen, const char *what)
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
		txn_fail(t, rc, what);
	else
		t->wrote = 1;
}

/* Looks a key up; 1 found (v valid until the txn ends), 0 not or error. */
int
txn_get(struct txn *t, MDB_dbi dbi, const void *key, size_t klen,
    MDB_val *v, const char *what)
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
		txn_fail(t, rc, what);
	return (0);
}

/* Deletes one key; a key that is already gone is not an error. */
void
txn_del(struct txn *t, MDB_dbi dbi, const void *key, size_t klen,
    const char *what)
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
		txn_fail(t, rc, what);
}

/*
 * Lets a delete that hit a full map run again: deletes are how space comes
 * back, so a full store must never refuse them. The map grows by a small
 * step (1/64, at least 1 MiB of address space; the file grows only with
 * use). Called with no transaction active and no read in progress, as
 * mdb_env_set_mapsize requires. Returns 1 to retry, 0 to give up.
 */
int
txn_grow(struct txn_env *e, const struct txn *t, char **cause)
{
	MDB_envinfo	info;
	size_t		step;

	if (t->ret != MDB_MAP_FULL || e->incb > 0 ||
	    mdb_env_info(e->env, &info) != 0)
		return (0);
	step = info.me_mapsize / 64;
	if (step < TXN_MIB)
		step = TXN_MIB;
	if (info.me_mapsize > SIZE_MAX - step ||
	    mdb_env_set_mapsize(e->env, info.me_mapsize + step) != 0)
		return (0);
	log_warnx("%s; growing the map by %zu KiB to delete", *cause,
	    step >> 10);
	free(*cause);
	*cause = NULL;
	return (1);
}

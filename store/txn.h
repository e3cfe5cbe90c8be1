/*
 * txn.h: the store's LMDB environment and its transactions. Only store/
 * includes this header (and so <lmdb.h>).
 *
 * A struct txn carries a sticky error in the Knot way: once an operation
 * fails the later ones do nothing, the commit turns into an abort, and
 * the caller looks at one result at the end, from txn_end. LMDB codes
 * become cause strings in txn_strerror alone.
 */
#ifndef ASUD_TXN_H
#define ASUD_TXN_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

/* Private error code: a write was attempted from a store callback. */
#define TXN_EINCB	(-1)

/* One environment and the health of its writes. */
struct txn_env {
	MDB_env		*env;
	MDB_txn		*rtxn;	/* a reset read txn kept for renewal */
	int		 incb;	/* depth of callbacks run inside a read */
	uint64_t	 wfail;	/* write transactions that failed */
	int		 full;	/* the last write failed for lack of room */
};

/* One transaction with its sticky error. */
struct txn {
	struct txn_env	*e;
	MDB_txn		*txn;
	int		 rw;
	int		 ret;	/* first error, sticky */
	const char	*what;	/* what was being done when ret was set */
	int		 wrote;	/* a put or a delete changed something */
};

/*
 * Opens the environment in the existing directory dir with room for
 * maxdbs named databases; a mapsize of 0 picks 4 GiB (1 GiB on 32-bit
 * hosts). On failure e is closed and *cause set.
 */
int	txn_env_open(struct txn_env *e, const char *dir, size_t mapsize,
	    unsigned int maxdbs, char **cause);
/* Closes the environment (also one that failed to open). */
void	txn_env_close(struct txn_env *e);

/*
 * Starts a read or a write (rw) transaction; a failure to start is the
 * sticky error. A write from inside a read's callback (e->incb) fails
 * with TXN_EINCB. Reads reuse a parked handle.
 */
void	txn_begin(struct txn_env *e, struct txn *t, int rw);
/*
 * Ends t: commits a good write, aborts a failed one, parks a read handle.
 * Keeps the write health of e. 0, or -1 with the cause of the first error.
 */
int	txn_end(struct txn *t, char **cause);
/* Makes (rc, what) the error of t unless it has one already. */
void	txn_fail(struct txn *t, int rc, const char *what);

/* Writes one key/value pair unless t already failed. */
void	txn_put(struct txn *t, MDB_dbi dbi, const void *key, size_t klen,
	    const void *val, size_t vlen, const char *what);
/* Looks a key up: 1 found (*v valid until t ends), 0 not or an error. */
int	txn_get(struct txn *t, MDB_dbi dbi, const void *key, size_t klen,
	    MDB_val *v, const char *what);
/* Deletes one key; a key that is already gone is not an error. */
void	txn_del(struct txn *t, MDB_dbi dbi, const void *key, size_t klen,
	    const char *what);

/*
 * After a failed t (ended, *cause set): when it failed on a full map,
 * grows the map a little so that a delete can run again, logs and clears
 * *cause, and returns 1; else 0. Call with no transaction active.
 */
int	txn_grow(struct txn_env *e, const struct txn *t, char **cause);
/* The one cause string for an LMDB or errno code met doing what. */
char	*txn_strerror(struct txn_env *e, int rc, const char *what);

#endif

/*
 * dlcount.c: the download counts of the stored images. Each download is
 * one small write transaction of its own (the image it counts costs far
 * more to send than a commit), so that once it is counted it survives a
 * crash; the count of one file and the total of all downloads ever move
 * together.
 */
#include <sys/types.h>

#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "store/storedb.h"
#include "store/txn.h"

#define DLCOUNT_KEY_MAX	(STORE_HASH_LEN + 1 + STORE_FILE_MAX)
#define DLCOUNT_VAL_LEN	16

/*
 * Makes the key of file of hash into key (DLCOUNT_KEY_MAX bytes); its
 * length, or 0 with *cause for a bad hash or name.
 */
static size_t
dlcount_key(unsigned char *key, const char *hash, const char *file,
    char **cause)
{
	size_t	flen;

	if (store_hash_check(hash, cause) != 0)
		return (0);
	if (file == NULL || (flen = strnlen(file, STORE_FILE_MAX + 1)) == 0 ||
	    flen > STORE_FILE_MAX || strchr(file, '/') != NULL) {
		xasprintf(cause, "store: invalid file name (want 1 to %d "
		    "bytes, no '/')", STORE_FILE_MAX);
		return (0);
	}
	memcpy(key, hash, STORE_HASH_LEN);
	key[STORE_HASH_LEN] = '/';
	memcpy(key + STORE_HASH_LEN + 1, file, flen);
	return (STORE_HASH_LEN + 1 + flen);
}

/* Counts one download of a file and one in the total, in one commit. */
int
store_download_add(struct store *s, const char *hash, const char *file,
    int64_t when_ms, char **cause)
{
	unsigned char	key[DLCOUNT_KEY_MAX], val[DLCOUNT_VAL_LEN];
	struct txn	t;
	MDB_val		v;
	uint64_t	n = 0;
	size_t		klen;

	if ((klen = dlcount_key(key, hash, file, cause)) == 0)
		return (-1);
	txn_begin(&s->e, &t, 1);
	if (txn_get(&t, s->downloads, key, klen, &v, "read a download count")
	    && v.mv_size == DLCOUNT_VAL_LEN)
		n = store_be64_get(v.mv_data);
	store_be64_put(val, n + 1);
	store_be64_put(val + 8, (uint64_t)(when_ms < 0 ? 0 : when_ms));
	txn_put(&t, s->downloads, key, klen, val, sizeof val,
	    "write a download count");
	store_counter_add(s, &t, STORE_DOWNLOADS_TOTAL,
	    strlen(STORE_DOWNLOADS_TOTAL), 1);
	return (txn_end(&t, cause));
}

/* Hands one well-formed count to the caller; 1 stops. */
static int
dlcount_visit(const MDB_val *k, const MDB_val *v, store_download_cb cb,
    void *arg)
{
	const char	*key = k->mv_data;
	char		 hash[STORE_HASH_LEN + 1], file[STORE_FILE_MAX + 1];
	size_t		 flen;

	if (k->mv_size <= STORE_HASH_LEN + 1 || k->mv_size >
	    DLCOUNT_KEY_MAX || key[STORE_HASH_LEN] != '/' ||
	    !text_is_hex64(key) || v->mv_size != DLCOUNT_VAL_LEN) {
		log_warnx("store: skipping a bad download count");
		return (0);
	}
	memcpy(hash, key, STORE_HASH_LEN);
	hash[STORE_HASH_LEN] = '\0';
	flen = k->mv_size - STORE_HASH_LEN - 1;
	memcpy(file, key + STORE_HASH_LEN + 1, flen);
	file[flen] = '\0';
	if (strlen(file) != flen)
		return (0);
	return (cb(hash, file, store_be64_get(v->mv_data),
	    (int64_t)store_be64_get((const unsigned char *)v->mv_data + 8),
	    arg));
}

/* Visits every download count in key order inside one read transaction. */
int
store_download_foreach(struct store *s, store_download_cb cb, void *arg,
    char **cause)
{
	struct txn	 t;
	MDB_cursor	*c = NULL;
	MDB_val		 k, v;
	MDB_cursor_op	 op = MDB_FIRST;
	int		 rc = 0, stop = 0;

	txn_begin(&s->e, &t, 0);
	if (t.ret == 0 && (rc = mdb_cursor_open(t.txn, s->downloads,
	    &c)) != 0)
		txn_fail(&t, rc, "list the download counts");
	if (t.ret != 0)
		return (txn_end(&t, cause));
	while (!stop && (rc = mdb_cursor_get(c, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		s->e.incb++;
		stop = dlcount_visit(&k, &v, cb, arg);
		s->e.incb--;
	}
	mdb_cursor_close(c);
	if (!stop && rc != MDB_NOTFOUND)
		txn_fail(&t, rc, "list the download counts");
	return (txn_end(&t, cause));
}

/*
 * Deletes the counts of every file of hash inside t (the record goes):
 * the first key at or after "<hash>/" is deleted while it has that
 * prefix.
 */
void
store_downloads_drop(struct store *s, struct txn *t, const char *hash)
{
	unsigned char	 prefix[STORE_HASH_LEN + 1];
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	if (t->ret != 0)
		return;
	memcpy(prefix, hash, STORE_HASH_LEN);
	prefix[STORE_HASH_LEN] = '/';
	if ((rc = mdb_cursor_open(t->txn, s->downloads, &c)) != 0) {
		txn_fail(t, rc, "delete download counts");
		return;
	}
	for (;;) {
		k.mv_data = prefix;
		k.mv_size = sizeof prefix;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || k.mv_size <= sizeof prefix ||
		    memcmp(k.mv_data, prefix, sizeof prefix) != 0)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		t->wrote = 1;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_fail(t, rc, "delete download counts");
}

/*
 * store.h: asud's durable state in one LMDB environment.
 *
 * Named databases: "records" (build records, key: the 64-hex request
 * hash, value: an opaque blob owned by the caller), "queue" (key: an 8-byte
 * big-endian sort key followed by the 64-hex hash, empty value, so that
 * iteration order is schedule order), "logs" (key: the hash, value: the
 * zstd-compressed build log), "meta" (small named values) and
 * "downloads" (counts of the images' downloads).
 *
 * Only store/ includes <lmdb.h>. Every function returns 0 on success
 * and -1 on failure with *cause set to an allocated message the caller
 * frees; lookups return 1 when found and 0 when not. Data handed to a
 * callback is valid only during the callback.
 */
#ifndef ASUD_STORE_H
#define ASUD_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_HASH_LEN 64

struct store;

/* The version of LMDB asud was built with, "MAJOR.MINOR.PATCH". */
const char *store_version(void);

/* Opens (creating if needed) the environment in directory dir. */
int	store_open(struct store **, const char *dir, size_t mapsize,
	    char **cause);
void	store_close(struct store *);

/*
 * Called after every write of the record of hash (put, delete, enqueue,
 * finish; also when the write failed): copies of records kept elsewhere
 * are forgotten there.
 */
typedef void (*store_watch_cb)(const char *hash, void *arg);
void	store_set_watch(struct store *, store_watch_cb, void *arg);

/*
 * Meta changes of another module that ride along with the next record
 * write (store_enqueue, store_finish), so that one commit carries both:
 * get gives the pending ops (0: none; they stay the caller's until done),
 * done says whether they were committed. When the write fails with them,
 * it is tried once more without them, so that they never cost a record.
 */
struct store_meta_op;
typedef size_t	(*store_rider_get_cb)(void *arg,
		    const struct store_meta_op **ops);
typedef void	(*store_rider_done_cb)(void *arg, int committed);
void	store_set_rider(struct store *, store_rider_get_cb,
	    store_rider_done_cb, void *arg);

/*
 * 1 when the last write transaction failed for lack of room (the LMDB map
 * is full, or the disk: ENOSPC, EDQUOT) and no write has succeeded since;
 * writes that changed nothing do not count as a success.
 */
int	store_full(struct store *);
/* Write transactions that failed (any cause) since store_open. */
uint64_t store_write_failures(struct store *);

/* Calls cb with the record of hash inside a read transaction (no copy). */
typedef void (*store_view_cb)(const void *val, size_t len, void *arg);
int	store_record_view(struct store *, const char *hash, store_view_cb,
	    void *arg, char **cause);
/* Copies the record of hash into *val (malloc'd, NUL-terminated past len). */
int	store_record_get(struct store *, const char *hash, void **val,
	    size_t *len, char **cause);
/* Writes or replaces the record of hash. */
int	store_record_put(struct store *, const char *hash, const void *val,
	    size_t len, char **cause);
/* Deletes the record, its log and any queue entry of hash. */
int	store_record_del(struct store *, const char *hash, char **cause);
/* Visits every record; cb returns non-zero to stop. */
typedef int (*store_record_cb)(const char *hash, const void *val,
	    size_t len, void *arg);
int	store_record_foreach(struct store *, store_record_cb, void *arg,
	    char **cause);

/* Writes the record and its queue entry in one transaction. */
int	store_enqueue(struct store *, const char *hash, const void *rec,
	    size_t reclen, uint64_t qkey, char **cause);
/*
 * Replaces the record, stores the log (if log is not NULL) and removes the
 * queue entry (qkey, hash), all in one transaction.
 */
int	store_finish(struct store *, const char *hash, uint64_t qkey,
	    const void *rec, size_t reclen, const void *log, size_t loglen,
	    char **cause);
/* Removes one queue entry. */
int	store_queue_del(struct store *, uint64_t qkey, const char *hash,
	    char **cause);
/* Visits the queue in key order; cb returns non-zero to stop. */
typedef int (*store_queue_cb)(uint64_t qkey, const char *hash, void *arg);
int	store_queue_foreach(struct store *, store_queue_cb, void *arg,
	    char **cause);

/* Copies the stored log of hash (as stored: zstd-compressed). */
int	store_log_get(struct store *, const char *hash, void **val,
	    size_t *len, char **cause);
/*
 * Copies at most *len bytes of the stored log of hash from offset into
 * buf, in one short read transaction. *len becomes the bytes copied (0 at
 * or past the end) and *total the stored log's size. 1 found, 0 not.
 */
int	store_log_read(struct store *, const char *hash, size_t offset,
	    void *buf, size_t *len, size_t *total, char **cause);

/* Small named values (counters, schema version). */
int	store_meta_get(struct store *, const char *name, void **val,
	    size_t *len, char **cause);
int	store_meta_put(struct store *, const char *name, const void *val,
	    size_t len, char **cause);

/*
 * One change of a batch of meta changes. STORE_META_ADD treats the value
 * as an 8-byte big-endian counter (absent, or of another size: 0) and adds
 * delta to it; STORE_META_DEL of an absent name is not an error.
 */
enum store_meta_opcode {
	STORE_META_PUT = 1,
	STORE_META_ADD,
	STORE_META_DEL
};
struct store_meta_op {
	int		 op;	/* an enum store_meta_opcode */
	const char	*name;
	const void	*val;	/* PUT */
	size_t		 len;	/* PUT */
	uint64_t	 delta;	/* ADD */
};
/*
 * Applies n changes in order in one write transaction: all or none. The
 * ops and their strings stay the caller's. A batch of deletes alone works
 * on a full store too.
 */
int	store_meta_apply(struct store *, const struct store_meta_op *,
	    size_t n, char **cause);
/* Adds delta to the counter name in one write transaction. */
int	store_meta_add(struct store *, const char *name, uint64_t delta,
	    char **cause);
/* Decodes a counter value written by STORE_META_ADD; other sizes are 0. */
uint64_t store_meta_counter(const void *val, size_t len);
/*
 * Visits the names that start with prefix ("" for all) in byte order
 * inside one read transaction; name is NUL-terminated, val is valid only
 * during the call. cb returns non-zero to stop and must not write.
 */
typedef int (*store_meta_cb)(const char *name, const void *val,
	    size_t len, void *arg);
int	store_meta_foreach(struct store *, const char *prefix, store_meta_cb,
	    void *arg, char **cause);

/*
 * Download counts (dlcount.c), in the database "downloads" (key: the
 * hash, "/" and the file name; value: the 8-byte big-endian count and
 * the 8-byte time of the last download in milliseconds). They go with
 * their record (store_record_del). STORE_DOWNLOADS_TOTAL is the meta
 * counter of every download ever counted, kept when results go.
 */
#define STORE_DOWNLOADS_TOTAL	"downloads_total"
#define STORE_FILE_MAX		255
/*
 * Counts one download of file of hash at when_ms, and one more in
 * STORE_DOWNLOADS_TOTAL, in one write transaction of its own.
 */
int	store_download_add(struct store *, const char *hash,
	    const char *file, int64_t when_ms, char **cause);
/*
 * Visits every count in key order inside one read transaction; cb
 * returns non-zero to stop and must not write.
 */
typedef int (*store_download_cb)(const char *hash, const char *file,
	    uint64_t count, int64_t last_ms, void *arg);
int	store_download_foreach(struct store *, store_download_cb, void *arg,
	    char **cause);

#endif

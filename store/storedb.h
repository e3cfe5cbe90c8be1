/*
 * storedb.h: the layout of struct store and the helpers its modules
 * share (store.c: records, queue, logs, meta; dlcount.c: download
 * counts). Only store/ includes this header.
 */
#ifndef ASUD_STOREDB_H
#define ASUD_STOREDB_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/store.h"
#include "store/txn.h"

#define STORE_MAXDBS		8
#define STORE_META_MAX		200

struct store {
	struct txn_env	 e;
	MDB_dbi		 records;
	MDB_dbi		 queue;
	MDB_dbi		 logs;
	MDB_dbi		 meta;
	MDB_dbi		 downloads;	/* key: hash "/" file */
	store_watch_cb	 watch;
	void		*watch_arg;
	store_rider_get_cb  rider_get;
	store_rider_done_cb rider_done;
	void		*rider_arg;
};

/* Refuses anything but 64 lowercase hex digits; 0 or -1 with *cause. */
int	store_hash_check(const char *, char **);
/* Big-endian 64-bit numbers, so that byte order is numeric order. */
void	store_be64_put(unsigned char *, uint64_t);
uint64_t store_be64_get(const unsigned char *);
/* Adds delta to the meta counter name (nlen bytes) inside t. */
void	store_counter_add(struct store *, struct txn *, const char *,
	    size_t, uint64_t);
/* Deletes every download count of hash inside t (dlcount.c). */
void	store_downloads_drop(struct store *, struct txn *, const char *);

#endif

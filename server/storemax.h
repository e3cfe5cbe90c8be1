/*
 * storemax.h: the store's results on disk: their bytes, when each was
 * last used (downloaded, or built), and store_max, the budget that
 * removes whole results, least recently used first. Removing a result,
 * for its expiry or for the budget, goes through storemax_remove alone.
 */
#ifndef ASUD_STOREMAX_H
#define ASUD_STOREMAX_H

#include <stdint.h>

#include "server/metrics.h"

struct asud;

/*
 * Reads the finished results of the store (their bytes, their last
 * download, else their directory's time), then applies the budget.
 */
void	 storemax_start(struct asud *);
/* A result of hash was stored: counted, then the budget is applied. */
void	 storemax_stored(struct asud *, const char *hash);
/* A file of hash is being downloaded now: it becomes the newest. */
void	 storemax_used(const char *hash);
/*
 * Removes the result of hash: its record (and with it its log and its
 * download counts), its files and its place in the budget, counted
 * under why. 0, or -1 with *cause when the store refused.
 */
int	 storemax_remove(struct asud *, const char *hash,
	    enum metrics_removal why, char **cause);
/* The bytes of the results' files. */
uint64_t storemax_bytes(void);
/* Forgets every result (tests, the end). */
void	 storemax_clear(void);

#endif

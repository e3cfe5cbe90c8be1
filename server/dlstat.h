/*
 * dlstat.h: the images' download counts as the server keeps and shows
 * them: a download counted in the store as it starts, and the results
 * whose files are still being sent.
 */
#ifndef ASUD_DLSTAT_H
#define ASUD_DLSTAT_H

#include <stdint.h>

struct asud;
struct store;

/*
 * Counts one download of file of hash now, committed before the answer
 * goes out; a store that cannot count it says so in the log, and the
 * download goes on.
 */
void	 dlstat_count(struct asud *, const char *hash, const char *file);
/* A /store answer of hash starts (+1) or stops (-1) sending. */
void	 dlstat_sending(const char *hash, int delta);
/* True while some /store answer of hash is still sending. */
int	 dlstat_busy(const char *hash);
/* Every download ever counted (0 when the store cannot say). */
uint64_t dlstat_total(struct store *);

#endif

/*
 * dlstat.c: the images' download counts. A download is counted when a
 * GET sends a file's first byte (a 200, or a 206 from byte 0), so that a
 * resumed download is not counted twice; each count is its own commit,
 * made before the answer is sent. The results whose files are being
 * sent are known here, so that the store budget never removes one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/dlstat.h"

/* A result with answers still sending. */
struct dlstat_busy {
	char	hash[STORE_HASH_LEN + 1];
	size_t	n;
};

static struct dlstat_busy	*dlstat_busy_v;
static size_t			 dlstat_nbusy;

/* Counts one download in the store; a failure only costs the count. */
void
dlstat_count(struct asud *a, const char *hash, const char *file)
{
	char	*cause = NULL;

	if (store_download_add(a->store, hash, file, clock_now_ms(),
	    &cause) == -1) {
		log_warnx("download of %.12s/%s not counted: %s", hash, file,
		    cause);
		free(cause);
	}
}

/* The busy slot of hash, or NULL. */
static struct dlstat_busy *
dlstat_find(const char *hash)
{
	size_t	i;

	for (i = 0; i < dlstat_nbusy; i++)
		if (strcmp(dlstat_busy_v[i].hash, hash) == 0)
			return (&dlstat_busy_v[i]);
	return (NULL);
}

/* Keeps the number of answers of hash still sending; 0 frees its slot. */
void
dlstat_sending(const char *hash, int delta)
{
	struct dlstat_busy	*b;

	if ((b = dlstat_find(hash)) == NULL) {
		if (delta <= 0 || strlen(hash) != STORE_HASH_LEN)
			return;
		dlstat_busy_v = xreallocarray(dlstat_busy_v, dlstat_nbusy + 1,
		    sizeof *dlstat_busy_v);
		b = &dlstat_busy_v[dlstat_nbusy++];
		memcpy(b->hash, hash, sizeof b->hash);
		b->n = 0;
	}
	if (delta > 0)
		b->n++;
	else if (b->n > 0)
		b->n--;
	if (b->n == 0)
		*b = dlstat_busy_v[--dlstat_nbusy];
}

/* True while an answer of hash is being sent. */
int
dlstat_busy(const char *hash)
{
	return (dlstat_find(hash) != NULL);
}

/* Every download ever counted, from the store's durable total. */
uint64_t
dlstat_total(struct store *s)
{
	void		*val = NULL;
	size_t		 len = 0;
	uint64_t	 n = 0;
	char		*cause = NULL;

	if (s == NULL)
		return (0);
	if (store_meta_get(s, STORE_DOWNLOADS_TOTAL, &val, &len,
	    &cause) == 1)
		n = store_meta_counter(val, len);
	else if (cause != NULL) {
		log_warnx("downloads total: %s", cause);
		free(cause);
	}
	free(val);
	return (n);
}

/*
 * storemax.c: unit tests of the store's budget: the bytes of the
 * results, the least recently used (downloaded, else built) removed
 * first at start and after a result is stored, a result being
 * downloaded and the one just stored kept, a queued build untouched,
 * expiry through the same removal, and the removals counted by cause.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/dlstat.h"
#include "server/metrics.h"
#include "server/outcome.h"
#include "server/record.h"
#include "server/storemax.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

static char	test_h[8][STORE_HASH_LEN + 1];

/*
 * Stores a record of hash n in state, expiring at expires, with a file
 * of bytes bytes in its directory, whose time is built (seconds).
 */
static void
test_result(struct asud *a, int n, int state, int64_t expires,
    size_t bytes, time_t built)
{
	static const char	 req[] = "{\"version\":\"1.2.3\"}";
	struct record		 r;
	struct timeval		 tv[2];
	void			*rec;
	size_t			 len;
	char			*dir, *file, *buf, *cause = NULL;

	memset(&r, 0, sizeof r);
	r.state = state;
	r.expires = expires;
	r.profile_id = "p";
	r.request = req;
	r.request_len = sizeof req - 1;
	r.body = "{}";
	r.body_len = 2;
	r.phase = "done";
	r.revision = "r1";
	rec = record_encode(&r, &len);
	if (store_record_put(a->store, test_h[n], rec, len, &cause) != 0) {
		printf("Bail out! %s\n", cause);
		exit(1);
	}
	free(rec);
	xasprintf(&dir, "%s/%s", a->store_dir, test_h[n]);
	xasprintf(&file, "%s/img.bin", dir);
	buf = xcalloc(1, bytes);
	if (fs_mkdirs(dir, 0755) != 0 || fs_write_file(file, buf, bytes,
	    0644) != 0) {
		printf("Bail out! cannot write %s\n", file);
		exit(1);
	}
	tv[0].tv_sec = tv[1].tv_sec = built;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	utimes(dir, tv);
	free(buf);
	free(file);
	free(dir);
}

/* Whether the result of hash n is still there: its record and files. */
static int
test_present(struct asud *a, int n)
{
	struct stat	 st;
	void		*val = NULL;
	size_t		 len;
	char		*dir, *cause = NULL;
	int		 rec, files;

	rec = store_record_get(a->store, test_h[n], &val, &len, &cause) == 1;
	free(val);
	free(cause);
	xasprintf(&dir, "%s/%s", a->store_dir, test_h[n]);
	files = stat(dir, &st) == 0;
	free(dir);
	if (rec != files)
		return (-1);
	return (rec);
}

/* The sample of asud_store_removals_total for one cause. */
static int
test_removals(const char *cause)
{
	char	*text, *line, *p;
	int	 n = -1;

	text = metrics_text(NULL, NULL);
	xasprintf(&line, "asud_store_removals_total{cause=\"%s\"} ", cause);
	if ((p = strstr(text, line)) != NULL)
		n = atoi(p + strlen(line));
	free(line);
	free(text);
	return (n);
}

/* The budget at start: nothing without one, then the LRU first. */
static void
test_start(struct asud *a, struct conf *c)
{
	char	*cause = NULL;

	test_result(a, 1, RECORD_DONE, 0, 1000, 1000);
	test_result(a, 2, RECORD_DONE, 0, 1000, 2000);
	test_result(a, 3, RECORD_DONE, 0, 1000, 3000);
	test_result(a, 4, RECORD_QUEUED, 0, 5000, 500);
	ok(store_download_add(a->store, test_h[1], "img.bin", 4000000,
	    &cause) == 0, "result 1 was downloaded last");
	storemax_start(a);
	is_int((int)storemax_bytes(), 3000, "without a budget: 3000 bytes "
	    "of finished results (a queued build has none)");
	is_int(test_present(a, 2), 1, "and nothing is removed");
	c->store_max = 2500;
	storemax_start(a);
	is_int(test_present(a, 2), 0, "2500: the least recently used "
	    "(built at 2000, never downloaded) is removed");
	is_int(test_present(a, 1), 1, "the one downloaded last stays");
	is_int(test_present(a, 3), 1, "the one built last stays");
	is_int(test_present(a, 4), 1, "the queued build is not touched");
	is_int((int)storemax_bytes(), 2000, "2000 bytes are left");
	is_int(test_removals("budget"), 1, "one removal for the budget");
}

/* After a store: one being sent and the one just stored stay. */
static void
test_stored(struct asud *a, struct conf *c)
{
	dlstat_sending(test_h[3], 1);
	test_result(a, 5, RECORD_DONE, 0, 1000, 5000);
	storemax_stored(a, test_h[5]);
	is_int(test_present(a, 3), 1, "the one being sent stays, though "
	    "least recently used");
	is_int(test_present(a, 1), 0, "the next one goes");
	is_int(test_present(a, 5), 1, "the one just stored stays");
	is_int(test_removals("budget"), 2, "two removals for the budget");
	dlstat_sending(test_h[3], -1);
	ok(!dlstat_busy(test_h[3]), "sent: no longer busy");
	c->store_max = 1;
	storemax_stored(a, test_h[5]);
	is_int(test_present(a, 3), 0, "once sent, it can go");
	is_int(test_present(a, 5), 1, "the one just stored stays even alone "
	    "above the budget");
	is_int((int)storemax_bytes(), 1000, "its bytes are what is left");
	is_int(test_removals("budget"), 3, "three removals for the budget");
}

/* Expiry removes through the same path and is counted apart. */
static void
test_expiry(struct asud *a, struct conf *c)
{
	c->store_max = 0;
	test_result(a, 6, RECORD_DONE, 1, 700, 6000);
	storemax_stored(a, test_h[6]);
	is_int((int)storemax_bytes(), 1700, "an expired result is counted "
	    "until the sweep");
	outcome_sweep(a);
	is_int(test_present(a, 6), 0, "the sweep removes it");
	is_int(test_present(a, 5), 1, "and not the others");
	is_int((int)storemax_bytes(), 1000, "its bytes are forgotten");
	is_int(test_removals("expired"), 1, "one removal for expiry");
	is_int(test_removals("budget"), 3, "the budget's count stays");
}

/* Runs the cases on one scratch store. */
int
main(void)
{
	struct asud	 a;
	struct conf	 c;
	char		*root, *db, *cause = NULL;
	int		 i, rc;

	for (i = 0; i < 8; i++)
		snprintf(test_h[i], sizeof test_h[i], "%064x", i + 1);
	root = tutil_scratch("storemax-test");
	memset(&a, 0, sizeof a);
	conf_defaults(&c);
	a.conf = &c;
	xasprintf(&a.store_dir, "%s/store", root);
	xasprintf(&db, "%s/db", root);
	if (store_open(&a.store, db, 0, &cause) != 0) {
		printf("Bail out! %s\n", cause);
		return (1);
	}
	test_start(&a, &c);
	test_stored(&a, &c);
	test_expiry(&a, &c);
	storemax_clear();
	store_close(a.store);
	rc = done_testing();
	fs_rmtree(root);
	free(a.store_dir);
	free(db);
	free(root);
	conf_free(&c);
	return (rc);
}

/*
 * dlcount.c: unit tests of the store's download counts: counting, the
 * total, the listing, bad keys refused, counts gone with their record
 * (and only theirs), and counts surviving a reopen and a kill.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

/* What one walk of the counts saw. */
struct test_seen {
	int		n;
	char		hash[8][STORE_HASH_LEN + 1];
	char		file[8][STORE_FILE_MAX + 1];
	uint64_t	count[8];
	int64_t		last[8];
};

/* Makes a valid hash whose last digits encode n. */
static void
test_hash(char *buf, unsigned int n)
{
	snprintf(buf, STORE_HASH_LEN + 1, "%064x", n);
}

/* Opens the store in dir or stops the test. */
static struct store *
test_open(const char *dir)
{
	struct store	*s;
	char		*cause = NULL;

	if (store_open(&s, dir, 0, &cause) != 0) {
		printf("Bail out! store_open: %s\n", cause);
		exit(1);
	}
	return (s);
}

/* Remembers each count of a walk. */
static int
test_seen_cb(const char *hash, const char *file, uint64_t count,
    int64_t last, void *arg)
{
	struct test_seen	*w = arg;

	if (w->n < 8) {
		snprintf(w->hash[w->n], sizeof w->hash[0], "%s", hash);
		snprintf(w->file[w->n], sizeof w->file[0], "%s", file);
		w->count[w->n] = count;
		w->last[w->n] = last;
	}
	w->n++;
	return (0);
}

/* Walks the counts into w. */
static void
test_walk(struct store *s, struct test_seen *w)
{
	char	*cause = NULL;

	memset(w, 0, sizeof *w);
	ok(store_download_foreach(s, test_seen_cb, w, &cause) == 0,
	    "the counts can be listed");
	free(cause);
}

/* The total of every download ever counted. */
static uint64_t
test_total(struct store *s)
{
	void		*val = NULL;
	size_t		 len = 0;
	uint64_t	 n;
	char		*cause = NULL;

	if (store_meta_get(s, STORE_DOWNLOADS_TOTAL, &val, &len, &cause) != 1)
		n = 0;
	else
		n = store_meta_counter(val, len);
	free(val);
	free(cause);
	return (n);
}

/* Counts one download, expecting success. */
static void
test_add(struct store *s, const char *h, const char *file, int64_t ms)
{
	char	*cause = NULL;

	ok(store_download_add(s, h, file, ms, &cause) == 0, file);
	free(cause);
}

/* Counting, the listing in key order, the total. */
static void
test_counts(struct store *s, const char *h1, const char *h2)
{
	struct test_seen	w;

	test_add(s, h1, "a.bin", 1000);
	test_add(s, h1, "a.bin", 2000);
	test_add(s, h1, "b.bin", 1500);
	test_add(s, h2, "a.bin", 3000);
	test_walk(s, &w);
	is_int(w.n, 3, "three files counted");
	ok(strcmp(w.hash[0], h1) == 0 && strcmp(w.file[0], "a.bin") == 0 &&
	    w.count[0] == 2 && w.last[0] == 2000, "a.bin twice, last at 2000");
	ok(strcmp(w.file[1], "b.bin") == 0 && w.count[1] == 1 &&
	    w.last[1] == 1500, "b.bin once");
	ok(strcmp(w.hash[2], h2) == 0 && w.count[2] == 1, "the other hash");
	is_int((int)test_total(s), 4, "the total is 4");
}

/* Bad hashes and file names are refused and count nothing. */
static void
test_bad(struct store *s, const char *h1)
{
	char	 name[STORE_FILE_MAX + 2], *cause = NULL;
	int	 rc;

	rc = store_download_add(s, "xyz", "a.bin", 1, &cause);
	ok(rc == -1 && cause != NULL, "a bad hash is refused");
	free(cause);
	cause = NULL;
	rc = store_download_add(s, h1, "a/b", 1, &cause);
	ok(rc == -1 && cause != NULL, "a name with '/' is refused");
	free(cause);
	cause = NULL;
	rc = store_download_add(s, h1, "", 1, &cause);
	ok(rc == -1, "an empty name is refused");
	free(cause);
	cause = NULL;
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	rc = store_download_add(s, h1, name, 1, &cause);
	ok(rc == -1, "a name of 256 bytes is refused");
	free(cause);
	is_int((int)test_total(s), 4, "the total did not move");
}

/* Deleting a record takes its counts, not those of a hash sharing none. */
static void
test_del(struct store *s, const char *h1, const char *h2)
{
	struct test_seen	 w;
	char			*cause = NULL;

	ok(store_record_put(s, h1, "r", 1, &cause) == 0, "a record");
	ok(store_record_del(s, h1, &cause) == 0, "the record deleted");
	test_walk(s, &w);
	ok(w.n == 1 && strcmp(w.hash[0], h2) == 0,
	    "only the other hash's count is left");
	is_int((int)test_total(s), 4, "the total stays");
	ok(store_record_del(s, h1, &cause) == 0, "deleting again is fine");
}

/* The counts survive a close and a kill -9 right after a count. */
static void
test_durable(const char *dir, const char *h2)
{
	struct store		*s;
	struct test_seen	 w;
	pid_t			 pid;
	int			 status = 0;

	s = test_open(dir);
	test_walk(s, &w);
	ok(w.n == 1 && w.count[0] == 1, "after a reopen: the count");
	is_int((int)test_total(s), 4, "after a reopen: the total");
	store_close(s);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		char	*cause = NULL;

		s = test_open(dir);
		if (store_download_add(s, h2, "a.bin", 9000, &cause) != 0)
			_exit(2);
		kill(getpid(), SIGKILL);
		_exit(3);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFSIGNALED(status), "a child counted and was killed");
	s = test_open(dir);
	test_walk(s, &w);
	ok(w.n == 1 && w.count[0] == 2 && w.last[0] == 9000,
	    "after the kill: the count and its time");
	is_int((int)test_total(s), 5, "after the kill: the total");
	store_close(s);
}

/* Runs the cases on one scratch store. */
int
main(void)
{
	struct store	*s;
	char		*root, *dir, h1[STORE_HASH_LEN + 1];
	char		 h2[STORE_HASH_LEN + 1];
	int		 rc;

	root = tutil_scratch("dlcount-test");
	xasprintf(&dir, "%s/db", root);
	test_hash(h1, 1);
	test_hash(h2, 2);
	s = test_open(dir);
	test_counts(s, h1, h2);
	test_bad(s, h1);
	test_del(s, h1, h2);
	store_close(s);
	test_durable(dir, h2);
	rc = done_testing();
	fs_rmtree(root);
	free(dir);
	free(root);
	return (rc);
}

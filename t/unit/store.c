/*
 * store.c: unit tests of the LMDB store: records, queue order, atomic
 * finish, durability across a restart and a kill, a full map.
 */
#include <sys/stat.h>
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

#define NQ	6
#define STORE_META_MAX_TEST	200

struct test_queue {
	uint64_t	 qkey[16];
	char		 hash[16][STORE_HASH_LEN + 1];
	int		 n;
	int		 stop_after;
};

struct test_view {
	int		 calls;
	char		 data[64];
	size_t		 len;
	struct store	*s;
	int		 write_rc;
	char		*write_cause;
};

struct test_walk {
	struct store	*s;
	int		 n;
	int		 nested;
};

struct test_metawalk {
	struct store	*s;
	char		 names[8][32];
	int		 n;
	int		 stop_after;
	int		 write_rc;
};

static char	*test_root;
static char	 junk_page[8192];

/* Makes a valid hash whose digits encode n. */
static void
test_hash(char *buf, unsigned long long n)
{
	snprintf(buf, STORE_HASH_LEN + 1, "%064llx", n);
}

/* Remembers the queue as the store hands it out. */
static int
test_queue_cb(uint64_t qkey, const char *hash, void *arg)
{
	struct test_queue	*q = arg;

	if (q->n < 16) {
		q->qkey[q->n] = qkey;
		snprintf(q->hash[q->n], sizeof q->hash[q->n], "%s", hash);
	}
	q->n++;
	return (q->stop_after != 0 && q->n >= q->stop_after);
}

/* Reads the whole queue into q. */
static int
test_queue_read(struct store *s, struct test_queue *q)
{
	char	*cause = NULL;
	int	 rc;

	memset(q, 0, sizeof *q);
	rc = store_queue_foreach(s, test_queue_cb, q, &cause);
	free(cause);
	return (rc);
}

/* Copies what a view callback sees and tries a forbidden write. */
static void
test_view_cb(const void *val, size_t len, void *arg)
{
	struct test_view	*v = arg;

	v->calls++;
	v->len = len;
	memcpy(v->data, val, len < sizeof v->data ? len : sizeof v->data);
	if (v->s != NULL)
		v->write_rc = store_meta_put(v->s, "x", "y", 1,
		    &v->write_cause);
}

/* Counts records, reading each one again from inside the walk. */
static int
test_record_cb(const char *hash, const void *val, size_t len, void *arg)
{
	struct test_walk	*w = arg;
	void			*copy = NULL;
	size_t			 clen = 0;
	char			*cause = NULL;

	w->n++;
	if (store_record_get(w->s, hash, &copy, &clen, &cause) == 1 &&
	    clen == len && memcmp(copy, val, len) == 0)
		w->nested++;
	free(copy);
	free(cause);
	return (strlen(hash) != STORE_HASH_LEN);
}

/* Returns 1 when the record of hash holds exactly want. */
static int
test_record_is(struct store *s, const char *hash, const char *want)
{
	void	*val = NULL;
	size_t	 len = 0;
	char	*cause = NULL;
	int	 rc, same;

	rc = store_record_get(s, hash, &val, &len, &cause);
	same = rc == 1 && len == strlen(want) && memcmp(val, want, len) == 0 &&
	    ((char *)val)[len] == '\0';
	free(val);
	free(cause);
	return (same);
}

/* Returns 1 when the record of hash exists with len bytes. */
static int
test_record_is_blob(struct store *s, const char *hash, size_t want)
{
	void	*val = NULL;
	size_t	 len = 0;
	char	*cause = NULL;
	int	 rc;

	rc = store_record_get(s, hash, &val, &len, &cause);
	free(val);
	free(cause);
	return (rc == 1 && len == want);
}

/* Opens the store at dir or bails out of the whole test. */
static struct store *
test_open(const char *dir, size_t mapsize)
{
	struct store	*s;
	char		*cause = NULL;

	if (store_open(&s, dir, mapsize, &cause) != 0) {
		printf("Bail out! store_open %s: %s\n", dir, cause);
		exit(1);
	}
	return (s);
}

/* Records: put, get, view, replace, delete, missing. */
static void
test_records(struct store *s)
{
	struct test_view	 v;
	struct test_walk	 w;
	char			 h[STORE_HASH_LEN + 1], *cause = NULL;
	void			*val = NULL;
	size_t			 len = 0;

	test_hash(h, 1);
	is_int(store_record_put(s, h, "first", 5, &cause), 0, "record put");
	ok(test_record_is(s, h, "first"), "record get copies the value");
	is_int(store_record_put(s, h, "second", 6, &cause), 0,
	    "record replace");
	ok(test_record_is(s, h, "second"), "record get sees the new value");

	memset(&v, 0, sizeof v);
	is_int(store_record_view(s, h, test_view_cb, &v, &cause), 1,
	    "record view finds it");
	ok(v.calls == 1 && v.len == 6 && memcmp(v.data, "second", 6) == 0,
	    "view callback saw the value");

	memset(&v, 0, sizeof v);
	v.s = s;
	store_record_view(s, h, test_view_cb, &v, &cause);
	ok(v.write_rc == -1 && v.write_cause != NULL &&
	    strstr(v.write_cause, "callback") != NULL,
	    "a write from inside a callback is refused");
	free(v.write_cause);

	test_hash(h, 2);
	is_int(store_record_put(s, h, "", 0, &cause), 0, "empty record put");
	ok(test_record_is(s, h, ""), "empty record reads back empty");
	memset(&w, 0, sizeof w);
	w.s = s;
	is_int(store_record_foreach(s, test_record_cb, &w, &cause), 0,
	    "record foreach");
	is_int(w.n, 2, "record foreach sees both records");
	is_int(w.nested, 2, "reads nested inside a walk work");
	is_int(store_record_del(s, h, &cause), 0, "record del");
	is_int(store_record_get(s, h, &val, &len, &cause), 0,
	    "deleted record is gone");
	is_int(store_record_del(s, h, &cause), 0,
	    "deleting a missing record is fine");

	test_hash(h, 999);
	memset(&v, 0, sizeof v);
	val = NULL;
	is_int(store_record_get(s, h, &val, &len, &cause), 0,
	    "missing record: get returns 0");
	ok(val == NULL, "missing record: nothing allocated");
	is_int(store_record_view(s, h, test_view_cb, &v, &cause), 0,
	    "missing record: view returns 0");
	is_int(v.calls, 0, "missing record: callback not called");
}

/* Checks that one call refused a bad hash with a cause. */
static void
test_refused(int rc, char **cause, const char *name)
{
	ok(rc == -1 && *cause != NULL && strstr(*cause, "hash") != NULL,
	    name);
	free(*cause);
	*cause = NULL;
}

/* Hashes that are not 64 lowercase hex digits are refused everywhere. */
static void
test_bad_hashes(struct store *s)
{
	char	 up[STORE_HASH_LEN + 1], lng[STORE_HASH_LEN + 2];
	char	*cause = NULL;
	void	*val;
	size_t	 len;

	test_hash(up, 0xabcULL);
	up[63] = 'C';
	memset(lng, 'a', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	test_refused(store_record_put(s, up, "x", 1, &cause), &cause,
	    "uppercase hash refused by put");
	test_refused(store_record_put(s, lng, "x", 1, &cause), &cause,
	    "65-char hash refused by put");
	test_refused(store_record_get(s, "abc", &val, &len, &cause), &cause,
	    "short hash refused by get");
	test_refused(store_record_get(s, "", &val, &len, &cause), &cause,
	    "empty hash refused by get");
	test_refused(store_record_view(s, "../../etc/passwd", test_view_cb,
	    NULL, &cause), &cause, "path refused by view");
	test_refused(store_record_del(s, NULL, &cause), &cause,
	    "NULL hash refused by del");
	test_refused(store_enqueue(s, up, "x", 1, 1, &cause), &cause,
	    "bad hash refused by enqueue");
	test_refused(store_finish(s, up, 1, "x", 1, NULL, 0, &cause), &cause,
	    "bad hash refused by finish");
	test_refused(store_queue_del(s, 1, lng, &cause), &cause,
	    "bad hash refused by queue del");
	test_refused(store_log_get(s, "zz", &val, &len, &cause), &cause,
	    "bad hash refused by log get");
}

/* Enqueues out of order and expects schedule (numeric qkey) order. */
static void
test_queue_order(struct store *s)
{
	/* 256 before 1 would betray a little-endian key. */
	static const uint64_t	 keys[NQ] = { 30, 256, 1, 1ULL << 40, 20, 0 };
	static const uint64_t	 sorted[NQ] = { 0, 1, 20, 30, 256, 1ULL << 40 };
	struct test_queue	 q;
	char			 h[STORE_HASH_LEN + 1], *cause = NULL;
	int			 i, good = 1, rc = 0;

	for (i = 0; i < NQ; i++) {
		test_hash(h, 100 + keys[i]);
		rc |= store_enqueue(s, h, "queued", 6, keys[i], &cause);
	}
	is_int(rc, 0, "enqueue six entries");
	ok(test_record_is(s, h, "queued"), "enqueue wrote the record");
	is_int(test_queue_read(s, &q), 0, "queue foreach");
	is_int(q.n, NQ, "queue holds six entries");
	for (i = 0; i < NQ && i < q.n; i++) {
		test_hash(h, 100 + sorted[i]);
		if (q.qkey[i] != sorted[i] || strcmp(q.hash[i], h) != 0)
			good = 0;
	}
	ok(good, "queue iterates in qkey order with the right hashes");

	memset(&q, 0, sizeof q);
	q.stop_after = 2;
	is_int(store_queue_foreach(s, test_queue_cb, &q, &cause), 0,
	    "queue foreach stopped early");
	is_int(q.n, 2, "callback returning non-zero stops the walk");

	test_hash(h, 100 + 20);
	is_int(store_queue_del(s, 20, h, &cause), 0, "queue del");
	is_int(store_queue_del(s, 20, h, &cause), 0,
	    "queue del of a missing entry is fine");
	test_queue_read(s, &q);
	ok(q.n == NQ - 1 && q.qkey[2] == 30, "queue del removed one entry");
}

/* Finish replaces the record, stores the log and dequeues at once. */
static void
test_finish(struct store *s)
{
	struct test_queue	 q;
	char			 h[STORE_HASH_LEN + 1], *cause = NULL;
	char			*val = NULL;
	size_t			 len = 0;

	test_hash(h, 100 + 30);
	is_int(store_finish(s, h, 30, "done", 4, "LOG\0bytes", 9, &cause), 0,
	    "finish");
	ok(test_record_is(s, h, "done"), "finish replaced the record");
	is_int(store_log_get(s, h, (void **)&val, &len, &cause), 1,
	    "finish stored the log");
	ok(len == 9 && memcmp(val, "LOG\0bytes", 9) == 0 && val[9] == '\0',
	    "log is stored byte for byte, NUL past the end");
	free(val);
	test_queue_read(s, &q);
	ok(q.n == NQ - 2 && q.qkey[2] == 256, "finish removed the queue entry");

	is_int(store_finish(s, h, 30, "again", 5, NULL, 0, &cause), 0,
	    "finish without a log");
	val = NULL;
	store_log_get(s, h, (void **)&val, &len, &cause);
	ok(val != NULL && len == 9, "finish without a log keeps the old log");
	free(val);

	test_hash(h, 4242);
	val = NULL;
	is_int(store_log_get(s, h, (void **)&val, &len, &cause), 0,
	    "missing log: log get returns 0");
}

/* A log is read in slices: a piece, the tail, past the end, none. */
static void
test_log_read(struct store *s)
{
	char	 h[STORE_HASH_LEN + 1], buf[8], *cause = NULL;
	size_t	 len, total = 0;

	test_hash(h, 100 + 30);
	len = 4;
	ok(store_log_read(s, h, 2, buf, &len, &total, &cause) == 1 &&
	    len == 4 && total == 9 && memcmp(buf, "G\0by", 4) == 0,
	    "log read: a slice from an offset");
	len = sizeof buf;
	ok(store_log_read(s, h, 6, buf, &len, &total, &cause) == 1 &&
	    len == 3 && memcmp(buf, "tes", 3) == 0,
	    "log read: the tail is shorter than asked");
	len = sizeof buf;
	ok(store_log_read(s, h, 9, buf, &len, &total, &cause) == 1 &&
	    len == 0, "log read: nothing at the end");
	len = sizeof buf;
	ok(store_log_read(s, h, 1000, buf, &len, &total, &cause) == 1 &&
	    len == 0, "log read: nothing past the end");
	test_hash(h, 4242);
	len = sizeof buf;
	is_int(store_log_read(s, h, 0, buf, &len, &total, &cause), 0,
	    "log read: a missing log is 0");
	len = sizeof buf;
	test_refused(store_log_read(s, "zz", 0, buf, &len, &total, &cause),
	    &cause, "log read: a bad hash is refused");
}

/* Small named values. */
static void
test_meta(struct store *s)
{
	char	 name[STORE_HASH_LEN * 4], *cause = NULL, *val = NULL;
	size_t	 len = 0;

	is_int(store_meta_put(s, "schema", "1", 1, &cause), 0, "meta put");
	is_int(store_meta_get(s, "schema", (void **)&val, &len, &cause), 1,
	    "meta get");
	is_str(val, "1", "meta value reads back");
	free(val);
	val = NULL;
	is_int(store_meta_get(s, "nothing", (void **)&val, &len, &cause), 0,
	    "missing meta returns 0");

	memset(name, 'n', 200);
	name[200] = '\0';
	is_int(store_meta_put(s, name, "v", 1, &cause), 0,
	    "200-byte meta name accepted");
	name[200] = 'n';
	name[201] = '\0';
	ok(store_meta_put(s, name, "v", 1, &cause) == -1 && cause != NULL,
	    "201-byte meta name refused");
	free(cause);
	cause = NULL;
	ok(store_meta_put(s, "", "v", 1, &cause) == -1 && cause != NULL,
	    "empty meta name refused");
	free(cause);
}

/* Remembers the names a meta walk visits; tries a forbidden write. */
static int
test_meta_cb(const char *name, const void *val, size_t len, void *arg)
{
	struct test_metawalk	*w = arg;
	char			*cause = NULL;

	if (w->n < 8)
		snprintf(w->names[w->n], sizeof w->names[w->n], "%s=%.*s",
		    name, (int)len, (const char *)val);
	w->n++;
	if (w->s != NULL) {
		w->write_rc = store_meta_add(w->s, "cb-write", 1, &cause);
		free(cause);
	}
	return (w->stop_after != 0 && w->n >= w->stop_after);
}

/* Walks the meta names under prefix into w. */
static int
test_meta_walk(struct store *s, const char *prefix, struct test_metawalk *w,
    int stop_after)
{
	char	*cause = NULL;
	int	 rc;

	memset(w, 0, sizeof *w);
	w->stop_after = stop_after;
	rc = store_meta_foreach(s, prefix, test_meta_cb, w, &cause);
	free(cause);
	return (rc);
}

/* Batches of meta changes, counters and prefix walks. */
static void
test_meta_batch(struct store *s)
{
	struct store_meta_op	 ops[4];
	struct test_metawalk	 w;
	char			 big[STORE_META_MAX_TEST + 2], *cause = NULL;
	void			*val = NULL;
	size_t			 len = 0;

	memset(ops, 0, sizeof ops);
	ops[0].op = STORE_META_PUT;
	ops[0].name = "b:gone";
	ops[0].val = "x";
	ops[0].len = 1;
	ops[1].op = STORE_META_ADD;
	ops[1].name = "b:count";
	ops[1].delta = 5;
	ops[2].op = STORE_META_ADD;
	ops[2].name = "b:count";
	ops[2].delta = 7;
	ops[3].op = STORE_META_DEL;
	ops[3].name = "b:gone";
	is_int(store_meta_apply(s, ops, 4, &cause), 0, "meta batch applied");
	is_int(tutil_counter(s, "b:count"), 12, "batch: two adds in one txn");
	is_int(store_meta_get(s, "b:gone", &val, &len, &cause), 0,
	    "batch: put then delete leaves nothing");
	is_int(store_meta_add(s, "b:count", 30, &cause), 0, "meta add");
	is_int(tutil_counter(s, "b:count"), 42, "meta add adds");
	ops[3].name = "b:nothing";
	is_int(store_meta_apply(s, &ops[3], 1, &cause), 0,
	    "batch: deleting a missing name is fine");

	memset(big, 'n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ops[0].name = "b:partial";
	ops[3].name = big;
	ok(store_meta_apply(s, ops, 4, &cause) == -1 && cause != NULL,
	    "batch with a bad name refused");
	free(cause);
	cause = NULL;
	is_int(store_meta_get(s, "b:partial", &val, &len, &cause), 0,
	    "refused batch wrote nothing");
	is_int(tutil_counter(s, "b:count"), 42, "refused batch added nothing");
	ops[3].name = "b:x";
	ops[3].op = 99;
	ok(store_meta_apply(s, ops, 4, &cause) == -1 && cause != NULL,
	    "batch with an unknown op refused");
	free(cause);
	cause = NULL;

	store_meta_put(s, "b:text", "abc", 3, &cause);
	is_int(store_meta_add(s, "b:text", 2, &cause), 0,
	    "add to a non-counter value works");
	is_int(tutil_counter(s, "b:text"), 2, "non-counter value restarts");
	is_int(store_meta_counter("abc", 3), 0, "3-byte value is no counter");
	is_int(store_meta_counter(NULL, 0), 0, "no value is no counter");

	store_meta_put(s, "w", "0", 1, &cause);
	store_meta_put(s, "w:b", "2", 1, &cause);
	store_meta_put(s, "w:a", "1", 1, &cause);
	store_meta_put(s, "w:c", "3", 1, &cause);
	store_meta_put(s, "w;", "4", 1, &cause);
	store_meta_put(s, "x:a", "5", 1, &cause);
	is_int(test_meta_walk(s, "w:", &w, 0), 0, "prefix walk");
	ok(w.n == 3 && strcmp(w.names[0], "w:a=1") == 0 &&
	    strcmp(w.names[1], "w:b=2") == 0 &&
	    strcmp(w.names[2], "w:c=3") == 0,
	    "prefix walk: exactly the names under it, in order");
	test_meta_walk(s, "w:", &w, 2);
	is_int(w.n, 2, "prefix walk stops when asked");
	test_meta_walk(s, "zzz", &w, 0);
	is_int(w.n, 0, "prefix past every name: nothing");
	test_meta_walk(s, "", &w, 0);
	ok(w.n >= 10 && strncmp(w.names[0], "b:count=", 8) == 0,
	    "empty prefix walks everything from the first name");
	memset(&w, 0, sizeof w);
	w.s = s;
	store_meta_foreach(s, "x:", test_meta_cb, &w, &cause);
	ok(w.n == 1 && w.write_rc == -1, "no writes from a meta walk");
	is_int(tutil_counter(s, "cb-write"), -1,
	    "the refused write left nothing");
}

/* Everything written before a close is there after a reopen. */
static void
test_reopen(const char *dir)
{
	struct store		*s;
	struct test_queue	 q;
	char			 h[STORE_HASH_LEN + 1], *cause = NULL;
	char			*val = NULL;
	size_t			 len;

	s = test_open(dir, 0);
	test_hash(h, 1);
	ok(test_record_is(s, h, "second"), "reopen: record kept");
	test_hash(h, 100 + 30);
	ok(test_record_is(s, h, "again"), "reopen: finished record kept");
	ok(store_log_get(s, h, (void **)&val, &len, &cause) == 1 && len == 9,
	    "reopen: log kept");
	free(val);
	val = NULL;
	test_queue_read(s, &q);
	ok(q.n == NQ - 2 && q.qkey[0] == 0 && q.qkey[NQ - 3] == 1ULL << 40,
	    "reopen: queue kept in order");
	ok(store_meta_get(s, "schema", (void **)&val, &len, &cause) == 1 &&
	    len == 1, "reopen: meta kept");
	free(val);
	is_int(tutil_counter(s, "b:count"), 42, "reopen: counter kept");
	store_close(s);
}

/* Deleting a record also drops its log and all its queue entries. */
static void
test_record_del(const char *dir)
{
	struct store		*s;
	struct test_queue	 q;
	char			 h[STORE_HASH_LEN + 1], o[STORE_HASH_LEN + 1];
	char			*cause = NULL, *val = NULL;
	size_t			 len;
	int			 rc = 0;

	s = test_open(dir, 0);
	test_hash(h, 7777);
	test_hash(o, 8888);
	rc |= store_enqueue(s, h, "r", 1, 5000, &cause);
	rc |= store_enqueue(s, h, "r", 1, 3000, &cause);
	rc |= store_enqueue(s, o, "o", 1, 4000, &cause);
	rc |= store_finish(s, h, 9999, "r", 1, "log", 3, &cause);
	is_int(rc, 0, "del setup: two queue entries and a log");
	is_int(store_record_del(s, h, &cause), 0, "record del with extras");
	ok(!test_record_is(s, h, "r"), "record del: record gone");
	is_int(store_log_get(s, h, (void **)&val, &len, &cause), 0,
	    "record del: log gone");
	test_queue_read(s, &q);
	ok(q.n == NQ - 2 + 1 && strcmp(q.hash[NQ - 3], o) == 0 &&
	    q.qkey[NQ - 3] == 4000, "record del: its queue entries gone, "
	    "the other one kept");
	ok(test_record_is(s, o, "o"), "record del: other record kept");
	store_close(s);
}

/* A writer killed without closing leaves its committed entry behind. */
static void
test_crash(const char *dir)
{
	struct store		*s;
	struct test_queue	 q;
	char			 h[STORE_HASH_LEN + 1], *cause = NULL;
	pid_t			 pid;
	int			 status = 0, found = 0, i;

	test_hash(h, 0xdead);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		s = test_open(dir, 0);
		if (store_enqueue(s, h, "crash", 5, 77, &cause) != 0)
			_exit(2);
		/* Leave a read slot behind too, for the stale reader check. */
		if (!test_record_is(s, h, "crash"))
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child enqueued and was killed");
	s = test_open(dir, 0);
	ok(test_record_is(s, h, "crash"), "crash: record survived the kill");
	test_queue_read(s, &q);
	for (i = 0; i < q.n && i < 16; i++)
		found += q.qkey[i] == 77 && strcmp(q.hash[i], h) == 0;
	is_int(found, 1, "crash: queue entry survived the kill");
	store_close(s);
}

/* A tiny map fills up with a clear error and stays readable. */
static void
test_full(const char *dir)
{
	struct store_meta_op	 ops[2];
	struct store		*s;
	char			 h[STORE_HASH_LEN + 1], *cause = NULL;
	char			*val = NULL, blob[1500];
	size_t			 len;
	int			 i, rc = 0;

	s = test_open(dir, 64 * 1024);
	ok(store_meta_put(s, "full:a", "a", 1, &cause) == 0 &&
	    store_meta_put(s, "full:b", "b", 1, &cause) == 0,
	    "full map: two meta values written first");
	ok(!store_full(s) && store_write_failures(s) == 0,
	    "full map: not full, no failed write yet");
	memset(blob, 'b', sizeof blob);
	for (i = 0; i < 1000; i++) {
		test_hash(h, 50000 + i);
		if ((rc = store_record_put(s, h, blob, sizeof blob,
		    &cause)) != 0)
			break;
	}
	ok(rc == -1 && i > 0 && i < 1000, "tiny map fills up");
	ok(store_full(s) && store_write_failures(s) == 1,
	    "full map: the store says it is full and counts the failure");
	ok(cause != NULL && strstr(cause, "store is full") != NULL &&
	    strstr(cause, "store_map_size") != NULL, "full map: clear cause");
	if (cause != NULL)
		printf("# %s\n", cause);
	free(cause);
	cause = NULL;
	test_hash(h, 50000);
	ok(test_record_is_blob(s, h, sizeof blob),
	    "full map: earlier record still readable");
	test_hash(h, 60000);
	ok(store_enqueue(s, h, blob, sizeof blob, 1, &cause) == -1,
	    "full map: enqueue of a new build fails too");
	free(cause);
	cause = NULL;
	memset(ops, 0, sizeof ops);
	ops[0].op = ops[1].op = STORE_META_DEL;
	ops[0].name = "full:a";
	ops[1].name = "full:b";
	ok(store_full(s) && store_write_failures(s) == 2,
	    "full map: still full after a failed enqueue");
	is_int(store_meta_apply(s, ops, 2, &cause), 0,
	    "full map: a batch of meta deletes still works");
	ok(!store_full(s), "full map: a write that worked clears full");
	free(cause);
	cause = NULL;
	ok(store_meta_get(s, "full:a", (void **)&val, &len, &cause) == 0 &&
	    store_meta_get(s, "full:b", (void **)&val, &len, &cause) == 0,
	    "full map: the deleted meta values are gone");
	test_hash(h, 50001);
	is_int(store_record_del(s, h, &cause), 0,
	    "full map: delete still works");
	free(cause);
	cause = NULL;
	val = NULL;
	is_int(store_record_get(s, h, (void **)&val, &len, &cause), 0,
	    "full map: deleted record is gone");
	test_hash(h, 50002);
	ok(test_record_is_blob(s, h, sizeof blob),
	    "full map: other records intact");
	store_close(s);

	s = test_open(dir, 64 * 1024);
	test_hash(h, 50002);
	ok(test_record_is_blob(s, h, sizeof blob),
	    "full map: reopens with the small map size and reads");
	store_close(s);
}

/* Opening something that is not a store fails with a cause. */
static void
test_bad_open(void)
{
	struct store	*s = NULL;
	char		*path, *dir, *file, *cause = NULL;

	xasprintf(&path, "%s/plainfile", test_root);
	fs_write_file(path, "x", 1, 0600);
	ok(store_open(&s, path, 0, &cause) == -1 && s == NULL &&
	    cause != NULL && strstr(cause, path) != NULL,
	    "open on a plain file fails and names it");
	free(cause);
	cause = NULL;

	xasprintf(&dir, "%s/junk", test_root);
	xasprintf(&file, "%s/data.mdb", dir);
	fs_mkdirs(dir, 0700);
	memset(junk_page, 'j', sizeof junk_page);
	fs_write_file(file, junk_page, sizeof junk_page, 0600);
	ok(store_open(&s, dir, 0, &cause) == -1 && cause != NULL &&
	    strstr(cause, "damaged") != NULL,
	    "open on a junk data file fails as damaged");
	if (cause != NULL)
		printf("# %s\n", cause);
	free(cause);
	free(file);
	free(dir);
	free(path);
}

/* Runs every group against fresh stores in one scratch directory. */
int
main(void)
{
	struct store	*s;
	struct stat	 st;
	char		*dir, *full;
	int		 rc;

	test_root = tutil_scratch("store-test");
	xasprintf(&dir, "%s/state/db", test_root);
	xasprintf(&full, "%s/full", test_root);

	s = test_open(dir, 0);
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700, "store_open created the dir 0700");
	test_records(s);
	test_bad_hashes(s);
	test_queue_order(s);
	test_finish(s);
	test_log_read(s);
	test_meta(s);
	test_meta_batch(s);
	store_close(s);

	test_reopen(dir);
	test_record_del(dir);
	test_crash(dir);
	test_full(full);
	test_bad_open();

	rc = done_testing();
	fs_rmtree(test_root);
	free(dir);
	free(full);
	free(test_root);
	return (rc);
}

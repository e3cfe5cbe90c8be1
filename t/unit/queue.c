/*
 * queue.c: the build queue's order, classes, positions and the rule that
 * one ImageBuilder runs one build at a time.
 */
#include "server/queue.h"
#include "server/record.h"
#include "t/unit/tap.h"

static const char *H[] = {
	"aaaa000000000000000000000000000000000000000000000000000000000000",
	"bbbb000000000000000000000000000000000000000000000000000000000000",
	"cccc000000000000000000000000000000000000000000000000000000000000",
	"dddd000000000000000000000000000000000000000000000000000000000000",
	"eeee000000000000000000000000000000000000000000000000000000000000",
};

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	struct queue		*q;
	struct queue_entry	*a, *b, *c, *d, *e, *n;
	int			 delay = 300;

	is_int(queue_class_of("luci/git-22.073", NULL), RECORD_CLASS_ROUTER,
	    "luci client is a router");
	is_int(queue_class_of(NULL, "owut/2024.07.01"), RECORD_CLASS_ROUTER,
	    "owut User-Agent is a router");
	is_int(queue_class_of(NULL, "auc (0.3.2)"), RECORD_CLASS_ROUTER,
	    "auc User-Agent is a router");
	is_int(queue_class_of("ofs/v4.1", "Mozilla/5.0"), RECORD_CLASS_WEB,
	    "firmware selector is a web page");
	is_int(queue_class_of(NULL, "curl/8.0"), RECORD_CLASS_OTHER,
	    "curl is other");
	is_int(queue_class_of(NULL, NULL), RECORD_CLASS_OTHER,
	    "no client and no User-Agent is other");
	is_int(queue_class_of("", "luci/1"), RECORD_CLASS_ROUTER,
	    "an empty client falls back to the User-Agent");

	q = queue_new();
	/* other at t=0, web at t=1s, router at t=2s, router at t=1000s */
	a = queue_add(q, queue_key(0, 2, delay), H[0], 2, 0, "v/t1", NULL);
	b = queue_add(q, queue_key(1000, 1, delay), H[1], 1, 1000, "v/t1",
	    NULL);
	c = queue_add(q, queue_key(2000, 0, delay), H[2], 0, 2000, "v/t2",
	    NULL);
	d = queue_add(q, queue_key(1000000, 0, delay), H[3], 0, 1000000,
	    "v/t3", NULL);
	is_int(queue_waiting(q), 4, "four waiting");
	is_int(queue_position(q, c), 0, "router first");
	is_int(queue_position(q, b), 1, "web page second");
	is_int(queue_position(q, a), 2, "other third");
	is_int(queue_position(q, d), 3,
	    "a router arriving much later does not overtake: aging");
	ok(queue_find(q, H[1]) == b, "find by hash");
	ok(queue_find(q, H[4]) == NULL, "unknown hash not found");

	n = queue_next(q, 1);
	ok(n == c, "next is the router");
	queue_start(q, n);
	is_int(queue_position(q, b), 0, "positions count only waiting ones");
	n = queue_next(q, 1);
	ok(n == b, "then the web page");
	queue_start(q, n);
	n = queue_next(q, 1);
	ok(n == d, "the other request waits: its ImageBuilder is busy");
	is_int(queue_running(q), 2, "two running");
	queue_remove(q, b);
	n = queue_next(q, 1);
	ok(n == a, "after the build ends its ImageBuilder is free again");

	/* Equal keys keep a stable order by hash. */
	e = queue_add(q, queue_key(0, 2, delay), H[4], 2, 0, "v/t9", NULL);
	ok(queue_position(q, e) > queue_position(q, a),
	    "equal keys ordered by hash");

	/* Slots: several builds of one ImageBuilder at once. */
	queue_remove(q, e);
	queue_start(q, a);
	queue_start(q, d);
	e = queue_add(q, queue_key(2000000, 0, delay), H[4], 0, 2000000,
	    "v/t1", NULL);
	e->ready = 1;
	ok(queue_next(q, 1) == NULL, "one build per ImageBuilder: none");
	ok(queue_next(q, 2) == e, "two per ImageBuilder: the second starts");
	is_int(queue_busy(q, "v/t1"), 1, "one running on it");
	queue_free(q, NULL);
	return (done_testing());
}

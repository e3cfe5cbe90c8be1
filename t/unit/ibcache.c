/*
 * ibcache.c: the upkeep of the ImageBuilders on disk: revision notes,
 * last use, and eviction past the budget (least recently used first,
 * never one in use, never a hand-placed one), over a scratch tree.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/fs.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/job.h"
#include "imagebuilder/unpack.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

static struct event_base	*tib_base;

/* Writes a small file, for the scratch tree. */
static void
tib_write(const char *dir, const char *name, const char *text)
{
	char	*path;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return;
	if (fs_mkdirs(dir, 0755) == -1 ||
	    fs_write_file(path, text, strlen(text), 0644) == -1)
		printf("# cannot write %s\n", path);
	free(path);
}

/* The modification time of dir/name, or -1. */
static time_t
tib_mtime(const char *dir, const char *name)
{
	struct stat	 st;
	char		*path;
	time_t		 t = -1;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return (-1);
	if (stat(path, &st) == 0)
		t = st.st_mtime;
	free(path);
	return (t);
}

/* Sets the last use of an ImageBuilder (its size note's time). */
static void
tib_used(const char *dir, time_t when)
{
	struct timespec	 ts[2];
	char		*path;

	if (asprintf(&path, "%s/" UNPACK_SIZE_FILE, dir) == -1)
		return;
	ts[0].tv_sec = ts[1].tv_sec = when;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path, ts, 0);
	free(path);
}

/* Checks the revision notes and the "upstream moved" test. */
static void
tib_test_revision(const char *root)
{
	static const struct {
		const char	*dir;		/* NULL: the scratch one */
		const char	*note;		/* NULL: none written */
		int		 replace;
		const char	*want;
		const char	*name;
	} steps[] = {
		{ NULL, NULL, 0, "r1-said",
		    "no note: the revision make info said" },
		{ NULL, "r1-info", 0, "r1-info",
		    "a first note is written and read" },
		{ NULL, "r2-info", 0, "r1-info",
		    "make info does not replace a note" },
		{ NULL, "r3-upstream", 1, "r3-upstream",
		    "upstream's revision replaces it" },
		{ "relative/dir", "r4", 1, "r1-said",
		    "a key that is no directory has no note" },
	};
	char	*dir, *s;
	size_t	 i;

	if (asprintf(&dir, "%s/notes", root) == -1)
		return;
	tib_write(dir, "placeholder", "x");
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (steps[i].note != NULL)
			ibcache_note_revision(steps[i].dir != NULL ?
			    steps[i].dir : dir, steps[i].note,
			    steps[i].replace);
		s = ibcache_revision(steps[i].dir != NULL ? steps[i].dir :
		    dir, "r1-said");
		is_str(s, steps[i].want, steps[i].name);
		free(s);
	}
	ok(access("relative/dir/.asud-revision", F_OK) == -1,
	    "and none is written for it");

	ok(!ibcache_moved(dir, "r9"), "hand-placed (no size note): not moved");
	tib_write(dir, UNPACK_SIZE_FILE, "100");
	ok(!ibcache_moved(dir, "r3-upstream"), "same revision: not moved");
	ok(ibcache_moved(dir, "r9"), "another revision upstream: moved");
	ok(!ibcache_moved(dir, NULL), "upstream unknown: not moved");
	ok(!ibcache_moved("relative/dir", "r9"), "no directory: not moved");

	tib_used(dir, 1000);
	ibcache_touch(dir);
	ok(tib_mtime(dir, UNPACK_SIZE_FILE) > 1000, "touch marks it used now");
	free(dir);
}

/* The in-use callback: the directory named by arg is in use. */
static int
tib_in_use(const char *dir, void *arg)
{
	const char	*busy = arg;

	return (busy != NULL && strcmp(dir, busy) == 0);
}

/* Counts an entry of a directory. */
static void
tib_count(int dirfd, const char *name, void *arg)
{
	int	*n = arg;

	(*n)++;
}

/* True when root/.tmp (arg) holds nothing: the rm children ran. */
static int
tib_trash_empty(void *arg)
{
	int	n = 0;

	if (fs_dir_each(AT_FDCWD, arg, tib_count, &n) == -1)
		return (0);
	return (n == 0);
}

/* Runs the loop until root/.tmp is empty, or 10 s passed. */
static int
tib_wait_trash(const char *root)
{
	char	*tmp;
	int	 rc;

	if (asprintf(&tmp, "%s/.tmp", root) == -1)
		return (0);
	rc = tutil_wait(tib_trash_empty, tmp, 10) == 0;
	free(tmp);
	return (rc);
}

/* An ImageBuilder of the scratch tree: .targetinfo and maybe a size. */
static char *
tib_ib(const char *root, const char *version, const char *target,
    const char *size, time_t used)
{
	char	*dir, *info;

	if (asprintf(&dir, "%s/%s/%s", root, version, target) == -1)
		return (NULL);
	if (asprintf(&info, "Target: %s\nTarget-Arch-Packages: x\n"
	    "Target-Profile: DEVICE_p\n@@\n", target) == -1) {
		free(dir);
		return (NULL);
	}
	tib_write(dir, ".targetinfo", info);
	if (size != NULL) {
		tib_write(dir, UNPACK_SIZE_FILE, size);
		tib_used(dir, used);
	}
	free(info);
	return (dir);
}

/* Checks eviction over four ImageBuilders. */
static void
tib_test_evict(const char *root)
{
	struct ibcache	*c;
	struct catalog	*cat;
	char		*oldest, *older, *busy, *hand, *newest, *cause = NULL;
	time_t		 now = time(NULL);

	oldest = tib_ib(root, "22.03.5", "ath79/generic", "100", now - 400);
	busy = tib_ib(root, "23.05.4", "x86/64", "100", now - 300);
	older = tib_ib(root, "23.05.4", "ath79/generic", "100", now - 200);
	hand = tib_ib(root, "23.05.4", "ramips/mt7621", NULL, 0);
	newest = tib_ib(root, "23.05.4", "ath79/nand", "100", now - 100);
	cat = catalog_new();
	ok(catalog_scan(cat, root, &cause) == 0, "scratch tree scanned");
	c = ibcache_new(tib_base, root, NULL, NULL);

	is_int(ibcache_evict(c, cat, 0, tib_in_use, busy), 0,
	    "no budget: nothing evicted");
	is_int(ibcache_evict(c, cat, 400, tib_in_use, busy), 0,
	    "within the budget: nothing evicted");
	is_int(ibcache_evict(c, cat, 250, tib_in_use, busy), 2,
	    "past the budget: two evicted");
	ok(access(oldest, F_OK) == -1 && errno == ENOENT,
	    "the least recently used went");
	ok(access(busy, F_OK) == 0, "the one in use stayed");
	ok(access(older, F_OK) == -1, "then the next least recently used");
	ok(access(newest, F_OK) == 0, "the most recently used stayed");
	ok(access(hand, F_OK) == 0, "the hand-placed one stayed");
	ok(tib_wait_trash(root), "the evicted ones are removed in a child");
	ok(ibcache_remove(c, hand) == 0, "one can be put aside by hand");
	ok(access(hand, F_OK) == -1, "then it is gone from its place");
	ok(ibcache_remove(c, hand) == -1, "a missing one cannot");
	ok(tib_wait_trash(root), "and what was put aside is removed");

	ibcache_free(c);
	catalog_free(cat);
	free(oldest);
	free(older);
	free(busy);
	free(hand);
	free(newest);
	free(cause);
}

/* Runs the cases in a scratch directory, on one event loop. */
int
main(void)
{
	char	*root;

	tib_base = tutil_loop_init(50000, job_sigchld);
	job_init(tib_base);
	root = tutil_scratch("ibcache-test");
	tib_test_revision(root);
	tib_test_evict(root);
	ok(fs_rmtree(root) == 0, "scratch removed");
	free(root);
	tutil_loop_free();
	return (done_testing());
}

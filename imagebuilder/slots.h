/*
 * slots.h: private working copies of an ImageBuilder ("slots"), so that
 * several builds of one version/target run at once, never two in one
 * directory. A slot is <ib>/.asud-slots/<n>, made once by cp in child
 * processes: what make image writes (.config, .profiles.mk, build_dir,
 * packages, the repositories file, keys...) copied, with reflinks where
 * the file system has them; the trees it only reads (staging_dir,
 * target, include, scripts) hard-linked. A slot is kept and reused; it
 * goes with its ImageBuilder's directory. Each slot has its own dl/:
 * the package files a build downloaded are linked into the
 * ImageBuilder's dl/ when it ends and from there into a slot before its
 * next build, so a package is fetched once per ImageBuilder and no two
 * builds ever write one file.
 */
#ifndef ASUD_SLOTS_H
#define ASUD_SLOTS_H

/* The directory slots live in, inside an ImageBuilder's. */
#define SLOTS_DIR	".asud-slots"

struct slots;
struct slot;
struct slots_wait;

/* A slot being made is ready (slot), or could not be made (error). */
typedef void (*slots_ready_cb)(struct slot *, const char *error, void *arg);

/* The slots of every ImageBuilder, none known yet. */
struct slots	*slots_new(void);
/* Forgets every slot (the directories stay); jobs are killed elsewhere. */
void		 slots_free(struct slots *);
/*
 * A slot of the ImageBuilder ib_dir (absolute) for one build, among at
 * most cap: a free one made before is returned at once, its dl/ filled;
 * else one is made, NULL is returned with *wait set, and cb is called
 * from the event loop later. NULL with *wait NULL: *cause says why (all
 * cap slots busy, or nothing could be started).
 */
struct slot	*slots_take(struct slots *, const char *ib_dir, int cap,
		    slots_ready_cb cb, void *arg, struct slots_wait **wait,
		    char **cause);
/* The waiter goes; the slot is still made, free for the next build. */
void		 slots_cancel(struct slots_wait *);
/* The absolute directory of a slot: the build's ImageBuilder. */
const char	*slots_dir(const struct slot *);
/* The build in the slot ended: its downloads are shared, it is free. */
void		 slots_give(struct slot *);
/* The ImageBuilder ib_dir goes away: its slots are forgotten. */
void		 slots_forget(struct slots *, const char *ib_dir);
/*
 * Bytes of file data the slots of the ImageBuilder name (relative to
 * dirfd, or AT_FDCWD) hold of their own.
 */
long long	 slots_size_at(int dirfd, const char *name);

#endif

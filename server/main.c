/*
 * main.c: asud's start and stop. main() owns the event base, the signal
 * events and the order in which modules are set up and torn down.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <yajl/yajl_version.h>
#include <zstd.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "imagebuilder/build.h"
#include "imagebuilder/catalog.h"
#include "imagebuilder/fetch.h"
#include "imagebuilder/ibcache.h"
#include "imagebuilder/usign.h"
#include "imagebuilder/pkgchanges.h"
#include "imagebuilder/job.h"
#include "imagebuilder/runner.h"
#include "imagebuilder/sandbox.h"
#include "store/store.h"
#include "server/anscache.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/demo.h"
#include "server/http.h"
#include "server/route.h"
#include "server/sched.h"
#include "server/stats.h"
#include "server/storemax.h"
#include "server/upstream.h"
#include "server/validate.h"
#include "server/wait.h"
#include "server/client.h"
#include "server/follow.h"
#include "server/metrics.h"
#include "server/api.h"

/* The most the soft descriptor limit is raised to. */
#define MAIN_NOFILE_MAX	65536

static struct event_base	*main_base;

/* The HTTP transport's router and its count of replies for /metrics. */
static const struct http_hooks	 main_http_hooks = {
	route_dispatch,
	route_count
};

/* Prints how to run asud. */
static void __attribute__((noreturn))
main_usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
	    "usage: asud [-nqv] [-c FILE] [-l ADDR:PORT] [-d DIR]\n"
	    "       asud --demo [-d DIR] [-l ADDR:PORT]\n"
	    "  -c FILE      configuration file (key = value lines)\n"
	    "  -l ADDR:PORT listen address; port 0 picks a free port\n"
	    "  -d DIR       state directory (demo default: ./demo-state)\n"
	    "  -n           check the configuration and exit\n"
	    "  --demo       serve generated stand-in ImageBuilders\n"
	    "  -v           more logging (twice: debug)\n"
	    "  -q           warnings only\n");
	exit(code);
}

/* SIGTERM and SIGINT: leave the loop; queued work stays in the store. */
static void
main_stop_cb(evutil_socket_t sig, short events, void *arg)
{
	log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(main_base, NULL);
}

/* SIGCHLD: reap builds' children. */
static void
main_child_cb(evutil_socket_t sig, short events, void *arg)
{
	job_sigchld();
}

/* Routes libevent's own messages into our log. */
static void
main_event_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* Creates the state directory layout and clears leftovers of a crash. */
static void
main_state_dirs(struct asud *a)
{
	const char	*state = a->conf->state_dir;
	char		*jobs;

	xasprintf(&a->store_dir, "%s/store", state);
	xasprintf(&a->tmp_dir, "%s/tmp", state);
	if (fs_mkdirs(state, 0755) == -1)
		fatal("%s", state);
	if (fs_rmtree(a->tmp_dir) == -1)
		fatal("cannot clear %s", a->tmp_dir);
	if (fs_mkdirs(a->store_dir, 0755) == -1 ||
	    fs_mkdirs(a->tmp_dir, 0700) == -1)
		fatal("%s", state);
	xasprintf(&jobs, "%s/jobs", state);
	if (fs_mkdirs(jobs, 0700) == -1)
		fatal("%s", jobs);
	job_set_piddir(jobs);
	free(jobs);
}

/*
 * Checks once, before any build, that bubblewrap runs here, in the
 * sandbox builds get. Where it cannot (not installed, no user
 * namespaces), builds run without it and custom repositories are refused,
 * unless the operator turned the sandbox off.
 */
static void
main_sandbox(struct asud *a)
{
	const struct conf	*c = a->conf;
	struct sandbox_spec	 spec;
	struct strv		 hide = STRV_INITIALIZER;
	struct strv		 rw = STRV_INITIALIZER;
	char			*cause = NULL;

	if (!c->sandbox) {
		log_info("sandbox = off: builds run without a sandbox");
		return;
	}
	strv_add(&hide, c->state_dir);
	strv_add(&hide, c->imagebuilder_dir);
	strv_add(&rw, a->tmp_dir);
	memset(&spec, 0, sizeof spec);
	spec.bwrap = c->sandbox_bwrap;
	spec.hide = &hide;
	spec.rw = &rw;
	if (sandbox_probe(&spec, &cause) == 0) {
		a->sandboxed = 1;
		log_info("builds run in a sandbox (%s)", c->sandbox_bwrap);
	} else {
		a->repos_refused = 1;
		log_warnx("sandbox: %s cannot run: %s", c->sandbox_bwrap,
		    cause);
		log_warnx("builds run WITHOUT a sandbox, and requests with "
		    "custom repositories are refused (sandbox = off accepts "
		    "them unsandboxed)");
		free(cause);
	}
	strv_clear(&hide);
	strv_clear(&rw);
}

/* A directory every node must see: set, and absolute, not the default. */
static void
main_shared_dir(const struct conf *c, const char *key, const char *path)
{
	if (!conf_is_set(c, key) || *path != '/')
		fatalx("build_runner = slurm: set %s to an absolute path on "
		    "a filesystem every node sees (NFS or similar)", key);
}

/*
 * The runner the configuration asks for; with Slurm, the directories the
 * nodes share must be configured (also for -n).
 */
static enum runner_kind
main_runner_conf(const struct conf *c)
{
	enum runner_kind	 kind;
	char			*cause = NULL;

	if (runner_kind_parse(c->build_runner, &kind, &cause) == -1)
		fatalx("%s", cause);
	if (kind == RUNNER_SLURM) {
		main_shared_dir(c, "state_dir", c->state_dir);
		main_shared_dir(c, "imagebuilder_dir", c->imagebuilder_dir);
	}
	return (kind);
}

/*
 * Chooses the runner. With Slurm, before anything is written or built:
 * the directories the nodes share are configured, the cluster's tools
 * run, its controller answers, and the jobs a crashed asud left in it
 * are cancelled. Each failure ends the start with one line.
 */
static void
main_runner(const struct conf *c)
{
	enum runner_kind	 kind;
	char			*cause = NULL;

	kind = main_runner_conf(c);
	runner_setup(kind, c->slurm_partition, c->slurm_args);
	if (kind != RUNNER_SLURM)
		return;
	if (runner_start(&cause) == -1)
		fatalx("%s", cause);
	log_info("builds run as Slurm jobs%s%s", c->slurm_partition != NULL ?
	    " in partition " : "", c->slurm_partition != NULL ?
	    c->slurm_partition : "");
}

/*
 * Loads the package-change table: the configured file, or, when the
 * default is not installed, the copy in the source tree.
 */
static void
main_package_changes(struct asud *a)
{
	const char	*path = a->conf->package_changes;
	char		*cause = NULL;

	if (access(path, R_OK) != 0 &&
	    !conf_is_set(a->conf, "package_changes") &&
	    access(ASUD_SRCDIR "/conf/package-changes.conf", R_OK) == 0)
		path = ASUD_SRCDIR "/conf/package-changes.conf";
	if ((a->pkgchanges = pkgchanges_load(path, &cause)) == NULL)
		fatalx("%s", cause);
}

/*
 * Loads the trusted usign keys: the configured directory, else the
 * installed default set, else the copy in the source tree.
 */
static void
main_keys(struct asud *a)
{
	const char	*dirs[] = { a->conf->upstream_keys,
			    ASUD_PKGDATADIR "/keys",
			    ASUD_SRCDIR "/t/data/keys" };
	char		*cause = NULL;
	size_t		 i;

	for (i = 0; i < nitems(dirs); i++) {
		if (dirs[i] == NULL || (i > 0 && access(dirs[i], R_OK) != 0))
			continue;
		if ((a->keys = usign_keys_load(dirs[i], &cause)) == NULL)
			fatalx("upstream_keys: %s", cause);
		if (usign_keys_count(a->keys) == 0)
			log_warnx("%s holds no usign key: no ImageBuilder can "
			    "be downloaded", dirs[i]);
		return;
	}
	log_warnx("no trusted usign keys: no ImageBuilder can be downloaded");
}

/* Writes the statistics counters out now and then. */
static void
main_stats_cb(evutil_socket_t fd, short events, void *arg)
{
	struct asud	*a = arg;
	char		*cause = NULL;

	if (stats_flush(a->stats, &cause) == -1) {
		log_warnx("stats: %s", cause);
		free(cause);
	}
}

/* A build record was written: its answer kept in memory is stale. */
static void
main_record_written(const char *hash, void *arg)
{
	struct asud	*a = arg;

	anscache_forget(a->anscache, hash);
}

/* The phase of a build changed: its waiters and followers are told. */
static void
main_sched_state(const char *hash, void *arg)
{
	struct asud	*a = arg;

	wait_changed(a->waiters, hash);
	follow_state(a->followers, hash);
}

/* The queue moved: every waiter and follower may see a new position. */
static void
main_sched_queue_moved(void *arg)
{
	struct asud	*a = arg;

	wait_queue_moved(a->waiters);
	follow_state(a->followers, NULL);
}

/* A build printed: its followers get the bytes. */
static void
main_sched_log(const char *hash, size_t offset, const char *buf, size_t len,
    void *arg)
{
	struct asud	*a = arg;

	follow_append(a->followers, hash, offset, buf, len);
}

/* A build ended: the streams of its log end. */
static void
main_sched_ended(const char *hash, void *arg)
{
	struct asud	*a = arg;

	follow_end(a->followers, hash);
}

/* A build's duration goes into the histogram. */
static void
main_sched_build_seconds(double seconds, void *arg)
{
	metrics_build_seconds(seconds);
}

/* ImageBuilders came or went: validation rescans them at once. */
static void
main_sched_ib_changed(void *arg)
{
	struct asud	*a = arg;

	a->catalog_scanned_ms = 0;
	validate_rescan(a);
}

/* Opens the store and the catalog, restores the queue. */
static void
main_open(struct asud *a)
{
	struct sched_events	 ev = { main_sched_state,
				    main_sched_queue_moved, main_sched_log,
				    main_sched_ended, main_sched_build_seconds,
				    main_sched_ib_changed, NULL };
	char			*cause = NULL, *db, *ibtmp;

	xasprintf(&db, "%s/db", a->conf->state_dir);
	if (store_open(&a->store, db,
	    (size_t)a->conf->store_map_size_mb * 1024 * 1024, &cause) == -1)
		fatalx("store: %s", cause);
	free(db);
	a->anscache = anscache_new((size_t)a->conf->answer_cache_max);
	store_set_watch(a->store, main_record_written, a);
	if (fs_mkdirs(a->conf->imagebuilder_dir, 0755) == -1)
		fatal("%s", a->conf->imagebuilder_dir);
	/* Half-downloaded or evicted ImageBuilders of an earlier run. */
	xasprintf(&ibtmp, "%s/.tmp", a->conf->imagebuilder_dir);
	if (fs_rmtree(ibtmp) == -1)
		log_warn("cannot clear %s", ibtmp);
	free(ibtmp);
	a->catalog = catalog_new();
	if (catalog_scan(a->catalog, a->conf->imagebuilder_dir, &cause) == -1)
		fatalx("%s", cause);
	validate_disk_branches(a);
	if (fetch_init(a->base, &cause) == -1)
		fatalx("fetch: %s", cause);
	a->upstream = upstream_new(a);
	if ((a->stats = stats_new(a->store, &cause)) == NULL)
		fatalx("stats: %s", cause);
	main_package_changes(a);
	main_keys(a);
	a->ibcache = ibcache_new(a->base, a->conf->imagebuilder_dir,
	    a->conf->upstream_url, a->keys);
	ev.arg = a;
	a->sched = sched_new(a, &ev);
	a->clients = client_new(a->conf, NULL);
	a->waiters = wait_new(a, api_wait_answer);
	a->followers = follow_new(a, sched_live_log,
	    (size_t)a->conf->log_follow_max, a->conf->events_keepalive);
	if (sched_restore(a->sched, &cause) == -1)
		fatalx("queue: %s", cause);
	storemax_start(a);
}

/* Parses the command line into the configuration. */
static void
main_args(int argc, char **argv, struct conf *c, int *verbose)
{
	static const struct option longopts[] = {
		{ "demo", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*file = NULL, *listen = NULL, *dir = NULL;
	char		*cause = NULL;
	int		 ch, demo = 0, check = 0;

	while ((ch = getopt_long(argc, argv, "c:d:hl:nqv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'd': dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'n': check = 1; break;
		case 'D': demo = 1; break;
		case 'v': (*verbose)++; break;
		case 'q': *verbose = 0; break;
		case 'h': main_usage(0);
		default: main_usage(2);
		}
	}
	if (optind != argc || (file == NULL && !demo))
		main_usage(2);
	if (file != NULL && conf_load(c, file, &cause) == -1)
		fatalx("%s", cause);
	if (demo && demo_prepare(c, dir != NULL ? dir : "./demo-state",
	    &cause) == -1)
		fatalx("demo: %s", cause);
	if (!demo && dir != NULL)
		conf_set(c, "state_dir", dir, &cause);
	if (listen != NULL && conf_set(c, "listen", listen, &cause) == -1)
		fatalx("-l: %s", cause);
	if (check) {
		main_runner_conf(c);
		printf("%s: configuration OK\n", file != NULL ? file : "demo");
		exit(0);
	}
}

/*
 * The event base. On epoll, a changelist folds the "stop reading, start
 * writing" and "stop writing, start reading" of every HTTP answer into one
 * epoll_ctl each, instead of two.
 */
static struct event_base *
main_event_base(void)
{
	struct event_config	*cfg;
	struct event_base	*base;

	if ((cfg = event_config_new()) == NULL)
		return (NULL);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return (base);
}

/*
 * Each connection takes a descriptor: the soft limit (often 1024) is raised
 * towards the hard one, which only the administrator sets, up to a bound
 * that builds (which inherit it) are not slowed by.
 */
static void
main_rlimit(void)
{
	struct rlimit	rl;
	rlim_t		want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	want = rl.rlim_max < MAIN_NOFILE_MAX ? rl.rlim_max : MAIN_NOFILE_MAX;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		log_info("descriptor limit %ju", (uintmax_t)rl.rlim_cur);
}

/* Reads the settings, starts every module, runs the loop, and stops. */
int
main(int argc, char **argv)
{
	struct asud	 a;
	struct conf	 c;
	struct event	*ev_term, *ev_int, *ev_chld, *ev_stats;
	struct timeval	 stats_tv = { STATS_FLUSH_SECS, 0 };
	char		*cause = NULL;
	int		 verbose = 1;

	conf_defaults(&c);
	main_args(argc, argv, &c, &verbose);
	log_init(verbose);
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	event_set_log_callback(main_event_log);
	memset(&a, 0, sizeof a);
	a.conf = &c;
	if ((main_base = a.base = main_event_base()) == NULL)
		fatalx("event_base_new failed");
	log_info("asud %s (libevent %s, lmdb %s, yajl %d, zstd %s)",
	    PACKAGE_VERSION, event_get_version(), store_version(),
	    YAJL_VERSION, ZSTD_versionString());
	job_init(a.base);
	build_init(a.base);
	ev_term = evsignal_new(a.base, SIGTERM, main_stop_cb, NULL);
	ev_int = evsignal_new(a.base, SIGINT, main_stop_cb, NULL);
	ev_chld = evsignal_new(a.base, SIGCHLD, main_child_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_chld == NULL ||
	    event_add(ev_term, NULL) == -1 || event_add(ev_int, NULL) == -1 ||
	    event_add(ev_chld, NULL) == -1)
		fatalx("cannot install signal events");
	main_rlimit();
	main_runner(&c);
	main_state_dirs(&a);
	main_sandbox(&a);
	main_open(&a);
	if (http_init(&a, c.listen, &main_http_hooks, &cause) == -1)
		fatalx("%s", cause);
	ev_stats = event_new(a.base, -1, EV_PERSIST, main_stats_cb, &a);
	if (ev_stats == NULL || event_add(ev_stats, &stats_tv) == -1)
		fatalx("cannot install the stats timer");
	event_base_dispatch(a.base);

	upstream_free(a.upstream);
	wait_free(a.waiters);
	follow_free(a.followers);
	http_free();
	client_free(a.clients);
	sched_free(a.sched);
	anscache_free(a.anscache);
	a.anscache = NULL;	/* a late record write forgets nothing */
	ibcache_free(a.ibcache);
	usign_keys_free(a.keys);
	runner_stop();
	job_killall();
	fetch_shutdown();
	main_stats_cb(-1, 0, &a);
	stats_free(a.stats);
	event_free(ev_stats);
	pkgchanges_free(a.pkgchanges);
	catalog_free(a.catalog);
	store_close(a.store);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_chld);
	event_base_free(a.base);
	free(a.store_dir);
	free(a.tmp_dir);
	runner_reset();
	conf_free(&c);
	log_info("stopped");
	return (0);
}

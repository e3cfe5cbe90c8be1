/*
 * asud.h: the daemon's shared context, owned by main() and handed to the
 * server modules. Leaves never see it.
 */
#ifndef ASUD_ASUD_H
#define ASUD_ASUD_H

struct event_base;
struct conf;
struct store;
struct catalog;
struct sched;
struct upstream;
struct pkgchanges;
struct ibcache;
struct waiters;
struct followers;
struct anscache;
struct usign_keys;
struct stats;
struct clients;

struct asud {
	struct event_base	*base;
	struct conf		*conf;
	struct store		*store;
	struct catalog		*catalog;
	struct sched		*sched;
	struct upstream		*upstream;
	struct stats		*stats;
	struct pkgchanges	*pkgchanges;
	struct ibcache		*ibcache;
	struct waiters		*waiters;
	struct followers	*followers;
	struct anscache		*anscache;	/* finished answers */
	struct usign_keys	*keys;
	struct clients		*clients;	/* limits per client */
	char			*store_dir;	/* <state_dir>/store */
	char			*tmp_dir;	/* <state_dir>/tmp */
	long long		 catalog_scanned_ms;
	int			 sandboxed;	/* builds run under bwrap */
	int			 repos_refused;	/* no sandbox, none asked off */
};

#endif

/*
 * upreq.h: the body of an upgrade check (POST /api/v1/upgrade-check):
 * typed and checked like a build request (server/request.c), with the
 * build model's patterns and the same 422 and 413 answers.
 */
#ifndef ASUD_UPREQ_H
#define ASUD_UPREQ_H

#include <stddef.h>

#include "lib/strv.h"
#include "server/request.h"

struct upreq {
	char		*distro;		/* default "openwrt" */
	char		*version;
	char		*version_code;		/* "" when absent */
	char		*target;
	char		*profile;		/* "," already made "_" */
	struct strv	 names;			/* installed, as sent */
	struct strv	 versions;		/* their versions */
	int		 upgrade_packages;	/* default 1 */
};

/*
 * Parses and checks a body of len bytes. Returns 0 with u filled (the
 * caller frees it with upreq_free), or -1 with err filled as
 * request_parse does (a 422 or a 413) and u empty.
 */
int	upreq_parse(const char *body, size_t len, struct upreq *u,
	    struct request_error *err);
/* Frees what u holds and leaves it empty. */
void	upreq_free(struct upreq *u);

#endif

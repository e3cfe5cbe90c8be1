/*
 * upcheck.h: the upgrade check (POST /api/v1/upgrade-check, the original
 * project's /update-request): what is newer than a router's firmware and
 * packages, and the build request that upgrades it.
 */
#ifndef ASUD_UPCHECK_H
#define ASUD_UPCHECK_H

struct asud;
struct evhttp_request;

/* POST /api/v1/upgrade-check */
void	upcheck_post(struct asud *, struct evhttp_request *, const char *arg);

#endif

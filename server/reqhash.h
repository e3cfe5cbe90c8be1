/*
 * reqhash.h: the request hash, which is both the cache key and the job id.
 * It is byte-compatible with the reference server (reference/asu-api.md
 * §2), so that the same request gives the same 64 hex digits everywhere.
 */
#ifndef ASUD_REQHASH_H
#define ASUD_REQHASH_H

#include "lib/sha256.h"
#include "lib/strv.h"
#include "server/request.h"

/*
 * Computes the hash of a normalised request (as request_parse leaves it)
 * into out: 64 lower-case hex digits and a NUL.
 */
void	reqhash_compute(const struct request *r, char out[65]);
/*
 * The packages part of the hash: sha256 hex of
 * " ".join(sorted(set(name without one leading "+"))).
 */
void	reqhash_packages(const struct strv *names, char out[65]);

#endif

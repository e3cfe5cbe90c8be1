/*
 * keys.h: the repository_keys of a build request (reference/asu-api.md
 * §1.2, §5.2): the checks the reference makes of a PEM key and of a usign
 * public key, and the file each becomes in an ImageBuilder's keys/.
 */
#ifndef ASUD_KEYS_H
#define ASUD_KEYS_H

#include <stddef.h>

#include "imagebuilder/usign.h"

/* Hex digits of a usign key's fingerprint: its key id. */
#define KEYS_FP_LEN		USIGN_ID_LEN
/* The largest key accepted, PEM or usign, in bytes. */
#define KEYS_MAX		8192

/* Whether a key is a PEM key (starts, after white space, with -----BEGIN). */
int	keys_is_pem(const char *key);
/*
 * Checks a key of repository_keys: a PEM key must be one PEM block of
 * base64 lines, at most KEYS_MAX bytes; anything else must be a usign
 * public key (keys_usign_fingerprint). 0, or -1 with *cause set.
 */
int	keys_check(const char *key, char **cause);
/*
 * The usign fingerprint of a public key: bytes 2..10 of its last line,
 * base64-decoded, in lower-case hex, into out (17 bytes with the NUL).
 * The key may carry one "untrusted comment:" line before it. Returns -1
 * with *cause set (caller frees) unless the line decodes to exactly 42
 * bytes starting with "Ed".
 */
int	keys_usign_fingerprint(const char *key, char out[KEYS_FP_LEN + 1],
	    char **cause);
/*
 * The file key (the i-th of the request) becomes in keys/: *name is
 * "custom-<i>.pem" for a PEM key, with the block as *data, LF line ends
 * and nothing around it; for a usign key *name is the fingerprint and
 * *data "untrusted comment: <fingerprint>\n<base64 line>\n". Both are
 * allocated. 0, or -1 with *cause set as keys_check does.
 */
int	keys_file(const char *key, size_t i, char **name, char **data,
	    char **cause);

#endif

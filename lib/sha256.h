/*
 * sha256.h: SHA-256 in lower-case hex, through OpenSSL's libcrypto.
 */
#ifndef ASUD_SHA256_H
#define ASUD_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256;

/* Hashes a buffer into out (65 bytes: 64 hex digits and a NUL). */
void		 sha256_hex(const void *, size_t, char out[SHA256_HEX_LEN + 1]);
/* Incremental hashing: new, update any number of times, then final. */
struct sha256	*sha256_new(void);
void		 sha256_update(struct sha256 *, const void *, size_t);
void		 sha256_final(struct sha256 *, char out[SHA256_HEX_LEN + 1]);
/* Hashes a file; returns -1 with errno set if it cannot be read. */
int		 sha256_file(const char *path, char out[SHA256_HEX_LEN + 1]);

#endif

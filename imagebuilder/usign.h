/*
 * usign.h: OpenWrt's usign/signify Ed25519 signatures. Checks the
 * sha256sums.sig of a downloads server against a directory of trusted
 * public keys in the format of a router's /etc/opkg/keys/, and (for the
 * tests and the stand-in mirror) makes key pairs and signatures in the
 * same formats.
 *
 * Every file is two lines: "untrusted comment: ..." and one base64 line.
 * Decoded, a public key is "Ed" + 8-byte key number + 32-byte key, a
 * signature "Ed" + 8-byte key number + 64-byte signature, and a secret key
 * usign's 104-byte unencrypted layout ("Ed", "BK", 4-byte KDF rounds = 0,
 * 16-byte salt, 8-byte checksum = SHA-512(secret)[0..8], key number,
 * 64-byte secret = 32-byte seed + 32-byte public key).
 */
#ifndef ASUD_USIGN_H
#define ASUD_USIGN_H

#include <stddef.h>

/* The largest key or signature file accepted, in bytes. */
#define USIGN_FILE_MAX	4096
/* A key id: the key number as 16 lowercase hex digits. */
#define USIGN_ID_LEN	16

struct usign_keys;

/*
 * Loads every key file of dir: files named by 16 lowercase hex digits
 * whose key number matches the name. Other files are skipped with a
 * warning. An empty directory gives an empty set. Returns NULL with an
 * allocated *cause if dir cannot be read. The caller frees the result with
 * usign_keys_free.
 */
struct usign_keys *usign_keys_load(const char *dir, char **cause);
/* Frees a key set; NULL is ignored. */
void	usign_keys_free(struct usign_keys *);
/* The number of keys loaded. */
size_t	usign_keys_count(const struct usign_keys *);
/* Whether the set holds the key with this 16-hex id. */
int	usign_keys_has(const struct usign_keys *, const char *id);

/*
 * Verifies sig (the text of a .sig file) over the len bytes of data.
 * Returns 0 if a trusted key signed exactly these bytes, or -1 with an
 * allocated *cause: "malformed signature file", "signature by unknown key
 * <id>" or "bad signature (key <id>)".
 */
int	usign_verify(const struct usign_keys *, const char *data, size_t len,
	    const char *sig, size_t siglen, char **cause);

/*
 * Reads the key id of a public key or signature text into id (17 bytes,
 * NUL-terminated). Returns 0, or -1 with an allocated *cause.
 */
int	usign_key_id(const char *text, size_t len, char *id, char **cause);

/*
 * Decodes the base64 line (len bytes) of a usign public key as a request
 * carries it: padded base64, non-zero spare bits let pass as Python's
 * decoder does, of exactly "Ed", the key number and the key. id receives
 * the key id (17 bytes). Returns 0, or -1 with an allocated *cause:
 * "Invalid usign key: not base64", "Invalid usign key: N bytes instead of
 * 42" or "Invalid usign key: not an Ed25519 key".
 */
int	usign_pubkey_decode(const char *b64, size_t len, char *id,
	    char **cause);

/*
 * Makes a new key pair. *pub and *sec receive allocated file texts, id
 * (17 bytes) the key id. Returns 0, or -1 with an allocated *cause.
 */
int	usign_keygen(char **pub, char **sec, char *id, char **cause);

/*
 * Signs the len bytes of data with the secret key text sec. *sig receives
 * the allocated .sig file text. Returns 0, or -1 with an allocated *cause.
 */
int	usign_sign(const char *sec, size_t seclen, const char *data,
	    size_t len, char **sig, char **cause);

#endif

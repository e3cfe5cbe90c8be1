/*
 * usign.c: usign/signify Ed25519 signatures as OpenWrt publishes them. An
 * ImageBuilder is trusted only if the sha256sums that lists it carries a
 * signature by one of the operator's keys; the parsing here is strict
 * because every byte comes from the network or from disk.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/fs.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/usign.h"

#define USIGN_COMMENT		"untrusted comment: "
#define USIGN_NUM_LEN		8	/* key number */
#define USIGN_PUB_LEN		32	/* Ed25519 public key */
#define USIGN_SIG_LEN		64	/* Ed25519 signature */
#define USIGN_SEED_LEN		32	/* Ed25519 private seed */
#define USIGN_PUBFILE_LEN	(2 + USIGN_NUM_LEN + USIGN_PUB_LEN)
#define USIGN_SIGFILE_LEN	(2 + USIGN_NUM_LEN + USIGN_SIG_LEN)
#define USIGN_SECFILE_LEN	104
/* Offsets into the secret key layout described in usign.h. */
#define USIGN_SEC_ROUNDS	4
#define USIGN_SEC_SUM		24
#define USIGN_SEC_NUM		32
#define USIGN_SEC_KEY		40

struct usign_key {
	unsigned char	 num[USIGN_NUM_LEN];
	char		 id[USIGN_ID_LEN + 1];
	EVP_PKEY	*pkey;
};

struct usign_keys {
	struct usign_key	*v;
	size_t			 n;
};

/* Why the base64 line of a usign text is refused. */
enum usign_bad {
	USIGN_BAD_NONE,
	USIGN_BAD_BASE64,
	USIGN_BAD_LENGTH,
	USIGN_BAD_ED25519
};

static enum usign_bad usign_decode(const char *, size_t, unsigned char *,
		    size_t, int, size_t *);
static int	 usign_parse(const char *, size_t, unsigned char *, size_t);
static void	 usign_hex(const unsigned char *, char *);
static int	 usign_is_id(const char *);
static int	 usign_key_parse(const char *, size_t, struct usign_key *,
		    char **);
static void	 usign_keys_add_file(struct usign_keys *, const char *,
		    const char *);
static const struct usign_key *usign_keys_find(const struct usign_keys *,
		    const unsigned char *);
static char	*usign_text(const char *, const unsigned char *, size_t);
static int	 usign_checksum(const unsigned char *, unsigned char *);
static EVP_PKEY	*usign_generate(void);

/*
 * Decodes the base64 line of a usign text into exactly outlen bytes that
 * start with "Ed"; *got is the decoded length. Non-zero spare bits fail
 * unless lenient, as usign's own decoder fails them.
 */
static enum usign_bad
usign_decode(const char *b64, size_t len, unsigned char *out, size_t outlen,
    int lenient, size_t *got)
{
	unsigned char	*raw;
	enum usign_bad	 bad = USIGN_BAD_NONE;
	int		 rc;

	*got = 0;
	raw = xmalloc(len / 4 * 3 + 1);
	rc = text_b64_decode(b64, len, raw, len / 4 * 3, got);
	if (rc == -1 || (rc == 1 && !lenient))
		bad = USIGN_BAD_BASE64;
	else if (*got != outlen)
		bad = USIGN_BAD_LENGTH;
	else if (raw[0] != 'E' || raw[1] != 'd')
		bad = USIGN_BAD_ED25519;
	else
		memcpy(out, raw, outlen);
	free(raw);
	return (bad);
}

/*
 * Reads a usign file: the comment line, then one base64 line that must
 * decode to exactly outlen bytes starting with "Ed"; only line ends may
 * follow.
 */
static int
usign_parse(const char *text, size_t len, unsigned char *out, size_t outlen)
{
	const char	*nl, *b64, *end;
	size_t		 clen = strlen(USIGN_COMMENT), got;

	if (text == NULL || len > USIGN_FILE_MAX || len < clen ||
	    memcmp(text, USIGN_COMMENT, clen) != 0)
		return (-1);
	if (memchr(text, '\0', len) != NULL)
		return (-1);
	if ((nl = memchr(text, '\n', len)) == NULL)
		return (-1);
	b64 = nl + 1;
	end = text + len;
	while (end > b64 && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (usign_decode(b64, (size_t)(end - b64), out, outlen, 0,
	    &got) != USIGN_BAD_NONE)
		return (-1);
	return (0);
}

/* Formats a key number as the 16 lowercase hex digits usign prints. */
static void
usign_hex(const unsigned char *num, char *id)
{
	static const char	 digits[] = "0123456789abcdef";
	int			 i;

	for (i = 0; i < USIGN_NUM_LEN; i++) {
		id[2 * i] = digits[num[i] >> 4];
		id[2 * i + 1] = digits[num[i] & 0xf];
	}
	id[USIGN_ID_LEN] = '\0';
}

/* Whether a file name is a key id (16 lowercase hex digits). */
static int
usign_is_id(const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0'; i++) {
		if ((name[i] < '0' || name[i] > '9') &&
		    (name[i] < 'a' || name[i] > 'f'))
			return (0);
	}
	return (i == USIGN_ID_LEN);
}

/* Turns a public key file's text into a key OpenSSL can verify with. */
static int
usign_key_parse(const char *text, size_t len, struct usign_key *k,
    char **cause)
{
	unsigned char	raw[USIGN_PUBFILE_LEN];

	if (usign_parse(text, len, raw, sizeof raw) == -1) {
		*cause = xstrdup("malformed public key file");
		return (-1);
	}
	memcpy(k->num, raw + 2, USIGN_NUM_LEN);
	usign_hex(k->num, k->id);
	k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    raw + 2 + USIGN_NUM_LEN, USIGN_PUB_LEN);
	if (k->pkey == NULL) {
		*cause = xstrdup("unusable Ed25519 public key");
		return (-1);
	}
	return (0);
}

/* Adds one file of a key directory, or says why it is skipped. */
static void
usign_keys_add_file(struct usign_keys *keys, const char *dir,
    const char *name)
{
	struct usign_key	 k;
	char			*path, *buf, *cause;
	size_t			 len;

	if (!usign_is_id(name)) {
		log_warnx("%s/%s: not a key id, skipped", dir, name);
		return;
	}
	xasprintf(&path, "%s/%s", dir, name);
	if (fs_read_file(path, USIGN_FILE_MAX, &buf, &len) == -1) {
		log_warn("%s: skipped", path);
		free(path);
		return;
	}
	if (usign_key_parse(buf, len, &k, &cause) == -1) {
		log_warnx("%s: %s, skipped", path, cause);
		free(cause);
	} else if (strcmp(k.id, name) != 0) {
		log_warnx("%s: holds key %s, skipped", path, k.id);
		EVP_PKEY_free(k.pkey);
	} else {
		keys->v = xreallocarray(keys->v, keys->n + 1, sizeof *keys->v);
		keys->v[keys->n++] = k;
	}
	free(buf);
	free(path);
}

/* Loads a directory of trusted keys. */
struct usign_keys *
usign_keys_load(const char *dir, char **cause)
{
	struct usign_keys	*keys;
	struct dirent		*de;
	DIR			*d;

	if ((d = opendir(dir)) == NULL) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return (NULL);
	}
	keys = xcalloc(1, sizeof *keys);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		usign_keys_add_file(keys, dir, de->d_name);
	}
	closedir(d);
	return (keys);
}

/* Frees a key set and its OpenSSL keys. */
void
usign_keys_free(struct usign_keys *keys)
{
	size_t	i;

	if (keys == NULL)
		return;
	for (i = 0; i < keys->n; i++)
		EVP_PKEY_free(keys->v[i].pkey);
	free(keys->v);
	free(keys);
}

/* Lets callers refuse to start with no trusted key at all. */
size_t
usign_keys_count(const struct usign_keys *keys)
{
	return (keys->n);
}

/* Finds the key a signature names. */
static const struct usign_key *
usign_keys_find(const struct usign_keys *keys, const unsigned char *num)
{
	size_t	i;

	for (i = 0; i < keys->n; i++) {
		if (memcmp(keys->v[i].num, num, USIGN_NUM_LEN) == 0)
			return (&keys->v[i]);
	}
	return (NULL);
}

/* Lets callers say which trusted keys are present. */
int
usign_keys_has(const struct usign_keys *keys, const char *id)
{
	size_t	i;

	for (i = 0; i < keys->n; i++) {
		if (strcmp(keys->v[i].id, id) == 0)
			return (1);
	}
	return (0);
}

/* Checks that a trusted key signed exactly these bytes. */
int
usign_verify(const struct usign_keys *keys, const char *data, size_t len,
    const char *sig, size_t siglen, char **cause)
{
	unsigned char		 raw[USIGN_SIGFILE_LEN];
	const struct usign_key	*k;
	EVP_MD_CTX		*ctx;
	char			 id[USIGN_ID_LEN + 1];
	int			 good;

	if (usign_parse(sig, siglen, raw, sizeof raw) == -1) {
		*cause = xstrdup("malformed signature file");
		return (-1);
	}
	usign_hex(raw + 2, id);
	if ((k = usign_keys_find(keys, raw + 2)) == NULL) {
		xasprintf(cause, "signature by unknown key %s", id);
		return (-1);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	good = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, raw + 2 + USIGN_NUM_LEN, USIGN_SIG_LEN,
	    (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!good) {
		xasprintf(cause, "bad signature (key %s)", id);
		return (-1);
	}
	return (0);
}

/* Reads the key id a public key or signature names. */
int
usign_key_id(const char *text, size_t len, char *id, char **cause)
{
	unsigned char	raw[USIGN_SIGFILE_LEN];

	if (usign_parse(text, len, raw, USIGN_PUBFILE_LEN) == -1 &&
	    usign_parse(text, len, raw, USIGN_SIGFILE_LEN) == -1) {
		*cause = xstrdup("malformed key or signature file");
		return (-1);
	}
	usign_hex(raw + 2, id);
	return (0);
}

/* Decodes a request's usign key line; see usign.h. */
int
usign_pubkey_decode(const char *b64, size_t len, char *id, char **cause)
{
	unsigned char	raw[USIGN_PUBFILE_LEN];
	size_t		got;

	switch (usign_decode(b64, len, raw, sizeof raw, 1, &got)) {
	case USIGN_BAD_NONE:
		usign_hex(raw + 2, id);
		return (0);
	case USIGN_BAD_BASE64:
		*cause = xstrdup("Invalid usign key: not base64");
		break;
	case USIGN_BAD_LENGTH:
		xasprintf(cause, "Invalid usign key: %zu bytes instead of %d",
		    got, USIGN_PUBFILE_LEN);
		break;
	case USIGN_BAD_ED25519:
		*cause = xstrdup("Invalid usign key: not an Ed25519 key");
		break;
	}
	return (-1);
}

/* Formats a usign file: the comment line and the base64 line. */
static char *
usign_text(const char *comment, const unsigned char *raw, size_t len)
{
	char	*b64, *text;

	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)len);
	xasprintf(&text, "%s%s\n%s\n", USIGN_COMMENT, comment, b64);
	free(b64);
	return (text);
}

/* usign's secret key checksum: the first 8 bytes of SHA-512(secret). */
static int
usign_checksum(const unsigned char *secret, unsigned char *sum)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;

	if (EVP_Digest(secret, 64, md, &mdlen, EVP_sha512(), NULL) != 1)
		return (-1);
	memcpy(sum, md, 8);
	return (0);
}

/* Generates a fresh Ed25519 key with the OpenSSL 1.1 and 3 API. */
static EVP_PKEY *
usign_generate(void)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;

	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL)) == NULL)
		return (NULL);
	if (EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return (pkey);
}

/* Makes a key pair for a test mirror. */
int
usign_keygen(char **pub, char **sec, char *id, char **cause)
{
	unsigned char	 s[USIGN_SECFILE_LEN], p[USIGN_PUBFILE_LEN];
	unsigned char	 num[USIGN_NUM_LEN];
	EVP_PKEY	*pkey = NULL;
	size_t		 seedlen = USIGN_SEED_LEN, publen = USIGN_PUB_LEN;
	char		*comment;

	memset(s, 0, sizeof s);
	if (RAND_bytes(num, sizeof num) != 1 ||
	    (pkey = usign_generate()) == NULL ||
	    EVP_PKEY_get_raw_private_key(pkey, s + USIGN_SEC_KEY,
	    &seedlen) != 1 ||
	    EVP_PKEY_get_raw_public_key(pkey, s + USIGN_SEC_KEY + seedlen,
	    &publen) != 1 || seedlen != USIGN_SEED_LEN ||
	    publen != USIGN_PUB_LEN ||
	    usign_checksum(s + USIGN_SEC_KEY, s + USIGN_SEC_SUM) == -1) {
		EVP_PKEY_free(pkey);
		*cause = xstrdup("Ed25519 key generation failed");
		return (-1);
	}
	EVP_PKEY_free(pkey);
	memcpy(s, "EdBK", 4);
	RAND_bytes(s + 8, 16);
	memcpy(s + USIGN_SEC_NUM, num, sizeof num);
	memcpy(p, "Ed", 2);
	memcpy(p + 2, num, sizeof num);
	memcpy(p + 2 + USIGN_NUM_LEN, s + USIGN_SEC_KEY + USIGN_SEED_LEN,
	    USIGN_PUB_LEN);
	usign_hex(num, id);
	xasprintf(&comment, "public key %s", id);
	*pub = usign_text(comment, p, sizeof p);
	free(comment);
	xasprintf(&comment, "secret key %s", id);
	*sec = usign_text(comment, s, sizeof s);
	free(comment);
	OPENSSL_cleanse(s, sizeof s);
	return (0);
}

/* Signs data with an unencrypted usign secret key. */
int
usign_sign(const char *sec, size_t seclen, const char *data, size_t len,
    char **sig, char **cause)
{
	unsigned char	 s[USIGN_SECFILE_LEN], r[USIGN_SIGFILE_LEN];
	unsigned char	 sum[8];
	EVP_PKEY	*pkey;
	EVP_MD_CTX	*ctx;
	size_t		 rlen = USIGN_SIG_LEN;
	char		 id[USIGN_ID_LEN + 1], *comment;
	int		 good;

	if (usign_parse(sec, seclen, s, sizeof s) == -1 ||
	    memcmp(s + 2, "BK", 2) != 0) {
		*cause = xstrdup("malformed secret key file");
		return (-1);
	}
	if (memcmp(s + USIGN_SEC_ROUNDS, "\0\0\0\0", 4) != 0) {
		*cause = xstrdup("encrypted secret keys are not supported");
		return (-1);
	}
	if (usign_checksum(s + USIGN_SEC_KEY, sum) == -1 ||
	    memcmp(sum, s + USIGN_SEC_SUM, sizeof sum) != 0) {
		*cause = xstrdup("secret key checksum mismatch");
		return (-1);
	}
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    s + USIGN_SEC_KEY, USIGN_SEED_LEN);
	OPENSSL_cleanse(s + USIGN_SEC_KEY, 64);
	if (pkey == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		EVP_PKEY_free(pkey);
		*cause = xstrdup("unusable Ed25519 secret key");
		return (-1);
	}
	good = EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, r + 2 + USIGN_NUM_LEN, &rlen,
	    (const unsigned char *)data, len) == 1 && rlen == USIGN_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	if (!good) {
		*cause = xstrdup("Ed25519 signing failed");
		return (-1);
	}
	memcpy(r, "Ed", 2);
	memcpy(r + 2, s + USIGN_SEC_NUM, USIGN_NUM_LEN);
	usign_hex(r + 2, id);
	xasprintf(&comment, "signed by key %s", id);
	*sig = usign_text(comment, r, sizeof r);
	free(comment);
	return (0);
}

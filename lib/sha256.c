/*
 * sha256.c: SHA-256 digests as hex strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/log.h"
#include "lib/sha256.h"

struct sha256 {
	EVP_MD_CTX	*ctx;
};

/* Turns a raw digest into lower-case hex. */
static void
sha256_tohex(const unsigned char *md, char out[SHA256_HEX_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}

/* Starts an incremental digest. */
struct sha256 *
sha256_new(void)
{
	struct sha256	*h;

	if ((h = OPENSSL_zalloc(sizeof *h)) == NULL)
		fatalx("sha256_new: out of memory");
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		fatalx("sha256_new: cannot initialise digest");
	return (h);
}

/* Feeds more bytes. */
void
sha256_update(struct sha256 *h, const void *buf, size_t len)
{
	if (EVP_DigestUpdate(h->ctx, buf, len) != 1)
		fatalx("sha256_update failed");
}

/* Finishes, writes hex, and frees the state. */
void
sha256_final(struct sha256 *h, char out[SHA256_HEX_LEN + 1])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;

	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32)
		fatalx("sha256_final failed");
	sha256_tohex(md, out);
	EVP_MD_CTX_free(h->ctx);
	OPENSSL_free(h);
}

/* One-shot digest of a buffer. */
void
sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	struct sha256	*h;

	h = sha256_new();
	sha256_update(h, buf, len);
	sha256_final(h, out);
}

/* Digest of a whole file, read in blocks. */
int
sha256_file(const char *path, char out[SHA256_HEX_LEN + 1])
{
	struct sha256	*h;
	char		 buf[65536];
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	h = sha256_new();
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			sha256_final(h, out);
			close(fd);
			errno = saved;
			return (-1);
		}
		sha256_update(h, buf, (size_t)n);
	}
	close(fd);
	sha256_final(h, out);
	return (0);
}

/*
 * usign-sign.c: a test-only usign signer, so the tests and the stand-in
 * mirror can publish a sha256sums.sig that asud must check.
 *
 *	usign-sign -g SECRET PUBLIC	makes a key pair, prints its key id
 *	usign-sign -s SECRET FILE	writes FILE.sig
 *
 * SECRET is usign's own unencrypted secret key file (see
 * imagebuilder/usign.h), so `usign -S -s SECRET` accepts it too; PUBLIC is
 * in the format of /etc/opkg/keys/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "imagebuilder/usign.h"

/* Enough for any sha256sums or test file. */
#define USIGN_SIGN_DATA_MAX	(64 * 1024 * 1024)

static int	usign_sign_usage(void);
static int	usign_sign_keygen(const char *, const char *);
static int	usign_sign_file(const char *, const char *);

/* Explains the two modes. */
static int
usign_sign_usage(void)
{
	fprintf(stderr, "usage: usign-sign -g SECRET PUBLIC\n"
	    "       usign-sign -s SECRET FILE\n");
	return (2);
}

/* Writes a new key pair and prints its id. */
static int
usign_sign_keygen(const char *secpath, const char *pubpath)
{
	char	*pub, *sec, *cause, id[USIGN_ID_LEN + 1];
	int	 rc = 1;

	if (usign_keygen(&pub, &sec, id, &cause) == -1) {
		fprintf(stderr, "usign-sign: %s\n", cause);
		free(cause);
		return (1);
	}
	if (fs_write_file(secpath, sec, strlen(sec), 0600) == -1)
		perror(secpath);
	else if (fs_write_file(pubpath, pub, strlen(pub), 0644) == -1)
		perror(pubpath);
	else {
		printf("%s\n", id);
		rc = 0;
	}
	free(pub);
	free(sec);
	return (rc);
}

/* Signs one file into FILE.sig. */
static int
usign_sign_file(const char *secpath, const char *path)
{
	char	*sec = NULL, *data = NULL, *sig = NULL, *out, *cause;
	size_t	 seclen, len;
	int	 rc = 1;

	xasprintf(&out, "%s.sig", path);
	if (fs_read_file(secpath, USIGN_FILE_MAX, &sec, &seclen) == -1)
		perror(secpath);
	else if (fs_read_file(path, USIGN_SIGN_DATA_MAX, &data, &len) == -1)
		perror(path);
	else if (usign_sign(sec, seclen, data, len, &sig, &cause) == -1) {
		fprintf(stderr, "usign-sign: %s: %s\n", secpath, cause);
		free(cause);
	} else if (fs_write_file(out, sig, strlen(sig), 0644) == -1)
		perror(out);
	else
		rc = 0;
	free(sec);
	free(data);
	free(sig);
	free(out);
	return (rc);
}

/* Dispatches on the mode flag. */
int
main(int argc, char **argv)
{
	if (argc != 4)
		return (usign_sign_usage());
	if (strcmp(argv[1], "-g") == 0)
		return (usign_sign_keygen(argv[2], argv[3]));
	if (strcmp(argv[1], "-s") == 0)
		return (usign_sign_file(argv[2], argv[3]));
	return (usign_sign_usage());
}

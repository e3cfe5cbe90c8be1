/*
 * usign.c: libFuzzer target for usign signature and key parsing. The
 * input is a .sig file, a NUL, then the signed data; the signature is
 * checked against one fixed test key, and the whole input is also read as
 * a public key or signature by usign_key_id.
 *
 * Seeds: t/data/keys
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "imagebuilder/usign.h"

/* A test key made with t/unit/usign-sign; seeds may be signed by it. */
#define FUZZ_KEY_ID	"a47531f6e7f0ae93"
#define FUZZ_KEY	"untrusted comment: public key " FUZZ_KEY_ID "\n" \
	"RWSkdTH25/CukywUrjEDOCjAwFiyr6hME9PdacF/z1C7INI/kk19n93B\n"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct usign_keys	*fuzz_keys;

/* Loads the test key once, through a key directory as asud does. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 dir[] = "/tmp/asud-fuzz-usign.XXXXXX", *path, *cause;

	if (mkdtemp(dir) == NULL)
		abort();
	xasprintf(&path, "%s/%s", dir, FUZZ_KEY_ID);
	if (fs_write_file(path, FUZZ_KEY, strlen(FUZZ_KEY), 0644) == -1)
		abort();
	if ((fuzz_keys = usign_keys_load(dir, &cause)) == NULL ||
	    usign_keys_count(fuzz_keys) != 1)
		abort();
	unlink(path);
	rmdir(dir);
	free(path);
	return (0);
}

/* One input: signature, NUL, data. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nul;
	size_t		 siglen;
	char		*cause = NULL, id[USIGN_ID_LEN + 1];

	if (usign_key_id((const char *)data, size, id, &cause) == 0) {
		if (strlen(id) != USIGN_ID_LEN)
			abort();
	} else
		free(cause);
	nul = memchr(data, '\0', size);
	siglen = nul != NULL ? (size_t)(nul - data) : size;
	cause = NULL;
	if (usign_verify(fuzz_keys, nul != NULL ? (const char *)nul + 1 : "",
	    nul != NULL ? size - siglen - 1 : 0, (const char *)data, siglen,
	    &cause) == -1)
		free(cause);
	return (0);
}

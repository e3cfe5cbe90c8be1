/*
 * targetinfo.c: libFuzzer target for an ImageBuilder's .targetinfo as
 * catalog_scan reads it: each input is written into one ImageBuilder
 * directory of a scratch tree, scanned, and its profiles resolved.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	*fuzz_root;
static char	*fuzz_file;
static int	 fuzz_fd = -1;

/* Removes the scratch tree when the fuzzer exits. */
static void
fuzz_cleanup(void)
{
	char	*p;

	close(fuzz_fd);
	unlink(fuzz_file);
	xasprintf(&p, "%s/1.0/ath79/generic", fuzz_root);
	rmdir(p);
	p[strlen(p) - strlen("/generic")] = '\0';
	rmdir(p);
	p[strlen(p) - strlen("/ath79")] = '\0';
	rmdir(p);
	rmdir(fuzz_root);
	free(p);
	free(fuzz_file);
	free(fuzz_root);
}

/*
 * Makes <root>/1.0/ath79/generic and its .targetinfo once, in memory when
 * /dev/shm exists: rewriting a file on ext4 costs a flush each time.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat	 st;
	char		*p;

	xasprintf(&fuzz_root, "%s/asud-fuzz-targetinfo.XXXXXX",
	    stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" :
	    "/tmp");
	if (mkdtemp(fuzz_root) == NULL)
		abort();
	xasprintf(&p, "%s/1.0", fuzz_root);
	if (mkdir(p, 0755) == -1)
		abort();
	free(p);
	xasprintf(&p, "%s/1.0/ath79", fuzz_root);
	if (mkdir(p, 0755) == -1)
		abort();
	free(p);
	xasprintf(&p, "%s/1.0/ath79/generic", fuzz_root);
	if (mkdir(p, 0755) == -1)
		abort();
	xasprintf(&fuzz_file, "%s/.targetinfo", p);
	free(p);
	if ((fuzz_fd = open(fuzz_file, O_RDWR | O_CREAT | O_TRUNC, 0644)) ==
	    -1)
		abort();
	atexit(fuzz_cleanup);
	return (0);
}

/* One input: the .targetinfo of ath79/generic. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog			*c;
	const struct catalog_target	*t;
	const char			*id;
	char				*cause = NULL;
	size_t				 i;

	if (ftruncate(fuzz_fd, 0) == -1 ||
	    pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();
	c = catalog_new();
	if (catalog_scan(c, fuzz_root, &cause) == -1)
		abort();
	if ((t = catalog_target(c, "1.0", "ath79/generic")) != NULL) {
		for (i = 0; (id = catalog_profile_id(t, i)) != NULL; i++) {
			if (strchr(id, ',') == NULL &&
			    catalog_resolve(t, id) == NULL)
				abort();
		}
		(void)catalog_resolve(t, "tplink,archer-c7-v2");
		(void)catalog_target_arch(t);
	}
	catalog_free(c);
	return (0);
}

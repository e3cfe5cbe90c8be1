/*
 * conf.c: libFuzzer target for the configuration file parser. conf_load
 * reads a path, so the input is handed over through a memory file.
 *
 * Seeds: conf/asud.conf
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/conf.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fuzz_fd = -1;
static char	fuzz_path[64];

/* Makes the memory file that holds each input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if ((fuzz_fd = memfd_create("asud-fuzz-conf", 0)) == -1)
		abort();
	snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
	return (0);
}

/* One input: a configuration file read over the defaults. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c;
	char		*cause = NULL;
	size_t		 i;

	if (ftruncate(fuzz_fd, 0) == -1 ||
	    pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();
	conf_defaults(&c);
	if (conf_load(&c, fuzz_path, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
	}
	for (i = 0; i < c.nbranches; i++) {
		if (conf_branch(&c, c.branches[i].name) == NULL)
			abort();
	}
	conf_free(&c);
	return (0);
}

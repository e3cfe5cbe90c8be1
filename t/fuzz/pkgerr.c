/*
 * pkgerr.c: libFuzzer target for pkgerr_message, which condenses opkg and
 * apk error output from an ImageBuilder.
 *
 * Seeds: t/data/unit/pkgerr-corpus.txt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagebuilder/pkgerr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: a build's output (not NUL-terminated). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*msg;

	msg = pkgerr_message((const char *)data, size);
	if (strncmp(msg, "Impossible package selection", 28) != 0)
		abort();
	free(msg);
	return (0);
}

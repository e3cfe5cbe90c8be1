/*
 * info.c: libFuzzer target for info_parse, which reads what an
 * ImageBuilder's `make info` prints.
 *
 * Seeds: t/unit/fakeib/info.txt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagebuilder/info.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: the output of `make info` (not NUL-terminated). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct info	 info;
	size_t		 i;
	char		*cause = NULL;

	memset(&info, 0, sizeof info);
	if (info_parse((const char *)data, size, &info, &cause) != 0) {
		if (cause == NULL || info.nprofiles != 0)
			abort();
		free(cause);
		return (0);
	}
	for (i = 0; i < info.nprofiles; i++) {
		if (info_profile(&info, info.profiles[i].id) !=
		    &info.profiles[i])
			abort();
	}
	info_free(&info);
	return (0);
}

/*
 * manifest.c: libFuzzer target for manifest_parse, which reads what an
 * ImageBuilder's `make manifest` prints, and manifest_check over it.
 *
 * Seeds: t/unit/fakeib/manifest.txt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imagebuilder/manifest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: the output of `make manifest` (not NUL-terminated). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest	 m;
	char		*cause = NULL, *msg;

	memset(&m, 0, sizeof m);
	if (manifest_parse((const char *)data, size, &m, &cause) != 0) {
		free(cause);
		return (0);
	}
	if (m.names.n != m.versions.n)
		abort();
	if (m.names.n > 0 && manifest_version(&m, m.names.v[0]) == NULL)
		abort();
	msg = manifest_check(&m, &m.names, &m.versions);
	free(msg);
	msg = manifest_check(&m, &m.versions, &m.names);
	free(msg);
	manifest_free(&m);
	return (0);
}

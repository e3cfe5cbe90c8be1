/*
 * versions.c: libFuzzer target for the version string helpers: each line
 * of the input is a version (from a request or .versions.json) and the
 * lines together are a versions list to sort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/versions.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: versions, one a line. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv	 lines = STRV_INITIALIZER;
	char		*text, *s;
	size_t		 i;

	text = xstrndup((const char *)data, size);
	strv_split(&lines, text, "\n");
	for (i = 0; i < lines.n; i++) {
		s = versions_branch_of(lines.v[i], &lines);
		free(s);
		s = versions_branch_of(lines.v[i], NULL);
		free(s);
		(void)versions_is_snapshot(lines.v[i]);
		(void)versions_revision_number(lines.v[i]);
		s = versions_path(lines.v[i], lines.v[0]);
		free(s);
	}
	versions_sort(&lines);
	strv_clear(&lines);
	free(text);
	return (0);
}

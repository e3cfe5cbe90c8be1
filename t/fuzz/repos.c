/*
 * repos.c: libFuzzer target for what a build request brings for its own
 * repositories: URLs against an allow-list, repository names, usign and
 * PEM keys, and the merge into an ImageBuilder's repository file. The
 * first line is a URL, the other lines are the allow-list, names and URLs;
 * the whole input is a key and a repository file.
 *
 * Seeds: t/data/keys t/unit/fakeib/repositories.conf
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/keys.h"
#include "imagebuilder/repos.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Checks each line as a repository name and URL. */
static void
fuzz_lines(const struct strv *lines)
{
	size_t	 i;
	char	*cause;

	for (i = 0; i < lines->n; i++) {
		cause = NULL;
		if (repos_name_check(lines->v[i], &cause) == -1)
			free(cause);
		cause = NULL;
		if (repos_url_check(lines->v[i], &cause) == -1)
			free(cause);
	}
}

/* One input: text, read in all the ways above. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv	 lines = STRV_INITIALIZER, allow = STRV_INITIALIZER;
	char		*text, *cause = NULL, *merged, fp[KEYS_FP_LEN + 1];
	size_t		 i;

	text = xstrndup((const char *)data, size);
	strv_split(&lines, text, "\n");
	for (i = 1; i < lines.n; i++)
		strv_add(&allow, lines.v[i]);
	if (lines.n > 0)
		(void)repos_allowed(lines.v[0], &allow);
	fuzz_lines(&lines);
	(void)keys_is_pem(text);
	if (keys_check(text, &cause) == -1)
		free(cause);
	cause = NULL;
	if (keys_usign_fingerprint(text, fp, &cause) == 0) {
		if (strlen(fp) != KEYS_FP_LEN)
			abort();
	} else
		free(cause);
	merged = repos_merge((const char *)data, size, &lines, &allow, 0);
	free(merged);
	merged = repos_merge((const char *)data, size, &lines, &allow, 1);
	free(merged);
	strv_clear(&allow);
	strv_clear(&lines);
	free(text);
	return (0);
}

/*
 * manifest.c: parsing opkg and apk manifests, and the packages_versions
 * check messages of the reference server.
 */
#include <stdlib.h>

#include "lib/strv.h"
#include "imagebuilder/manifest.h"
#include "t/unit/tap.h"

static int	manifest_test_parse(const char *, struct manifest *);
static char	*manifest_test_check(const struct manifest *, const char *,
		    const char *);

/* Parses a NUL-terminated text; frees the cause. */
static int
manifest_test_parse(const char *text, struct manifest *m)
{
	char	*cause = NULL;
	int	 rc;

	memset(m, 0, sizeof *m);
	rc = manifest_parse(text, strlen(text), m, &cause);
	if (rc == -1) {
		ok(cause != NULL && *cause != '\0', "failure has a cause");
		printf("# cause: %s\n", cause != NULL ? cause : "(null)");
		free(cause);
	}
	return (rc);
}

/* Runs manifest_check with space-separated names and versions. */
static char *
manifest_test_check(const struct manifest *m, const char *names,
    const char *versions)
{
	struct strv	 n = STRV_INITIALIZER, v = STRV_INITIALIZER;
	char		*msg;

	strv_split(&n, names, " ");
	strv_split(&v, versions, " ");
	msg = manifest_check(m, &n, &v);
	strv_clear(&n);
	strv_clear(&v);
	return (msg);
}

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	struct manifest	 m;
	char		*msg;
	const char	 opkg[] = "base-files - 1530-r23-1c7d2b8\n"
			    "busybox - 1.36.1-r2\n"
			    "kernel - 5.15.150~a1b2-r1\n"
			    "test1 - 1.0\n"
			    "test2 - 2.0\n";
	const char	 apk[] = "apk-mbedtls 3.0.0_pre20250819-r1\n"
			    "busybox 1.37.0-r3\n"
			    "test1 1.0\n";
	const char	 cut[] = "test1 - 1.0\ntest2 - 2.0";

	is_int(manifest_test_parse(opkg, &m), 0, "opkg manifest parses");
	is_int(m.names.n, 5, "five opkg packages");
	is_str(m.names.v[1], "busybox", "opkg name");
	is_str(m.versions.v[1], "1.36.1-r2", "opkg version");
	is_str(manifest_version(&m, "kernel"), "5.15.150~a1b2-r1",
	    "lookup by name");
	is_str(manifest_version(&m, "test1"), "1.0", "test1 is 1.0");
	ok(manifest_version(&m, "test") == NULL, "a prefix is not a name");

	msg = manifest_test_check(&m, "test1 test2", "1.0 2.0");
	ok(msg == NULL, "matching packages_versions pass");
	free(msg);
	msg = manifest_test_check(&m, "test1", "0.0");
	is_str(msg, "Impossible package selection: test1 version not as "
	    "requested: 0.0 vs. 1.0", "the reference's version message");
	free(msg);
	msg = manifest_test_check(&m, "test2 test3", "2.0 1.0");
	is_str(msg, "Impossible package selection: test3 not in manifest",
	    "the reference's missing message");
	free(msg);
	msg = manifest_test_check(&m, "test3 test1", "1.0 0.0");
	is_str(msg, "Impossible package selection: test3 not in manifest",
	    "the first failure in request order wins (missing)");
	free(msg);
	msg = manifest_test_check(&m, "test1 test3", "0.0 1.0");
	is_str(msg, "Impossible package selection: test1 version not as "
	    "requested: 0.0 vs. 1.0",
	    "the first failure in request order wins (version)");
	free(msg);
	msg = manifest_test_check(&m, "", "");
	ok(msg == NULL, "no packages_versions: nothing to check");
	free(msg);
	manifest_free(&m);
	is_int(m.names.n, 0, "free empties the lists");

	is_int(manifest_test_parse(apk, &m), 0, "apk manifest parses");
	is_int(m.names.n, 3, "three apk packages");
	is_str(manifest_version(&m, "apk-mbedtls"), "3.0.0_pre20250819-r1",
	    "apk version");
	is_str(manifest_version(&m, "busybox"), "1.37.0-r3", "apk busybox");
	manifest_free(&m);

	is_int(manifest_test_parse(cut, &m), 0,
	    "no trailing newline is fine");
	is_str(manifest_version(&m, "test2"), "2.0", "last line read");
	manifest_free(&m);

	is_int(manifest_test_parse("a - 1\r\n\r\n\nb - 2\r\n", &m), 0,
	    "CRLF and blank lines");
	is_int(m.names.n, 2, "blank lines skipped");
	is_str(manifest_version(&m, "a"), "1", "CR stripped");
	manifest_free(&m);

	is_int(manifest_test_parse("a 1\nb - 2\n", &m), -1,
	    "one \" - \" makes it opkg: an apk line fails");
	is_int(m.names.n, 0, "nothing kept after a failure");
	is_int(manifest_test_parse("a 1 2\n", &m), -1,
	    "three apk fields fail");
	is_int(manifest_test_parse("a - 1 - 2\n", &m), -1,
	    "three opkg fields fail");
	is_int(manifest_test_parse("lonely\n", &m), -1,
	    "a line without a version fails");
	is_int(manifest_test_parse("a\x01 1\n", &m), -1,
	    "control characters fail");
	is_int(manifest_test_parse("", &m), 0, "empty manifest is empty");
	is_int(m.names.n, 0, "no packages");
	manifest_free(&m);

	is_int(manifest_test_parse("a - 1\na - 2\n", &m), 0, "duplicates");
	is_str(manifest_version(&m, "a"), "2", "the last duplicate wins");
	manifest_free(&m);

	memset(&m, 0, sizeof m);
	is_int(manifest_parse("x - 1\ny - 2\n", 6, &m, NULL), 0,
	    "len is honoured");
	is_int(m.names.n, 1, "only the bytes within len are read");
	manifest_free(&m);
	return (done_testing());
}

/*
 * outcome.c: the classification of failed builds (the reference's
 * messages and how the last command ended) and which kinds are kept as
 * the request's answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/metrics.h"
#include "server/outcome.h"
#include "t/unit/tap.h"

/* One failure message and the reason it is counted under. */
static const struct {
	const char		*msg;
	enum metrics_failure	 why;
} outcome_test_msgs[] = {
	{ "Impossible package selection", METRICS_FAILED_PACKAGES },
	{ "Impossible package selection: missing (x) conflicts (a, b)",
	    METRICS_FAILED_PACKAGES },
	{ "Impossible package selection: test1 version not as requested: "
	    "0.0 vs. 1.0", METRICS_FAILED_PACKAGES },
	{ "Selected packages exceed device storage", METRICS_FAILED_TOO_BIG },
	{ "Profile not found in JSON file", METRICS_FAILED_PROFILE },
	{ "Received incorrect version r1 (requested r2)",
	    METRICS_FAILED_VERSION },
	{ "Build timed out after 600 seconds", METRICS_FAILED_TIMEOUT },
	{ "No ImageBuilder for 1.2.3 x/y on this server",
	    METRICS_FAILED_IMAGEBUILDER },
	{ "Could not restore the ImageBuilder: gone",
	    METRICS_FAILED_IMAGEBUILDER },
	{ "Could not set up the build: cannot copy",
	    METRICS_FAILED_IMAGEBUILDER },
	{ "Error while building firmware. See stdout/stderr",
	    METRICS_FAILED_OTHER },
	{ "No JSON file found", METRICS_FAILED_OTHER },
	{ "impossible package selection", METRICS_FAILED_OTHER },
	{ "", METRICS_FAILED_OTHER },
};

/* Runs the checks. */
int
main(void)
{
	char	name[128];
	size_t	i;

	for (i = 0; i < sizeof outcome_test_msgs /
	    sizeof outcome_test_msgs[0]; i++) {
		snprintf(name, sizeof name, "classified: \"%.100s\"",
		    outcome_test_msgs[i].msg);
		ok(outcome_classify(outcome_test_msgs[i].msg, 0, 0) ==
		    outcome_test_msgs[i].why, name);
	}
	ok(outcome_classify(NULL, 0, 0) == METRICS_FAILED_OTHER, "no message");
	ok(outcome_classify("Impossible package selection", 1, 0) ==
	    METRICS_FAILED_TIMEOUT, "timed out: whatever the message");
	ok(outcome_classify("Error while building firmware. See "
	    "stdout/stderr", 0, 1) == METRICS_FAILED_LOST,
	    "killed by a signal: lost");
	ok(outcome_classify("x", 1, 1) == METRICS_FAILED_TIMEOUT,
	    "the timeout's own signal is a timeout");

	ok(outcome_kept(METRICS_FAILED_PACKAGES), "kept: package selection");
	ok(outcome_kept(METRICS_FAILED_TOO_BIG), "kept: too big");
	ok(outcome_kept(METRICS_FAILED_PROFILE), "kept: profile");
	ok(outcome_kept(METRICS_FAILED_VERSION), "kept: version");
	ok(outcome_kept(METRICS_FAILED_OTHER), "kept: other");
	ok(!outcome_kept(METRICS_FAILED_IMAGEBUILDER),
	    "not kept: ImageBuilder");
	ok(!outcome_kept(METRICS_FAILED_TIMEOUT), "not kept: timeout");
	ok(!outcome_kept(METRICS_FAILED_DISK_FULL), "not kept: disk full");
	ok(!outcome_kept(METRICS_FAILED_LOST), "not kept: lost");
	ok(!outcome_kept(METRICS_NFAILURES), "not kept: out of range");
	return (done_testing());
}

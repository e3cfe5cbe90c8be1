/*
 * tap.h: a tiny TAP producer for the C unit tests.
 */
#ifndef ASUD_TAP_H
#define ASUD_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The checks so far and the failed ones: one pair per program, shared by
 * every file of a test that reports checks (weak, so that each may define
 * it).
 */
extern int	tap_n, tap_failed;
int		tap_n __attribute__((weak)), tap_failed __attribute__((weak));

#define plan(n)		printf("1..%d\n", (n))
#define done_testing()	(printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

/* Prints one check's line and counts it; returns cond. */
static inline int
tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return (cond);
}

#define ok(cond, name)	tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, (name))

#define is_int(got, want, name) do {					\
	long long tap_g = (long long)(got), tap_w = (long long)(want);	\
	if (!ok(tap_g == tap_w, (name)))				\
		printf("#   got %lld, expected %lld\n", tap_g, tap_w);	\
} while (0)

#define is_str(got, want, name) do {					\
	const char *tap_g = (got), *tap_w = (want);			\
	int tap_c = tap_g != NULL && tap_w != NULL ?			\
	    strcmp(tap_g, tap_w) == 0 : tap_g == tap_w;			\
	if (!ok(tap_c, (name)))						\
		printf("#   got      '%s'\n#   expected '%s'\n",	\
		    tap_g ? tap_g : "(null)",				\
		    tap_w ? tap_w : "(null)");				\
} while (0)

#endif

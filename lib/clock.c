/*
 * clock.c: the wall clock and the monotonic clock in milliseconds.
 */
#include <sys/time.h>

#include <stddef.h>
#include <time.h>

#include "lib/clock.h"

/* Wall-clock milliseconds, for enqueue times and durations. */
long long
clock_now_ms(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return ((long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* Monotonic milliseconds, for deadlines the wall clock must not move. */
long long
clock_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

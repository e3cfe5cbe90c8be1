/*
 * clock.c: the wall clock in milliseconds.
 */
#include <sys/time.h>

#include <stddef.h>

#include "lib/clock.h"

/* Wall-clock milliseconds, for enqueue times and durations. */
long long
clock_now_ms(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return ((long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

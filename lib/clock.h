/*
 * clock.h: the wall clock in milliseconds, for enqueue times, durations
 * and the timestamps of answers; the monotonic clock, for deadlines.
 */
#ifndef ASUD_CLOCK_H
#define ASUD_CLOCK_H

/* Milliseconds since the epoch. */
long long	clock_now_ms(void);
/* Milliseconds of the monotonic clock, from an arbitrary start. */
long long	clock_mono_ms(void);

#endif

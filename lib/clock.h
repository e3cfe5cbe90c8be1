/*
 * clock.h: the wall clock in milliseconds, for enqueue times, durations
 * and the timestamps of answers.
 */
#ifndef ASUD_CLOCK_H
#define ASUD_CLOCK_H

/* Milliseconds since the epoch. */
long long	clock_now_ms(void);

#endif

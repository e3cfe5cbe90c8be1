/*
 * log.h: the OpenBSD log API. Messages go to stderr with a UTC time stamp.
 * fatal and fatalx exit the process; use them only at startup or for a
 * broken invariant.
 */
#ifndef ASUD_LOG_H
#define ASUD_LOG_H

#include <stdarg.h>

/* Sets the verbosity: 0 quiet (warnings), 1 info, 2 debug. */
void	log_init(int verbose);
int	log_verbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif

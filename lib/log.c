/*
 * log.c: time-stamped logging to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

static int log_level = 1;

/* Sets how much is said: 0 warnings only, 1 info, 2 debug. */
void
log_init(int verbose)
{
	log_level = verbose;
}

/* Lets callers skip work that only feeds debug messages. */
int
log_verbose(void)
{
	return (log_level);
}

/* Writes one line with a time stamp and an optional errno text. */
static void
log_vwrite(const char *prefix, int errnum, const char *fmt, va_list ap)
{
	char		 stamp[32];
	struct tm	 tm;
	time_t		 now;

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s asud: %s", stamp, prefix);
	vfprintf(stderr, fmt, ap);
	if (errnum != 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
	fflush(stderr);
}

/* Warns with the text of errno appended. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite("warning: ", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Warns without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite("warning: ", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Reports normal operation. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vwrite("", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Reports details useful while debugging. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	log_vwrite("debug: ", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Stops the process after a failed system call. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite("fatal: ", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Stops the process on a broken invariant or a bad start. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * storefile.c: the parsers of the static file answers: Range against a
 * file size (one range, suffixes, clamping, what is ignored and what is
 * unsatisfiable), If-None-Match lists under the weak comparison, and
 * HTTP-dates in their three forms and back.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/storefile.h"
#include "t/unit/tap.h"

/* A Range header, the file size, and what it must come to. */
static const struct storefile_test_range {
	const char	*h;
	off_t		 size;
	int		 want;
	off_t		 first, last;
} storefile_test_ranges[] = {
	{ "bytes=0-9", 100, STOREFILE_RANGE_PART, 0, 9 },
	{ "bytes=10-", 100, STOREFILE_RANGE_PART, 10, 99 },
	{ "bytes=-10", 100, STOREFILE_RANGE_PART, 90, 99 },
	{ "bytes=-100", 100, STOREFILE_RANGE_PART, 0, 99 },
	{ "bytes=-500", 100, STOREFILE_RANGE_PART, 0, 99 },
	{ "bytes=0-99", 100, STOREFILE_RANGE_PART, 0, 99 },
	{ "bytes=5-500", 100, STOREFILE_RANGE_PART, 5, 99 },
	{ "bytes=99-99", 100, STOREFILE_RANGE_PART, 99, 99 },
	{ "Bytes= 1-2 ", 100, STOREFILE_RANGE_PART, 1, 2 },
	{ "bytes =1-2", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=0-99999999999999999999999", 100, STOREFILE_RANGE_PART, 0,
	    99 },
	{ "bytes=100-", 100, STOREFILE_RANGE_UNSAT, 0, 0 },
	{ "bytes=100-200", 100, STOREFILE_RANGE_UNSAT, 0, 0 },
	{ "bytes=-0", 100, STOREFILE_RANGE_UNSAT, 0, 0 },
	{ "bytes=99999999999999999999999-", 100, STOREFILE_RANGE_UNSAT, 0,
	    0 },
	{ "bytes=9-3", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=0-1,3-4", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=0-1,", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=-", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=--1", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=+1-2", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=1-2-3", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes=1 -2", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "lines=0-1", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "bytes 0-1", 100, STOREFILE_RANGE_NONE, 0, 0 },
	{ "", 100, STOREFILE_RANGE_NONE, 0, 0 },
};

/* An If-None-Match list, and whether it names the tag. */
static const struct storefile_test_tag {
	const char	*h;
	const char	*etag;
	int		 want;
} storefile_test_tags[] = {
	{ "\"abc\"", "\"abc\"", 1 },
	{ "W/\"abc\"", "\"abc\"", 1 },
	{ "\"x\", \"abc\"", "\"abc\"", 1 },
	{ "\"x\",W/\"abc\" ,\"y\"", "\"abc\"", 1 },
	{ "*", "\"abc\"", 1 },
	{ "*", NULL, 1 },
	{ "\"abd\"", "\"abc\"", 0 },
	{ "\"abc", "\"abc\"", 0 },
	{ "abc", "\"abc\"", 0 },
	{ "\"ab\"", "\"abc\"", 0 },
	{ "\"abc\"", NULL, 0 },
	{ "", "\"abc\"", 0 },
	{ "junk, \"abc\"", "\"abc\"", 0 },
};

/* An HTTP-date and the time it is (-1: not a date). */
static const struct storefile_test_date {
	const char	*s;
	time_t		 want;
} storefile_test_dates[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
	{ "Sun Nov  6 08:49:37 1994", 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", -1 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT junk", -1 },
	{ "Sun, 06 Foo 1994 08:49:37 GMT", -1 },
	{ "Sun, 32 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 24:49:37 GMT", -1 },
	{ "yesterday", -1 },
	{ "", -1 },
};

/* Each Range of the table. */
static void
storefile_test_range(void)
{
	const struct storefile_test_range	*t;
	off_t					 first, last;
	char					 name[128];
	size_t					 i;
	int					 got;

	for (i = 0; i < sizeof storefile_test_ranges /
	    sizeof storefile_test_ranges[0]; i++) {
		t = &storefile_test_ranges[i];
		first = last = -1;
		got = storefile_range(t->h, t->size, &first, &last);
		snprintf(name, sizeof name, "Range '%s' of %jd bytes", t->h,
		    (intmax_t)t->size);
		is_int(got, t->want, name);
		if (t->want == STOREFILE_RANGE_PART)
			ok(first == t->first && last == t->last, name);
	}
}

/* Each If-None-Match of the table. */
static void
storefile_test_none_match(void)
{
	const struct storefile_test_tag	*t;
	char				 name[128];
	size_t				 i;

	for (i = 0; i < sizeof storefile_test_tags /
	    sizeof storefile_test_tags[0]; i++) {
		t = &storefile_test_tags[i];
		snprintf(name, sizeof name, "If-None-Match '%s' for %s", t->h,
		    t->etag != NULL ? t->etag : "no tag");
		is_int(storefile_none_match(t->h, t->etag), t->want, name);
	}
}

/* Each date of the table, and the format back. */
static void
storefile_test_date(void)
{
	char	out[STOREFILE_DATE_MAX], name[128];
	size_t	i;

	for (i = 0; i < sizeof storefile_test_dates /
	    sizeof storefile_test_dates[0]; i++) {
		snprintf(name, sizeof name, "date '%s'",
		    storefile_test_dates[i].s);
		ok(storefile_parse_date(storefile_test_dates[i].s) ==
		    storefile_test_dates[i].want, name);
	}
	storefile_format_date(784111777, out);
	is_str(out, "Sun, 06 Nov 1994 08:49:37 GMT", "IMF-fixdate");
	storefile_format_date(0, out);
	is_str(out, "Thu, 01 Jan 1970 00:00:00 GMT", "the epoch");
	ok(storefile_parse_date(out) == 0, "a formatted date parses back");
}

/* Runs the tables. */
int
main(void)
{
	storefile_test_range();
	storefile_test_none_match();
	storefile_test_date();
	return (done_testing());
}

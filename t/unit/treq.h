/*
 * treq.h: what the unit tests of the build request model share: bodies
 * parsed with the tests' limits, and the checks of one refused body.
 */
#ifndef ASUD_TREQ_H
#define ASUD_TREQ_H

#include <stddef.h>

#include <yajl/yajl_tree.h>

#include "server/request.h"

/* The three required fields of the reference's test request. */
#define TREQ_BASE \
	"\"version\":\"1.2.3\",\"target\":\"testtarget/testsubtarget\"," \
	"\"profile\":\"testprofile\""
/* A body of TREQ_BASE and more members, and the loc of a top field. */
#define TREQ_BODY(members)	"{" TREQ_BASE "," members "}"
#define TREQ_LOC(field)		"[\"body\",\"" field "\"]"

/* A parsed 422 body, for looking at its errors. */
struct treq_err {
	int		 status;
	char		*detail;
	yajl_val	 root;
	yajl_val	 errors;
};

/*
 * A body refused with a single error: its type, loc, msg, input and ctx as
 * compact JSON, and the detail line. A NULL msg, input, ctx or detail is
 * not checked. A json that starts with "," (in this and treq_pattern)
 * holds the members that follow TREQ_BASE's in the body.
 */
struct treq_case {
	const char	*json;
	const char	*type;
	const char	*loc;
	const char	*msg;
	const char	*input;
	const char	*ctx;
	const char	*detail;
	const char	*name;
};

/* A body refused by the pattern re at loc. */
struct treq_pattern {
	const char	*json;
	const char	*loc;
	const char	*re;
	const char	*name;
};

/* The limits of the tests: 20480 characters of defaults, 1024 MB. */
extern const struct request_limits treq_limits;

/* Parses a body that must be accepted (a check); 0 when it was. */
int		 treq_ok(const char *json, struct request *r, const char *name);
/*
 * Parses len bytes that must be refused under lim into e: 0, or -1 when
 * the body was accepted or the answer is no JSON.
 */
int		 treq_fail_len(const char *json, size_t len,
		    const struct request_limits *lim, struct treq_err *e);
/* treq_fail_len of a string under treq_limits. */
int		 treq_fail(const char *json, struct treq_err *e);
/* Releases a parsed 422 and leaves it empty. */
void		 treq_err_free(struct treq_err *e);
/*
 * Member what of error i, or of the whole body, as compact JSON in a
 * static buffer: "(none)" when absent, "(no such error)" past the end.
 */
const char	*treq_get(const struct treq_err *e, size_t i, const char *what);
const char	*treq_top(const struct treq_err *e, const char *what);
/* The number of listed errors. */
size_t		 treq_count(const struct treq_err *e);
/* The checks of one refused body: a 422 with the single error of c. */
void		 treq_one(const struct treq_case *c);
/* treq_one for each of n cases. */
void		 treq_cases(const struct treq_case *cases, size_t n);
/* The checks of n bodies refused by a pattern (type, loc, msg, ctx). */
void		 treq_patterns(const struct treq_pattern *patterns, size_t n);

#endif

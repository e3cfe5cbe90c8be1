/*
 * reqerr.h: the request model's errors, collected the way Pydantic reports
 * them and rendered as the 422 body of struct request_error: a readable
 * "detail" and the Pydantic-style "errors" list, byte for byte what the
 * reference's FastAPI answers.
 */
#ifndef ASUD_REQERR_H
#define ASUD_REQERR_H

#include <stddef.h>

struct jtree;

#define REQERR_MAX_KEPT		100	/* errors listed; all are counted */

#define REQERR_INPUT_NULL	(-1)	/* "input": null */
#define REQERR_INPUT_EMPTY	(-2)	/* "input": {} */

/* What an error is about, as Pydantic's "loc" and "input". */
struct reqerr_where {
	const char	*field;		/* NULL for the body itself */
	const char	*key;		/* a dictionary key, or NULL */
	long long	 index;		/* a list index or byte offset, or -1 */
	int		 of_key;	/* the key itself is wrong */
	long		 input;		/* a node, or REQERR_INPUT_* */
	const char	*input_text;	/* else this string */
};

/* What went wrong, as Pydantic's "type", "msg" and "ctx". */
struct reqerr_fault {
	const char	*type;
	const char	*msg;
	const char	*ctx_name;	/* NULL: no "ctx" */
	const char	*ctx_str;	/* NULL: the context value is ctx_int */
	long long	 ctx_int;
};

struct reqerr_item;

/* The errors of one request; zeroed before the first reqerr_add. */
struct reqerr_list {
	struct reqerr_item	*errs;	/* the first few */
	size_t			 nerrs;
	size_t			 total;
};

/*
 * Records one error. f's msg and ctx_str are copied; the other strings of
 * w and f must outlive el. Only the first REQERR_MAX_KEPT are kept;
 * all are counted.
 */
void	reqerr_add(struct reqerr_list *el, const struct reqerr_where *w,
	    const struct reqerr_fault *f);
/* Records an error about a whole field (NULL: the body) or a node in it. */
void	reqerr_at(struct reqerr_list *el, const char *field, long input,
	    const struct reqerr_fault *f);
/* Records a string_pattern_mismatch for the pattern re. */
void	reqerr_pattern(struct reqerr_list *el, const struct reqerr_where *w,
	    const char *re);
/* Records a json_invalid at a byte offset of the body, with yajl's why. */
void	reqerr_json(struct reqerr_list *el, size_t offset, const char *why);
/* Frees the recorded errors and leaves el empty. */
void	reqerr_free(struct reqerr_list *el);
/*
 * Gives the 422 response for the recorded errors: its status, its detail
 * line and its JSON body, both the caller's to free; t (or NULL when the
 * body did not parse) holds the nodes their "input" points to.
 */
void	reqerr_render(const struct reqerr_list *el, const struct jtree *t,
	    int *status, char **detail, char **body);
/* Gives a 413 response saying why, as reqerr_render does. */
void	reqerr_too_big(const char *why, int *status, char **detail,
	    char **body);

#endif

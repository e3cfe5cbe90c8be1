/*
 * jsonw.h: small helpers over yajl's generator and tree parser, so that
 * handlers stay short. Strings that are not valid UTF-8 (build output is
 * untrusted) are repaired with U+FFFD instead of failing.
 */
#ifndef ASUD_JSONW_H
#define ASUD_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

struct strv;

/* A generator for compact output. */
yajl_gen	 jsonw_new(void);
/* Copies the output into a new NUL-terminated buffer and frees g. */
char		*jsonw_finish(yajl_gen g, size_t *len);
void		 jsonw_str(yajl_gen g, const char *s);
void		 jsonw_strn(yajl_gen g, const char *s, size_t len);
void		 jsonw_key(yajl_gen g, const char *key);
void		 jsonw_kv_str(yajl_gen g, const char *key, const char *val);
void		 jsonw_kv_int(yajl_gen g, const char *key, long long val);
void		 jsonw_kv_bool(yajl_gen g, const char *key, int val);
void		 jsonw_kv_null(yajl_gen g, const char *key);
/* Emits "key": [the strings of sv]. */
void		 jsonw_kv_strv(yajl_gen g, const char *key,
		    const struct strv *sv);
/* Emits a parsed tree as it is. */
void		 jsonw_tree(yajl_gen g, yajl_val v);
/*
 * Parses text (NUL-terminated) into a tree; NULL with *cause on error or
 * when arrays and objects nest more than 64 deep.
 */
yajl_val	 jsonw_parse(const char *text, char **cause);
/* Looks up key in an object tree; NULL if absent or not an object. */
yajl_val	 jsonw_get(yajl_val obj, const char *key);
/* Formats milliseconds since the epoch as ISO 8601 UTC with microseconds. */
void		 jsonw_time(int64_t ms, char out[40]);

#endif

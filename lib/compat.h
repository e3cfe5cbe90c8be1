/*
 * compat.h: small portability pieces shared by every module.
 */
#ifndef ASUD_COMPAT_H
#define ASUD_COMPAT_H

#include <sys/queue.h>

#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

#ifndef nitems
#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST(head);					\
	    (var) != NULL && ((tvar) = LIST_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#endif

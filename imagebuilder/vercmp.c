/*
 * vercmp.c: version order. The package order is dpkg's verrevcmp, which
 * opkg uses, over the parts opkg splits a version into; apk's
 * pre-release suffixes are read as "~" first, so that the forms OpenWrt
 * feeds carry (1.2.3-r4, 2024.01.02~abcdef-r1, 1:2.0) order the same
 * under both package managers.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "imagebuilder/vercmp.h"

/* apk's suffixes that mark a version before its release. */
static const char *const vercmp_pre[] = { "_alpha", "_beta", "_pre", "_rc" };

/* The weight of a non-digit character: "~" and the end first, letters. */
static int
vercmp_order(int c)
{
	if (isdigit(c))
		return (0);
	if (isalpha(c))
		return (c);
	if (c == '~')
		return (-1);
	if (c != '\0')
		return (c + 256);
	return (0);
}

/* dpkg's verrevcmp over n and m bytes. */
static int
vercmp_part(const char *a, size_t n, const char *b, size_t m)
{
	const char	*ae = a + n, *be = b + m;
	int		 d, ac, bc;

	while (a < ae || b < be) {
		d = 0;
		while ((a < ae && !isdigit((unsigned char)*a)) ||
		    (b < be && !isdigit((unsigned char)*b))) {
			ac = a < ae ? vercmp_order((unsigned char)*a) : 0;
			bc = b < be ? vercmp_order((unsigned char)*b) : 0;
			if (ac != bc)
				return (ac - bc);
			a++;
			b++;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && isdigit((unsigned char)*a) && b < be &&
		    isdigit((unsigned char)*b)) {
			if (d == 0)
				d = *a - *b;
			a++;
			b++;
		}
		if (a < ae && isdigit((unsigned char)*a))
			return (1);
		if (b < be && isdigit((unsigned char)*b))
			return (-1);
		if (d != 0)
			return (d);
	}
	return (0);
}

/*
 * A copy of s whose apk pre-release suffixes start with "~" instead of
 * "_" ("_rc1" -> "~rc1"), so that alpha < beta < pre < rc < release.
 */
static char *
vercmp_tilde(const char *s)
{
	char	*out = xstrdup(s), *p;
	size_t	 i;

	for (i = 0; i < nitems(vercmp_pre); i++)
		for (p = out; (p = strstr(p, vercmp_pre[i])) != NULL; p++)
			*p = '~';
	return (out);
}

/* The epoch of a version: the digits before a ":", else 0. */
static long
vercmp_epoch(const char *s, const char **rest)
{
	const char	*colon = strchr(s, ':');
	long		 e = 0;

	*rest = s;
	if (colon == NULL || colon == s || strspn(s, "0123456789") !=
	    (size_t)(colon - s) || colon - s > 9)
		return (0);
	e = strtol(s, NULL, 10);
	*rest = colon + 1;
	return (e);
}

/* Compares two package versions. */
int
vercmp_package(const char *a, const char *b)
{
	const char	*ra, *rb, *da, *db;
	char		*ta, *tb;
	long		 ea, eb;
	size_t		 la, lb;
	int		 c;

	ta = vercmp_tilde(a);
	tb = vercmp_tilde(b);
	ea = vercmp_epoch(ta, &ra);
	eb = vercmp_epoch(tb, &rb);
	if (ea != eb) {
		free(ta);
		free(tb);
		return (ea < eb ? -1 : 1);
	}
	da = strrchr(ra, '-');
	db = strrchr(rb, '-');
	la = da != NULL ? (size_t)(da - ra) : strlen(ra);
	lb = db != NULL ? (size_t)(db - rb) : strlen(rb);
	if ((c = vercmp_part(ra, la, rb, lb)) == 0)
		c = vercmp_part(da != NULL ? da + 1 : "", da != NULL ?
		    strlen(da + 1) : 0, db != NULL ? db + 1 : "", db != NULL ?
		    strlen(db + 1) : 0);
	free(ta);
	free(tb);
	return (c < 0 ? -1 : c > 0);
}

/* A copy of an OpenWrt version with "-rc" made "~rc". */
static char *
vercmp_release_key(const char *s)
{
	char	*out = xstrdup(s), *p;

	for (p = out; (p = strstr(p, "-rc")) != NULL; p++)
		*p = '~';
	return (out);
}

/* Compares two OpenWrt versions. */
int
vercmp_release(const char *a, const char *b)
{
	char	*ka = vercmp_release_key(a), *kb = vercmp_release_key(b);
	int	 c;

	c = vercmp_part(ka, strlen(ka), kb, strlen(kb));
	free(ka);
	free(kb);
	return (c < 0 ? -1 : c > 0);
}

/*
 * repourl.h: an http(s) URL of a build's repository cut into the parts the
 * allow-list compares (reference/asu-api.md §5.5).
 */
#ifndef ASUD_REPOURL_H
#define ASUD_REPOURL_H

/* The longest URL looked at. */
#define REPOURL_MAX	4096

struct repourl {
	int	 https;
	char	*host;		/* lower case */
	long	 port;		/* the scheme's default when absent */
	char	*path;		/* "" or starting with "/", no query */
};

/*
 * Parses an http:// or https:// URL (scheme in any case) of at most
 * REPOURL_MAX printable ASCII bytes without blanks or backslashes: a host
 * name or bracketed IPv6 address, an optional port, a path up to "?" or
 * "#". Userinfo, percent signs in the host, "." and ".." segments and
 * percent-encoded dots, slashes or backslashes are refused. 0, or -1 with
 * nothing to free.
 */
int	repourl_parse(const char *s, struct repourl *);
/* Frees the parts of a parsed URL and zeroes it. */
void	repourl_free(struct repourl *);
/*
 * Whether url lies under the prefix a: same scheme, host and port, and a
 * path that starts with a's path (trailing slashes dropped) and "/".
 */
int	repourl_under(const struct repourl *url, const struct repourl *a);

#endif

/*
 * repourl.c: the http(s) URLs of a build's repositories, cut into scheme,
 * host, port and path for the allow-list. Anything a server or client
 * could read as another place (userinfo, percent signs in the host, dot
 * segments, encoded dots and slashes) is refused, not normalised.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/repourl.h"

/* Whether a byte is an ASCII letter or digit (no locale). */
static int
repourl_alnum(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

/* Whether a byte is an ASCII hex digit. */
static int
repourl_xdigit(int c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* The ASCII lower case of a byte. */
static int
repourl_lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* Frees the parts of a parsed URL; see repourl.h. */
void
repourl_free(struct repourl *u)
{
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof *u);
}

/* Reads "http://" or "https://" in any case; moves *sp past it. */
static int
repourl_scheme(const char **sp, struct repourl *u)
{
	if (strncasecmp(*sp, "https://", 8) == 0) {
		u->https = 1;
		*sp += 8;
		return (0);
	}
	if (strncasecmp(*sp, "http://", 7) == 0) {
		u->https = 0;
		*sp += 7;
		return (0);
	}
	return (-1);
}

/* Reads ":port" (or ":" alone, the default) after the host. */
static int
repourl_port(const char *p, const char *end, struct repourl *u)
{
	long	port = 0;

	u->port = u->https ? 443 : 80;
	if (p == end)
		return (0);
	if (*p++ != ':' || end - p > 5)
		return (-1);
	if (p == end)
		return (0);
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return (-1);
	u->port = port;
	return (0);
}

/*
 * Reads the authority: a host name or a bracketed IPv6 address and an
 * optional port. Userinfo ("user@") and percent signs are refused, so
 * that nothing but the host we compare can be where the client connects.
 */
static int
repourl_authority(const char *a, size_t len, struct repourl *u)
{
	const char	*end = a + len, *host, *rest;
	size_t		 hlen, i;
	int		 c, v6 = len > 0 && a[0] == '[';

	if (memchr(a, '@', len) != NULL || memchr(a, '%', len) != NULL)
		return (-1);
	if (v6) {
		host = a + 1;
		if ((rest = memchr(host, ']', len - 1)) == NULL)
			return (-1);
		hlen = (size_t)(rest - host);
		rest++;
	} else {
		host = a;
		rest = memchr(a, ':', len);
		if (rest == NULL)
			rest = end;
		hlen = (size_t)(rest - host);
	}
	if (hlen == 0)
		return (-1);
	for (i = 0; i < hlen; i++) {
		c = (unsigned char)host[i];
		if (v6 ? !(repourl_xdigit(c) || c == ':' || c == '.') :
		    !(repourl_alnum(c) || c == '.' || c == '-' || c == '_'))
			return (-1);
	}
	if (repourl_port(rest, end, u) == -1)
		return (-1);
	u->host = xstrndup(host, hlen);
	for (i = 0; i < hlen; i++)
		u->host[i] = (char)repourl_lower((unsigned char)u->host[i]);
	return (0);
}

/*
 * Refuses paths that a server may read as somewhere else: "." and ".."
 * segments and percent-encoded dots, slashes and backslashes.
 */
static int
repourl_path_ok(const char *p, size_t len)
{
	size_t	i, seg;

	for (i = 0; i + 2 < len; i++) {
		if (p[i] == '%' && (strncasecmp(p + i, "%2e", 3) == 0 ||
		    strncasecmp(p + i, "%2f", 3) == 0 ||
		    strncasecmp(p + i, "%5c", 3) == 0))
			return (0);
	}
	for (i = 0; i < len; i += seg + 1) {
		seg = strcspn(p + i, "/");
		if (i + seg > len)
			seg = len - i;
		if ((seg == 1 && p[i] == '.') ||
		    (seg == 2 && p[i] == '.' && p[i + 1] == '.'))
			return (0);
	}
	return (1);
}

/* Parses an http(s) URL; see repourl.h. */
int
repourl_parse(const char *s, struct repourl *u)
{
	size_t	len, alen, plen;

	memset(u, 0, sizeof *u);
	len = strlen(s);
	if (!text_graph_ok(s, len, REPOURL_MAX) || memchr(s, '\\', len) != NULL)
		return (-1);
	if (repourl_scheme(&s, u) == -1)
		return (-1);
	alen = strcspn(s, "/?#");
	if (repourl_authority(s, alen, u) == -1)
		return (-1);
	s += alen;
	plen = strcspn(s, "?#");
	if (!repourl_path_ok(s, plen)) {
		repourl_free(u);
		return (-1);
	}
	u->path = xstrndup(s, plen);
	return (0);
}

/* Whether url lies under the allowed prefix a; see repourl.h. */
int
repourl_under(const struct repourl *url, const struct repourl *a)
{
	size_t	n = strlen(a->path);

	while (n > 0 && a->path[n - 1] == '/')
		n--;
	return (url->https == a->https && strcmp(url->host, a->host) == 0 &&
	    url->port == a->port && strncmp(url->path, a->path, n) == 0 &&
	    url->path[n] == '/');
}

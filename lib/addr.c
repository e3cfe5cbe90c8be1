/*
 * addr.c: IPv4 and IPv6 addresses and prefixes in one 16-byte form. An
 * IPv4 address is kept v4-mapped, so one comparison serves both
 * families and an IPv4 prefix length counts from bit 96.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"

/* Parses an address into the 16-byte form (IPv4 v4-mapped). */
int
addr_parse(const char *s, unsigned char b[16], int *v4)
{
	struct in_addr	 a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &a4, 4);
		*v4 = 1;
		return (0);
	}
	*v4 = 0;
	return (inet_pton(AF_INET6, s, b) == 1 ? 0 : -1);
}

/* Parses "ADDR" or "ADDR/LEN". */
int
addr_parse_prefix(const char *what, const char *s, struct addr_prefix *p,
    char **cause)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long		 len;
	int		 v4;

	if (strlen(s) >= sizeof buf)
		goto bad;
	snprintf(buf, sizeof buf, "%s", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, p->b, &v4) == -1)
		goto bad;
	p->bits = 128;
	if (slash != NULL) {
		len = strtol(slash, &end, 10);
		if (*slash < '0' || *slash > '9' || *end != '\0' || len < 0 ||
		    len > (v4 ? 32 : 128)) {
			xasprintf(cause, "%s: '%s' has a bad prefix length "
			    "(0 to %d)", what, s, v4 ? 32 : 128);
			return (-1);
		}
		p->bits = (int)len + (v4 ? 96 : 0);
	}
	return (0);
bad:
	xasprintf(cause, "%s: '%s' is not an IPv4 or IPv6 address or "
	    "ADDR/LEN prefix", what, s);
	return (-1);
}

/* Checks every entry of a list of prefixes. */
int
addr_check_list(const char *what, const struct strv *sv, char **cause)
{
	struct addr_prefix	p;
	size_t			i;

	for (i = 0; i < sv->n; i++)
		if (addr_parse_prefix(what, sv->v[i], &p, cause) == -1)
			return (-1);
	return (0);
}

/* True when addr lies in prefix p. */
int
addr_in_prefix(const unsigned char addr[16], const struct addr_prefix *p)
{
	int	full = p->bits / 8, rest = p->bits % 8;

	if (memcmp(addr, p->b, (size_t)full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((addr[full] ^ p->b[full]) & (0xff00 >> rest) & 0xff) == 0);
}

/* A socket address in the 16-byte form (all zero when unknown). */
void
addr_of_sockaddr(const struct sockaddr *sa, unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (sa != NULL && sa->sa_family == AF_INET) {
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6)
		memcpy(addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
}

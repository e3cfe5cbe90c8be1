/*
 * addr.h: IPv4 and IPv6 addresses and prefixes in one 16-byte form (IPv4
 * as v4-mapped IPv6), for the settings and the limits that name them.
 */
#ifndef ASUD_ADDR_H
#define ASUD_ADDR_H

struct sockaddr;
struct strv;

/* An address prefix; bits counts in the 16-byte form. */
struct addr_prefix {
	unsigned char	b[16];
	int		bits;
};

/*
 * Parses an IPv4 or IPv6 address into b; *v4 says which it was.
 * 0, or -1 when s is neither.
 */
int	addr_parse(const char *s, unsigned char b[16], int *v4);
/*
 * Parses "ADDR" or "ADDR/LEN". 0, or -1 with *cause (the caller's to
 * free) naming the setting what.
 */
int	addr_parse_prefix(const char *what, const char *s,
	    struct addr_prefix *p, char **cause);
/* Checks every entry of a list of prefixes, as addr_parse_prefix. */
int	addr_check_list(const char *what, const struct strv *sv,
	    char **cause);
/* True when addr lies in prefix p. */
int	addr_in_prefix(const unsigned char addr[16],
	    const struct addr_prefix *p);
/* A socket address in the 16-byte form (all zero when unknown). */
void	addr_of_sockaddr(const struct sockaddr *sa, unsigned char addr[16]);

#endif

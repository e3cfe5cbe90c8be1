/*
 * info.c: reads what `make info` prints: target, architecture, revision,
 * default packages and the profile list. The text comes from a child
 * process, so it is parsed line by line within len, junk is skipped, and
 * every name that could reach a make command line is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/info.h"

/*
 * Far more than any target has; beyond is junk. Profile headers are
 * counted too, repeated ones included: each is looked up among the kept.
 */
#define INFO_MAX_PROFILES	4096
/* Longest package or device list accepted on one line. */
#define INFO_MAX_LIST		1024
/* Longest name accepted, and the bytes besides letters and digits. */
#define INFO_MAX_NAME		256
#define INFO_NAME_CHARS		"._+-"

struct info_parser {
	struct info	*info;
	int		 in_profiles;	/* "Available Profiles:" seen */
	int		 bad;		/* the current profile is rejected */
	int		 keyed;		/* a key line seen in this profile */
	size_t		 cur;		/* current profile + 1, 0 for none */
	size_t		 headers;	/* profile headers seen */
	unsigned char	*drop;		/* per profile: 1 to drop at the end */
	size_t		 dropcap;
	char		*cause;
};

static int	info_next_line(const char **, const char *, char **);
static int	info_name_ok(const char *, const char *);
static char	*info_prefix(const char *, const char *);
static char	*info_quoted(const char *, const char *);
static int	info_list(struct strv *, const char *, const char *);
static void	info_profile_free(struct info_profile *);
static void	info_new_profile(struct info_parser *, const char *);
static void	info_profile_line(struct info_parser *, const char *);
static void	info_top_line(struct info_parser *, const char *);
static void	info_compact(struct info_parser *);

/* Copies the next line of the text, without its end and trailing blanks. */
static int
info_next_line(const char **p, const char *end, char **line)
{
	const char	*s;
	size_t		 len;

	if (!text_next_line(p, end, &s, &len))
		return (0);
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t'))
		len--;
	*line = xstrndup(s, len);
	return (1);
}

/* A name is short and made of letters, digits and the bytes of chars. */
static int
info_name_ok(const char *s, const char *chars)
{
	return (text_word_ok(s, strlen(s), INFO_MAX_NAME, chars));
}

/* Returns what follows key at the start of line, or NULL. */
static char *
info_prefix(const char *line, const char *key)
{
	size_t	len = strlen(key);

	if (strncmp(line, key, len) != 0)
		return (NULL);
	return ((char *)line + len);
}

/* Returns the text between the first and the last quote, checked. */
static char *
info_quoted(const char *rest, const char *chars)
{
	const char	*a, *b;
	char		*s;

	if ((a = strchr(rest, '"')) == NULL || (b = strrchr(rest, '"')) == a)
		return (NULL);
	s = xstrndup(a + 1, (size_t)(b - a - 1));
	if (!info_name_ok(s, chars)) {
		free(s);
		return (NULL);
	}
	return (s);
}

/* Splits a list on blanks into sv, refusing bad or too many names. */
static int
info_list(struct strv *sv, const char *rest, const char *chars)
{
	struct strv	tmp = STRV_INITIALIZER;
	size_t		i;

	strv_split(&tmp, rest, " \t");
	if (tmp.n > INFO_MAX_LIST)
		goto fail;
	for (i = 0; i < tmp.n; i++) {
		if (!info_name_ok(tmp.v[i], chars))
			goto fail;
	}
	strv_clear(sv);
	*sv = tmp;
	return (0);
fail:
	strv_clear(&tmp);
	return (-1);
}

/* Frees what one profile holds. */
static void
info_profile_free(struct info_profile *p)
{
	free(p->id);
	free(p->title);
	strv_clear(&p->packages);
	strv_clear(&p->supported_devices);
}

/* Starts a profile block from its "<id>:" header. */
static void
info_new_profile(struct info_parser *ip, const char *line)
{
	struct info	*info = ip->info;
	char		*id;

	ip->cur = 0;
	ip->keyed = 0;
	if (++ip->headers > INFO_MAX_PROFILES)
		return;
	id = xstrndup(line, strlen(line) - 1);
	if (!info_name_ok(id, INFO_NAME_CHARS ",") ||
	    info_profile(info, id) != NULL ||
	    info->nprofiles >= INFO_MAX_PROFILES) {
		free(id);
		return;
	}
	info->profiles = xreallocarray(info->profiles, info->nprofiles + 1,
	    sizeof *info->profiles);
	memset(&info->profiles[info->nprofiles], 0, sizeof *info->profiles);
	info->profiles[info->nprofiles].id = id;
	if (info->nprofiles + 1 > ip->dropcap) {
		ip->dropcap = ip->dropcap == 0 ? 64 : ip->dropcap * 2;
		ip->drop = xreallocarray(ip->drop, ip->dropcap, 1);
	}
	ip->drop[info->nprofiles] = 0;
	ip->cur = ++info->nprofiles;
}

/* Handles an indented line inside a profile block. */
static void
info_profile_line(struct info_parser *ip, const char *line)
{
	struct info_profile	*p = &ip->info->profiles[ip->cur - 1];
	const char		*rest;
	char			*s;
	size_t			 i;

	line += strspn(line, " \t");
	if ((rest = info_prefix(line, "Packages:")) != NULL) {
		ip->keyed = 1;
		if (info_list(&p->packages, rest, INFO_NAME_CHARS) == -1)
			ip->drop[ip->cur - 1] = 1;
	} else if ((rest = info_prefix(line, "hasImageMetadata:")) != NULL) {
		ip->keyed = 1;
		rest += strspn(rest, " \t");
		p->has_image_metadata = rest[0] == '1' &&
		    (rest[1] == '\0' || rest[1] == ' ' || rest[1] == '\t');
	} else if ((rest = info_prefix(line, "SupportedDevices:")) != NULL) {
		ip->keyed = 1;
		if (info_list(&p->supported_devices, rest,
		    INFO_NAME_CHARS ",") == -1)
			ip->drop[ip->cur - 1] = 1;
	} else if (!ip->keyed && p->title == NULL && *line != '\0') {
		s = xstrdup(line);
		for (i = 0; s[i] != '\0'; i++) {
			if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
				s[i] = ' ';
		}
		i = strlen(s);
		while (i > 0 && s[i - 1] == ' ')
			s[--i] = '\0';
		p->title = s;
	}
}

/* Handles a line that starts at column 0. */
static void
info_top_line(struct info_parser *ip, const char *line)
{
	struct info	*info = ip->info;
	const char	*rest;
	size_t		 len = strlen(line);

	ip->cur = 0;
	if ((rest = info_prefix(line, "Current Target:")) != NULL) {
		if (info->target == NULL)
			info->target = info_quoted(rest, INFO_NAME_CHARS "/");
	} else if ((rest = info_prefix(line, "Current Architecture:")) !=
	    NULL) {
		if (info->arch == NULL)
			info->arch = info_quoted(rest, INFO_NAME_CHARS);
	} else if ((rest = info_prefix(line, "Current Revision:")) != NULL) {
		if (info->revision == NULL)
			info->revision = info_quoted(rest, INFO_NAME_CHARS ",");
		if (info->revision != NULL && info->revision[0] != 'r') {
			free(info->revision);
			info->revision = NULL;
		}
	} else if ((rest = info_prefix(line, "Default Packages:")) != NULL) {
		if (info_list(&info->default_packages, rest,
		    INFO_NAME_CHARS) == -1 && ip->cause == NULL)
			ip->cause = xstrdup("make info printed a bad default "
			    "package list");
	} else if (strcmp(line, "Available Profiles:") == 0)
		ip->in_profiles = 1;
	else if (ip->in_profiles && len > 1 && line[len - 1] == ':' &&
	    strpbrk(line, " \t") == NULL)
		info_new_profile(ip, line);
}

/* Removes the profiles that had a bad list. */
static void
info_compact(struct info_parser *ip)
{
	struct info	*info = ip->info;
	size_t		 i, j;

	for (i = 0, j = 0; i < info->nprofiles; i++) {
		if (ip->drop[i])
			info_profile_free(&info->profiles[i]);
		else
			info->profiles[j++] = info->profiles[i];
	}
	info->nprofiles = j;
}

/* Parses the whole text; only a missing revision or bad defaults fail. */
int
info_parse(const char *text, size_t len, struct info *info, char **cause)
{
	struct info_parser	 ip;
	const char		*p = text, *end;
	char			*line;

	end = text == NULL ? NULL : text + len;
	memset(&ip, 0, sizeof ip);
	ip.info = info;
	while (info_next_line(&p, end, &line)) {
		if (line[0] == ' ' || line[0] == '\t') {
			if (ip.cur != 0)
				info_profile_line(&ip, line);
		} else if (line[0] != '\0')
			info_top_line(&ip, line);
		free(line);
	}
	info_compact(&ip);
	free(ip.drop);
	if (ip.cause == NULL && info->revision == NULL)
		ip.cause = xstrdup("make info printed no revision");
	if (ip.cause != NULL) {
		info_free(info);
		*cause = ip.cause;
		return (-1);
	}
	return (0);
}

/* Frees everything and leaves an empty info. */
void
info_free(struct info *info)
{
	size_t	i;

	for (i = 0; i < info->nprofiles; i++)
		info_profile_free(&info->profiles[i]);
	free(info->profiles);
	free(info->target);
	free(info->arch);
	free(info->revision);
	strv_clear(&info->default_packages);
	memset(info, 0, sizeof *info);
}

/* Finds a profile by its exact id. */
const struct info_profile *
info_profile(const struct info *info, const char *id)
{
	size_t	i;

	for (i = 0; i < info->nprofiles; i++) {
		if (strcmp(info->profiles[i].id, id) == 0)
			return (&info->profiles[i]);
	}
	return (NULL);
}

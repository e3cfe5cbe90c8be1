/*
 * keys.c: the repository_keys of a build request. A key is cut into its
 * non-blank lines, trimmed, as the reference reads it; a PEM key must then
 * be one block of base64 lines, anything else a usign public key, whose
 * base64 line usign.c decodes. Both are strict, since a key is either
 * exactly right or refused.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/text.h"
#include "lib/xmalloc.h"
#include "imagebuilder/keys.h"
#include "imagebuilder/usign.h"

#define KEYS_PEM_LABEL_MAX	64
#define KEYS_PEM_LINE_MAX	76
#define KEYS_COMMENT		"untrusted comment:"

/* Removes white space at both ends of a string, in place. */
static char *
keys_trim(char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
	    *s == '\v' || *s == '\f')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == '\v' ||
	    s[n - 1] == '\f'))
		s[--n] = '\0';
	return (s);
}

/* Whether a string has only printable ASCII, spaces included. */
static int
keys_printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return (0);
	}
	return (1);
}

/* Splits a key into its non-blank lines, trimmed. */
static void
keys_lines(struct strv *lines, const char *key)
{
	struct strv	raw = STRV_INITIALIZER;
	size_t		i;
	char		*s;

	strv_split(&raw, key, "\n");
	for (i = 0; i < raw.n; i++) {
		s = keys_trim(raw.v[i]);
		if (*s != '\0')
			strv_add(lines, s);
	}
	strv_clear(&raw);
}

/*
 * The base64 line of a usign public key, checked: one line, or two when
 * the first is the "untrusted comment:" of a key file. *line, if line is
 * not NULL, gets a copy of it; fp the key's fingerprint.
 */
static int
keys_usign_line(const char *key, char **line, char *fp, char **cause)
{
	struct strv	 lines = STRV_INITIALIZER;
	const char	*last;
	int		 rc = -1;

	if (strlen(key) > KEYS_MAX) {
		*cause = xstrdup("Invalid usign key: too long");
		return (-1);
	}
	keys_lines(&lines, key);
	last = lines.n > 0 ? lines.v[lines.n - 1] : "";
	if (lines.n == 0)
		*cause = xstrdup("Invalid usign key: empty");
	else if (lines.n > 2 || (lines.n == 2 && (strncmp(lines.v[0],
	    KEYS_COMMENT, strlen(KEYS_COMMENT)) != 0 ||
	    !keys_printable(lines.v[0]))))
		*cause = xstrdup("Invalid usign key: more than one key line");
	else if (usign_pubkey_decode(last, strlen(last), fp, cause) == 0) {
		if (line != NULL)
			*line = xstrdup(last);
		rc = 0;
	}
	strv_clear(&lines);
	return (rc);
}

/* The usign fingerprint; see keys.h. */
int
keys_usign_fingerprint(const char *key, char out[KEYS_FP_LEN + 1],
    char **cause)
{
	return (keys_usign_line(key, NULL, out, cause));
}

/* Whether a key is PEM, as the reference decides it. */
int
keys_is_pem(const char *key)
{
	while (*key == ' ' || *key == '\t' || *key == '\r' || *key == '\n')
		key++;
	return (strncmp(key, "-----BEGIN", 10) == 0);
}

/* Reads the label of "-----BEGIN <label>-----"; NULL if malformed. */
static char *
keys_pem_label(const char *line, const char *head)
{
	size_t	hlen = strlen(head), len = strlen(line), i;

	if (strncmp(line, head, hlen) != 0 || len < hlen + 6 ||
	    strcmp(line + len - 5, "-----") != 0)
		return (NULL);
	len -= hlen + 5;
	if (len > KEYS_PEM_LABEL_MAX)
		return (NULL);
	for (i = 0; i < len; i++) {
		if (!((line[hlen + i] >= 'A' && line[hlen + i] <= 'Z') ||
		    (line[hlen + i] >= '0' && line[hlen + i] <= '9') ||
		    line[hlen + i] == ' '))
			return (NULL);
	}
	return (xstrndup(line + hlen, len));
}

/* Whether a line between BEGIN and END is itself a boundary. */
static int
keys_pem_nested(const struct strv *lines)
{
	size_t	i;

	for (i = 1; i + 1 < lines->n; i++) {
		if (strncmp(lines->v[i], "-----", 5) == 0)
			return (1);
	}
	return (0);
}

/*
 * Checks the base64 lines between BEGIN and END; they must decode, with
 * non-zero spare bits let pass as Python's decoder does.
 */
static int
keys_pem_body(const struct strv *lines)
{
	unsigned char	*raw;
	char		*body;
	size_t		 i, len, rawlen, used = 0;
	int		 rc;

	for (i = 1; i + 1 < lines->n; i++) {
		len = strlen(lines->v[i]);
		if (len > KEYS_PEM_LINE_MAX ||
		    strspn(lines->v[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=") != len)
			return (-1);
	}
	body = xmalloc(KEYS_MAX + 1);
	for (i = 1; i + 1 < lines->n; i++) {
		len = strlen(lines->v[i]);
		if (used + len > KEYS_MAX)
			break;
		memcpy(body + used, lines->v[i], len);
		used += len;
	}
	raw = xmalloc(used / 4 * 3 + 1);
	rc = text_b64_decode(body, used, raw, used / 4 * 3, &rawlen);
	free(raw);
	free(body);
	return (rc == -1 ? -1 : 0);
}

/*
 * Checks a PEM key and returns it as one block with LF line ends and
 * nothing around it.
 */
static int
keys_pem_normalize(const char *key, char **out, char **cause)
{
	struct strv	 lines = STRV_INITIALIZER;
	char		*label = NULL, *end = NULL, *joined;
	int		 rc = -1;

	if (strlen(key) > KEYS_MAX) {
		xasprintf(cause, "Invalid PEM key: longer than %d bytes",
		    KEYS_MAX);
		return (-1);
	}
	keys_lines(&lines, key);
	if (lines.n < 3 ||
	    (label = keys_pem_label(lines.v[0], "-----BEGIN ")) == NULL ||
	    (end = keys_pem_label(lines.v[lines.n - 1], "-----END ")) ==
	    NULL || strcmp(label, end) != 0 || keys_pem_nested(&lines))
		*cause = xstrdup("Invalid PEM key: not one PEM block");
	else if (keys_pem_body(&lines) == -1)
		*cause = xstrdup("Invalid PEM key: not base64");
	else {
		joined = strv_join(&lines, "\n");
		xasprintf(out, "%s\n", joined);
		free(joined);
		rc = 0;
	}
	free(label);
	free(end);
	strv_clear(&lines);
	return (rc);
}

/* Checks one entry of repository_keys; see keys.h. */
int
keys_check(const char *key, char **cause)
{
	char	fp[KEYS_FP_LEN + 1], *pem;

	if (keys_is_pem(key)) {
		if (keys_pem_normalize(key, &pem, cause) == -1)
			return (-1);
		free(pem);
		return (0);
	}
	return (keys_usign_fingerprint(key, fp, cause));
}

/* The file a key becomes in keys/; see keys.h. */
int
keys_file(const char *key, size_t i, char **name, char **data, char **cause)
{
	char	fp[KEYS_FP_LEN + 1], *line;

	if (keys_is_pem(key)) {
		if (keys_pem_normalize(key, data, cause) == -1)
			return (-1);
		xasprintf(name, "custom-%zu.pem", i);
		return (0);
	}
	if (keys_usign_line(key, &line, fp, cause) == -1)
		return (-1);
	xasprintf(data, "untrusted comment: %s\n%s\n", fp, line);
	free(line);
	*name = xstrdup(fp);
	return (0);
}

/*
 * usign.c: usign signatures: key pairs and signatures made here verify,
 * and tampered data, foreign keys, broken .sig files and misnamed key
 * files are refused; OpenWrt's real keys load under their ids.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "imagebuilder/usign.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

#define USIGN_TEST_DATA \
	"a1b2  *openwrt-imagebuilder-x86-64.Linux-x86_64.tar.zst\n"
#define USIGN_TEST_BAD	"malformed signature file"

extern char **environ;

struct usign_test_pair {
	char	*pub;
	char	*sec;
	char	 id[USIGN_ID_LEN + 1];
};

static char	*usign_test_root;
static const char usign_test_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char	*usign_test_path(const char *, const char *);
static void	 usign_test_write(const char *, const char *, const char *);
static void	 usign_test_pair(struct usign_test_pair *);
static struct usign_keys *usign_test_load(const char *);
static void	 usign_test_refused(const struct usign_keys *, const char *,
		    const char *, const char *);
static void	 usign_test_verify(void);
static void	 usign_test_dirs(void);
static void	 usign_test_real(void);
static void	 usign_test_rfc8032(void);
static int	 usign_test_run(char **);
static void	 usign_test_tool(void);

/* A path under the scratch directory. */
static char *
usign_test_path(const char *dir, const char *name)
{
	char	*p;

	if (name == NULL)
		xasprintf(&p, "%s/%s", usign_test_root, dir);
	else
		xasprintf(&p, "%s/%s/%s", usign_test_root, dir, name);
	return (p);
}

/* Writes one file of a scratch directory, making the directory. */
static void
usign_test_write(const char *dir, const char *name, const char *text)
{
	char	*d, *p;

	d = usign_test_path(dir, NULL);
	p = usign_test_path(dir, name);
	if (fs_mkdirs(d, 0755) == -1 ||
	    fs_write_file(p, text, strlen(text), 0644) == -1)
		printf("# cannot write %s\n", p);
	free(d);
	free(p);
}

/* Loads a scratch key directory; NULL if it cannot be read. */
static struct usign_keys *
usign_test_load(const char *dir)
{
	struct usign_keys	*keys;
	char			*d, *cause = NULL;

	d = usign_test_path(dir, NULL);
	if ((keys = usign_keys_load(d, &cause)) == NULL)
		printf("# %s\n", cause);
	free(cause);
	free(d);
	return (keys);
}

/* Makes a key pair, checking the shape of both files. */
static void
usign_test_pair(struct usign_test_pair *kp)
{
	char	*cause = NULL, id[USIGN_ID_LEN + 1];

	memset(kp, 0, sizeof *kp);
	if (!ok(usign_keygen(&kp->pub, &kp->sec, kp->id, &cause) == 0,
	    "keygen")) {
		printf("# %s\n", cause);
		exit(1);
	}
	is_int(strlen(kp->id), USIGN_ID_LEN, "key id has 16 digits");
	ok(strncmp(kp->pub, "untrusted comment: public key ", 30) == 0,
	    "public key comment line");
	is_int(usign_key_id(kp->pub, strlen(kp->pub), id, &cause), 0,
	    "public key names its id");
	is_str(id, kp->id, "public key id matches");
}

/* Checks that one signature text is refused with the given cause. */
static void
usign_test_refused(const struct usign_keys *keys, const char *data,
    const char *sig, const char *want)
{
	char	*cause = NULL, *name;

	xasprintf(&name, "refused: %s", want);
	is_int(usign_verify(keys, data, strlen(data), sig, strlen(sig),
	    &cause), -1, name);
	is_str(cause, want, name);
	free(cause);
	free(name);
}

/* Good, tampered, foreign and broken signatures against one key. */
static void
usign_test_verify(void)
{
	struct usign_test_pair	 a, b;
	struct usign_keys	*keys;
	char			*cause = NULL, *sig, *bsig, *s, *want;
	size_t			 len, i;

	usign_test_pair(&a);
	usign_test_pair(&b);
	ok(strcmp(a.id, b.id) != 0, "two keys, two ids");
	usign_test_write("one", a.id, a.pub);
	keys = usign_test_load("one");
	ok(keys != NULL, "load a directory with one key");
	is_int(usign_keys_count(keys), 1, "one key loaded");
	ok(usign_keys_has(keys, a.id), "the key is known by its id");
	ok(!usign_keys_has(keys, b.id), "the other key is not");

	is_int(usign_sign(a.sec, strlen(a.sec), USIGN_TEST_DATA,
	    strlen(USIGN_TEST_DATA), &sig, &cause), 0, "sign with key a");
	xasprintf(&want, "untrusted comment: signed by key %s\n", a.id);
	ok(strncmp(sig, want, strlen(want)) == 0, "signature comment line");
	free(want);
	is_int(usign_key_id(sig, strlen(sig), s = xstrdup("0123456789abcdef"),
	    &cause), 0, "signature names its key");
	is_str(s, a.id, "signature key id");
	free(s);
	is_int(usign_verify(keys, USIGN_TEST_DATA, strlen(USIGN_TEST_DATA),
	    sig, strlen(sig), &cause), 0, "good signature verifies");
	is_int(usign_verify(keys, USIGN_TEST_DATA, strlen(USIGN_TEST_DATA),
	    sig, strlen(sig) - 1, &cause), 0, "without the last newline too");

	xasprintf(&want, "bad signature (key %s)", a.id);
	usign_test_refused(keys, "b1b2  *openwrt-imagebuilder-x86-64."
	    "Linux-x86_64.tar.zst\n", sig, want);
	is_int(usign_verify(keys, USIGN_TEST_DATA, strlen(USIGN_TEST_DATA) - 1,
	    sig, strlen(sig), &cause), -1, "a shortened file is refused");
	free(cause);
	/* A flipped signature byte that is still valid base64. */
	s = xstrdup(sig);
	len = strlen(s);
	s[len - 10] = s[len - 10] == 'A' ? 'B' : 'A';
	usign_test_refused(keys, USIGN_TEST_DATA, s, want);
	free(s);
	free(want);

	is_int(usign_sign(b.sec, strlen(b.sec), USIGN_TEST_DATA,
	    strlen(USIGN_TEST_DATA), &bsig, &cause), 0, "sign with key b");
	xasprintf(&want, "signature by unknown key %s", b.id);
	usign_test_refused(keys, USIGN_TEST_DATA, bsig, want);
	free(want);
	free(bsig);

	/* Truncated, garbled and otherwise malformed .sig files. */
	for (len = 0, i = 0; i + 1 < strlen(sig); i++) {
		cause = NULL;
		if (usign_verify(keys, USIGN_TEST_DATA,
		    strlen(USIGN_TEST_DATA), sig, i, &cause) == 0 ||
		    strcmp(cause, USIGN_TEST_BAD) != 0)
			len++;
		free(cause);
	}
	is_int(len, 0, "every truncation is malformed");
	s = xstrndup(sig, strlen(sig) / 2 + 20);
	usign_test_refused(keys, USIGN_TEST_DATA, s, USIGN_TEST_BAD);
	free(s);
	s = xstrdup(sig);
	s[strlen(s) - 20] = '!';
	usign_test_refused(keys, USIGN_TEST_DATA, s, USIGN_TEST_BAD);
	s[strlen(s) - 20] = '=';
	usign_test_refused(keys, USIGN_TEST_DATA, s, USIGN_TEST_BAD);
	free(s);
	xasprintf(&s, "%sx\n", sig);
	usign_test_refused(keys, USIGN_TEST_DATA, s, USIGN_TEST_BAD);
	free(s);
	usign_test_refused(keys, USIGN_TEST_DATA, strchr(sig, '\n') + 1,
	    USIGN_TEST_BAD);
	usign_test_refused(keys, USIGN_TEST_DATA, "", USIGN_TEST_BAD);
	usign_test_refused(keys, USIGN_TEST_DATA, "untrusted comment: x\n",
	    USIGN_TEST_BAD);
	usign_test_refused(keys, USIGN_TEST_DATA, a.pub,
	    USIGN_TEST_BAD);
	usign_test_refused(keys, USIGN_TEST_DATA, "untrusted comment: x\n"
	    "RWQviwuY4IMGvwLfs6842A0m4EZU1IjczTxKMSk3BQP8DAQLHBwdQiaU"
	    "RWQviwuY4IMGvwLfs6842A0m4EZU1IjczTxKMSk3BQP8DAQLHBwdQiaU\n",
	    USIGN_TEST_BAD);
	/* The base64 of a signature with non-zero spare bits. */
	s = xstrdup(sig);
	len = strlen(s);
	ok(s[len - 2] == '=' && s[len - 3] != '=', "one padding character");
	s[len - 3] = usign_test_b64[(strchr(usign_test_b64, s[len - 3]) -
	    usign_test_b64) | 1];
	usign_test_refused(keys, USIGN_TEST_DATA, s, USIGN_TEST_BAD);
	free(s);
	/* Secret keys that do not sign. */
	s = xstrdup(a.sec);
	s[strlen(s) - 10] = s[strlen(s) - 10] == 'A' ? 'B' : 'A';
	is_int(usign_sign(s, strlen(s), "x", 1, &bsig, &cause), -1,
	    "a damaged secret key is refused");
	free(cause);
	free(s);
	is_int(usign_sign(a.pub, strlen(a.pub), "x", 1, &bsig, &cause), -1,
	    "a public key does not sign");
	free(cause);

	free(sig);
	usign_keys_free(keys);
	free(a.pub);
	free(a.sec);
	free(b.pub);
	free(b.sec);
}

/* Misnamed, foreign and broken files in a key directory; empty dirs. */
static void
usign_test_dirs(void)
{
	struct usign_test_pair	 a, b;
	struct usign_keys	*keys;
	char			*cause = NULL, *sig, *want, *d;

	usign_test_pair(&a);
	usign_test_pair(&b);
	usign_test_write("mixed", a.id, a.pub);
	usign_test_write("mixed", "0123456789abcdef", b.pub);
	usign_test_write("mixed", "README", "not a key\n");
	usign_test_write("mixed", "fedcba9876543210", "untrusted comment: x\n"
	    "garbage\n");
	usign_test_write("mixed", "ffffffffffffffffff", b.pub);
	keys = usign_test_load("mixed");
	ok(keys != NULL, "load a directory with stray files");
	is_int(usign_keys_count(keys), 1, "only the well-named key loads");
	ok(usign_keys_has(keys, a.id), "the well-named key");
	ok(!usign_keys_has(keys, b.id), "not the misnamed one");
	ok(!usign_keys_has(keys, "0123456789abcdef"),
	    "not under its file name");
	is_int(usign_sign(b.sec, strlen(b.sec), "x", 1, &sig, &cause), 0,
	    "sign with the misnamed key");
	xasprintf(&want, "signature by unknown key %s", b.id);
	usign_test_refused(keys, "x", sig, want);
	free(want);
	usign_keys_free(keys);

	d = usign_test_path("empty", NULL);
	fs_mkdirs(d, 0755);
	keys = usign_keys_load(d, &cause);
	ok(keys != NULL, "an empty directory loads");
	is_int(usign_keys_count(keys), 0, "and holds no key");
	xasprintf(&want, "signature by unknown key %s", b.id);
	usign_test_refused(keys, "x", sig, want);
	free(want);
	usign_keys_free(keys);
	free(d);

	d = usign_test_path("missing", NULL);
	cause = NULL;
	ok(usign_keys_load(d, &cause) == NULL, "a missing directory fails");
	ok(cause != NULL && strstr(cause, "No such file") != NULL,
	    "with the reason");
	free(cause);
	free(d);
	free(sig);
	free(a.pub);
	free(a.sec);
	free(b.pub);
	free(b.sec);
}

/* RFC 8032 test 2 (message 0x72) wrapped in usign files, key 0123...ef. */
static void
usign_test_rfc8032(void)
{
	static const char	 pub[] = "untrusted comment: rfc 8032\n"
	    "RWQBI0VniavN7z1AF8PoQ4lakrcKp00bfrycmCzPLsSWjMDNVfEq9GYM\n";
	static const char	 sig[] = "untrusted comment: rfc 8032\n"
	    "RWQBI0VniavN75KgCanw1Mq4cg6CC19kJUCisntUFlA/j7N2IiPr22naCFrB5D4V"
	    "mW5FjzYT0PEdjDh7Lq60MCrusA0pFhK7DAA=\n";
	struct usign_keys	*keys;
	char			*cause = NULL;

	usign_test_write("rfc8032", "0123456789abcdef", pub);
	keys = usign_test_load("rfc8032");
	if (!ok(keys != NULL && usign_keys_count(keys) == 1,
	    "RFC 8032 key loads")) {
		usign_keys_free(keys);
		return;
	}
	is_int(usign_verify(keys, "r", 1, sig, strlen(sig), &cause), 0,
	    "RFC 8032 signature verifies");
	usign_test_refused(keys, "s", sig, "bad signature (key "
	    "0123456789abcdef)");
	usign_keys_free(keys);
}

/* OpenWrt's published keys, as installed by default. */
static void
usign_test_real(void)
{
	static const char	*ids[] = { "2f8b0b98e08306bf",
	    "4d017e6f1ed5d616", "682970064b87a917", "b5043e70f9a75cde",
	    "d310c6f2833e97f7" };
	struct usign_keys	*keys;
	char			*cause = NULL, *name, *path, *buf;
	char			 id[USIGN_ID_LEN + 1];
	size_t			 i, len;

	keys = usign_keys_load(ASUD_SRCDIR "/t/data/keys", &cause);
	if (!ok(keys != NULL, "load OpenWrt's keys")) {
		printf("# %s\n", cause);
		return;
	}
	is_int(usign_keys_count(keys), 5, "five keys");
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		xasprintf(&name, "key %s loaded", ids[i]);
		ok(usign_keys_has(keys, ids[i]), name);
		free(name);
		xasprintf(&path, ASUD_SRCDIR "/t/data/keys/%s", ids[i]);
		memset(id, 0, sizeof id);
		if (fs_read_file(path, USIGN_FILE_MAX, &buf, &len) == 0) {
			usign_key_id(buf, len, id, &cause);
			free(buf);
		}
		xasprintf(&name, "file %s holds key %s", ids[i], ids[i]);
		is_str(id, ids[i], name);
		free(name);
		free(path);
	}
	usign_keys_free(keys);
}

/* Runs a program and returns its exit status, or -1. */
static int
usign_test_run(char **argv)
{
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	int				 status, rc;

	/* The tool's stdout would corrupt the TAP stream. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return (-1);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return (-1);
	return (WEXITSTATUS(status));
}

/* The signing tool's files are the formats asud reads. */
static void
usign_test_tool(void)
{
	struct usign_keys	*keys = NULL;
	char			*sec, *pub, *file, *sigf, *cause = NULL;
	char			*gen[5], *sign[5];
	char			 tool[] = "t/unit/usign-sign";
	char			 flag_g[] = "-g", flag_s[] = "-s";
	char			*ptext = NULL, *sig = NULL;
	char			 id[USIGN_ID_LEN + 1] = "";
	size_t			 plen = 0, slen = 0;

	sec = usign_test_path("tool", "secret");
	pub = usign_test_path("tool", "public");
	file = usign_test_path("tool", "sha256sums");
	sigf = usign_test_path("tool", "sha256sums.sig");
	usign_test_write("tool", "sha256sums", USIGN_TEST_DATA);
	gen[0] = tool, gen[1] = flag_g, gen[2] = sec, gen[3] = pub;
	gen[4] = NULL;
	sign[0] = tool, sign[1] = flag_s, sign[2] = sec, sign[3] = file;
	sign[4] = NULL;
	is_int(usign_test_run(gen), 0, "usign-sign -g");
	is_int(usign_test_run(sign), 0, "usign-sign -s");
	if (fs_read_file(pub, USIGN_FILE_MAX, &ptext, &plen) == 0 &&
	    usign_key_id(ptext, plen, id, &cause) == 0) {
		usign_test_write("tool-keys", id, ptext);
		keys = usign_test_load("tool-keys");
	}
	ok(keys != NULL && usign_keys_count(keys) == 1,
	    "the tool's public key loads");
	if (fs_read_file(sigf, USIGN_FILE_MAX, &sig, &slen) == -1)
		sig = NULL;
	ok(keys != NULL && sig != NULL && usign_verify(keys, USIGN_TEST_DATA,
	    strlen(USIGN_TEST_DATA), sig, slen, &cause) == 0,
	    "the tool's FILE.sig verifies");
	gen[1] = flag_s, gen[2] = pub, gen[3] = file;
	is_int(usign_test_run(gen), 1, "the tool refuses a public key");
	usign_keys_free(keys);
	free(ptext);
	free(sig);
	free(sec);
	free(pub);
	free(file);
	free(sigf);
}

/* Runs every case in a scratch directory. */
int
main(void)
{
	usign_test_root = tutil_scratch("usign-test");
	usign_test_verify();
	usign_test_dirs();
	usign_test_rfc8032();
	usign_test_real();
	usign_test_tool();
	fs_rmtree(usign_test_root);
	free(usign_test_root);
	return (done_testing());
}

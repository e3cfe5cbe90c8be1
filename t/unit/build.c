/*
 * build.c: tests for imagebuilder/build.c against the fake ImageBuilder in
 * t/unit/fakeib: a good build, the order of phases, build_cmd, every error
 * message of reference/asu-api.md §5.3 and §5.4, timeouts and cancels,
 * and a build's own repositories and keys, with the ImageBuilder the same
 * as before after every kind of ending.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "lib/compat.h"
#include "lib/fs.h"
#include "lib/sha256.h"
#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/build.h"
#include "imagebuilder/info.h"
#include "imagebuilder/job.h"
#include "imagebuilder/repos.h"
#include "t/unit/tap.h"
#include "t/unit/tutil.h"

#define TB_FAKEIB	ASUD_SRCDIR "/t/unit/fakeib"
/* The reference's usign test key and its fingerprint. */
#define TB_KEY \
	"RWSrHfFmlHslUcLbXFIRp+eEikWF9z1N77IJiX5Bt/nJd1a/x+L+SU89"
#define TB_KEY_FP	"ab1df166947b2551"
#define TB_PEM		"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyutJPZSUrGsKNqJKvVRDpsR9VMJt\n" \
	"iV9us9QCLgR3ldqb5Q7ZSBj+3ZeK6bM0yph11A7HmwSAKJytXQae8a8pNQ==\n" \
	"-----END PUBLIC KEY-----\n"

/* What one build reported, copied out of the callbacks. */
struct tb {
	struct build	*build;
	char		*dir;		/* the test's scratch directory */
	char		*work_dir;
	char		*bin_dir;
	int		 phases[16];
	int		 nphases;
	struct evbuffer	*log;
	int		 ndone;
	int		 ok;
	int		 timed_out;
	char		*error;
	char		*out;
	char		*err;
	char		*revision;
	struct strv	 build_cmd;
	struct strv	 packages;
	struct strv	 manifest_names;
	char		*fake_pkg_version;
	char		*profiles_json;
	int		 cancel_in_log;
	int		 changes_called;
	double		 ended;
};

static char			*tb_top;

/* Records a phase. */
static void
tb_phase(enum build_phase phase, void *arg)
{
	struct tb	*t = arg;

	if (t->nphases < (int)nitems(t->phases))
		t->phases[t->nphases++] = (int)phase;
}

/* Collects the combined log; may cancel the build from inside. */
static void
tb_log(const char *buf, size_t len, void *arg)
{
	struct tb	*t = arg;

	evbuffer_add(t->log, buf, len);
	if (t->cancel_in_log) {
		t->cancel_in_log = 0;
		build_cancel(t->build);
		t->build = NULL;
	}
}

/* Copies the result out before build.c frees it. */
static void
tb_done(const struct build_result *r, void *arg)
{
	struct tb	*t = arg;
	int		 i;

	t->ndone++;
	t->ended = tutil_now();
	t->ok = r->ok;
	t->timed_out = r->timed_out;
	t->error = r->error != NULL ? xstrdup(r->error) : NULL;
	t->out = r->out != NULL ? xstrdup(r->out) : NULL;
	t->err = r->err != NULL ? xstrdup(r->err) : NULL;
	t->revision = r->revision != NULL ? xstrdup(r->revision) : NULL;
	strv_copy(&t->build_cmd, &r->build_cmd);
	strv_copy(&t->packages, &r->packages);
	strv_copy(&t->manifest_names, &r->manifest.names);
	if ((i = strv_find(&r->manifest.names, "fake-pkg")) != -1)
		t->fake_pkg_version = xstrdup(r->manifest.versions.v[i]);
	if (r->profiles_json != NULL)
		t->profiles_json = xstrdup(r->profiles_json);
	t->build = NULL;
}

/* A server-side package change: adds one package after make info. */
static void
tb_changes(struct strv *packages, const struct info *info, void *arg)
{
	struct tb	*t = arg;

	if (info != NULL && info->revision != NULL &&
	    strcmp(info->revision, "r12345-abcdef0123") == 0)
		t->changes_called++;
	strv_add(packages, "extra-pkg");
}

/* Makes a fresh scratch directory and a spec for the fake IB. */
static void
tb_init(struct tb *t, struct build_spec *spec, const char *profile)
{
	static int	n;

	memset(t, 0, sizeof *t);
	t->log = evbuffer_new();
	xasprintf(&t->dir, "%s/b%d", tb_top, n++);
	xasprintf(&t->work_dir, "%s/work", t->dir);
	xasprintf(&t->bin_dir, "%s/bin", t->dir);
	fs_mkdirs(t->dir, 0755);
	memset(spec, 0, sizeof *spec);
	spec->ib_dir = TB_FAKEIB;
	spec->work_dir = t->work_dir;
	spec->bin_dir = t->bin_dir;
	spec->bin_dir_label = "/store/0123abcd";
	spec->profile = profile;
	spec->timeout = 30;
}

/* Starts a build; 0, or -1 when build_start refused it. */
static int
tb_start(struct tb *t, const struct build_spec *spec)
{
	char	*cause = NULL;

	t->build = build_start(spec, tb_phase, tb_log, tb_done, t, &cause);
	if (t->build == NULL) {
		printf("# build_start: %s\n", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Starts a build and runs the loop until it is done or time is up. */
static int
tb_run(struct tb *t, const struct build_spec *spec, double seconds)
{
	if (tb_start(t, spec) == -1)
		return (-1);
	tutil_wait_all(t, 1, sizeof *t, offsetof(struct tb, ndone), seconds);
	return (t->ndone == 1 ? 0 : -1);
}

/* Whether a build reached make image (or ended before). */
static int
tb_in_image(void *arg)
{
	const struct tb	*t = arg;

	return (t->nphases >= 4 || t->ndone != 0);
}

/* The phases seen, as a string such as "0123". */
static const char *
tb_phases(const struct tb *t)
{
	static char	buf[32];
	int		i;

	for (i = 0; i < t->nphases && i < (int)sizeof buf - 1; i++)
		buf[i] = (char)('0' + t->phases[i]);
	buf[i] = '\0';
	return (buf);
}

/* Whether the combined log holds a text. */
static int
tb_log_has(struct tb *t, const char *s)
{
	struct evbuffer_ptr	p;

	p = evbuffer_search(t->log, s, strlen(s), NULL);
	return (p.pos != -1);
}

/* Releases one record and its scratch directory. */
static void
tb_free(struct tb *t)
{
	if (t->build != NULL)
		build_cancel(t->build);
	evbuffer_free(t->log);
	fs_rmtree(t->dir);
	free(t->dir);
	free(t->work_dir);
	free(t->bin_dir);
	free(t->error);
	free(t->out);
	free(t->err);
	free(t->revision);
	free(t->fake_pkg_version);
	free(t->profiles_json);
	strv_clear(&t->build_cmd);
	strv_clear(&t->packages);
	strv_clear(&t->manifest_names);
}

/* A good build: phases, build_cmd, manifest, profiles.json, outputs. */
static void
test_success(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	struct strv		 pkgs = STRV_INITIALIZER;
	struct stat		 st;
	char			 hex[SHA256_HEX_LEN + 1], *want, *image;
	const char		*names = "base-files busybox dropbear fake-pkg "
				    "kmod-fake";

	/* None of these may reach make. */
	setenv("MAKEFLAGS", "n", 1);
	setenv("PROFILE", "fake_fail", 1);
	setenv("LC_ALL", "xx_XX", 1);
	tb_init(&t, &spec, "fake_ok");
	strv_add(&pkgs, "fake-pkg");
	strv_add(&pkgs, "luci");
	spec.packages = &pkgs;
	spec.version_code = "r12345-abcdef0123";
	spec.rootfs_size_mb = 256;
	spec.filesystem = "squashfs";
	ok(tb_run(&t, &spec, 20) == 0, "good build completes");
	unsetenv("MAKEFLAGS");
	unsetenv("PROFILE");
	unsetenv("LC_ALL");
	is_int(t.ok, 1, "result ok");
	is_str(t.error, NULL, "no error");
	is_str(tb_phases(&t), "0123", "phases in order");
	is_str(t.revision, "r12345-abcdef0123", "revision");
	is_int(t.manifest_names.n, 5, "manifest parsed");
	is_str(t.fake_pkg_version, "1.0-r1", "manifest version");
	is_int(t.build_cmd.n, 8, "build_cmd length");
	if (t.build_cmd.n == 8) {
		sha256_hex(names, strlen(names), hex);
		hex[12] = '\0';
		is_str(t.build_cmd.v[0], "make", "build_cmd[0]");
		is_str(t.build_cmd.v[1], "image", "build_cmd[1]");
		is_str(t.build_cmd.v[2], "PROFILE=fake_ok", "build_cmd[2]");
		is_str(t.build_cmd.v[3], "PACKAGES=fake-pkg luci",
		    "build_cmd[3] is PACKAGES");
		xasprintf(&want, "EXTRA_IMAGE_NAME=%s", hex);
		is_str(t.build_cmd.v[4], want, "EXTRA_IMAGE_NAME is the "
		    "manifest hash");
		free(want);
		is_str(t.build_cmd.v[5], "BIN_DIR=/store/0123abcd",
		    "BIN_DIR shows the label");
		is_str(t.build_cmd.v[6], "ROOTFS_PARTSIZE=256",
		    "build_cmd[6] is ROOTFS_PARTSIZE");
		is_str(t.build_cmd.v[7], "ROOTFS_FILESYSTEM=squashfs",
		    "build_cmd[7]");
		xasprintf(&image, "%s/openwrt-fake-%s-fake_ok-sysupgrade.bin",
		    t.bin_dir, hex);
		ok(stat(image, &st) == 0, "image written to the real BIN_DIR");
		free(image);
	}
	is_int(t.packages.n, 2, "packages as requested");
	ok(t.profiles_json != NULL && strstr(t.profiles_json,
	    "\"fake_ok\":{\"image_prefix\"") != NULL, "profiles_json read");
	ok(t.out != NULL && strstr(t.out, "Building images for fake - "
	    "fake_ok\n") != NULL, "stdout of make image");
	ok(t.out != NULL && strstr(t.out, "Current Revision") == NULL,
	    "stdout of the last command only");
	ok(t.out != NULL && strstr(t.out, "LC_ALL=C\n") != NULL,
	    "LC_ALL=C for make");
	ok(t.out != NULL && strstr(t.out, "FILES=\n") != NULL,
	    "no FILES without defaults");
	is_str(t.err, "Generate local signing keys...\n",
	    "stderr of make image");
	ok(tb_log_has(&t, "Current Revision: \"r12345") &&
	    tb_log_has(&t, "fake-pkg - 1.0-r1") &&
	    tb_log_has(&t, "Generate local signing keys") &&
	    tb_log_has(&t, "Calculating checksums"), "log has every command");
	ok(stat(t.work_dir, &st) == -1 && errno == ENOENT,
	    "no work_dir without defaults");
	tb_free(&t);
	strv_clear(&pkgs);
}

/* defaults, diff_packages, the wrapper and the package-change hook. */
static void
test_defaults_diff(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	struct strv		 pkgs = STRV_INITIALIZER;
	struct strv		 wrapper = STRV_INITIALIZER;
	struct stat		 st;
	char			*path, *buf = NULL, *want;
	size_t			 len;

	tb_init(&t, &spec, "fake_ok");
	strv_add(&pkgs, "fake-pkg");
	strv_add(&pkgs, "busybox");
	strv_add(&wrapper, "env");
	strv_add(&wrapper, "ASUD_WRAPPED=yes");
	spec.packages = &pkgs;
	spec.diff_packages = 1;
	spec.defaults = "uci set system.@system[0].hostname=x\n";
	spec.rootfs_size_mb = 300;
	spec.wrapper = &wrapper;
	spec.changes_cb = tb_changes;
	spec.changes_arg = &t;
	ok(tb_run(&t, &spec, 20) == 0, "defaults build completes");
	is_int(t.ok, 1, "result ok");
	is_int(t.changes_called, 1, "package-change hook called with info");
	xasprintf(&path, "%s/files/etc/uci-defaults/99-asu-defaults",
	    t.work_dir);
	ok(fs_read_file(path, 4096, &buf, &len) == 0 && strcmp(buf,
	    "uci set system.@system[0].hostname=x\n") == 0,
	    "defaults file written under work_dir");
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644,
	    "defaults file mode 0644");
	free(buf);
	free(path);
	is_int(t.build_cmd.n, 8, "build_cmd length with FILES");
	if (t.build_cmd.n == 8) {
		is_str(t.build_cmd.v[0], "make", "wrapper not in build_cmd");
		is_str(t.build_cmd.v[3], "PACKAGES=-base-files -dropbear "
		    "-kmod-fake -opkg -swconfig fake-pkg busybox extra-pkg",
		    "diff_packages list");
		xasprintf(&want, "FILES=%s/files", t.work_dir);
		is_str(t.build_cmd.v[6], want, "FILES after BIN_DIR");
		free(want);
		is_str(t.build_cmd.v[7], "ROOTFS_PARTSIZE=300",
		    "ROOTFS_PARTSIZE after FILES");
	}
	is_int(t.packages.n, 8, "result packages split");
	ok(t.out != NULL && strstr(t.out, "WRAPPED=yes\n") != NULL,
	    "wrapper ran make");
	tb_free(&t);

	/* A profile missing from make info has no packages of its own. */
	tb_init(&t, &spec, "fake_unlisted");
	spec.packages = &pkgs;
	spec.diff_packages = 1;
	ok(tb_run(&t, &spec, 20) == 0, "unlisted profile completes");
	is_int(t.ok, 1, "unlisted profile is no error");
	ok(t.build_cmd.n > 3 && strcmp(t.build_cmd.v[3], "PACKAGES="
	    "-base-files -dropbear -opkg fake-pkg busybox") == 0,
	    "only default packages diffed");
	tb_free(&t);
	strv_clear(&pkgs);
	strv_clear(&wrapper);
}

/* Errors found by make info and make manifest. */
static void
test_validation_errors(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	struct strv		 pkgs = STRV_INITIALIZER;
	struct strv		 pvn = STRV_INITIALIZER, pvv = STRV_INITIALIZER;
	struct strv		 wrapper = STRV_INITIALIZER;

	tb_init(&t, &spec, "fake_ok");
	spec.version_code = "r1-0000000000";
	ok(tb_run(&t, &spec, 20) == 0, "wrong version completes");
	is_int(t.ok, 0, "wrong version fails");
	is_str(t.error, "Received incorrect version r12345-abcdef0123 "
	    "(requested r1-0000000000)", "version message");
	is_str(tb_phases(&t), "01", "stopped after make info");
	is_int(t.build_cmd.n, 0, "no build_cmd before make image");
	tb_free(&t);

	tb_init(&t, &spec, "fake_ok");
	strv_add(&pkgs, "no-such-pkg");
	spec.packages = &pkgs;
	ok(tb_run(&t, &spec, 20) == 0, "bad package completes");
	is_str(t.error, "Impossible package selection: missing (no-such-pkg)",
	    "package error message");
	is_str(tb_phases(&t), "012", "stopped after make manifest");
	ok(t.err != NULL && strstr(t.err, "Cannot install package") != NULL,
	    "stderr of make manifest kept");
	tb_free(&t);
	strv_clear(&pkgs);

	tb_init(&t, &spec, "fake_ok");
	strv_add(&pvn, "fake-pkg");
	strv_add(&pvv, "9.9");
	spec.pv_names = &pvn;
	spec.pv_versions = &pvv;
	ok(tb_run(&t, &spec, 20) == 0, "version mismatch completes");
	is_str(t.error, "Impossible package selection: fake-pkg version not "
	    "as requested: 9.9 vs. 1.0-r1", "packages_versions message");
	tb_free(&t);
	strv_clear(&pvn);
	strv_clear(&pvv);

	tb_init(&t, &spec, "fake_ok");
	strv_add(&pvn, "fake-pkg");
	strv_add(&pvv, "1.0-r1");
	spec.pv_names = &pvn;
	spec.pv_versions = &pvv;
	ok(tb_run(&t, &spec, 20) == 0 && t.ok, "matching versions build");
	tb_free(&t);
	strv_clear(&pvn);
	strv_clear(&pvv);

	/* A wrapper that prints junk instead of running make info. */
	tb_init(&t, &spec, "fake_ok");
	strv_add(&wrapper, "sh");
	strv_add(&wrapper, "-c");
	strv_add(&wrapper, "echo junk");
	strv_add(&wrapper, "sh");
	spec.wrapper = &wrapper;
	ok(tb_run(&t, &spec, 20) == 0, "junk make info completes");
	ok(t.error != NULL && strncmp(t.error, "Could not parse make info: ",
	    27) == 0, "make info parse message");
	tb_free(&t);
	strv_clear(&wrapper);
}

/* Runs one build that must fail with a given message. */
static void
tb_expect(const char *profile, const char *error, const char *name)
{
	struct tb		t;
	struct build_spec	spec;

	tb_init(&t, &spec, profile);
	if (tb_run(&t, &spec, 20) == -1)
		ok(0, name);
	else
		is_str(t.error, error, name);
	is_int(t.ok + t.timed_out, 0, "failed, not as a timeout");
	tb_free(&t);
}

/* Failures of make image, in the reference's order of checks. */
static void
test_image_errors(void)
{
	tb_expect("fake_toobig", "Selected packages exceed device storage",
	    "is too big with exit 0");
	tb_expect("fake_toobig_split", "Selected packages exceed device "
	    "storage", "is too big split over two reads");
	tb_expect("fake_nospace", "Selected packages exceed device storage",
	    "out of space? before the exit code");
	tb_expect("fake_fail", "Error while building firmware. See "
	    "stdout/stderr", "make image failure");
	tb_expect("fake_nojson", "No JSON file found", "no profiles.json");
	tb_expect("fake_otherjson", "Profile not found in JSON file",
	    "profile missing from profiles.json");
}

/* Start problems: no ImageBuilder, a used bin_dir, a broken JSON. */
static void
test_start_errors(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	char			*path;

	tb_init(&t, &spec, "fake_ok");
	spec.ib_dir = "/nonexistent-asud-ib";
	ok(tb_run(&t, &spec, 20) == 0, "missing IB completes");
	is_str(t.error, "Could not run make: /nonexistent-asud-ib: No such "
	    "file or directory", "missing IB message");
	tb_free(&t);

	tb_init(&t, &spec, "fake_ok");
	fs_mkdirs(t.bin_dir, 0755);
	xasprintf(&path, "%s/old", t.bin_dir);
	fs_write_file(path, "x", 1, 0644);
	free(path);
	ok(tb_run(&t, &spec, 20) == 0, "used bin_dir completes");
	ok(t.error != NULL && strstr(t.error, "is not empty") != NULL,
	    "used bin_dir refused");
	is_str(tb_phases(&t), "0", "stopped in setup");
	tb_free(&t);

	tb_init(&t, &spec, "fake_badjson");
	ok(tb_run(&t, &spec, 20) == 0, "broken JSON completes");
	ok(t.error != NULL && strncmp(t.error, "Could not parse JSON file",
	    25) == 0, "broken JSON message");
	tb_free(&t);

	tb_expect("fake_deepjson", "Could not parse JSON file: nested too "
	    "deep", "deeply nested JSON refused");
}

/* Output beyond the cap: the result keeps the tail, the log gets all. */
static void
test_loud(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	const char		*head = "[asud: the first ";
	size_t			 len;

	tb_init(&t, &spec, "fake_loud");
	ok(tb_run(&t, &spec, 30) == 0, "loud build completes");
	is_int(t.ok, 1, "loud build ok");
	len = t.out != NULL ? strlen(t.out) : 0;
	ok(t.out != NULL && strncmp(t.out, head, strlen(head)) == 0,
	    "cut stdout says so at its start");
	ok(len > 4 * 1024 * 1024 && len < 4 * 1024 * 1024 + 100,
	    "stdout capped at 4 MiB");
	ok(len > 40 && strcmp(t.out + len - 37, "tail-marker\n"
	    "Calculating checksums...\n") == 0, "stdout keeps the tail");
	ok(evbuffer_get_length(t.log) > 10000000, "log got every byte");
	tb_free(&t);
}

/* The deadline covers the whole build and kills make. */
static void
test_timeout(void)
{
	struct tb		t;
	struct build_spec	spec;

	tb_init(&t, &spec, "fake_slow");
	spec.timeout = 2;
	ok(tb_run(&t, &spec, 20) == 0, "slow build completes");
	is_str(t.error, "Build timed out after 2 seconds", "timeout message");
	is_int(t.timed_out, 1, "timed_out set");
	is_str(tb_phases(&t), "0123", "timed out in make image");
	tb_free(&t);
}

/* build_cancel before the start, while make runs, from the log callback. */
static void
test_cancel(void)
{
	struct tb		 t;
	struct build_spec	 spec;

	tb_init(&t, &spec, "fake_ok");
	tb_start(&t, &spec);
	build_cancel(t.build);
	t.build = NULL;
	tutil_spin(0.5);
	is_int(t.nphases + t.ndone, 0, "cancel before start: no callback");
	tb_free(&t);

	tb_init(&t, &spec, "fake_slow");
	tb_start(&t, &spec);
	tutil_wait(tb_in_image, &t, 20);
	tutil_spin(0.3);
	build_cancel(t.build);
	t.build = NULL;
	tutil_spin(0.5);
	is_int(t.ndone, 0, "cancel while make runs: no callback");
	tb_free(&t);

	tb_init(&t, &spec, "fake_ok");
	t.cancel_in_log = 1;
	tb_start(&t, &spec);
	tutil_spin(1.0);
	is_int(t.ndone, 0, "cancel from the log callback: no callback");
	is_str(tb_phases(&t), "01", "cancelled during make info");
	tb_free(&t);
}

/* Copies one file of the fake IB into dir. */
static void
tb_copy(const char *dir, const char *name)
{
	char	*from, *to, *buf;
	size_t	 len;

	xasprintf(&from, "%s/%s", TB_FAKEIB, name);
	xasprintf(&to, "%s/%s", dir, name);
	if (fs_read_file(from, 1 << 20, &buf, &len) == 0) {
		if (fs_write_file(to, buf, len, 0644) == -1)
			printf("# cannot write %s\n", to);
		free(buf);
	} else
		printf("# cannot read %s\n", from);
	free(from);
	free(to);
}

/* A private copy of the fake IB: opkg's files, or apk's `repositories`. */
static char *
tb_ib_copy(const char *name, int apk)
{
	const char	*apk_file = "https://downloads.openwrt.org/snapshots/"
			    "packages/mips_24kc/base/packages.adb\n";
	char		*dir, *keys, *path;

	xasprintf(&dir, "%s/%s", tb_top, name);
	xasprintf(&keys, "%s/keys", dir);
	fs_mkdirs(keys, 0755);
	tb_copy(dir, "Makefile");
	tb_copy(dir, "info.txt");
	tb_copy(dir, "manifest.txt");
	tb_copy(dir, "keys/682970064b87a917");
	if (apk) {
		xasprintf(&path, "%s/repositories", dir);
		fs_write_file(path, apk_file, strlen(apk_file), 0644);
		free(path);
	} else
		tb_copy(dir, "repositories.conf");
	free(keys);
	return (dir);
}

/* The state of an IB: every file with its mode and checksum. */
static char *
tb_ib_state(const char *ib)
{
	return (tutil_tree_state(ib, -1));
}

/* tb_init for a build on ib with its own repositories. */
static void
tb_init_repos(struct tb *t, struct build_spec *spec, const char *profile,
    const char *ib, struct strv *names, struct strv *urls)
{
	tb_init(t, spec, profile);
	spec->ib_dir = ib;
	spec->repo_names = names;
	spec->repo_urls = urls;
}

/* Whether the text between "== repositories" and "== end" holds s. */
static int
tb_saw(const struct tb *t, const char *s)
{
	const char	*from, *to;

	if (t->out == NULL || (from = strstr(t->out, "== repositories")) ==
	    NULL || (to = strstr(from, "== end")) == NULL)
		return (0);
	from = strstr(from, s);
	return (from != NULL && from < to);
}

/* A build with repositories and keys sees them; the IB is as before. */
static void
test_repos_build(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	struct strv		 names = STRV_INITIALIZER;
	struct strv		 urls = STRV_INITIALIZER;
	struct strv		 keys = STRV_INITIALIZER;
	char			*ib, *before;

	ib = tb_ib_copy("ib-opkg", 0);
	before = tb_ib_state(ib);
	strv_add(&names, "zcustom");
	strv_add(&urls, "https://feed.example.org/zcustom");
	strv_add(&names, "acustom");
	strv_add(&urls, "https://feed.example.org/acustom");
	strv_add(&keys, TB_KEY);
	strv_add(&keys, TB_PEM);
	tb_init_repos(&t, &spec, "fake_repos", ib, &names, &urls);
	spec.repositories_mode = "append";
	spec.repository_keys = &keys;
	ok(tb_run(&t, &spec, 20) == 0, "build with repositories completes");
	is_int(t.ok, 1, "build with repositories ok");
	ok(tb_saw(&t, "src/gz openwrt_luci https://downloads.openwrt.org/"
	    "releases/23.05.4/packages/mips_24kc/luci\n"), "append kept the "
	    "IB's feeds");
	ok(tb_saw(&t, "option check_signature\nsrc/gz acustom https://feed."
	    "example.org/acustom\nsrc/gz zcustom https://feed.example.org/"
	    "zcustom\n== keys"), "make saw the repositories, sorted");
	ok(tb_saw(&t, "== keys\n682970064b87a917\n" TB_KEY_FP
	    "\ncustom-1.pem\n== end"), "make saw the keys");
	tutil_tree_is(ib, -1, before, "IB identical after a good build");
	tb_free(&t);

	/* Replace mode on a failing build. */
	tb_init_repos(&t, &spec, "fake_fail", ib, &names, &urls);
	spec.repository_keys = &keys;
	ok(tb_run(&t, &spec, 20) == 0, "failing build with repositories "
	    "completes");
	is_str(t.error, "Error while building firmware. See stdout/stderr",
	    "it failed in make image");
	tutil_tree_is(ib, -1, before, "IB identical after a failed build");
	tb_free(&t);

	/* Names checked again before anything is written. */
	strv_add(&names, "evil\nsrc/gz pwned");
	strv_add(&urls, "https://feed.example.org/evil");
	tb_init_repos(&t, &spec, "fake_repos", ib, &names, &urls);
	ok(tb_run(&t, &spec, 20) == 0, "injection attempt completes");
	is_str(t.error, "Invalid repository name", "injection refused");
	is_str(tb_phases(&t), "0", "refused in setup");
	tutil_tree_is(ib, -1, before, "IB untouched by the refused build");
	tb_free(&t);

	free(before);
	free(ib);
	strv_clear(&names);
	strv_clear(&urls);
	strv_clear(&keys);
}

/* Timeouts and cancels put the IB back too. */
static void
test_repos_abort(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	struct strv		 names = STRV_INITIALIZER;
	struct strv		 urls = STRV_INITIALIZER;
	char			*ib, *before, *conf;
	char			*buf = NULL;
	size_t			 len;

	ib = tb_ib_copy("ib-abort", 0);
	before = tb_ib_state(ib);
	strv_add(&names, "custom");
	strv_add(&urls, "https://feed.example.org/custom");
	tb_init_repos(&t, &spec, "fake_slow", ib, &names, &urls);
	spec.timeout = 2;
	ok(tb_run(&t, &spec, 20) == 0, "slow build with repositories ends");
	is_int(t.timed_out, 1, "it timed out");
	tutil_tree_is(ib, -1, before, "IB identical after a timeout");
	tb_free(&t);

	tb_init_repos(&t, &spec, "fake_slow", ib, &names, &urls);
	tb_start(&t, &spec);
	tutil_wait(tb_in_image, &t, 20);
	xasprintf(&conf, "%s/repositories.conf", ib);
	if (fs_read_file(conf, 1 << 20, &buf, &len) == -1)
		buf = NULL;
	ok(buf != NULL && strstr(buf, "src/gz custom https://feed."
	    "example.org/custom\n") != NULL, "written while make runs");
	free(buf);
	free(conf);
	build_cancel(t.build);
	t.build = NULL;
	tutil_tree_is(ib, -1, before, "IB identical right after a cancel");
	tutil_spin(0.3);
	tb_free(&t);
	free(before);
	free(ib);
	strv_clear(&names);
	strv_clear(&urls);
}

/* A crash left the build's files: the next build restores them first. */
static void
test_repos_crash(void)
{
	struct tb		 t;
	struct build_spec	 spec;
	struct repos_spec	 rs;
	struct strv		 names = STRV_INITIALIZER;
	struct strv		 urls = STRV_INITIALIZER;
	struct strv		 keys = STRV_INITIALIZER;
	char			*ib, *before, *after, *cause = NULL;

	ib = tb_ib_copy("ib-crash", 1);
	before = tb_ib_state(ib);
	strv_add(&names, "crashed");
	strv_add(&urls, "https://feed.example.org/crashed/packages.adb");
	strv_add(&keys, TB_KEY);
	memset(&rs, 0, sizeof rs);
	rs.names = &names;
	rs.urls = &urls;
	rs.keys = &keys;
	ok(repos_inject(ib, &rs, &cause) == 0, "a crashed build's files");
	free(cause);
	after = tb_ib_state(ib);
	ok(strcmp(after, before) != 0, "the IB is changed");
	free(after);

	tb_init_repos(&t, &spec, "fake_repos", ib, NULL, NULL);
	ok(tb_run(&t, &spec, 20) == 0 && t.ok, "next build completes");
	ok(tb_saw(&t, "== repositories\nhttps://downloads.openwrt.org/"
	    "snapshots/packages/mips_24kc/base/packages.adb\n== keys\n"
	    "682970064b87a917\n== end"), "it saw the pristine IB");
	tutil_tree_is(ib, -1, before,
	    "IB identical after the crash and a build");
	tb_free(&t);

	/* apk flavour, replace mode, on the restored IB. */
	strv_clear(&keys);
	tb_init_repos(&t, &spec, "fake_repos", ib, &names, &urls);
	spec.repositories_mode = "replace";
	spec.repository_keys = &keys;
	ok(tb_run(&t, &spec, 20) == 0 && t.ok, "apk build completes");
	ok(tb_saw(&t, "== repositories\nhttps://feed.example.org/crashed/"
	    "packages.adb\n== keys"), "apk replace: only the build's URL");
	tutil_tree_is(ib, -1, before, "apk IB identical after the build");
	tb_free(&t);
	free(before);
	free(ib);
	strv_clear(&names);
	strv_clear(&urls);
}

/* Runs every case on one event loop, as the daemon would. */
int
main(void)
{
	struct event_base	*base;

	signal(SIGPIPE, SIG_IGN);
	tb_top = tutil_scratch("build-test");
	base = tutil_loop_init(50000, job_sigchld);
	job_init(base);
	build_init(base);

	is_str(build_phase_name(BUILD_PHASE_SETUP), "container_setup",
	    "phase name setup");
	is_str(build_phase_name(BUILD_PHASE_REVISION), "validate_revision",
	    "phase name revision");
	is_str(build_phase_name(BUILD_PHASE_MANIFEST), "validate_manifest",
	    "phase name manifest");
	is_str(build_phase_name(BUILD_PHASE_IMAGE), "building_image",
	    "phase name image");

	test_success();
	test_defaults_diff();
	test_validation_errors();
	test_image_errors();
	test_start_errors();
	test_loud();
	test_timeout();
	test_cancel();
	test_repos_build();
	test_repos_abort();
	test_repos_crash();

	tutil_loop_free();
	fs_rmtree(tb_top);
	free(tb_top);
	return (done_testing());
}

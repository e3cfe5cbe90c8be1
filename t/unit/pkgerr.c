/*
 * pkgerr.c: the "Impossible package selection" message for every opkg and
 * apk error form, the reference server's combined corpus, and hostile
 * output.
 */
#include <stdlib.h>

#include "lib/fs.h"
#include "imagebuilder/pkgerr.h"
#include "t/unit/tap.h"

#define PKGERR_CORPUS	ASUD_SRCDIR "/t/data/unit/pkgerr-corpus.txt"

static char	*pkgerr_test(const char *);

/* Runs the parser on an exact-size heap copy, so ASan sees any overread. */
static char *
pkgerr_test(const char *text)
{
	size_t	 len = strlen(text);
	char	*copy, *msg;

	copy = malloc(len == 0 ? 1 : len);
	memcpy(copy, text, len);
	msg = pkgerr_message(copy, len);
	free(copy);
	return (msg);
}

/* Checks one case. */
#define PKGERR(text, want, name) do {					\
	char *tmp_m = pkgerr_test(text);				\
	is_str(tmp_m, (want), (name));					\
	free(tmp_m);							\
} while (0)

#define IPS	"Impossible package selection"

/* The forms of reference/imagebuilder.md section 1.4, one by one. */
static void
pkgerr_test_forms(void)
{
	PKGERR("hello world", IPS, "nothing recognised");
	PKGERR("", IPS, "empty text");
	PKGERR(" * opkg_install_cmd: Cannot install package OPKG-MISSING.",
	    IPS ": missing (OPKG-MISSING)", "the reference's one-line case");
	PKGERR("Collected errors:\n"
	    " * opkg_install_cmd: Cannot install package foo.\n"
	    "make[2]: *** [Makefile:211: package_install] Error 255\n"
	    "make[1]: *** [Makefile:176: _call_manifest] Error 2\n"
	    "make: *** [Makefile:327: manifest] Error 2\n",
	    IPS ": missing (foo)", "opkg missing with the make chain");
	PKGERR(" * opkg_install_cmd: Cannot install package zzz.\r\n"
	    " * opkg_install_cmd: Cannot install package aaa.\r\n"
	    " * opkg_install_cmd: Cannot install package zzz.\r\n",
	    IPS ": missing (aaa, zzz)", "opkg: sorted, unique, CRLF");
	PKGERR(" * satisfy_dependencies_for: Cannot satisfy the following "
	    "dependencies for foo:\n"
	    " * \tlibbar\n"
	    " * opkg_install_cmd: Cannot install package foo.\n",
	    IPS ": missing (foo)",
	    "opkg unsatisfied dependency names the package, as the reference");
	PKGERR(" * check_conflicts_for: The following packages conflict with "
	    "A:\n"
	    " * check_conflicts_for: \tB *\n"
	    " * opkg_install_cmd: Cannot install package A.\n",
	    IPS ": conflicts (A, B)", "opkg conflict; A is not missing");
	PKGERR(" * check_conflicts_for: The following packages conflict with "
	    "A:\n"
	    " * check_conflicts_for: \tB * check_conflicts_for: \tC * \n",
	    IPS ": conflicts (A, B, C)", "opkg conflicts on one line");
	PKGERR(" * check_data_file_clashes: Package A wants to install file "
	    "/x\n"
	    "\tBut that file is already provided by package  * B\n"
	    " * opkg_install_cmd: Cannot install package A.\n"
	    " * opkg_install_cmd: Cannot install package other.\n",
	    IPS ": missing (other) conflicts (A, B)", "opkg file clash");
	PKGERR("ERROR: unable to select packages:\n"
	    "  foo (no such package):\n"
	    "    required by: world[foo]\n"
	    "  bar (no such package):\n"
	    "    required by: world[bar]\n",
	    IPS ": missing (bar, foo)", "apk missing");
	PKGERR("ERROR: unable to select packages:\n"
	    "  A-1.0-r1:\n"
	    "    conflicts: B-1.0-r1[x=1.0-r1]\n"
	    "    satisfies: world[A]\n",
	    IPS ": conflicts (A, B)", "apk conflict, versions cut");
	PKGERR("ERROR: A-1.0-r1: trying to overwrite etc/x owned by "
	    "B-1.0-r1.\n",
	    IPS ": conflicts (A, B)", "apk file overwrite");
	PKGERR("ERROR: unable to select packages:\n"
	    "  dnsmasq-full-2.90-r3:\n"
	    "    masked in: @other\n"
	    "    conflicts: dnsmasq-2.90-r3[dnsmasq]\n"
	    "               odhcpd-2024.05.08~76a7f3e1-r1[odhcpd]\n"
	    "    satisfies: world[dnsmasq-full]\n"
	    "               luci[dnsmasq-full]\n"
	    "  foo (no such package):\n"
	    "    required by: world[foo]\n",
	    IPS ": missing (foo) conflicts (dnsmasq, dnsmasq-full, odhcpd)",
	    "apk: every conflicts item, another label first");
	PKGERR("ERROR: unable to select packages:\n"
	    "  libudev (virtual):\n"
	    "    note: please select one of the 'provided by' packages "
	    "explicitly\n"
	    "    provided by: libudev-zero\n"
	    "    required by: usbutils-017-r1[libudev]\n",
	    IPS, "apk virtual package: nothing named");
	PKGERR("ERROR: unable to select packages:\n"
	    "  A-1.0-r1:\n"
	    "    satisfies: world[A]\n"
	    "  B-2.0-r1:\n"
	    "    satisfies: world[B]\n",
	    IPS, "apk group without conflicts names nothing");
	PKGERR("  libubox20240329-2024.03.29~eb9bcb64-r1:\n"
	    "    conflicts: foo-r1[x] APK-CONFLICT-2[y] kmod-nf-6.6.73-r1[z]\n",
	    IPS ": conflicts (APK-CONFLICT-2, foo-r1, kmod-nf, "
	    "libubox20240329)", "version cutting keeps names intact");
	PKGERR("Current Revision: \"r1\"\nPackages: a b\n", IPS,
	    "unrelated output");
}

/* The reference's docstring corpus gives one known message. */
static void
pkgerr_test_corpus(void)
{
	char	*text = NULL, *msg;
	size_t	 len = 0;

	ok(fs_read_file(PKGERR_CORPUS, 65536, &text, &len) == 0,
	    "corpus fixture read");
	msg = pkgerr_message(text, len);
	is_str(msg, IPS ": missing (APK-MISSING, OPKG-MISSING) conflicts "
	    "(APK-CONFLICT-1, APK-CONFLICT-2, APK-CONFLICT-3, APK-CONFLICT-4, "
	    "OPKG-CONFLICT-1, OPKG-CONFLICT-2, OPKG-CONFLICT-3, "
	    "OPKG-CONFLICT-4)", "the reference corpus message");
	free(msg);
	free(text);
}

/* Names are untrusted: unsafe, long or too many are not repeated. */
static void
pkgerr_test_hostile(void)
{
	char	*text, *msg, *p, name[300];
	size_t	 i, n;

	PKGERR(" * opkg_install_cmd: Cannot install package a;b.\n"
	    " * opkg_install_cmd: Cannot install package <script>.\n"
	    " * opkg_install_cmd: Cannot install package $(x).\n"
	    " * opkg_install_cmd: Cannot install package \x1b[31mred.\n"
	    " * opkg_install_cmd: Cannot install package ok.\n",
	    IPS ": missing (ok)", "unsafe names are dropped");
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	text = NULL;
	if (asprintf(&text, "Cannot install package %s.\n"
	    "Cannot install package short.\n", name) == -1)
		text = NULL;
	PKGERR(text != NULL ? text : "", IPS ": missing (short)",
	    "an overlong name is dropped");
	free(text);

	text = malloc(200 * 64);
	p = text;
	for (i = 0; i < 200; i++)
		p += sprintf(p, "Cannot install package p%03zu.\n", i);
	msg = pkgerr_test(text);
	for (n = 0, p = msg; (p = strstr(p, ", ")) != NULL; p++)
		n++;
	is_int(n + 1, 64, "at most 64 names are listed");
	ok(strstr(msg, "p000") != NULL && strstr(msg, "p064") == NULL,
	    "the first names are kept");
	free(msg);
	free(text);

	msg = pkgerr_message("x\0Cannot install package hidden.\n", 8);
	is_str(msg, IPS, "nothing is read past len");
	free(msg);
	msg = pkgerr_message(NULL, 0);
	is_str(msg, IPS, "NULL text");
	free(msg);
	PKGERR("Cannot install package nodot\n", IPS,
	    "a name must end with a dot");
	PKGERR("  (no such package)\n", IPS, "no name before the marker");
	PKGERR("ERROR: : trying to overwrite x owned by .\n", IPS,
	    "empty overwrite names");
	PKGERR("check_data_file_clashes: Package A wants to\n"
	    "is already provided by package  * \n"
	    " * check_conflicts_for: \n", IPS ": conflicts (A)",
	    "empty names are skipped");
}

/* Runs every check; the exit code says whether all passed. */
int
main(void)
{
	pkgerr_test_forms();
	pkgerr_test_corpus();
	pkgerr_test_hostile();
	return (done_testing());
}

/*
 * pkgchanges.c: libFuzzer target for the package-changes table parser, and
 * for the rewrites it makes of a build's package list.
 *
 * Seeds: conf/package-changes.conf
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "imagebuilder/pkgchanges.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Applies the rules to a typical list, as a build would. */
static void
fuzz_apply(const struct pkgchanges *pc, const char *version)
{
	struct strv	pkgs = STRV_INITIALIZER;

	strv_split(&pkgs, "base-files busybox luci luci-i18n-base-zh-cn "
	    "firewall kmod-nft-nat6 libustream-wolfssl -ppp", " ");
	pkgchanges_apply(pc, version, "ath79/generic", "tplink_archer-c7-v2",
	    &pkgs);
	strv_clear(&pkgs);
}

/* One input: a package-changes file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkgchanges		*pc;
	const struct pkgchanges_client	*c;
	char				*cause = NULL;
	size_t				 i;

	if ((pc = pkgchanges_parse((const char *)data, size, "fuzz",
	    &cause)) == NULL) {
		if (cause == NULL)
			abort();
		free(cause);
		return (0);
	}
	fuzz_apply(pc, "23.05.4");
	fuzz_apply(pc, "SNAPSHOT");
	fuzz_apply(pc, "");
	for (i = 0; i < pkgchanges_client_count(pc); i++) {
		if ((c = pkgchanges_client_at(pc, i)) == NULL ||
		    c->source == NULL)
			abort();
		(void)pkgchanges_client_applies(c, 20000);
	}
	pkgchanges_free(pc);
	return (0);
}

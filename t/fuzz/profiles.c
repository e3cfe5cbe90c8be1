/*
 * profiles.c: libFuzzer target for upstream JSON documents: the body is
 * parsed as asud parses what the downloads server sends, read as a
 * profiles.json (profiles and their supported_devices become a catalog
 * target whose names are then resolved), a .targets.json and a
 * .versions.json (with the default branches), and written back as asud
 * echoes it.
 *
 * Seeds: t/data/asu-1.2.3-testtarget-testsubtarget-profiles.json
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/jsonw.h"
#include "server/meta.h"
#include "server/upstream.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct asud	fuzz_asud;
static struct conf	fuzz_conf;

/* The default configuration and an empty catalog, for meta_versions. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	conf_defaults(&fuzz_conf);
	fuzz_asud.conf = &fuzz_conf;
	fuzz_asud.catalog = catalog_new();
	return (0);
}

/* Resolves every profile id (one with a "," cannot be asked for). */
static void
fuzz_resolve(const struct catalog_target *t)
{
	const char	*id;
	size_t		 i;

	for (i = 0; i < catalog_nprofiles(t); i++) {
		if ((id = catalog_profile_id(t, i)) == NULL)
			abort();
		if (strchr(id, ',') == NULL && catalog_resolve(t, id) == NULL)
			abort();
	}
	(void)catalog_resolve(t, "generic");
	(void)catalog_resolve(t, "tplink,archer-c7-v2");
	(void)catalog_resolve(t, "");
	(void)catalog_target_arch(t);
}

/* One input: an upstream document body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upstream_doc		 doc;
	const struct catalog_target	*t;
	struct strv			 v = STRV_INITIALIZER;
	struct strv			 l = STRV_INITIALIZER;
	yajl_gen			 g;
	char				*out;
	size_t				 len;

	memset(&doc, 0, sizeof doc);
	doc.status = 200;
	doc.body = xstrndup((const char *)data, size);
	doc.len = strlen(doc.body);
	if ((t = meta_profiles(&doc, "23.05.4", "ath79/generic")) != NULL)
		fuzz_resolve(t);
	(void)meta_target_arch(&doc, "ath79/generic");
	meta_versions(&fuzz_asud, &doc, &v, &l);
	strv_clear(&v);
	strv_clear(&l);
	if (doc.json != NULL) {
		g = jsonw_new();
		jsonw_tree(g, doc.json);
		out = jsonw_finish(g, &len);
		free(out);
		yajl_tree_free(doc.json);
	}
	if (doc.view != NULL)
		doc.view_free(doc.view);
	free(doc.body);
	return (0);
}

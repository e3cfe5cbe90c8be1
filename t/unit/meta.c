/*
 * meta.c: unit tests of the views of upstream documents on hostile input:
 * a .versions.json with a huge versions_list (every build request reads
 * it), and profiles.json files too deep or too big for the catalog.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/strv.h"
#include "lib/xmalloc.h"
#include "imagebuilder/catalog.h"
#include "server/asud.h"
#include "server/conf.h"
#include "server/meta.h"
#include "server/upstream.h"
#include "t/unit/tap.h"

static void	meta_test_doc(struct upstream_doc *, char *);
static void	meta_test_doc_free(struct upstream_doc *);
static void	meta_test_versions(void);
static void	meta_test_profiles(void);

/* A good document holding body (taken). */
static void
meta_test_doc(struct upstream_doc *d, char *body)
{
	memset(d, 0, sizeof *d);
	d->status = 200;
	d->body = body;
	d->len = strlen(body);
}

/* Frees what a document holds. */
static void
meta_test_doc_free(struct upstream_doc *d)
{
	if (d->view != NULL)
		d->view_free(d->view);
	if (d->json != NULL)
		yajl_tree_free(d->json);
	free(d->body);
}

/*
 * Each entry of versions_list was checked against every one taken, on
 * every build request: 20000 entries (290 kB) cost 1.7 seconds of the
 * event loop per request. Only the first 1024 are read now.
 */
static void
meta_test_versions(void)
{
	struct asud		 a;
	struct conf		 c;
	struct upstream_doc	 d;
	struct strv		 v = STRV_INITIALIZER, l = STRV_INITIALIZER;
	char			*body, *p;
	size_t			 i;

	memset(&a, 0, sizeof a);
	conf_defaults(&c);
	a.conf = &c;
	a.catalog = catalog_new();
	body = xmalloc(32 * 20000 + 128);
	p = body + sprintf(body, "{\"stable_version\":\"23.05.4\","
	    "\"versions_list\":[");
	p += sprintf(p, "\"23.05.4\"");
	for (i = 1; i < 20000; i++)
		p += sprintf(p, ",\"23.05.%zu\"", i + 100);
	strcpy(p, "]}");
	meta_test_doc(&d, body);
	meta_versions(&a, &d, &v, &l);
	ok(v.n >= 1024 && v.n < 1100, "a versions_list of 20000 is read up "
	    "to 1024 entries");
	ok(strv_find(&v, "23.05.1123") != -1, "the 1024th is listed");
	ok(strv_find(&v, "23.05.1124") == -1, "the 1025th is not");
	is_str(l.n > 0 ? l.v[0] : NULL, "23.05.4", "latest still read");
	ok(meta_has_version(&a, &d, "23.05.4"), "stable_version is known");
	strv_clear(&v);
	strv_clear(&l);
	meta_test_doc_free(&d);
	catalog_free(a.catalog);
	conf_free(&c);
}

/* profiles.json too deep to parse, and too big for the catalog. */
static void
meta_test_profiles(void)
{
	struct upstream_doc		 d;
	const struct catalog_target	*t;
	char				*body, *p;
	size_t				 i, j, k = 1000000;

	body = xmalloc(300000 + 64);
	p = body + sprintf(body, "{\"profiles\":{\"a\":{},\"b\":");
	for (i = 0; i < 100000; i++)
		*p++ = '[';
	for (i = 0; i < 100000; i++)
		*p++ = ']';
	strcpy(p, "}}");
	meta_test_doc(&d, body);
	ok(meta_profiles(&d, "1", "a/b") == NULL,
	    "a profiles.json nested 100000 deep is refused");
	meta_test_doc_free(&d);

	/* 800 profiles of 250 devices in reverse order: was 50 s. */
	body = xmalloc(800 * 250 * 12 + 800 * 40 + 64);
	p = body + sprintf(body, "{\"profiles\":{");
	for (i = 800; i > 0; i--) {
		p += sprintf(p, "%s\"p%04zu\":{\"supported_devices\":[",
		    i < 800 ? "," : "", i);
		for (j = 0; j < 250; j++)
			p += sprintf(p, "%s\"d%07zu\"", j > 0 ? "," : "", --k);
		p += sprintf(p, "]}");
	}
	strcpy(p, "}}");
	meta_test_doc(&d, body);
	t = meta_profiles(&d, "1", "a/b");
	ok(t != NULL && catalog_nprofiles(t) == 800,
	    "800 profiles of 250 devices are read");
	is_str(catalog_resolve(t, "d0999999"), "p0800", "the first alias");
	is_str(catalog_resolve(t, "d0991808"), "p0768", "the 8192nd alias");
	ok(catalog_resolve(t, "d0991807") == NULL, "no more aliases");
	meta_test_doc_free(&d);
}

/* Runs the cases. */
int
main(void)
{
	meta_test_versions();
	meta_test_profiles();
	return (done_testing());
}

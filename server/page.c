/*
 * page.c: the web page, read from disk for each request.
 */
#include <stdlib.h>

#include "lib/fs.h"
#include "lib/xmalloc.h"
#include "server/http.h"
#include "server/page.h"

/* The largest page served. */
#define PAGE_MAX	(1024 * 1024)

/* The web page: from where it was installed, or the source tree. */
void
page_get(struct asud *a, struct evhttp_request *req, const char *arg)
{
	static const char	*dirs[] = { ASUD_PKGDATADIR "/web",
				    ASUD_SRCDIR "/web", NULL };
	char			*path, *buf = NULL;
	size_t			 len = 0;
	int			 i, rc = -1;

	for (i = 0; rc == -1 && dirs[i] != NULL; i++) {
		xasprintf(&path, "%s/index.html", dirs[i]);
		rc = fs_read_file(path, PAGE_MAX, &buf, &len);
		free(path);
	}
	if (rc == -1) {
		http_reply_detail(req, 404, "Not Found");
		return;
	}
	http_reply_data(req, 200, "text/html; charset=utf-8", buf, len);
	free(buf);
}

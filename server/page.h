/*
 * page.h: the web page, web/index.html, served at / and /index.html.
 */
#ifndef ASUD_PAGE_H
#define ASUD_PAGE_H

struct asud;
struct evhttp_request;

/*
 * GET and HEAD of the page, from where it was installed or else from the
 * source tree; 404 when neither has it (arg: unused, as every route's
 * handler has one).
 */
void	page_get(struct asud *, struct evhttp_request *, const char *arg);

#endif

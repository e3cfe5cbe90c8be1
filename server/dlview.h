/*
 * dlview.h: GET /api/v1/stats/downloads?n=: the most downloaded images
 * (n from 1 to 1000, 10 by default; anything else is a 400).
 */
#ifndef ASUD_DLVIEW_H
#define ASUD_DLVIEW_H

struct asud;
struct evhttp_request;

/* GET /api/v1/stats/downloads?n=. */
void	dlview_get(struct asud *, struct evhttp_request *, const char *);

#endif

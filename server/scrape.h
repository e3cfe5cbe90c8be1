/*
 * scrape.h: GET /metrics. It reads the gauges and totals where the
 * modules keep them and answers with metrics.c's exposition.
 */
#ifndef ASUD_SCRAPE_H
#define ASUD_SCRAPE_H

struct asud;
struct evhttp_request;
struct metrics_readings;

/* Fills r from the daemon's modules (those not started read as 0). */
void	scrape_read(struct asud *a, struct metrics_readings *r);
/* GET /metrics (arg: unused, as every route's handler has one). */
void	scrape_get(struct asud *a, struct evhttp_request *req,
	    const char *arg);

#endif

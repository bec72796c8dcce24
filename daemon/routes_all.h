/*
 * routes_all.h - every route handler, grouped by the file that holds it.
 */
#ifndef ALLIANCE_ROUTES_ALL_H
#define ALLIANCE_ROUTES_ALL_H

struct request;

/* routes_health.c */
void route_healthz(struct request *r);
void route_readyz(struct request *r);
void route_metrics(struct request *r);

/* routes_match.c */
void route_match(struct request *r);

#endif

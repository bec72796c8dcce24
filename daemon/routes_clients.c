/*
 * routes_clients.c - placeholder until the socket API lands: every handler answers 501.
 */
#include "router.h"
#include "routes_all.h"

void
route_client_upsert(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_client_get(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

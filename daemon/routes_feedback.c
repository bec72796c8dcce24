/*
 * routes_feedback.c - placeholder until the socket API lands: every handler answers 501.
 */
#include "router.h"
#include "routes_all.h"

void
route_feedback(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_alliance_get(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

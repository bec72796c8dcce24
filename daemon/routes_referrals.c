/*
 * routes_referrals.c - placeholder until the socket API lands: every handler answers 501.
 */
#include "router.h"
#include "routes_all.h"

void
route_referrals(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

/*
 * routes_reports.c - placeholder until the socket API lands: every handler answers 501.
 */
#include "router.h"
#include "routes_all.h"

void
route_report_alliance(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_report_at_risk(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

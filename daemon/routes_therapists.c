/*
 * routes_therapists.c - placeholder until the socket API lands: every handler answers 501.
 */
#include "router.h"
#include "routes_all.h"

void
route_therapist_create(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_therapist_list(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_therapist_get(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_therapist_replace(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_therapist_update(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_therapist_retire(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_colleagues_put(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_colleagues_get(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

/*
 * routes_episodes.c - placeholder until the socket API lands: every handler answers 501.
 */
#include "router.h"
#include "routes_all.h"

void
route_episode_start(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_episode_get(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_episode_end(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_attendance(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

/*
 * routes_match.c - placeholder until the socket API lands.
 */
#include "problem.h"
#include "router.h"
#include "routes_all.h"

void
route_client_matches(struct request *r)
{
	request_problem(r, 501, "not implemented yet", NULL);
}

void
route_match(struct request *r)
{
	if (!json_is_object(r->body)) {
		json_t *errs = json_array();

		problem_add_error(errs, "", "an intake object was expected");
		request_problem(r, 422, "the body must be a JSON object", errs);
		return;
	}
	request_problem(r, 501, "matching is not wired to the engine yet", NULL);
}

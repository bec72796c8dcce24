/*
 * routes_match.c - POST /v1/match, the stateless match.
 *
 * The walking skeleton validates the body's envelope only; the engine is
 * wired in with the socket API.
 */
#include "problem.h"
#include "router.h"
#include "routes_all.h"

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

/*
 * routes.c - THE route table: every route of the API, its scope and its
 * handler, in one place.  tests/scripts/check-openapi.sh reads this table
 * and fails when daemon/openapi.yaml lacks a route or disagrees on a scope.
 */
#include "router.h"
#include "routes_all.h"

const struct route route_table[] = {
	{ "GET",  "/healthz",   SCOPE_NONE, 0, route_healthz },
	{ "GET",  "/readyz",    SCOPE_NONE, 0, route_readyz },
	{ "GET",  "/metrics",   SCOPE_NONE, 0, route_metrics },
	{ "POST", "/v1/match",  SCOPE_INTAKE, ROUTE_JSON_BODY, route_match },
};

const int route_count = (int)(sizeof(route_table) / sizeof(route_table[0]));

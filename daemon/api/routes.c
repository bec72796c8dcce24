/*
 * routes.c - THE list of route tables.  Each api/routes_*.c declares its
 * routes beside their handlers (path, method, scope, flags) in a table
 * closed by ROUTE_END; a new route is one entry there, a new resource file
 * one line here.  tests/scripts/check-openapi.sh reads the entries and fails
 * when daemon/api/openapi.yaml lacks a route or disagrees on a scope.
 * Scopes (README "API"): intake (clients, matches, episodes, attendance),
 * feedback, admin (everything).
 */
#include "api/api.h"
#include "api/routes.h"
#include "store/db.h"

const struct route *const api_route_tables[] = {
	routes_health,
	routes_therapists,
	routes_clients,
	routes_match,
	routes_episodes,
	routes_feedback,
	routes_referrals,
	routes_reports,
	routes_tokens,
	routes_audit,
	routes_events,
	routes_webhooks,
	NULL,
};

bool
api_available(void *app)
{
	return db_pool_up(((struct api *)app)->db);
}

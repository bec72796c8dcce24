/*
 * routes.c - THE route table: every route of the API, its scope and its
 * handler, in one place.  tests/scripts/check-openapi.sh reads this table
 * and fails when daemon/openapi.yaml lacks a route or disagrees on a scope.
 * Scopes follow DESIGN.md: intake (clients, matches, episodes, attendance),
 * feedback, admin (everything); authentication enforces them.
 */
#include "router.h"
#include "routes_all.h"

#define JSON	ROUTE_JSON_BODY
#define OPTJSON	ROUTE_OPTIONAL_BODY
#define DB	ROUTE_NEEDS_DB
#define ARRAY	ROUTE_ARRAY_BODY

const struct route route_table[] = {
	{ "GET",    "/healthz",                        SCOPE_NONE,     0,         route_healthz },
	{ "GET",    "/readyz",                         SCOPE_NONE,     0,         route_readyz },
	{ "GET",    "/metrics",                        SCOPE_NONE,     0,         route_metrics },

	{ "POST",   "/v1/therapists",                  SCOPE_ADMIN,    JSON | DB, route_therapist_create },
	{ "GET",    "/v1/therapists",                  SCOPE_ADMIN,    DB,        route_therapist_list },
	{ "GET",    "/v1/therapists/{id}",             SCOPE_ADMIN,    DB,        route_therapist_get },
	{ "PUT",    "/v1/therapists/{id}",             SCOPE_ADMIN,    JSON | DB, route_therapist_replace },
	{ "PATCH",  "/v1/therapists/{id}",             SCOPE_ADMIN,    JSON | DB, route_therapist_update },
	{ "DELETE", "/v1/therapists/{id}",             SCOPE_ADMIN,    DB,        route_therapist_retire },
	{ "PUT",    "/v1/therapists/{id}/colleagues",  SCOPE_ADMIN,    JSON | ARRAY | DB, route_colleagues_put },
	{ "GET",    "/v1/therapists/{id}/colleagues",  SCOPE_ADMIN,    DB,        route_colleagues_get },

	{ "POST",   "/v1/clients",                     SCOPE_INTAKE,   JSON | DB, route_client_upsert },
	{ "GET",    "/v1/clients/{id}",                SCOPE_INTAKE,   DB,        route_client_get },
	{ "GET",    "/v1/clients/{id}/matches",        SCOPE_INTAKE,   DB,        route_client_matches },
	{ "POST",   "/v1/match",                       SCOPE_INTAKE,   JSON,      route_match },

	{ "POST",   "/v1/episodes",                    SCOPE_INTAKE,   JSON | DB, route_episode_start },
	{ "GET",    "/v1/episodes/{id}",               SCOPE_INTAKE,   DB,        route_episode_get },
	{ "POST",   "/v1/episodes/{id}/end",           SCOPE_INTAKE,   JSON | DB, route_episode_end },
	{ "POST",   "/v1/episodes/{id}/attendance",    SCOPE_INTAKE,   JSON | DB, route_attendance },
	{ "POST",   "/v1/episodes/{id}/feedback",      SCOPE_FEEDBACK, JSON | DB, route_feedback },
	{ "GET",    "/v1/episodes/{id}/alliance",      SCOPE_FEEDBACK, DB,        route_alliance_get },
	{ "POST",   "/v1/episodes/{id}/referrals",     SCOPE_INTAKE,   OPTJSON | DB, route_referrals },

	{ "GET",    "/v1/reports/alliance",            SCOPE_ADMIN,    DB,        route_report_alliance },
	{ "GET",    "/v1/reports/at-risk",             SCOPE_ADMIN,    DB,        route_report_at_risk },
};

const int route_count = (int)(sizeof(route_table) / sizeof(route_table[0]));

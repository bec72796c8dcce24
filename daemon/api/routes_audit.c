/*
 * routes_audit.c - GET /v1/reports/audit (admin): the audit trail, oldest
 * first, filtered by client, episode, actor and time, paginated by id
 * (?after= the previous page's next).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/request_db.h"
#include "api/routes.h"

#define ISO(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static json_t *
col(const PGresult *res, int row, int c, bool integer)
{
	if (PQgetisnull(res, row, c))
		return json_null();
	if (integer)
		return json_integer(strtoll(PQgetvalue(res, row, c), NULL, 10));
	return json_string(PQgetvalue(res, row, c));
}

static void
listed_cb(struct request *r, const PGresult *res)
{
	int *limit = r->state;
	int i, n = PQntuples(res);
	json_t *list = json_array();

	for (i = 0; list != NULL && i < n; i++)
		json_array_append_new(list,
		    json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		        col(res, i, 0, true), "at", col(res, i, 1, false), "actor",
		        col(res, i, 2, false), "peer", col(res, i, 3, false), "action",
		        col(res, i, 4, false), "client_id", col(res, i, 5, true), "episode_id",
		        col(res, i, 6, true), "status", col(res, i, 7, false), "request_id",
		        col(res, i, 8, false), "correlation_id", col(res, i, 9, false)));
	request_reply_json(r, 200,
	    json_pack("{s:o, s:o}", "entries", list, "next",
	        n == *limit && n > 0 ? json_string(PQgetvalue(res, n - 1, 0)) : json_null()));
}

/* A positive integer query parameter or NULL; -1 when malformed (answered). */
static int
id_param(struct request *r, const char *name, const char **out)
{
	const char *v = request_query(r, name);
	char *end;

	*out = v;
	if (v == NULL)
		return 0;
	if (v[0] != '\0' && strlen(v) <= 18 && strtoll(v, &end, 10) >= 0 && *end == '\0')
		return 0;
	request_query_problem(r, name, "must be a non-negative integer");
	return -1;
}

static bool
failed_cb(struct request *r, enum db_status st, const PGresult *res)
{
	if (st != DB_SQL_ERROR || strncmp(db_sqlstate(res), "22", 2) != 0)
		return false;
	request_query_problem(r, "since", "must be an RFC 3339 date-time");
	return true;
}

static void
route_audit_report(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    "SELECT id, " ISO("at") ", actor, peer, action, client_id, episode_id, outcome,"
	    " request_id, correlation_id FROM audit_log"
	    " WHERE ($1::bigint IS NULL OR client_id = $1::bigint)"
	    " AND ($2::bigint IS NULL OR episode_id = $2::bigint)"
	    " AND ($3::text IS NULL OR actor = $3 OR actor = 'token:' || $3)"
	    " AND ($4::timestamptz IS NULL OR at >= $4::timestamptz)"
	    " AND id > $5::bigint ORDER BY id LIMIT $6::integer";
	/* clang-format on */
	static const struct request_db_call call = { "audit report", NULL, failed_cb };
	const char *values[6];
	char lim[16];
	int *limit;
	int n;

	if (id_param(r, "client", &values[0]) != 0 || id_param(r, "episode", &values[1]) != 0 ||
	    id_param(r, "after", &values[4]) != 0)
		return;
	if (request_query_int(r, "limit", 100, 1, 1000, &n) != 0)
		return;
	values[2] = request_query(r, "actor");
	values[3] = request_query(r, "since");
	if (values[4] == NULL)
		values[4] = "0";
	snprintf(lim, sizeof(lim), "%d", n);
	values[5] = lim;
	if ((limit = request_state_new(r, sizeof(*limit), free)) == NULL)
		return;
	*limit = n;
	request_db_query(r, &call, sql, 6, values, listed_cb);
}

const struct route routes_audit[] = {
	{ "GET", "/v1/reports/audit", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_audit_report },
	ROUTE_END,
};

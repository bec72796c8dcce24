/*
 * routes_clients.c - POST /v1/clients (intake, upsert by external_ref) and
 * GET /v1/clients/{id}.
 *
 * A client row keeps only what matching needs: the intake system's
 * external_ref and the validated intake preferences (the intake object
 * without external_ref, JSON nulls dropped) as jsonb, rebuilt field by field
 * from the intake object's own fields (intake_json_stored), never copied
 * from the body: the intake object has no names or notes, unknown fields are
 * refused, and even so nothing else can slip in.  Readers of clients.preferences parse it with intake_from_json().
 * Logs carry ids only: preferences are health data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit.h"
#include "api/intake_check.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "base/log.h"
#include "codec/intake_json.h"
#include "store/catalog_sync.h"

/* One statement: atomic and committed before its result arrives.  xmax = 0
 * on the returned row means it was inserted rather than updated. */
/* clang-format off */
static const char upsert_sql[] =
    "WITH up AS (INSERT INTO clients (external_ref, preferences) VALUES ($1, $2::jsonb) "
    "ON CONFLICT (external_ref) DO UPDATE SET preferences = EXCLUDED.preferences "
    "RETURNING id, external_ref, preferences::text, (xmax = 0) AS inserted),"
    AUDIT_CTE("$3", "up.id", "NULL::bigint",
	"CASE WHEN up.inserted THEN '201' ELSE '200' END", "up")
    " SELECT * FROM up";
/* clang-format on */

/* clang-format off */
static const char get_sql[] =
    AUDIT_CLIENT_READ("$2")
    " SELECT id, external_ref, preferences::text FROM clients WHERE id = $1";
/* clang-format on */

/* {"id", "external_ref", ...preferences} from one row (columns 0..2). */
static json_t *
client_json(const PGresult *res)
{
	json_t *prefs = json_loads(PQgetvalue(res, 0, 2), 0, NULL);
	json_t *o =
	    json_pack("{s:I, s:s}", "id", (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10),
	        "external_ref", PQgetvalue(res, 0, 1));

	if (o == NULL || !json_is_object(prefs) || json_object_update(o, prefs) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(prefs);
	return o;
}

static const struct request_db_call upsert_call = { "client upsert", NULL, NULL };
static const struct request_db_call get_call = { "client get", "client", NULL };

static void
upsert_cb(struct request *r, const PGresult *res)
{
	json_t *body;
	bool created;

	if (PQntuples(res) != 1 || (body = client_json(res)) == NULL) {
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	created = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	log_info(request_log(r), "request id=%s client id=%s %s", r->id, PQgetvalue(res, 0, 0),
	    created ? "created" : "updated");
	request_reply_json(r, created ? 201 : 200, body);
}

static void
route_client_upsert(struct request *r)
{
	struct intake in;
	json_t *prefs = NULL;
	char *text = NULL;
	const char *values[3];
	char *aud = NULL;

	if (intake_read(r, true, &in) != 0)
		return;
	/* Rebuilt from the intake's own fields, never the body: whatever else a
	 * body holds cannot reach the table, even past a reader's mistake. */
	prefs = intake_json_stored(r->body);
	if (prefs == NULL || (text = json_dumps(prefs, JSON_COMPACT)) == NULL)
		goto fail;
	values[0] = json_string_value(json_object_get(r->body, "external_ref"));
	values[1] = text;
	if ((aud = audit_param(r)) == NULL)
		goto fail;
	values[2] = aud;
	request_db_query(r, &upsert_call, upsert_sql, 3, values, upsert_cb);
	free(aud);
	free(text); /* the pool copied the values */
	json_decref(prefs);
	return;
fail:
	free(text);
	json_decref(prefs);
	request_problem(r, 500, "out of memory", NULL);
}

static void
get_cb(struct request *r, const PGresult *res)
{
	json_t *body;

	if ((body = client_json(res)) == NULL) {
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	request_reply_json(r, 200, body);
}

static void
route_client_get(struct request *r)
{
	request_db_by_id_audited(r, &get_call, get_sql, get_cb);
}

const struct route routes_clients[] = {
	{ "POST", "/v1/clients", SCOPE_INTAKE, ROUTE_JSON_BODY | ROUTE_NEEDS_DB | ROUTE_AUDIT,
	    route_client_upsert },
	{ "GET", "/v1/clients/{id}", SCOPE_INTAKE, ROUTE_NEEDS_DB | ROUTE_AUDIT_CLIENT,
	    route_client_get },
	ROUTE_END,
};

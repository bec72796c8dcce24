/*
 * routes_tokens.c - API tokens (admin): POST /v1/tokens creates one and
 * answers its text once, GET /v1/tokens lists them (never a token, never a
 * digest), DELETE /v1/tokens/{id} revokes one.
 *
 * Only the SHA-256 of a token is stored.  Every change fires the api_tokens
 * trigger's NOTIFY: every daemon reloads its token cache within a second.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "base/log.h"
#include "codec/json_fields.h"
#include "http/auth.h"

#define ISO(x) "to_char(" x " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* The token object's columns, in token_json's order. */
#define TOKEN_COLS                                                               \
	"id, name, scope, " ISO("created_at") ", " ISO("last_used_at") ", " ISO( \
	    "expires_at") ", " ISO("revoked_at")

static json_t *
text_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

static json_t *
token_json(const PGresult *res, int row)
{
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)strtoll(PQgetvalue(res, row, 0), NULL, 10), "name", PQgetvalue(res, row, 1),
	    "scope", PQgetvalue(res, row, 2), "created_at", text_or_null(res, row, 3),
	    "last_used_at", text_or_null(res, row, 4), "expires_at", text_or_null(res, row, 5),
	    "revoked_at", text_or_null(res, row, 6));
}

/* ------------------------------------------------------------------------ */
/* POST /v1/tokens */

struct token_create {
	char token[AUTH_TOKEN_LEN + 1];
};

static void
token_create_free(void *p)
{
	OPENSSL_cleanse(p, sizeof(struct token_create));
	free(p);
}

static bool
create_failed_cb(struct request *r, enum db_status st, const PGresult *res)
{
	json_t *errs;

	if (st != DB_SQL_ERROR || strcmp(db_sqlstate(res), "23505") != 0)
		return false;
	errs = json_array();
	json_array_append_new(errs,
	    json_pack("{s:s, s:s}", "field", "name", "message",
	        "a live token already has this name"));
	request_problem(r, 409, "a live token already has this name", errs);
	return true;
}

static const struct request_db_call create_call = { "token create", NULL, create_failed_cb };

static void
created_cb(struct request *r, const PGresult *res)
{
	struct token_create *s = r->state;
	json_t *body = token_json(res, 0);

	if (body == NULL || json_object_set_new(body, "token", json_string(s->token)) != 0) {
		json_decref(body);
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	log_info(request_log(r), "request id=%s token id=%s created by %s", r->id,
	    PQgetvalue(res, 0, 0), r->auth.actor);
	request_reply_json(r, 201, body);
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 100)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static void
route_token_create(struct request *r)
{
	static const char *const fields[] = { "name", "scope", "expires_in_days", NULL };
	/* clang-format off */
	static const char sql[] =
	    "INSERT INTO api_tokens (name, token_hash, scope, expires_at)"
	    " VALUES ($1, decode($2, 'hex'), $3,"
	    "  CASE WHEN $4::integer IS NULL THEN NULL ELSE now() + make_interval(days => $4::integer) END)"
	    " RETURNING " TOKEN_COLS;
	/* clang-format on */
	struct field_errors fe;
	const char *name = NULL, *scope = NULL;
	long long days = 0;
	int has_days;
	struct token_create *s;
	unsigned char digest[AUTH_DIGEST_LEN];
	char hex[2 * AUTH_DIGEST_LEN + 1], days_s[16];
	const char *values[4] = { NULL, hex, NULL, NULL };
	size_t i;

	field_errors_init(&fe);
	jf_only(r->body, "", fields, &fe);
	if (jf_string(r->body, "name", "name", 100, &name, &fe) == 0)
		field_error(&fe, "name", "is required");
	else if (name != NULL && !name_ok(name))
		field_error(&fe, "name", "must be 1 to 100 letters, digits, '-', '_' or '.'");
	if (jf_string(r->body, "scope", "scope", 16, &scope, &fe) == 0)
		field_error(&fe, "scope", "is required");
	else if (scope != NULL && strcmp(scope, "intake") != 0 && strcmp(scope, "feedback") != 0 &&
	    strcmp(scope, "admin") != 0)
		field_error(&fe, "scope", "must be one of intake, feedback, admin");
	has_days = jf_int(r->body, "expires_in_days", "expires_in_days", 1, 3650, &days, &fe);
	if (field_errors_any(&fe)) {
		request_problem(r, 422, "invalid token", field_errors_take(&fe));
		return;
	}
	if ((s = request_state_new(r, sizeof(*s), token_create_free)) == NULL)
		return;
	if (auth_token_generate(s->token) != 0) {
		request_problem(r, 500, "no random bytes for a token", NULL);
		return;
	}
	auth_token_digest(s->token, digest);
	for (i = 0; i < AUTH_DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	snprintf(days_s, sizeof(days_s), "%lld", days);
	values[0] = name;
	values[2] = scope;
	values[3] = has_days == 1 ? days_s : NULL;
	request_db_query(r, &create_call, sql, 4, values, created_cb);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/tokens */

static void
listed_cb(struct request *r, const PGresult *res)
{
	json_t *list = json_array();
	int i;

	for (i = 0; list != NULL && i < PQntuples(res); i++)
		json_array_append_new(list, token_json(res, i));
	request_reply_json(r, 200, json_pack("{s:o}", "tokens", list));
}

static void
route_token_list(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    "SELECT " TOKEN_COLS " FROM api_tokens"
	    " WHERE $1::boolean OR revoked_at IS NULL ORDER BY name, id";
	/* clang-format on */
	static const struct request_db_call call = { "token list", NULL, NULL };
	const char *all = request_query(r, "all");
	const char *values[1] = { all != NULL && strcmp(all, "true") == 0 ? "true" : "false" };

	request_db_query(r, &call, sql, 1, values, listed_cb);
}

/* ------------------------------------------------------------------------ */
/* DELETE /v1/tokens/{id} */

static void
revoked_cb(struct request *r, const PGresult *res)
{
	log_info(request_log(r), "request id=%s token id=%s revoked by %s", r->id,
	    PQgetvalue(res, 0, 0), r->auth.actor);
	request_reply_json(r, 200, token_json(res, 0));
}

static void
route_token_revoke(struct request *r)
{
	/* Revoking twice answers the first revocation again. */
	/* clang-format off */
	static const char sql[] =
	    "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())"
	    " WHERE id = $1::bigint RETURNING " TOKEN_COLS;
	/* clang-format on */
	static const struct request_db_call call = { "token revoke", "token", NULL };

	request_db_by_id(r, &call, sql, revoked_cb);
}

const struct route routes_tokens[] = {
	{ "POST", "/v1/tokens", SCOPE_ADMIN, ROUTE_JSON_BODY | ROUTE_NEEDS_DB, route_token_create },
	{ "GET", "/v1/tokens", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_token_list },
	{ "DELETE", "/v1/tokens/{id}", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_token_revoke },
	ROUTE_END,
};

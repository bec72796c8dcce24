/*
 * routes_match.c - GET /v1/clients/{id}/matches and the stateless
 * POST /v1/match.
 *
 * Both rank the in-memory catalog (never the therapists table per request).
 * A stored client adds one query: its preferences and the therapists of its
 * earlier episodes that ended as a mismatch, which are excluded.  Before the
 * catalog's first full load there is nothing to rank honestly, so both answer
 * 503 with Retry-After.  When nobody survives the filters, "excluded" says
 * which constraint removed whom and "hint" names the one to relax first.
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
#include "codec/json_fields.h"
#include "codec/match_json.h"
#include "http/router.h"
#include "store/catalog_sync.h"
#include "store/db.h"

/* Earlier mismatches beyond what the engine can take are the oldest ones:
 * leaving them out only means they may show up again. */
#define MISMATCH_MAX (MATCH_MAX_EXCLUDE - INTAKE_MAX_EXCLUDE)

/* clang-format off */
static const char client_sql[] =
    AUDIT_CLIENT_READ("$2")
    " SELECT c.preferences::text, coalesce((SELECT json_agg(m.therapist_id) FROM ("
    " SELECT e.therapist_id FROM episodes e"
    " WHERE e.client_id = c.id AND e.status = 'ended' AND e.end_reason = 'mismatch'"
    " GROUP BY e.therapist_id ORDER BY max(e.ended_at) DESC LIMIT 64) m), '[]')::text"
    " FROM clients c WHERE c.id = $1";
/* clang-format on */

_Static_assert(MISMATCH_MAX == 64, "client_sql's LIMIT must equal MISMATCH_MAX");

/* What a client can relax, per exclusion reason; NULL = not the client's. */
static const char *const relax[EXCL_COUNT] = {
	[EXCL_LANGUAGE] = "the languages",
	[EXCL_FORMAT] = "the session formats or sites",
	[EXCL_POPULATION] = "the population",
	[EXCL_PAYMENT] = "the payer or the self-pay maximum",
	[EXCL_AVAILABILITY] = "the availability",
	[EXCL_EXCLUDED] = "the excluded therapists",
	[EXCL_REQUIRED] = "the preferences marked required",
};

/* A sentence for an empty shortlist into buf, or NULL when there are matches. */
static const char *
nobody_hint(const struct match_summary *sum, char *buf, size_t len)
{
	int e, best = -1;

	if (sum->n_results > 0)
		return NULL;
	if (sum->considered == 0)
		return "no therapists are in the catalog yet";
	for (e = 0; e < EXCL_COUNT; e++)
		if (relax[e] != NULL && sum->excluded[e] > 0 &&
		    (best < 0 || sum->excluded[e] > sum->excluded[best]))
			best = e;
	if (best < 0)
		return "no therapist is taking new clients at the moment";
	snprintf(buf, len,
	    "no therapist fits; relaxing %s would help most "
	    "(%u of %u therapists excluded for %s)",
	    relax[best], sum->excluded[best], sum->considered,
	    exclusion_name((enum exclusion)best));
	return buf;
}

/* ?limit=, default and maximum from the config; 0 or -1 (answered). */
static int
read_limit(struct request *r, int *k)
{
	int max = request_api(r)->max_limit;

	if (max > MATCH_MAX_K)
		max = MATCH_MAX_K;
	if (max < 1)
		max = 1;
	if (request_query_int(r, "limit", request_api(r)->default_limit, 1, max, k) != 0)
		return -1;
	if (*k > max)
		*k = max; /* a default above the maximum is the maximum */
	return 0;
}

/* Both routes rank the catalog: 503 before its first load, then ?limit=.
 * 0, or -1 when answered. */
static int
catalog_and_limit(struct request *r, int *k)
{
	if (!catalog_sync_ready(request_api(r)->catalog)) {
		request_retry_later(r, CATALOG_LOADING);
		return -1;
	}
	return read_limit(r, k);
}

/* Results for a usual limit live on the stack; larger ones on the heap. */
#define ITEMS_ON_STACK 16
/* Room for a usual answer (five results are about 2.5 kB): no allocation. */
#define TEXT_ON_STACK 8192

/* Ranks, answers 200 (or 500).  exclude: extra therapist ids (mismatches).
 * The answer is written as text directly (json_writer.h): building json_t
 * trees and dumping them cost more than the ranking itself. */
static void
run_and_reply(struct request *r, const struct intake *in, const uint32_t *exclude, size_t n_exclude,
    int k)
{
	const struct catalog_sync *cs = request_api(r)->catalog;
	struct match_adjust adj;
	struct match_summary sum;
	struct match_item stack_items[ITEMS_ON_STACK];
	struct match_item *items = stack_items;
	struct json_writer w;
	char text[TEXT_ON_STACK], hint[256];

	jw_init(&w, text, sizeof(text));
	if (k > ITEMS_ON_STACK && (items = calloc((size_t)k, sizeof(*items))) == NULL)
		goto fail;
	memset(&adj, 0, sizeof(adj));
	adj.exclude = exclude;
	adj.n_exclude = n_exclude;
	adj.alliance_weight_mult = 1.0;
	if (match_run_adjusted(catalog_sync_catalog(cs), request_api(r)->params, in, &adj,
	        (size_t)k, items, &sum) != 0) {
		log_warn(request_log(r), "request id=%s match_run refused the intake", r->id);
		goto fail;
	}
	match_result_write(&w, catalog_sync_names(cs), items, sum.n_results, &sum,
	    nobody_hint(&sum, hint, sizeof(hint)));
	if (items != stack_items)
		free(items);
	request_reply_writer(r, 200, &w);
	return;
fail:
	jw_free(&w);
	if (items != stack_items)
		free(items);
	request_problem(r, 500, "internal error", NULL);
}

static void
route_match(struct request *r)
{
	struct intake in;
	int k;

	if (catalog_and_limit(r, &k) != 0)
		return;
	if (intake_read(r, false, &in) != 0)
		return;
	run_and_reply(r, &in, NULL, 0, k);
}

static const struct request_db_call client_call = { "client matches", "client", NULL };

static void
client_loaded_cb(struct request *r, const PGresult *res)
{
	struct field_errors fe;
	struct intake in;
	uint32_t mismatches[MISMATCH_MAX];
	json_t *prefs;
	int k, n;

	if (read_limit(r, &k) != 0) /* checked before the query: cannot fail now */
		return;
	n = json_parse_ids(PQgetvalue(res, 0, 1), mismatches, MISMATCH_MAX);
	prefs = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (n < 0 || prefs == NULL) {
		json_decref(prefs);
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	field_errors_init(&fe);
	if (intake_from_json(prefs, catalog_sync_vocab(request_api(r)->catalog), false, &in, &fe) !=
	    0) {
		/* The vocabulary changed since the intake was stored (SIGHUP). */
		json_decref(prefs);
		log_warn(request_log(r),
		    "request id=%s client id=%lld: stored intake no longer "
		    "valid",
		    r->id, (long long)r->params[0]);
		request_problem(r, 422,
		    "the stored intake does not fit the configured "
		    "vocabulary any more; submit the intake again",
		    field_errors_take(&fe));
		return;
	}
	json_decref(prefs);
	field_errors_clear(&fe);
	run_and_reply(r, &in, mismatches, (size_t)n, k);
}

static void
route_client_matches(struct request *r)
{
	int k;

	if (catalog_and_limit(r, &k) != 0)
		return;
	request_db_by_id_audited(r, &client_call, client_sql, client_loaded_cb);
}

const struct route routes_match[] = {
	{ "GET", "/v1/clients/{id}/matches", SCOPE_INTAKE, ROUTE_NEEDS_DB | ROUTE_AUDIT_CLIENT,
	    route_client_matches },
	{ "POST", "/v1/match", SCOPE_INTAKE, ROUTE_JSON_BODY, route_match },
	ROUTE_END,
};

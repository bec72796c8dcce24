/*
 * routes_referrals.c - POST /v1/episodes/{id}/referrals: colleagues for an
 * episode that does not work (docs/referrals.md).
 *
 * One statement brings everything the engine needs: the client's stored
 * intake, the therapists of the client's episodes that ended as a mismatch,
 * the current therapist's colleague links and the episode's feedback (for the
 * signals of what failed).  Ranking runs on the in-memory catalog, as
 * matching does.  Nothing is stored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api/api.h"
#include "api/audit.h"
#include "api/episode_alliance.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "base/log.h"
#include "codec/intake_json.h"
#include "codec/json_fields.h"
#include "codec/json_writer.h"
#include "codec/match_json.h"
#include "http/router.h"
#include "store/catalog_sync.h"
#include "store/db.h"

#define REFERRAL_DEFAULT_LIMIT  3
#define REFERRAL_MAX_LIMIT      50
#define REFERRAL_MAX_MISMATCHES 64
#define REFERRAL_MAX_COLLEAGUES 256

struct referral_state {
	int limit;
};

/* The optional body {"need": {"modalities": [...], "concerns": [...]}}.
 * 0 (*has_need says whether one was given), -1 with errors in fe. */
static int
read_need(const json_t *body, const struct vocab *v, struct referral_need *need, bool *has_need,
    struct field_errors *fe)
{
	static const char *const top[] = { "need", NULL };
	static const char *const fields[] = { "modalities", "concerns", NULL };
	const json_t *n = NULL;

	memset(need, 0, sizeof(*need));
	*has_need = false;
	if (body == NULL)
		return 0;
	if (jf_only(body, "", top, fe) < 0 && !json_is_object(body))
		return -1;
	if (jf_object(body, "need", "need", &n, fe) == 1) {
		jf_only(n, "need", fields, fe);
		jf_tags(n, "modalities", "need.modalities", v, VOCAB_MODALITIES, &need->modalities,
		    fe);
		jf_tags(n, "concerns", "need.concerns", v, VOCAB_CONCERNS, &need->concerns, fe);
		*has_need = !tagset_empty(&need->modalities) || !tagset_empty(&need->concerns);
	}
	return field_errors_any(fe) ? -1 : 0;
}

/* [[colleague_id, [tags]], ...]: a tag names a concern or a modality; tags
 * the vocabulary no longer has are ignored (the link stays). */
static int
parse_colleagues(const char *text, const struct vocab *v, struct colleague_link *out, size_t max)
{
	json_t *a = json_loads(text, 0, NULL), *link;
	size_t i, j;
	int n = 0;

	if (!json_is_array(a)) {
		json_decref(a);
		return -1;
	}
	json_array_foreach (a, i, link) {
		json_int_t id = json_integer_value(json_array_get(link, 0));
		json_t *tags = json_array_get(link, 1), *tag;
		struct colleague_link *c;

		if (id <= 0 || id > (json_int_t)UINT32_MAX || (size_t)n >= max)
			continue;
		c = &out[n++];
		memset(c, 0, sizeof(*c));
		c->therapist_id = (uint32_t)id;
		json_array_foreach (tags, j, tag) {
			const char *name = json_string_value(tag);
			int k;

			if (name == NULL)
				continue;
			if ((k = vocab_lookup(v, VOCAB_CONCERNS, name)) >= 0)
				tagset_add(&c->concerns, k);
			else if ((k = vocab_lookup(v, VOCAB_MODALITIES, name)) >= 0)
				tagset_add(&c->modalities, k);
		}
	}
	json_decref(a);
	return n;
}

/* Columns: 0 therapist_id, 1 preferences, 2 mismatches, 3 colleagues, 4.. rows. */
static void
referral_loaded_cb(struct request *r, const PGresult *res)
{
	struct referral_state *s = r->state;
	const struct catalog_sync *cs = request_api(r)->catalog;
	const struct vocab *v = catalog_sync_vocab(cs);
	struct field_errors fe;
	struct referral_need need;
	struct referral_request req;
	struct match_summary sum;
	struct match_item *items = NULL;
	struct colleague_link *links = NULL;
	uint32_t mismatches[REFERRAL_MAX_MISMATCHES];
	struct episode_rows er;
	struct intake in;
	json_t *prefs = NULL;
	struct json_writer w;
	char text[8192];
	bool has_need;
	int i, n = PQntuples(res), n_mis, n_links;

	episode_rows_init(&er);
	field_errors_init(&fe);
	/* The vocabulary of this very moment: the catalog's bits agree with it. */
	if (read_need(r->body, v, &need, &has_need, &fe) < 0) {
		request_problem(r, 422, "invalid referral request", field_errors_take(&fe));
		return;
	}
	prefs = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	if (prefs == NULL || intake_from_json(prefs, v, false, &in, &fe) != 0) {
		json_decref(prefs);
		request_problem(r, 409,
		    "the client's stored intake is not valid under the "
		    "configured vocabulary; update the client",
		    field_errors_take(&fe));
		return;
	}
	json_decref(prefs);
	links = calloc(REFERRAL_MAX_COLLEAGUES, sizeof(*links));
	items = calloc((size_t)s->limit, sizeof(*items));
	n_mis = json_parse_ids(PQgetvalue(res, 0, 2), mismatches, REFERRAL_MAX_MISMATCHES);
	n_links =
	    links ? parse_colleagues(PQgetvalue(res, 0, 3), v, links, REFERRAL_MAX_COLLEAGUES) : -1;
	if (items == NULL || n_mis < 0 || n_links < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (episode_rows_add_pg(&er, res, i, 4) < 0)
			goto fail;
	memset(&req, 0, sizeof(req));
	req.intake = &in;
	req.current_therapist = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	req.mismatches = mismatches;
	req.n_mismatches = (size_t)n_mis;
	req.colleagues = links;
	req.n_colleagues = (size_t)n_links;
	req.need = has_need ? &need : NULL;
	if (referral_signals_from_feedback(request_api(r)->params, er.fb, er.n_fb, &req.signals) !=
	        0 ||
	    referral_suggest(catalog_sync_catalog(cs), request_api(r)->params, &req,
	        (size_t)s->limit, items, &sum) != 0)
		goto fail;
	free(links);
	episode_rows_clear(&er);
	jw_init(&w, text, sizeof(text));
	referral_result_write(&w, catalog_sync_names(cs), items, sum.n_results, &sum);
	free(items);
	request_reply_writer(r, 200, &w);
	return;
fail:
	free(items);
	free(links);
	episode_rows_clear(&er);
	log_warn(request_log(r),
	    "request id=%s episode=%" PRId64 " referrals could not be computed", r->id,
	    r->params[0]);
	request_problem(r, 500, "the referrals could not be computed", NULL);
}

static const struct request_db_call referral_call = { "referrals", "episode", NULL };

static void
route_referrals(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    AUDIT_EPISODE_READ("$2")
	    " SELECT ep.therapist_id, c.preferences::text,"
	    " (SELECT coalesce(json_agg(DISTINCT x.therapist_id), '[]'::json) FROM episodes x"
	    "   WHERE x.client_id = ep.client_id AND x.end_reason = 'mismatch')::text,"
	    " (SELECT coalesce(json_agg(json_build_array(cl.colleague_id, cl.for_tags)), '[]'::json)"
	    "   FROM colleagues cl WHERE cl.therapist_id = ep.therapist_id)::text,"
	    " r.*"
	    " FROM episodes ep JOIN clients c ON c.id = ep.client_id"
	    " LEFT JOIN LATERAL (" EPISODE_ROWS_SQL("ep.id", "true", "false") ") r ON true"
	    " WHERE ep.id = $1::bigint";
	/* clang-format on */
	struct field_errors fe;
	struct referral_need need;
	struct referral_state *s;
	bool has_need;
	int limit;

	if (request_query_int(r, "limit", REFERRAL_DEFAULT_LIMIT, 1, REFERRAL_MAX_LIMIT, &limit) !=
	    0)
		return;
	field_errors_init(&fe);
	/* Checked now so that a bad body costs no query; read again with the
	 * vocabulary of the moment the catalog is used. */
	if (read_need(r->body, catalog_sync_vocab(request_api(r)->catalog), &need, &has_need, &fe) <
	    0) {
		request_problem(r, 422, "invalid referral request", field_errors_take(&fe));
		return;
	}
	if (!catalog_sync_ready(request_api(r)->catalog)) {
		request_retry_later(r, CATALOG_LOADING);
		return;
	}
	if ((s = request_state_new(r, sizeof(*s), NULL)) == NULL)
		return;
	s->limit = limit;
	request_db_by_id_audited(r, &referral_call, sql, referral_loaded_cb);
}

const struct route routes_referrals[] = {
	{ "POST", "/v1/episodes/{id}/referrals", SCOPE_INTAKE,
	    ROUTE_OPTIONAL_BODY | ROUTE_NEEDS_DB | ROUTE_AUDIT_EPISODE, route_referrals },
	ROUTE_END,
};

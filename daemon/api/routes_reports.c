/*
 * routes_reports.c - clinic reports: alliance per therapist, episodes at risk.
 *
 * "At risk" is the engine's judgement (unsafe, disengaging, mismatch,
 * strained), so it is computed from the rows of active episodes, never
 * stored.  GET /v1/reports/at-risk scans active episodes in id order, a page
 * at a time (?limit= episodes scanned, ?after= the cursor from "next"), so a
 * large clinic never loads everything at once.  The alliance report runs one
 * aggregate statement (the clinic means need every therapist), answers a
 * page of therapists (?limit=, ?after=, "next" as the other lists), and
 * evaluates only the active episodes of that page for its at_risk counts:
 * the evaluation runs on the event loop, so its work is bounded per page.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api/api.h"
#include "api/audit.h"
#include "api/episode_alliance.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "http/router.h"
#include "store/catalog_sync.h"
#include "store/db.h"

#define AT_RISK_DEFAULT_SCAN  500
#define AT_RISK_MAX_SCAN      5000
#define ALLIANCE_DEFAULT_PAGE 50 /* therapists, as GET /v1/therapists */
#define ALLIANCE_MAX_PAGE     500

/* Active episodes with their rows: 0 id, 1 client_id, 2 therapist_id, 3.. rows.
 * MORE_CTES follows the CTE ep (", audit AS ..."). */
/* clang-format off */
#define ACTIVE_ROWS_SQL(WHERE_LIMIT, MORE_CTES) \
	"WITH ep AS (SELECT id, client_id, therapist_id FROM episodes" \
	"            WHERE status = 'active' " WHERE_LIMIT ")" MORE_CTES \
	" SELECT ep.id, ep.client_id, ep.therapist_id, r.*" \
	" FROM ep LEFT JOIN LATERAL (" EPISODE_ROWS_SQL("ep.id", "true", "true") ") r ON true" \
	" ORDER BY ep.id"
/* clang-format on */

static bool
at_risk(enum alliance_state s)
{
	return s == AST_UNSAFE || s == AST_DISENGAGING || s == AST_MISMATCH || s == AST_STRAINED;
}

/* Lower is more urgent. */
static int
urgency(enum alliance_state s)
{
	switch (s) {
	case AST_UNSAFE: return 0;
	case AST_DISENGAGING: return 1;
	case AST_MISMATCH: return 2;
	default: return 3;
	}
}

typedef int (*episode_visit)(void *arg, int64_t episode, int64_t client, int64_t therapist,
    const struct alliance_result *a);

/* Groups the rows by episode, evaluates each, calls visit.  0, or -1. */
static int
each_episode(const PGresult *res, const struct engine_params *p, episode_visit visit, void *arg)
{
	struct episode_rows er;
	struct alliance_result a;
	int i = 0, n = PQntuples(res), rc = 0;

	episode_rows_init(&er);
	while (i < n && rc == 0) {
		const char *id = PQgetvalue(res, i, 0);
		int64_t ep = strtoll(id, NULL, 10);
		int64_t client = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		int64_t therapist = strtoll(PQgetvalue(res, i, 2), NULL, 10);

		episode_rows_reset(&er);
		for (; i < n && strtoll(PQgetvalue(res, i, 0), NULL, 10) == ep; i++)
			if (episode_rows_add_pg(&er, res, i, 3) < 0)
				rc = -1;
		if (rc == 0 && episode_rows_evaluate(&er, p, &a) != 0)
			rc = -1;
		if (rc == 0)
			rc = visit(arg, ep, client, therapist, &a);
	}
	episode_rows_clear(&er);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* GET /v1/reports/at-risk */

struct at_risk_item {
	int64_t episode, client, therapist;
	struct alliance_result a;
};

struct at_risk_list {
	struct at_risk_item *items;
	size_t n, cap;
	int64_t last; /* last episode scanned */
	size_t scanned;
};

static int
collect_at_risk_cb(void *arg, int64_t episode, int64_t client, int64_t therapist,
    const struct alliance_result *a)
{
	struct at_risk_list *l = arg;

	l->last = episode;
	l->scanned++;
	if (!at_risk(a->status))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct at_risk_item *p = realloc(l->items, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		l->items = p;
		l->cap = cap;
	}
	l->items[l->n].episode = episode;
	l->items[l->n].client = client;
	l->items[l->n].therapist = therapist;
	l->items[l->n].a = *a;
	l->n++;
	return 0;
}

static int
by_urgency(const void *x, const void *y)
{
	const struct at_risk_item *a = x, *b = y;
	int ua = urgency(a->a.status), ub = urgency(b->a.status);

	if (ua != ub)
		return ua - ub;
	return a->episode < b->episode ? -1 : a->episode > b->episode;
}

static json_t *
at_risk_json(const struct at_risk_item *it, const struct vocab *v)
{
	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:o, s:o, s:o}", "episode_id",
	    (json_int_t)it->episode, "client_id", (json_int_t)it->client, "therapist_id",
	    (json_int_t)it->therapist, "status", alliance_state_name(it->a.status), "action",
	    alliance_action_name(it->a.action), "sessions", (json_int_t)it->a.sessions,
	    "index_latest", it->a.has_index ? json_one_decimal(it->a.index_latest) : json_null(),
	    "score_latest", it->a.has_index ? json_one_decimal(it->a.score_latest) : json_null(),
	    "reasons", alliance_reasons_json(&it->a, v));
}

static const struct request_db_call report_call = { "report", NULL, NULL };

static void
at_risk_loaded_cb(struct request *r, const PGresult *res)
{
	int *scan = r->state;
	struct at_risk_list l;
	json_t *list;
	char next[24];
	size_t i;

	memset(&l, 0, sizeof(l));
	if (each_episode(res, request_api(r)->params, collect_at_risk_cb, &l) != 0) {
		free(l.items);
		request_problem(r, 500, "an episode's feedback could not be evaluated", NULL);
		return;
	}
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(*l.items), by_urgency);
	list = json_array();
	for (i = 0; list != NULL && i < l.n; i++)
		json_array_append_new(list,
		    at_risk_json(&l.items[i], catalog_sync_vocab(request_api(r)->catalog)));
	free(l.items);
	/* A full page may have more behind it. */
	snprintf(next, sizeof(next), "%" PRId64, l.last);
	request_reply_json(r, 200,
	    json_pack("{s:o, s:o}", "episodes", list, "next",
	        (int)l.scanned == *scan ? json_string(next) : json_null()));
}

static void
route_report_at_risk(struct request *r)
{
	/* clang-format off */
	static const char sql[] =
	    ACTIVE_ROWS_SQL("AND id > $1::bigint ORDER BY id LIMIT $2::integer",
		"," AUDIT_CTE("$3", "ep.client_id", "ep.id", "'200'", "ep"));
	/* clang-format on */
	const char *after = request_query(r, "after");
	char scan_s[16];
	const char *values[3] = { after ? after : "0", scan_s, NULL };
	char *aud;
	int *scan;
	char *end;
	int limit;

	if (request_query_int(r, "limit", AT_RISK_DEFAULT_SCAN, 1, AT_RISK_MAX_SCAN, &limit) != 0)
		return;
	if (after != NULL &&
	    (after[0] == '\0' || strtoll(after, &end, 10) < 0 || *end != '\0' ||
	        strlen(after) > 18)) {
		request_query_problem(r, "after", "must be a cursor from a previous page's next");
		return;
	}
	if ((scan = request_state_new(r, sizeof(*scan), free)) == NULL)
		return;
	*scan = limit;
	snprintf(scan_s, sizeof(scan_s), "%d", limit);
	/* Every active episode the page reads is audited (the report shows
	 * those at risk, but the statement reads them all). */
	if ((aud = audit_param(r)) == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	values[2] = aud;
	request_db_query(r, &report_call, sql, 3, values, at_risk_loaded_cb);
	free(aud);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/reports/alliance */

enum {
	AR_ID,
	AR_REF,
	AR_NAME,
	AR_ACTIVE,
	AR_ENDED,
	AR_RATED,
	AR_MEAN,
	AR_REC_N,
	AR_REC_MEAN,
	AR_OUT_N,
	AR_OUT_MEAN,
	AR_COLS
};

struct alliance_report {
	json_t *report;      /* {"clinic_mean", "therapists": [in id order], "next"} */
	int limit;           /* therapists per page */
	long long after;     /* the page starts after this therapist id */
	char lo[24], hi[24]; /* the page's therapist ids: (lo, hi] */
};

static void
alliance_report_free(void *p)
{
	struct alliance_report *s = p;

	json_decref(s->report);
	free(s);
}

static int
count_at_risk_cb(void *arg, int64_t episode, int64_t client, int64_t therapist,
    const struct alliance_result *a)
{
	json_t *rows = arg, *row;
	size_t i, lo = 0, hi = json_array_size(rows);
	json_int_t id;

	(void)episode;
	(void)client;
	if (!at_risk(a->status))
		return 0;
	/* Rows are in therapist id order: binary search. */
	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		row = json_array_get(rows, i);
		id = json_integer_value(json_object_get(row, "therapist_id"));
		if (id == therapist) {
			json_object_set_new(row, "at_risk",
			    json_integer(json_integer_value(json_object_get(row, "at_risk")) + 1));
			return 0;
		}
		if (id < therapist)
			lo = i + 1;
		else
			hi = i;
	}
	return 0;
}

static void
alliance_active_loaded_cb(struct request *r, const PGresult *res)
{
	struct alliance_report *s = r->state;
	json_t *report;

	if (each_episode(res, request_api(r)->params, count_at_risk_cb,
	        json_object_get(s->report, "therapists")) != 0) {
		request_problem(r, 500, "an episode's feedback could not be evaluated", NULL);
		return;
	}
	report = s->report;
	s->report = NULL;
	request_reply_json(r, 200, report);
}

/* A share 0-1 to three decimals. */
static double
round_share(double x)
{
	return round(x * 1000.0) / 1000.0;
}

static json_t *
nullable_number(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return json_null();
	return json_one_decimal(strtod(PQgetvalue(res, row, col), NULL));
}

static void
alliance_loaded_cb(struct request *r, const PGresult *res)
{
	static const char sql[] =
	    ACTIVE_ROWS_SQL("AND therapist_id > $1::bigint AND therapist_id <= $2::bigint", "");
	struct alliance_report *s = r->state;
	const struct engine_params *p = request_api(r)->params;
	struct record_total ta = { 0, 0 }, to = { 0, 0 };
	json_t *list;
	double clinic_a, clinic_o;
	int i, n, first, end;
	const char *values[2] = { s->lo, s->hi };

	n = PQntuples(res);
	/* The clinic means first: the records shrink toward them. */
	for (i = 0; i < n; i++) {
		struct record ra, ro;

		ra.n = (uint32_t)strtoul(PQgetvalue(res, i, AR_REC_N), NULL, 10);
		ra.mean = ra.n ? strtod(PQgetvalue(res, i, AR_REC_MEAN), NULL) : 0;
		ro.n = (uint32_t)strtoul(PQgetvalue(res, i, AR_OUT_N), NULL, 10);
		ro.mean = ro.n ? strtod(PQgetvalue(res, i, AR_OUT_MEAN), NULL) : 0;
		record_total_add(&ta, &ra);
		record_total_add(&to, &ro);
	}
	clinic_a = record_total_mean(&ta);
	clinic_o = record_total_mean(&to);
	/* The page: rows are in therapist id order. */
	for (first = 0; first < n && strtoll(PQgetvalue(res, first, AR_ID), NULL, 10) <= s->after;
	     first++)
		;
	end = n - first > s->limit ? first + s->limit : n;
	list = json_array();
	for (i = first; list != NULL && i < end; i++) {
		double an = strtod(PQgetvalue(res, i, AR_REC_N), NULL);
		double on = strtod(PQgetvalue(res, i, AR_OUT_N), NULL);
		double am = an > 0 ? strtod(PQgetvalue(res, i, AR_REC_MEAN), NULL) : 0;
		double om = on > 0 ? strtod(PQgetvalue(res, i, AR_OUT_MEAN), NULL) : 0;

		json_array_append_new(list,
		    json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:i}", "therapist_id",
		        (json_int_t)strtoll(PQgetvalue(res, i, AR_ID), NULL, 10), "external_ref",
		        PQgetvalue(res, i, AR_REF), "display_name", PQgetvalue(res, i, AR_NAME),
		        "active_episodes",
		        (json_int_t)strtoll(PQgetvalue(res, i, AR_ACTIVE), NULL, 10),
		        "ended_episodes",
		        (json_int_t)strtoll(PQgetvalue(res, i, AR_ENDED), NULL, 10),
		        "rated_sessions",
		        (json_int_t)strtoll(PQgetvalue(res, i, AR_RATED), NULL, 10),
		        "alliance_mean", nullable_number(res, i, AR_MEAN), "alliance_record",
		        ta.n > 0 ? json_one_decimal(
		                       records_shrink(an, am, clinic_a, p->record_prior_weight))
		                 : json_null(),
		        "outcome_record",
		        to.n > 0 ? json_real(round_share(
		                       records_shrink(on, om, clinic_o, p->record_prior_weight)))
		                 : json_null(),
		        "at_risk", 0));
	}
	s->report = json_pack("{s:o, s:o, s:n}", "clinic_mean",
	    ta.n > 0 ? json_one_decimal(clinic_a) : json_null(), "therapists", list, "next");
	if (s->report == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	if (end == first) {
		request_reply_json(r, 200, s->report);
		s->report = NULL;
		return;
	}
	snprintf(s->lo, sizeof(s->lo), "%lld", s->after);
	snprintf(s->hi, sizeof(s->hi), "%s", PQgetvalue(res, end - 1, AR_ID));
	if (end < n) /* more therapists behind this page */
		json_object_set_new(s->report, "next", json_string(s->hi));
	request_db_query(r, &report_call, sql, 2, values, alliance_active_loaded_cb);
}

/* "?after=": a cursor from "next" (a positive id); 0 when absent, -1 bad. */
static long long
report_cursor(const char *c)
{
	long long v = 0;
	int digits = 0;

	if (c == NULL)
		return 0;
	for (; *c != '\0'; c++) {
		if (*c < '0' || *c > '9' || ++digits > 15)
			return -1;
		v = v * 10 + (*c - '0');
	}
	return digits > 0 && v > 0 ? v : -1;
}

static void
route_report_alliance(struct request *r)
{
	/*
	 * Per episode: rated sessions, their mean alliance score, first and latest ORS.
	 * Per therapist: the raw mean over rated sessions; the alliance record
	 * (mean of episode means, over episodes with ratings) and the outcome
	 * record (share of ended episodes with an ORS whose rise is reliable),
	 * both shrunk toward the clinic mean in C as matching does.
	 */
	/* clang-format off */
	static const char sql[] =
	    "WITH eps AS (SELECT e.id, e.therapist_id, e.status,"
	    "   count(f.alliance_index) AS n,"
	    "   avg(" ALLIANCE_SCORE_SQL("f", "$2", "$3", "$4") ") AS mean,"
	    "   (array_agg(f.ors_total ORDER BY f.session) FILTER (WHERE f.ors_total IS NOT NULL))[1]"
	    "     AS ors_first,"
	    "   (array_agg(f.ors_total ORDER BY f.session DESC)"
	    "     FILTER (WHERE f.ors_total IS NOT NULL))[1] AS ors_last"
	    "  FROM episodes e LEFT JOIN feedback f ON f.episode_id = e.id GROUP BY e.id)"
	    " SELECT t.id, t.external_ref, t.display_name,"
	    "  count(eps.id) FILTER (WHERE eps.status = 'active'),"
	    "  count(eps.id) FILTER (WHERE eps.status = 'ended'),"
	    "  coalesce(sum(eps.n), 0),"
	    "  sum(eps.mean * eps.n) / nullif(sum(eps.n), 0),"
	    "  count(eps.mean), avg(eps.mean),"
	    "  count(*) FILTER (WHERE eps.status = 'ended' AND eps.ors_first IS NOT NULL),"
	    "  avg(CASE WHEN eps.ors_last - eps.ors_first >= $1::float8 THEN 1.0 ELSE 0.0 END)"
	    "    FILTER (WHERE eps.status = 'ended' AND eps.ors_first IS NOT NULL)"
	    " FROM therapists t LEFT JOIN eps ON eps.therapist_id = t.id"
	    " GROUP BY t.id ORDER BY t.id";
	/* clang-format on */
	struct alliance_report *s;
	char change[32], a5[32], srs[32], wai[32];
	const char *values[4] = { change, a5, srs, wai };
	long long after = report_cursor(request_query(r, "after"));
	int limit;

	if (request_query_int(r, "limit", ALLIANCE_DEFAULT_PAGE, 1, ALLIANCE_MAX_PAGE, &limit) != 0)
		return;
	if (after < 0) {
		request_query_problem(r, "after", "must be a cursor from a previous page's next");
		return;
	}
	if ((s = request_state_new(r, sizeof(*s), alliance_report_free)) == NULL)
		return;
	s->limit = limit;
	s->after = after;
	snprintf(change, sizeof(change), "%.17g", request_api(r)->params->ors_reliable_change);
	snprintf(a5, sizeof(a5), "%.17g", request_api(r)->params->threshold_alliance5);
	snprintf(srs, sizeof(srs), "%.17g", request_api(r)->params->threshold_srs);
	snprintf(wai, sizeof(wai), "%.17g", request_api(r)->params->threshold_wai_sr);
	request_db_query(r, &report_call, sql, 4, values, alliance_loaded_cb);
}

const struct route routes_reports[] = {
	{ "GET", "/v1/reports/alliance", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_report_alliance },
	{ "GET", "/v1/reports/at-risk", SCOPE_ADMIN, ROUTE_NEEDS_DB | ROUTE_AUDIT,
	    route_report_at_risk },
	ROUTE_END,
};

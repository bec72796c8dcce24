/*
 * routes_therapists.c - therapist profiles and colleague networks (admin).
 *
 * Every write is one statement (data-modifying CTEs), so it is atomic and
 * committed before its result arrives: a 2xx is always durable.  The
 * statements take the validated body as one jsonb parameter in the canonical
 * form of therapist_json_canonical(), and answer with the stored object built
 * by THERAPIST_JSON_SQL, the same expression GET, the list and the catalog
 * loader use.  After a write the answer is applied to this daemon's catalog at
 * once (read-your-writes for matching); the NOTIFY updates every daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api/api.h"
#include "api/request_db.h"
#include "api/routes.h"
#include "base/log.h"
#include "codec/json_fields.h"
#include "codec/therapist_json.h"
#include "http/problem.h"
#include "http/router.h"
#include "store/catalog_sync.h"
#include "store/db.h"

#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT     500
#define COLLEAGUES_MAX     256
#define COLLEAGUE_TAGS_MAX 64

/* The stored therapist's concerns when the statement did not just write them. */
#define STORED_CONCERNS(alias) THERAPIST_CONCERNS_SQL(alias)

/* clang-format off */
static const char insert_sql[] =
	"WITH b AS (SELECT $1::jsonb AS j),"
	" ins AS (INSERT INTO therapists (external_ref, display_name, gender, languages,"
	"   modalities, formats, sites, populations, identity, payers, self_pay_fee,"
	"   sliding_scale, style_directiveness, style_emotional_intensity,"
	"   style_past_orientation, style_challenge, availability, capacity, accepting_new,"
	"   active, retired_at)"
	"  SELECT b.j->>'external_ref', b.j->>'display_name', b.j->>'gender',"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'languages')),"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'modalities')),"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'formats')),"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'sites')),"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'populations')),"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'identity')),"
	"   ARRAY(SELECT jsonb_array_elements_text(b.j->'payers')),"
	"   (b.j->>'self_pay_fee')::numeric, (b.j->>'sliding_scale')::boolean,"
	"   (b.j->'style'->>'directiveness')::smallint,"
	"   (b.j->'style'->>'emotional_intensity')::smallint,"
	"   (b.j->'style'->>'past_orientation')::smallint,"
	"   (b.j->'style'->>'challenge')::smallint,"
	"   $2::bit(168), (b.j->>'capacity')::integer, (b.j->>'accepting_new')::boolean,"
	"   (b.j->>'active')::boolean,"
	"   CASE WHEN (b.j->>'active')::boolean THEN NULL ELSE now() END"
	"  FROM b RETURNING *),"
	" con AS (INSERT INTO therapist_concerns (therapist_id, concern, level)"
	"  SELECT ins.id, e.key, e.value::smallint FROM ins, b, jsonb_each_text(b.j->'concerns') AS e)"
	" SELECT " THERAPIST_JSON_SQL("ins", "(b.j->'concerns')") " FROM ins, b";
/* clang-format on */

/* PUT (every field in the body) and PATCH (the given ones): a field the body
 * names replaces the stored one. */
/* clang-format off */
#define SET_IF(col, expr) \
	" " col " = CASE WHEN b.j ? '" col "' THEN " expr " ELSE t." col " END,"
/* clang-format on */
#define SET_ARRAY(col) SET_IF(col, "ARRAY(SELECT jsonb_array_elements_text(b.j->'" col "'))")
/* clang-format off */
#define SET_STYLE(axis) \
	" style_" axis " = CASE WHEN b.j ? 'style' THEN (b.j->'style'->>'" axis "')::smallint" \
	" ELSE t.style_" axis " END,"
/* clang-format on */

/* clang-format off */
static const char update_sql[] =
	"WITH b AS (SELECT $2::jsonb AS j),"
	" u AS (UPDATE therapists t SET"
	SET_IF("external_ref", "b.j->>'external_ref'")
	SET_IF("display_name", "b.j->>'display_name'")
	SET_IF("gender", "b.j->>'gender'")
	SET_ARRAY("languages")
	SET_ARRAY("modalities")
	SET_ARRAY("formats")
	SET_ARRAY("sites")
	SET_ARRAY("populations")
	SET_ARRAY("identity")
	SET_ARRAY("payers")
	SET_IF("self_pay_fee", "(b.j->>'self_pay_fee')::numeric")
	SET_IF("sliding_scale", "(b.j->>'sliding_scale')::boolean")
	SET_STYLE("directiveness")
	SET_STYLE("emotional_intensity")
	SET_STYLE("past_orientation")
	SET_STYLE("challenge")
	SET_IF("availability", "$3::bit(168)")
	SET_IF("capacity", "(b.j->>'capacity')::integer")
	SET_IF("accepting_new", "(b.j->>'accepting_new')::boolean")
	SET_IF("active", "(b.j->>'active')::boolean")
	"  retired_at = CASE WHEN NOT (b.j ? 'active') THEN t.retired_at"
	"   WHEN (b.j->>'active')::boolean THEN NULL ELSE coalesce(t.retired_at, now()) END"
	"  FROM b WHERE t.id = $1::bigint RETURNING t.*),"
	" del AS (DELETE FROM therapist_concerns tc USING u, b"
	"  WHERE tc.therapist_id = u.id AND b.j ? 'concerns' AND NOT ((b.j->'concerns') ? tc.concern)),"
	" con AS (INSERT INTO therapist_concerns (therapist_id, concern, level)"
	"  SELECT u.id, e.key, e.value::smallint FROM u, b,"
	"   jsonb_each_text(CASE WHEN b.j ? 'concerns' THEN b.j->'concerns' ELSE '{}'::jsonb END) AS e"
	"  ON CONFLICT (therapist_id, concern) DO UPDATE SET level = EXCLUDED.level"
	"  WHERE therapist_concerns.level <> EXCLUDED.level)"
	" SELECT " THERAPIST_JSON_SQL("u",
	    "(CASE WHEN b.j ? 'concerns' THEN b.j->'concerns' ELSE " STORED_CONCERNS("u") " END)")
	" FROM u, b";
/* clang-format on */

/* Retiring keeps the row and its history; retiring again answers the same. */
/* clang-format off */
static const char retire_sql[] =
	"WITH u AS (UPDATE therapists t SET active = false,"
	"  retired_at = coalesce(t.retired_at, now()) WHERE t.id = $1::bigint RETURNING t.*)"
	" SELECT " THERAPIST_JSON_SQL("u", STORED_CONCERNS("u")) " FROM u";
/* clang-format on */

/* clang-format off */
static const char get_sql[] =
	"SELECT " THERAPIST_JSON_SQL("t", STORED_CONCERNS("t"))
	" FROM therapists t WHERE t.id = $1::bigint";
/* clang-format on */

/* clang-format off */
static const char list_sql[] =
	"SELECT " THERAPIST_JSON_SQL("t", STORED_CONCERNS("t"))
	" FROM therapists t"
	" WHERE ($1::boolean IS NULL OR t.active = $1::boolean) AND t.id > $2::bigint"
	" ORDER BY t.id LIMIT $3::integer";
/* clang-format on */

/* Replaces the set in one statement: nothing is written unless the therapist
 * exists and every colleague does; the answer says which is missing. */
/* clang-format off */
static const char colleagues_put_sql[] =
	"WITH b AS (SELECT $2::jsonb AS j),"
	" owner AS (SELECT t.id FROM therapists t WHERE t.id = $1::bigint),"
	" items AS (SELECT (x.e->>'therapist_id')::bigint AS cid,"
	"   ARRAY(SELECT jsonb_array_elements_text(x.e->'for')) AS tags, x.ord - 1 AS idx"
	"  FROM b, jsonb_array_elements(b.j) WITH ORDINALITY AS x(e, ord)),"
	" missing AS (SELECT i.idx FROM items i"
	"  WHERE NOT EXISTS (SELECT 1 FROM therapists t WHERE t.id = i.cid)),"
	" ok AS (SELECT 1 FROM owner WHERE NOT EXISTS (SELECT 1 FROM missing)),"
	" del AS (DELETE FROM colleagues c WHERE c.therapist_id = $1::bigint"
	"  AND EXISTS (SELECT 1 FROM ok) AND c.colleague_id NOT IN (SELECT cid FROM items)),"
	" ins AS (INSERT INTO colleagues (therapist_id, colleague_id, for_tags)"
	"  SELECT $1::bigint, i.cid, i.tags FROM items i WHERE EXISTS (SELECT 1 FROM ok)"
	"  ON CONFLICT (therapist_id, colleague_id) DO UPDATE SET for_tags = EXCLUDED.for_tags"
	"  WHERE colleagues.for_tags IS DISTINCT FROM EXCLUDED.for_tags)"
	" SELECT (SELECT count(*) FROM owner),"
	"  (SELECT coalesce(jsonb_agg(m.idx ORDER BY m.idx), '[]'::jsonb) FROM missing m),"
	"  (SELECT coalesce(jsonb_agg(jsonb_build_object('therapist_id', i.cid, 'for', to_jsonb(i.tags))"
	"    ORDER BY i.cid), '[]'::jsonb) FROM items i)";
/* clang-format on */

/* clang-format off */
static const char colleagues_get_sql[] =
	"SELECT (SELECT count(*) FROM therapists t WHERE t.id = $1::bigint),"
	" (SELECT coalesce(jsonb_agg(jsonb_build_object('therapist_id', c.colleague_id,"
	"   'for', to_jsonb(c.for_tags)) ORDER BY c.colleague_id), '[]'::jsonb)"
	"  FROM colleagues c WHERE c.therapist_id = $1::bigint)";
/* clang-format on */

/* --- replies ------------------------------------------------------------- */

static void
problem_field(struct request *r, int status, const char *detail, const char *field,
    const char *message)
{
	json_t *errors = json_array();

	problem_add_error(errors, field, message);
	request_problem(r, status, detail, errors);
}

/* A failed statement: a duplicate external_ref is named; the rest is the
 * standard answer. */
static bool
therapist_failed_cb(struct request *r, enum db_status st, const PGresult *res)
{
	if (st == DB_SQL_ERROR && strcmp(db_sqlstate(res), "23505") == 0) {
		problem_field(r, 409, "a therapist with this external_ref exists", "external_ref",
		    "already in use");
		return true;
	}
	return false;
}

static const struct request_db_call create_call = { "create", "therapist", therapist_failed_cb };
static const struct request_db_call update_call = { "update", "therapist", therapist_failed_cb };
static const struct request_db_call retire_call = { "retire", "therapist", therapist_failed_cb };
static const struct request_db_call get_call = { "get", "therapist", therapist_failed_cb };
static const struct request_db_call list_call = { "list", NULL, therapist_failed_cb };
static const struct request_db_call colleagues_call = { "colleagues", NULL, therapist_failed_cb };

/* The one-row, one-column jsonb answer as JSON; NULL when absent/unparsable. */
static json_t *
row_json(const PGresult *res, int row, int col)
{
	if (row >= PQntuples(res) || PQgetisnull(res, row, col))
		return NULL;
	return json_loads(PQgetvalue(res, row, col), 0, NULL);
}

static void
reply_therapist(struct request *r, const PGresult *res, int status, const char *what, bool write)
{
	json_t *t;

	t = row_json(res, 0, 0);
	if (t == NULL) {
		log_error(request_log(r), "therapists: %s answer unreadable request=%s", what,
		    r->id);
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	if (write)
		catalog_sync_apply(request_api(r)->catalog, t);
	request_reply_json(r, status, t);
}

static void
created_cb(struct request *r, const PGresult *res)
{
	reply_therapist(r, res, 201, "create", true);
}

static void
updated_cb(struct request *r, const PGresult *res)
{
	reply_therapist(r, res, 200, "update", true);
}

static void
retired_cb(struct request *r, const PGresult *res)
{
	reply_therapist(r, res, 200, "retire", true);
}

static void
got_cb(struct request *r, const PGresult *res)
{
	reply_therapist(r, res, 200, "get", false);
}

/* --- therapists ------------------------------------------------------------ */

/* Validates the body as MODE; on success *canon (the statement's jsonb text,
 * caller frees) and bits (when availability is given, else bits[0] = 0).
 * -1 when it already answered. */
static int
read_body(struct request *r, enum therapist_json_mode mode, char **canon, char bits[169])
{
	struct field_errors fe;
	struct therapist_profile p;
	bool has_avail = false;
	json_t *c;

	field_errors_init(&fe);
	if (therapist_from_json(r->body, mode, catalog_sync_vocab(request_api(r)->catalog), &p,
	        &has_avail, &fe) != 0) {
		request_problem(r, 422, "invalid therapist", field_errors_take(&fe));
		return -1;
	}
	field_errors_clear(&fe);
	bits[0] = '\0';
	if (has_avail || mode == THERAPIST_FULL)
		therapist_avail_bits(&p.availability, bits);
	c = therapist_json_canonical(r->body, mode);
	*canon = c ? json_dumps(c, JSON_COMPACT) : NULL;
	json_decref(c);
	if (*canon == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return -1;
	}
	return 0;
}

static void
route_therapist_create(struct request *r)
{
	char *canon, bits[169];
	const char *values[2];

	if (read_body(r, THERAPIST_FULL, &canon, bits) != 0)
		return;
	values[0] = canon;
	values[1] = bits;
	request_db_query(r, &create_call, insert_sql, 2, values, created_cb);
	free(canon);
}

/* A GET answer sent back whole (GET, edit, PUT) carries its "id": accepted
 * when it names the path's therapist, and dropped before validation (the
 * path says which therapist; the body never moves a row).  0, or -1 answered. */
static int
drop_own_id(struct request *r)
{
	json_t *id = json_object_get(r->body, "id");

	if (id == NULL)
		return 0;
	if (!json_is_integer(id) || json_integer_value(id) != r->params[0]) {
		problem_field(r, 422, "invalid therapist", "id",
		    "must be left out or match the id in the path");
		return -1;
	}
	json_object_del(r->body, "id");
	return 0;
}

static void
update(struct request *r, enum therapist_json_mode mode)
{
	char *canon, bits[169], id[24];
	const char *values[3];

	if (drop_own_id(r) != 0 || read_body(r, mode, &canon, bits) != 0)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)r->params[0]);
	values[0] = id;
	values[1] = canon;
	values[2] = bits[0] ? bits : NULL;
	request_db_query(r, &update_call, update_sql, 3, values, updated_cb);
	free(canon);
}

static void
route_therapist_replace(struct request *r)
{
	update(r, THERAPIST_FULL);
}

static void
route_therapist_update(struct request *r)
{
	update(r, THERAPIST_PATCH);
}

static void
route_therapist_retire(struct request *r)
{
	request_db_by_id(r, &retire_call, retire_sql, retired_cb);
}

static void
route_therapist_get(struct request *r)
{
	request_db_by_id(r, &get_call, get_sql, got_cb);
}

struct list_state {
	int limit;
};

static void
listed_cb(struct request *r, const PGresult *res)
{
	const struct list_state *ls = r->state;
	json_t *list, *out;
	int i, n;

	n = PQntuples(res);
	list = json_array();
	for (i = 0; list != NULL && i < n && i < ls->limit; i++) {
		json_t *t = row_json(res, i, 0);

		if (t == NULL || json_array_append_new(list, t) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (list == NULL) {
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	out = json_pack("{s:o, s:n}", "therapists", list, "next");
	if (out != NULL && n > ls->limit) {
		/* More rows exist: the cursor is the last id of this page. */
		json_t *last = json_array_get(list, (size_t)ls->limit - 1);
		char cursor[24];

		snprintf(cursor, sizeof(cursor), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(last, "id")));
		json_object_set_new(out, "next", json_string(cursor));
	}
	if (out == NULL) {
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	request_reply_json(r, 200, out);
}

/* "?after=": a cursor from "next" (a positive id); 0 when absent, -1 bad. */
static long long
parse_cursor(const char *s)
{
	long long v = 0;
	int digits = 0;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || ++digits > 15)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return digits > 0 && v > 0 ? v : -1;
}

static void
route_therapist_list(struct request *r)
{
	struct list_state *ls;
	const char *active = request_query(r, "active"), *values[3];
	char after[24], limit[16];
	long long cursor;
	int n;

	if (request_query_int(r, "limit", LIST_DEFAULT_LIMIT, 1, LIST_MAX_LIMIT, &n) != 0)
		return;
	if (active != NULL && strcmp(active, "true") != 0 && strcmp(active, "false") != 0) {
		request_query_problem(r, "active", "must be true or false");
		return;
	}
	cursor = parse_cursor(request_query(r, "after"));
	if (cursor < 0) {
		request_query_problem(r, "after", "must be the cursor from a previous page's next");
		return;
	}
	if ((ls = request_state_new(r, sizeof(*ls), free)) == NULL)
		return;
	ls->limit = n;
	snprintf(after, sizeof(after), "%lld", cursor);
	snprintf(limit, sizeof(limit), "%d", n + 1); /* one more: is there a next page? */
	values[0] = active;
	values[1] = after;
	values[2] = limit;
	request_db_query(r, &list_call, list_sql, 3, values, listed_cb);
}

/* --- colleagues ------------------------------------------------------------ */

/* One `for` tag: a concern or a modality of the vocabulary. */
static int
colleague_tag(const struct vocab *v, const json_t *tag, const char *path, struct field_errors *fe)
{
	char concerns[400], modalities[400], shown[49];

	if (!json_is_string(tag)) {
		field_error(fe, path, "must be a string (a concerns or modalities tag)");
		return -1;
	}
	if (vocab_lookup(v, VOCAB_CONCERNS, json_string_value(tag)) >= 0 ||
	    vocab_lookup(v, VOCAB_MODALITIES, json_string_value(tag)) >= 0)
		return 0;
	concerns[0] = modalities[0] = '\0';
	for (int k = 0; k < 2; k++) {
		enum vocab_kind kind = k ? VOCAB_MODALITIES : VOCAB_CONCERNS;
		char *buf = k ? modalities : concerns;
		size_t used = 0;

		for (int i = 0; i < vocab_count(v, kind); i++) {
			int w = snprintf(buf + used, sizeof(concerns) - used, "%s%s", i ? ", " : "",
			    vocab_name(v, kind, i));

			if (w < 0 || (size_t)w >= sizeof(concerns) - used) {
				snprintf(buf + sizeof(concerns) - 5, 5, "...");
				break;
			}
			used += (size_t)w;
		}
	}
	/* At most 48 bytes of the client's string, cut between characters (a
	 * byte cut is not UTF-8, and the error could not be recorded). */
	snprintf(shown, sizeof(shown), "%s", json_string_value(tag));
	jf_utf8_trim(shown);
	field_error(fe, path, "unknown tag \"%s\"; allowed: concerns %s; modalities %s", shown,
	    concerns, modalities);
	return -1;
}

/* Validates [{"therapist_id": 7, "for": ["emdr"]}, ...] and returns the
 * canonical array ("for" always present); NULL with errors in fe. */
static json_t *
colleagues_from_json(const json_t *body, long long self, const struct vocab *v,
    struct field_errors *fe)
{
	static const char *const keys[] = { "therapist_id", "for", NULL };
	const json_t *item;
	json_t *out;
	char ipath[32], path[64], tpath[80];
	size_t i, j;
	int bad = 0; /* from the readers' answers, not the errors recorded */

	if (!json_is_array(body)) {
		field_error(fe, "", "must be an array");
		return NULL;
	}
	if (json_array_size(body) > COLLEAGUES_MAX) {
		field_error(fe, "", "must have at most %d items", COLLEAGUES_MAX);
		return NULL;
	}
	out = json_array();
	json_array_foreach (body, i, item) {
		const json_t *tags = NULL, *tag;
		long long id = 0;
		int rc;

		jf_index_path(ipath, sizeof(ipath), "", i);
		if (jf_only(item, ipath, keys, fe) != 0) {
			bad = 1;
			if (!json_is_object(item))
				continue;
		}
		jf_path(path, sizeof(path), ipath, "therapist_id");
		rc = jf_int(item, "therapist_id", path, 1, 999999999999999LL, &id, fe);
		if (rc == 0)
			field_error(fe, path, "is required");
		if (rc == 1 && id == self) {
			field_error(fe, path, "must be another therapist (not this one)");
			rc = -1;
		}
		for (j = 0; rc == 1 && j < i; j++) {
			const json_t *prev =
			    json_object_get(json_array_get(body, j), "therapist_id");

			if (json_is_integer(prev) && json_integer_value(prev) == id) {
				field_error(fe, path, "duplicate colleague");
				rc = -1;
			}
		}
		bad |= rc != 1;
		jf_path(path, sizeof(path), ipath, "for");
		rc = jf_array(item, "for", path, COLLEAGUE_TAGS_MAX, &tags, fe);
		bad |= rc < 0;
		json_array_foreach (rc == 1 ? tags : NULL, j, tag) {
			size_t k;

			jf_index_path(tpath, sizeof(tpath), path, j);
			if (colleague_tag(v, tag, tpath, fe) != 0) {
				bad = 1;
				continue;
			}
			for (k = 0; k < j; k++)
				if (json_equal(json_array_get(tags, k), (json_t *)tag))
					break;
			if (k < j) {
				field_error(fe, tpath, "duplicate tag \"%s\"",
				    json_string_value(tag));
				bad = 1;
			}
		}
		if (out != NULL)
			json_array_append_new(out,
			    json_pack("{s:I, s:o}", "therapist_id", (json_int_t)id, "for",
			        tags ? json_incref((json_t *)tags) : json_array()));
	}
	if (bad || out == NULL) {
		json_decref(out);
		if (!field_errors_any(fe))
			field_error(fe, "", "invalid colleagues");
		return NULL;
	}
	return out;
}

static void
colleagues_put_cb(struct request *r, const PGresult *res)
{
	json_t *missing, *set, *errors;
	size_t i;

	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
		request_problem(r, 404, "no such therapist", NULL);
		return;
	}
	missing = row_json(res, 0, 1);
	if (json_array_size(missing) > 0) {
		errors = json_array();
		for (i = 0; i < json_array_size(missing); i++) {
			char path[48];

			snprintf(path, sizeof(path), "[%" JSON_INTEGER_FORMAT "].therapist_id",
			    json_integer_value(json_array_get(missing, i)));
			problem_add_error(errors, path, "no such therapist");
		}
		json_decref(missing);
		request_problem(r, 422, "invalid colleagues", errors);
		return;
	}
	json_decref(missing);
	set = row_json(res, 0, 2);
	if (set == NULL) {
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	request_reply_json(r, 200, set);
}

static void
route_colleagues_put(struct request *r)
{
	struct field_errors fe;
	json_t *set;
	char id[24], *text;
	const char *values[2];

	field_errors_init(&fe);
	set = colleagues_from_json(r->body, r->params[0],
	    catalog_sync_vocab(request_api(r)->catalog), &fe);
	if (set == NULL) {
		request_problem(r, 422, "invalid colleagues", field_errors_take(&fe));
		return;
	}
	field_errors_clear(&fe);
	text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	if (text == NULL) {
		request_problem(r, 500, "out of memory", NULL);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->params[0]);
	values[0] = id;
	values[1] = text;
	request_db_query(r, &colleagues_call, colleagues_put_sql, 2, values, colleagues_put_cb);
	free(text);
}

static void
colleagues_get_cb(struct request *r, const PGresult *res)
{
	json_t *set;

	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
		request_problem(r, 404, "no such therapist", NULL);
		return;
	}
	set = row_json(res, 0, 1);
	if (set == NULL) {
		request_problem(r, 500, "internal error", NULL);
		return;
	}
	request_reply_json(r, 200, set);
}

static void
route_colleagues_get(struct request *r)
{
	request_db_by_id(r, &colleagues_call, colleagues_get_sql, colleagues_get_cb);
}

const struct route routes_therapists[] = {
	{ "POST", "/v1/therapists", SCOPE_ADMIN, ROUTE_JSON_BODY | ROUTE_NEEDS_DB,
	    route_therapist_create },
	{ "GET", "/v1/therapists", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_therapist_list },
	{ "GET", "/v1/therapists/{id}", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_therapist_get },
	{ "PUT", "/v1/therapists/{id}", SCOPE_ADMIN, ROUTE_JSON_BODY | ROUTE_NEEDS_DB,
	    route_therapist_replace },
	{ "PATCH", "/v1/therapists/{id}", SCOPE_ADMIN, ROUTE_JSON_BODY | ROUTE_NEEDS_DB,
	    route_therapist_update },
	{ "DELETE", "/v1/therapists/{id}", SCOPE_ADMIN, ROUTE_NEEDS_DB, route_therapist_retire },
	{ "PUT", "/v1/therapists/{id}/colleagues", SCOPE_ADMIN,
	    ROUTE_JSON_BODY | ROUTE_ARRAY_BODY | ROUTE_NEEDS_DB, route_colleagues_put },
	{ "GET", "/v1/therapists/{id}/colleagues", SCOPE_ADMIN, ROUTE_NEEDS_DB,
	    route_colleagues_get },
	ROUTE_END,
};

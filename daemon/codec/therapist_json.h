/*
 * therapist_json.h - the API's therapist object: validation, the engine
 * profile, and the canonical form the database statements consume.
 *
 * One mapping serves three readers: a request body (POST/PUT/PATCH), and the
 * object the database builds (THERAPIST_JSON_SQL, the same expression for GET,
 * list and the catalog loader), which the catalog feeds back through
 * therapist_from_json() in THERAPIST_STORED mode to get the engine profile.
 *
 * Limits follow the engine's fixed-size profile (profile.h): gender, sites
 * and payers 1..31 bytes, at most 8 languages, 8 sites, 16 payers.
 *
 * Ownership: nothing is kept; out-structs are the caller's; returned JSON is
 * a new reference owned by the caller.
 */
#ifndef ALLIANCE_THERAPIST_JSON_H
#define ALLIANCE_THERAPIST_JSON_H

#include <stdbool.h>

#include <jansson.h>

#include "engine/engine.h"
#include "codec/json_fields.h"

enum therapist_json_mode {
	THERAPIST_FULL,   /* POST, PUT: external_ref and display_name required */
	THERAPIST_PATCH,  /* any non-empty subset; null clears an optional field */
	THERAPIST_STORED, /* the database's object ("id" included); tags the
				 * vocabulary no longer has are skipped, not errors */
};

#define THERAPIST_REF_MAX          128
#define THERAPIST_NAME_MAX         200
#define THERAPIST_LABEL_MAX        (PROFILE_STR_MAX - 1) /* gender, site, payer */
#define THERAPIST_FEE_MAX          65535                 /* the engine keeps a uint16_t */
#define THERAPIST_CAPACITY_MAX     10000
#define THERAPIST_DEFAULT_CAPACITY 25

/* Validates obj as MODE and fills *out (therapist_profile_init'ed first; fields left
 * out take their defaults: accepting_new and active true, capacity 25).  In
 * PATCH mode *out holds only the given fields (for validation only).
 * *has_avail (may be NULL) tells whether "availability" was given.
 * 0, or -1 with every problem in fe. */
int therapist_from_json(const json_t *obj, enum therapist_json_mode mode, const struct vocab *v,
    struct therapist_profile *out, bool *has_avail, struct field_errors *fe);

/* The statement parameter for a validated body: FULL mode gives every field
 * (defaults filled in), PATCH mode only the given ones with a null replaced
 * by that field's default (so "gender": null clears, "languages": null is []).
 * NULL on ENOMEM. */
json_t *therapist_json_canonical(const json_t *obj, enum therapist_json_mode mode);

/* The 168-character bit(168) text of a weekly mask (bit i = day * 24 + hour,
 * counted from the left, as sql/001_init.sql stores it). */
void therapist_avail_bits(const struct avail *a, char out[169]);
/* The inverse: a weekly mask from that text (the catalog loader reads the
 * column, not the slots of THERAPIST_AVAIL_SQL: store/therapist_row.h).  0, or -1 unless exactly 168
 * characters '0' and '1' (*a is then cleared). */
int therapist_avail_from_bits(const char *bits, struct avail *a);

/*
 * SQL: the API object of therapist row ALIAS (a therapists row or a
 * RETURNING of one), with CONCERNS a jsonb expression of its concerns
 * ({tag: level}).  Nulls are left out (gender, self_pay_fee, style axes).
 */
/* clang-format off */
#define THERAPIST_CONCERNS_SQL(alias) \
	"(SELECT coalesce(jsonb_object_agg(tc.concern, tc.level), '{}'::jsonb)" \
	" FROM therapist_concerns tc WHERE tc.therapist_id = " alias ".id)"
/* clang-format on */

/* clang-format off */
#define THERAPIST_AVAIL_SQL(alias) \
	"(SELECT coalesce(jsonb_agg(jsonb_build_object(" \
	"'day', (ARRAY['mon','tue','wed','thu','fri','sat','sun'])[av.d + 1]," \
	" 'from', lpad(av.lo::text, 2, '0') || ':00'," \
	" 'to', lpad((av.hi + 1)::text, 2, '0') || ':00') ORDER BY av.d, av.lo), '[]'::jsonb)" \
	" FROM (SELECT ab.i / 24 AS d, min(ab.i % 24) AS lo, max(ab.i % 24) AS hi" \
	"  FROM (SELECT gs.i, gs.i - row_number() OVER (ORDER BY gs.i) AS g" \
	"   FROM generate_series(0, 167) AS gs(i)" \
	"   WHERE " alias ".availability <> B'0'::bit(168)" \
	"     AND get_bit(" alias ".availability, gs.i) = 1) AS ab" \
	"  GROUP BY ab.i / 24, ab.g) AS av)"
/* clang-format on */

/* clang-format off */
#define THERAPIST_JSON_SQL(alias, concerns) \
	"jsonb_strip_nulls(jsonb_build_object(" \
	"'id', " alias ".id, 'external_ref', " alias ".external_ref," \
	" 'display_name', " alias ".display_name, 'gender', " alias ".gender," \
	" 'languages', to_jsonb(" alias ".languages), 'concerns', " concerns "," \
	" 'modalities', to_jsonb(" alias ".modalities), 'formats', to_jsonb(" alias ".formats)," \
	" 'sites', to_jsonb(" alias ".sites), 'populations', to_jsonb(" alias ".populations)," \
	" 'identity', to_jsonb(" alias ".identity)," \
	" 'style', jsonb_build_object('directiveness', " alias ".style_directiveness," \
	"  'emotional_intensity', " alias ".style_emotional_intensity," \
	"  'past_orientation', " alias ".style_past_orientation," \
	"  'challenge', " alias ".style_challenge)," \
	" 'availability', " THERAPIST_AVAIL_SQL(alias) "," \
	" 'payers', to_jsonb(" alias ".payers), 'self_pay_fee', trim_scale(" alias ".self_pay_fee)," \
	" 'sliding_scale', " alias ".sliding_scale, 'capacity', " alias ".capacity," \
	" 'accepting_new', " alias ".accepting_new, 'active', " alias ".active))"
/* clang-format on */

#endif

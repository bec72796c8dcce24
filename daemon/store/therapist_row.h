/*
 * therapist_row.h - a therapist's engine profile from the columns of its
 * database row, for the catalog loader.
 *
 * A full load reads 100k therapists: building each one's API object in SQL
 * (THERAPIST_JSON_SQL) and parsing it again costs about twice the database
 * and loop time of plain columns.  therapist_from_row() makes of the
 * THERAPIST_ROW_SQL columns the profile therapist_from_json() makes of the
 * stored object (THERAPIST_STORED mode: tags the vocabulary no longer has are
 * skipped; anything the engine's profile cannot hold refuses the row).
 *
 * Ownership: nothing is kept; the out-struct is the caller's.
 */
#ifndef ALLIANCE_THERAPIST_ROW_H
#define ALLIANCE_THERAPIST_ROW_H

#include <stdint.h>

#include <libpq-fe.h>

#include "engine/engine.h"

/* The columns, in the order of enum therapist_row_col (ALIAS a therapists row). */
/* clang-format off */
#define THERAPIST_ROW_SQL(alias) \
	alias ".external_ref, " alias ".display_name, " alias ".gender, " alias ".languages," \
	" (SELECT string_agg(tc.concern || ' ' || tc.level, ';')" \
	"  FROM therapist_concerns tc WHERE tc.therapist_id = " alias ".id)," \
	" " alias ".modalities, " alias ".formats, " alias ".sites, " alias ".populations," \
	" " alias ".identity, " alias ".payers, " alias ".style_directiveness," \
	" " alias ".style_emotional_intensity, " alias ".style_past_orientation," \
	" " alias ".style_challenge, " alias ".availability::text, " alias ".self_pay_fee," \
	" " alias ".sliding_scale, " alias ".capacity, " alias ".accepting_new, " alias ".active"
/* clang-format on */

enum therapist_row_col {
	TR_EXTERNAL_REF,
	TR_DISPLAY_NAME,
	TR_GENDER,
	TR_LANGUAGES,
	TR_CONCERNS, /* "tag level;tag level" */
	TR_MODALITIES,
	TR_FORMATS,
	TR_SITES,
	TR_POPULATIONS,
	TR_IDENTITY,
	TR_PAYERS,
	TR_STYLE, /* four columns, in style_axis order */
	TR_AVAILABILITY = TR_STYLE + 4,
	TR_SELF_PAY_FEE,
	TR_SLIDING_SCALE,
	TR_CAPACITY,
	TR_ACCEPTING_NEW,
	TR_ACTIVE,
	TR_NCOLS
};

/* The profile of therapist ID from row ROW's columns FIRST .. FIRST + TR_NCOLS
 * - 1 of RES.  0, or -1 with *field naming the first column it refused. */
int therapist_from_row(const PGresult *res, int row, int first, uint32_t id, const struct vocab *v,
    struct therapist_profile *out, const char **field);

#endif

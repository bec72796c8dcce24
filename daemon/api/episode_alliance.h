/*
 * episode_alliance.h - an episode's feedback and attendance rows as engine
 * structs, their evaluation (alliance_evaluate) and the API's "alliance"
 * object (daemon/api/openapi.yaml "Alliance").
 *
 * Rows come from SQL in one shape, six columns starting at a given column:
 *     kind ('f' feedback, 'a' attendance, NULL none), session,
 *     instrument or attendance status, items (jsonb text), flags (jsonb text),
 *     negative_feelings
 * EPISODE_ROWS_SQL(ep, upto_fb, upto_at) below is the lateral subquery that
 * yields them; every route that evaluates an episode uses it.
 *
 * Ownership: struct episode_rows owns its arrays (episode_rows_clear frees
 * them); alliance_reasons_json returns a new reference.
 */
#ifndef ALLIANCE_EPISODE_ALLIANCE_H
#define ALLIANCE_EPISODE_ALLIANCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "engine/engine.h"
#include "codec/json_writer.h"

/* The rows of episode EP (an SQL expression), feedback restricted by the SQL
 * condition FB_COND on alias f, attendance by AT_COND on alias t.  Constant
 * text only: the conditions are written in the calling file, never built
 * from input. */
/* clang-format off */
#define EPISODE_ROWS_SQL(EP, FB_COND, AT_COND) \
	"SELECT 'f'::text AS kind, f.session, f.instrument AS what, f.items::text AS items," \
	" f.flags::text AS flags, f.negative_feelings AS neg FROM feedback f" \
	" WHERE f.episode_id = " EP " AND (" FB_COND ")" \
	" UNION ALL SELECT 'a', t.session, t.status, NULL, NULL, NULL FROM attendance t" \
	" WHERE t.episode_id = " EP " AND (" AT_COND ")"
/* clang-format on */

#define EPISODE_ROWS_COLUMNS 6

struct episode_rows {
	struct feedback *fb;
	size_t n_fb, cap_fb;
	struct attendance *att;
	size_t n_att, cap_att;
};

void episode_rows_init(struct episode_rows *er);
/* Forget the rows, keep the memory (for the next episode of a report). */
void episode_rows_reset(struct episode_rows *er);
void episode_rows_clear(struct episode_rows *er);
/* 0, or -1 out of memory. */
int episode_rows_add_feedback(struct episode_rows *er, const struct feedback *fb);
int episode_rows_add_attendance(struct episode_rows *er, uint32_t session,
    enum attendance_status status);
/* Row ROW of res, the six columns from COL.  A row whose kind is NULL (an
 * episode without rows, from a LEFT JOIN) is skipped.  0, or -1 for a row
 * that does not parse or out of memory. */
int episode_rows_add_pg(struct episode_rows *er, const PGresult *res, int row, int col);

/* Sorts by session and runs alliance_evaluate. 0, or an engine error. */
int episode_rows_evaluate(struct episode_rows *er, const struct engine_params *p,
    struct alliance_result *out);

/* Plain-language reasons: the engine's reasons rendered, then a sentence for
 * the status and action.  The i-th sentence (in buf, or a constant), "" for
 * one that cannot be rendered (skip it), NULL past the last. */
const char *alliance_sentence(const struct alliance_result *a, const struct vocab *v, int i,
    char *buf, size_t n);
/* The sentences as a JSON array (new reference) or NULL. */
json_t *alliance_reasons_json(const struct alliance_result *a, const struct vocab *v);

/* The alliance object, written as text: {"episode_id", "status", "action",
 * "reasons", "sessions", "index_latest", "index_ewma", "trend", "evidence":
 * [{session, items, why}], "outcome"}. */
void alliance_write(struct json_writer *w, int64_t episode_id, const struct alliance_result *a,
    const struct vocab *v);

/* A number rounded to one decimal (indices, trends, scores). */
json_t *json_one_decimal(double v);

struct request;

/* Evaluates the rows of res (from column col on, EPISODE_ROWS_SQL's six),
 * plus an extra feedback or attendance (session 0 = none) not yet in them,
 * and answers 200 with the alliance object (500 if the rows do not evaluate). */
void alliance_reply(struct request *r, const PGresult *res, int col,
    const struct feedback *extra_fb, uint32_t extra_session, enum attendance_status extra_status);

#endif

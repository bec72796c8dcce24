/*
 * episode_alliance.c - database rows -> engine structs -> the alliance object.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/episode_alliance.h"
#include "base/log.h"
#include "codec/feedback_json.h"
#include "codec/json_writer.h"
#include "http/router.h"
#include "store/catalog_sync.h"

void
episode_rows_init(struct episode_rows *er)
{
	memset(er, 0, sizeof(*er));
}

void
episode_rows_reset(struct episode_rows *er)
{
	er->n_fb = 0;
	er->n_att = 0;
}

void
episode_rows_clear(struct episode_rows *er)
{
	free(er->fb);
	free(er->att);
	episode_rows_init(er);
}

/* Grows an array to hold one more element of SIZE; 0 or -1. */
static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
episode_rows_add_feedback(struct episode_rows *er, const struct feedback *fb)
{
	if (grow((void **)&er->fb, &er->cap_fb, er->n_fb, sizeof(*er->fb)) < 0)
		return -1;
	er->fb[er->n_fb++] = *fb;
	return 0;
}

int
episode_rows_add_attendance(struct episode_rows *er, uint32_t session,
    enum attendance_status status)
{
	if (grow((void **)&er->att, &er->cap_att, er->n_att, sizeof(*er->att)) < 0)
		return -1;
	er->att[er->n_att].session = session;
	er->att[er->n_att].status = status;
	er->n_att++;
	return 0;
}

int
episode_rows_add_pg(struct episode_rows *er, const PGresult *res, int row, int col)
{
	const char *kind;
	long session;
	struct feedback fb;
	int st;

	if (PQnfields(res) < col + EPISODE_ROWS_COLUMNS || PQgetisnull(res, row, col))
		return PQnfields(res) < col + EPISODE_ROWS_COLUMNS ? -1 : 0;
	kind = PQgetvalue(res, row, col);
	session = strtol(PQgetvalue(res, row, col + 1), NULL, 10);
	if (session < 1 || session > FEEDBACK_MAX_SESSION)
		return -1;
	if (kind[0] == 'a') {
		st = attendance_status_lookup(PQgetvalue(res, row, col + 2));
		if (st < 0)
			return -1;
		return episode_rows_add_attendance(er, (uint32_t)session,
		    (enum attendance_status)st);
	}
	if (feedback_from_row((uint32_t)session, PQgetvalue(res, row, col + 2),
	        PQgetvalue(res, row, col + 3),
	        PQgetisnull(res, row, col + 4) ? NULL : PQgetvalue(res, row, col + 4),
	        PQgetisnull(res, row, col + 5) ? NULL : PQgetvalue(res, row, col + 5), &fb) < 0)
		return -1;
	return episode_rows_add_feedback(er, &fb);
}

static int
by_session(const void *a, const void *b)
{
	const struct feedback *x = a, *y = b;

	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	/* ORS first within a session: it is taken at the start of the session. */
	return (x->instrument != INSTR_ORS) - (y->instrument != INSTR_ORS);
}

int
episode_rows_evaluate(struct episode_rows *er, const struct engine_params *p,
    struct alliance_result *out)
{
	if (er->n_fb > 1)
		qsort(er->fb, er->n_fb, sizeof(*er->fb), by_session);
	return alliance_evaluate(p, er->fb, er->n_fb, er->att, er->n_att, out);
}

json_t *
json_one_decimal(double v)
{
	return json_real(round(v * 10.0) / 10.0);
}

/* One sentence per status: what it means and what to do (docs/alliance.md). */
static const char *
status_sentence(const struct alliance_result *a)
{
	switch (a->status) {
	case AST_UNSAFE:
		return "a clinical lead must review this episode now; referral suggestions are "
		       "offered at once";
	case AST_DISENGAGING:
		return "the last two scheduled sessions were no-shows; reach out and offer a "
		       "rematch rather than lose the client";
	case AST_FORMING:
		return a->action == ACT_DISCUSS
		    ? "the alliance rarely clicks at once, but needs should be raised early"
		    : "the alliance rarely clicks at once: judge it after 2-3 sessions";
	case AST_TRANSFERENCE:
		return "strong negative feelings while trust holds are normal therapeutic "
		       "material; explore them in session";
	case AST_MISMATCH:
		return "poor sessions again and again: the pair is probably incompatible; "
		       "suggest a colleague";
	case AST_STRAINED:
		return "the alliance is strained: discuss it in session (rupture and repair)";
	case AST_REPAIRED: return "the alliance recovered after a rupture";
	case AST_STRONG:
	case AST_COUNT: break;
	}
	return NULL;
}

const char *
alliance_sentence(const struct alliance_result *a, const struct vocab *v, int i, char *buf,
    size_t n)
{
	if (i < a->n_reasons)
		return reason_render(&a->reasons[i], v, buf, n) >= 0 ? buf : "";
	if (i == a->n_reasons)
		return status_sentence(a) ? status_sentence(a) : NULL;
	return NULL;
}

json_t *
alliance_reasons_json(const struct alliance_result *a, const struct vocab *v)
{
	json_t *arr = json_array();
	const char *s;
	char buf[256];
	int i;

	for (i = 0; arr != NULL && (s = alliance_sentence(a, v, i, buf, sizeof(buf))) != NULL; i++)
		if (s[0] != '\0')
			json_array_append_new(arr, json_string(s));
	return arr;
}

/* ------------------------------------------------------------------------ */
/* The same object as text (json_writer.h), key for key. */

static void
rendered_write(struct json_writer *w, const struct reason *r, const struct vocab *v)
{
	char buf[256];
	int n = reason_render(r, v, buf, sizeof(buf));

	if (n < 0)
		buf[0] = '\0', n = 0;
	jw_string_n(w, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void
evidence_write(struct json_writer *w, const struct evidence *e, const struct vocab *v)
{
	int bit;

	jw_object_begin(w);
	jw_key(w, "session");
	jw_int(w, (long long)e->session);
	jw_key(w, "items");
	jw_array_begin(w);
	for (bit = 0; bit < 32 && e->instrument != INSTR_COUNT; bit++) {
		const char *name;

		if (!(e->items & (1u << bit)))
			continue;
		name = evidence_item_name(e->instrument, bit);
		if (name != NULL)
			jw_string(w, name);
	}
	jw_array_end(w);
	jw_key(w, "why");
	rendered_write(w, &e->why, v);
	jw_object_end(w);
}

static void
one_decimal_or_null(struct json_writer *w, bool has, double v)
{
	if (has)
		jw_fixed(w, v, 1);
	else
		jw_null(w);
}

void
alliance_write(struct json_writer *w, int64_t episode_id, const struct alliance_result *a,
    const struct vocab *v)
{
	const char *s;
	char buf[256];
	int i;

	jw_object_begin(w);
	jw_key(w, "episode_id");
	jw_int(w, episode_id);
	jw_key(w, "status");
	jw_string(w, alliance_state_name(a->status));
	jw_key(w, "action");
	jw_string(w, alliance_action_name(a->action));
	jw_key(w, "reasons");
	jw_array_begin(w);
	for (i = 0; (s = alliance_sentence(a, v, i, buf, sizeof(buf))) != NULL; i++)
		if (s[0] != '\0')
			jw_string(w, s);
	jw_array_end(w);
	jw_key(w, "sessions");
	jw_int(w, (long long)a->sessions);
	jw_key(w, "index_latest");
	one_decimal_or_null(w, a->has_index, a->index_latest);
	jw_key(w, "index_ewma");
	one_decimal_or_null(w, a->has_index, a->index_ewma);
	jw_key(w, "score_latest");
	one_decimal_or_null(w, a->has_index, a->score_latest);
	jw_key(w, "score_ewma");
	one_decimal_or_null(w, a->has_index, a->score_ewma);
	jw_key(w, "trend");
	one_decimal_or_null(w, a->has_index, a->trend);
	jw_key(w, "scores");
	jw_array_begin(w);
	for (i = 0; i < a->n_recent; i++) {
		jw_object_begin(w);
		jw_key(w, "session");
		jw_int(w, (long long)a->recent[i].session);
		jw_key(w, "score");
		one_decimal_or_null(w, true, a->recent[i].score);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_key(w, "evidence");
	jw_array_begin(w);
	for (i = 0; i < a->n_evidence; i++)
		evidence_write(w, &a->evidence[i], v);
	jw_array_end(w);
	jw_key(w, "outcome");
	if (a->outcome.has) {
		jw_object_begin(w);
		jw_key(w, "first");
		jw_fixed(w, a->outcome.first, 1);
		jw_key(w, "latest");
		jw_fixed(w, a->outcome.latest, 1);
		jw_key(w, "reliable_improvement");
		jw_bool(w, a->outcome.reliable_improvement);
		jw_object_end(w);
	} else {
		jw_null(w);
	}
	jw_object_end(w);
}

void
alliance_reply(struct request *r, const PGresult *res, int col, const struct feedback *extra_fb,
    uint32_t extra_session, enum attendance_status extra_status)
{
	struct episode_rows er;
	struct alliance_result out;
	struct json_writer w;
	char text[4096];
	int i, n = PQntuples(res);

	episode_rows_init(&er);
	for (i = 0; i < n; i++)
		if (episode_rows_add_pg(&er, res, i, col) < 0)
			goto fail;
	if (extra_fb != NULL && episode_rows_add_feedback(&er, extra_fb) < 0)
		goto fail;
	if (extra_session != 0 && episode_rows_add_attendance(&er, extra_session, extra_status) < 0)
		goto fail;
	if (episode_rows_evaluate(&er, request_api(r)->params, &out) != 0)
		goto fail;
	episode_rows_clear(&er);
	/* Written as text: no json_t tree per answer. */
	jw_init(&w, text, sizeof(text));
	alliance_write(&w, r->params[0], &out, catalog_sync_vocab(request_api(r)->catalog));
	request_reply_writer(r, 200, &w);
	return;
fail:
	episode_rows_clear(&er);
	log_warn(request_log(r), "request id=%s episode=%lld rows do not evaluate", r->id,
	    (long long)r->params[0]);
	request_problem(r, 500, "the episode's feedback could not be evaluated", NULL);
}

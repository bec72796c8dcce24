/*
 * alliance.h — per-session judgement and the episode's alliance status
 * (docs/alliance.md).
 *
 * One scale: each instrument's index has its own threshold, so indexes of
 * different instruments are never compared, averaged or subtracted. Every
 * scored session gets an alliance score 0-100, piecewise linear with the
 * instrument's threshold at 70: index / thr x 70 below it, 70 + (index - thr)
 * / (100 - thr) x 30 from it up. Trends, the ewma, the strained drop and the
 * reasons use the score; the result gives both the index and the score.
 *
 * Per session (every form of the session counts: its alliance form, if any,
 * and its ORS; an ORS alone that carries a flag is a rated session with no
 * score):
 *   flags   ticked on any form, plus item flags: an alliance5 heard / open /
 *           adapts or an SRS relationship / approach item at or below
 *           item_flag_max raises unheard / judged / misunderstood /
 *           unheard / misunderstood (looking_forward never: a client in
 *           transference may not look forward either; only `dread` says so)
 *   transference pattern = negative_feelings >= affect_threshold, trust
 *           signal >= trust_floor, and no red flag
 *   poor  = a red flag (judged, unheard, dread, misunderstood), or the trust
 *           signal below trust_floor (never transference), or score < 70 and
 *           not a transference pattern. Exact boundaries: score 70 (SRS total
 *           36) is not poor; sums of one-decimal items are compared with a
 *           tolerance far below their step.
 *
 * Episode status, the first rule that applies:
 *   1 unsafe       any form flagged unsafe/boundaries        → review
 *   2 disengaging  the last two scheduled sessions no-shows   → reach_out
 *   3 (< min_sessions rated) transference if the latest is a transference
 *                  pattern → continue; else forming → continue, or discuss
 *                  when the latest is poor ("speak up early")
 *   4 mismatch     >= 2 of the last three rated sessions poor, and the latest
 *                  poor or a transference pattern             → refer
 *   5 transference latest is a transference pattern          → continue
 *   6 strained     latest poor, or its score more than strained_drop below
 *                  the highest score of the three sessions before it → discuss
 *   7 repaired     a poor session among the last repair_window rated ones,
 *                  the latest not                             → continue
 *   8 strong                                                  → continue
 *
 * "Scheduled" sessions are attendance entries that are not cancelled plus
 * every session with feedback (feedback means the client came); the status
 * of a session number is its feedback if any, else its last attendance entry.
 *
 * score_ewma: e1 = score1, e = alpha x score + (1 - alpha) x e over scored
 * sessions; index_ewma is score_ewma on the latest instrument's index scale
 * (alliance_index_of_score). trend: least-squares slope of the score over
 * session number, last trend_window (<= 16) scored sessions, score points per
 * session (0 with < 2). index_latest / score_latest: the latest scored session.
 *
 * Input: feedback ordered by session (non-decreasing; ENGINE_EUNSORTED
 * otherwise); alliance and ORS may share a session number, in either order; a
 * second form of the same family at the same session replaces the first
 * (safety flags of every form still count).
 * Output: a caller-owned struct with fixed-capacity arrays; nothing is
 * allocated.
 */
#ifndef ENGINE_ALLIANCE_H
#define ENGINE_ALLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/instrument.h"
#include "engine/params.h"
#include "engine/reasons.h"

enum attendance_status { ATT_ATTENDED, ATT_CANCELLED, ATT_NO_SHOW };
/* Highest session number alliance_evaluate takes (the schema's CHECK); beyond it, and for an
 * attendance entry below 1, it answers ENGINE_EINVAL. */
#define ALLIANCE_MAX_SESSION 10000
/* "attended", "cancelled", "no_show"; lookup -1 when unknown. */
const char *attendance_status_name(enum attendance_status s);
int attendance_status_lookup(const char *name);

struct attendance {
	uint32_t session;
	enum attendance_status status;
};

enum alliance_state {
	AST_FORMING,
	AST_TRANSFERENCE,
	AST_UNSAFE,
	AST_DISENGAGING,
	AST_MISMATCH,
	AST_STRAINED,
	AST_REPAIRED,
	AST_STRONG,
	AST_COUNT
};
enum alliance_action { ACT_CONTINUE, ACT_DISCUSS, ACT_REFER, ACT_REVIEW, ACT_REACH_OUT, ACT_COUNT };

const char *alliance_state_name(enum alliance_state s);   /* "forming", … */
const char *alliance_action_name(enum alliance_action a); /* "continue", "reach_out", … */

/* Evidence item bits: 0..11 instrument items, EVI_FLAG0 + flag, EVI_NEGATIVE. */
#define EVI_FLAG0    16
#define EVI_NEGATIVE 24
/* Name of an evidence bit ("trust", "judged", "negative_feelings"), NULL if none. */
const char *evidence_item_name(enum instrument i, int bit);

struct session_eval {
	uint32_t session;
	enum instrument instrument; /* of the alliance form; INSTR_ORS for an ORS alone */
	double index, trust;        /* 0-100 (0 without an alliance form) */
	double score;               /* common alliance score 0-100 */
	bool has_score;             /* an alliance form was given */
	uint8_t flags;              /* flags ticked on any form of the session, plus item flags */
	bool red_flag, unsafe, transference, poor;
	uint32_t items; /* evidence bits: low items, flags set, negative_feelings if strong */
};

/* The common score of an alliance instrument's index (0-100), and back. */
double alliance_score(const struct engine_params *p, enum instrument i, double index);
double alliance_index_of_score(const struct engine_params *p, enum instrument i, double score);

/* Judge one session from its alliance form alone. ENGINE_EINVAL if invalid or an ORS. */
int alliance_session_eval(const struct engine_params *p, const struct feedback *fb,
    struct session_eval *out);

#define ALLIANCE_MAX_REASONS  6
#define ALLIANCE_MAX_EVIDENCE 8
#define ALLIANCE_MAX_RECENT   16 /* scored sessions kept for the trend chart */

/* One scored session of the trend: the common score, not the index, so that
 * sessions of different instruments can be drawn on one line. */
struct scored_session {
	uint32_t session;
	double score;
};

struct evidence {
	uint32_t session;
	enum instrument instrument;
	uint32_t items; /* evidence bits (see above) */
	struct reason why;
};

struct alliance_outcome {
	bool has;                  /* at least one ORS */
	uint32_t n;                /* ORS submitted */
	double first, latest;      /* totals 0-40 */
	bool reliable_improvement; /* latest - first >= ors_reliable_change */
	bool latest_clinical;      /* latest < ors_cutoff */
};

struct alliance_result {
	enum alliance_state status;
	enum alliance_action action;
	uint8_t n_reasons;
	struct reason reasons[ALLIANCE_MAX_REASONS];
	uint32_t sessions;                 /* rated sessions (an ORS alone with a flag included) */
	bool has_index;                    /* a scored session exists: the values below are set */
	enum instrument instrument_latest; /* of index_latest */
	double index_latest; /* the latest scored session's index, its instrument's scale */
	double index_ewma;   /* score_ewma on instrument_latest's index scale */
	double trend;        /* score points per session */
	double score_latest, score_ewma; /* the common alliance score 0-100 */
	uint8_t n_evidence;
	struct evidence evidence[ALLIANCE_MAX_EVIDENCE];
	struct alliance_outcome outcome;
	uint8_t n_recent; /* the last scored sessions, oldest first */
	struct scored_session recent[ALLIANCE_MAX_RECENT];
};

int alliance_evaluate(const struct engine_params *p, const struct feedback *fb, size_t n_fb,
    const struct attendance *att, size_t n_att, struct alliance_result *out);

#endif

/*
 * alliance.h — per-session judgement and the episode's alliance status
 * (DESIGN.md "Alliance feedback").
 *
 * Per session (alliance instruments only; ORS is outcome):
 *   transference pattern = negative_feelings >= affect_threshold, trust
 *                          signal >= trust_floor, and no red flag
 *   poor = a red flag (judged, unheard, dread, misunderstood), or index below
 *          the instrument's threshold and not a transference pattern
 *
 * Episode status, the first rule that applies:
 *   1 unsafe       any session flagged unsafe/boundaries     → review
 *   2 disengaging  the last two scheduled sessions no-shows   → reach_out
 *   3 (< min_sessions rated) transference if the latest is a transference
 *                  pattern → continue; else forming → continue, or discuss
 *                  when the latest is poor ("speak up early")
 *   4 mismatch     latest poor and >= 2 of the last three poor → refer
 *   5 transference latest is a transference pattern          → continue
 *   6 strained     latest poor, or index(3rd last) - index(latest) > strained_drop → discuss
 *   7 repaired     an earlier session poor, the latest not    → continue
 *   8 strong                                                  → continue
 *
 * "Scheduled" sessions are attendance entries that are not cancelled plus
 * every rated session (a rating means the client came); the status of a
 * session number is its rating if any, else its last attendance entry.
 *
 * index_ewma: e1 = index1, e = alpha x index + (1 - alpha) x e.
 * trend: least-squares slope of index over session number, last
 * trend_window (<= 16) rated sessions, index points per session (0 with < 2).
 *
 * Input: feedback ordered by session (non-decreasing; ENGINE_EUNSORTED
 * otherwise); alliance and ORS may share a session number; a second rating of
 * the same instrument family at the same session replaces the first.
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
#define EVI_FLAG0 16
#define EVI_NEGATIVE 24
/* Name of an evidence bit ("trust", "judged", "negative_feelings"), NULL if none. */
const char *evidence_item_name(enum instrument i, int bit);

struct session_eval {
	uint32_t session;
	enum instrument instrument;
	double index, trust;   /* 0-100 */
	bool red_flag, unsafe, transference, poor;
	uint32_t items;        /* evidence bits: low items, flags set, negative_feelings if strong */
};

/* Judge one alliance session. ENGINE_EINVAL if invalid or an ORS. */
int alliance_session_eval(const struct engine_params *p, const struct feedback *fb,
			  struct session_eval *out);

#define ALLIANCE_MAX_REASONS 6
#define ALLIANCE_MAX_EVIDENCE 8

struct evidence {
	uint32_t session;
	enum instrument instrument;
	uint32_t items;        /* evidence bits (see above) */
	struct reason why;
};

struct alliance_outcome {
	bool has;              /* at least one ORS */
	uint32_t n;            /* ORS submitted */
	double first, latest;  /* totals 0-40 */
	bool reliable_improvement; /* latest - first >= ors_reliable_change */
	bool latest_clinical;  /* latest < ors_cutoff */
};

struct alliance_result {
	enum alliance_state status;
	enum alliance_action action;
	uint8_t n_reasons;
	struct reason reasons[ALLIANCE_MAX_REASONS];
	uint32_t sessions;     /* rated alliance sessions */
	bool has_index;        /* sessions > 0 */
	double index_latest, index_ewma, trend;
	uint8_t n_evidence;
	struct evidence evidence[ALLIANCE_MAX_EVIDENCE];
	struct alliance_outcome outcome;
};

int alliance_evaluate(const struct engine_params *p, const struct feedback *fb, size_t n_fb,
		      const struct attendance *att, size_t n_att, struct alliance_result *out);

#endif

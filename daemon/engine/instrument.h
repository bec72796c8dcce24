/*
 * instrument.h — session feedback instruments: item tables, validation with
 * precise errors, and scoring (docs/alliance.md).
 *
 *   alliance5  heard open adapts trust looking_forward, integers 0-10;
 *              index = mean x 10; trust signal = trust x 10
 *   srs        relationship goals approach overall, 0-10 one decimal;
 *              index = total / 40 x 100; trust signal = relationship x 10
 *   wai_sr     q1..q12, integers 1-5; Task q1 q2 q10 q12, Goal q4 q6 q8 q11,
 *              Bond q3 q5 q7 q9 (sums 4-20); index = (mean - 1) / 4 x 100;
 *              trust signal = (Bond mean - 1) / 4 x 100
 *   ors        individual interpersonal social overall, 0-10 one decimal;
 *              total 0-40 (outcome, never an alliance session)
 * Every instrument may carry the six flags and negative_feelings (0-10).
 *
 * Plain data; no ownership.
 */
#ifndef ENGINE_INSTRUMENT_H
#define ENGINE_INSTRUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum instrument { INSTR_ALLIANCE5, INSTR_SRS, INSTR_WAI_SR, INSTR_ORS, INSTR_COUNT };

enum feedback_flag {
	FLAG_JUDGED,
	FLAG_BOUNDARIES,
	FLAG_UNHEARD,
	FLAG_DREAD,
	FLAG_UNSAFE,
	FLAG_MISUNDERSTOOD,
	FLAG_COUNT
};
/* Red flags that make a session poor. */
#define FLAGS_RED                                                          \
	((1u << FLAG_JUDGED) | (1u << FLAG_UNHEARD) | (1u << FLAG_DREAD) | \
	    (1u << FLAG_MISUNDERSTOOD))
/* Flags that make the episode unsafe (rule 1). */
#define FLAGS_UNSAFE ((1u << FLAG_UNSAFE) | (1u << FLAG_BOUNDARIES))

#define FEEDBACK_MAX_ITEMS 12

struct feedback {
	uint32_t session; /* session number, >= 1 */
	enum instrument instrument;
	double items[FEEDBACK_MAX_ITEMS]; /* in the instrument's item order */
	uint16_t items_present;           /* bit i: items[i] was given */
	uint8_t flags;                    /* bit per enum feedback_flag */
	bool has_negative_feelings;
	double negative_feelings;
};

/* "alliance5", "srs", "wai_sr", "ors"; lookup returns -1 when unknown. */
const char *instrument_name(enum instrument i);
int instrument_lookup(const char *name);
int instrument_item_count(enum instrument i);
const char *instrument_item_name(enum instrument i, int item);
int instrument_item_index(enum instrument i, const char *name); /* -1 when unknown */
/* Allowed range and granularity (1 = integers, 0.1 = one decimal). */
void instrument_item_range(enum instrument i, double *min, double *max, double *step);
const char *feedback_flag_name(enum feedback_flag f);
int feedback_flag_index(const char *name); /* -1 when unknown */

enum feedback_error_kind {
	FBE_NONE,
	FBE_INSTRUMENT, /* field "instrument": unknown */
	FBE_SESSION,    /* field "session": must be at least 1 */
	FBE_MISSING,    /* field "items.<name>": is required */
	FBE_RANGE,      /* field "items.<name>" or "negative_feelings": out of [min, max] */
	FBE_STEP,       /* field "items.<name>": finer than the step */
};

struct feedback_error {
	enum feedback_error_kind kind;
	char field[40]; /* "items.relationship", "negative_feelings", "session", "instrument" */
	double min, max, step;
};

/* 0 when valid; else ENGINE_EINVAL with *err describing the first problem
 * (err may be NULL). Items are checked in the instrument's order. */
int feedback_validate(const struct feedback *fb, struct feedback_error *err);
/* "must be between 0 and 10", "must be an integer between 1 and 5", "is required", …
 * Returns the length like snprintf. */
int feedback_error_message(const struct feedback_error *err, char *buf, size_t n);

struct instrument_score {
	double index;            /* alliance index 0-100 (ors: total / 40 x 100) */
	double trust;            /* trust signal 0-100 (ors: 0) */
	double total;            /* item total (wai_sr 12-60, srs/ors 0-40, alliance5 0-50) */
	double task, goal, bond; /* wai_sr subscale sums 4-20 (0 otherwise) */
};

/* Score a feedback (validated first). ENGINE_EINVAL when invalid. */
int instrument_score(const struct feedback *fb, struct instrument_score *out);

#endif

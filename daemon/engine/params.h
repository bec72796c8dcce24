/*
 * params.h — every weight and threshold of the engine, in one struct.
 *
 * The daemon fills it from the YAML config (key = field name); the defaults
 * below are the documented ones (docs/, config/allianced.yaml). engine_params_defaults() gives them;
 * engine_params_validate() checks ranges before a config is accepted.
 * The struct is plain data, copied by value, owned by whoever holds it.
 */
#ifndef ENGINE_PARAMS_H
#define ENGINE_PARAMS_H

#include <stddef.h>

/* Match components, in the order of docs/matching.md. */
enum component {
	COMP_CONCERNS,
	COMP_MODALITY,
	COMP_STYLE,
	COMP_IDENTITY,
	COMP_GENDER,
	COMP_AVAILABILITY,
	COMP_ALLIANCE_RECORD,
	COMP_OUTCOME_RECORD,
	COMP_CAPACITY,
	COMP_COUNT
};

/* "concerns", "modality", … (the JSON key of the component). */
const char *component_name(enum component c);

struct engine_params {
	/* --- matching --- */
	double weight[COMP_COUNT];   /* defaults: concerns 3, modality 1.5, style 1, identity 1,
	                                gender 1, availability 1.5, alliance_record 2,
	                                outcome_record 2, capacity 0.5 (each >= 0) */
	int min_overlap_hours;       /* 1: availability filter, when the client gave hours */
	double record_prior_weight;  /* 20: k of the shrinkage, in pseudo-episodes (records.h) */
	double concern_prior_weight; /* 10: k_c, pseudo-episodes of a therapist's overall record
	                                in their per-concern record (records.h) */
	int record_min_episodes; /* 5: rated episodes before "strong alliance with past clients" */
	double strong_alliance_reason; /* 80: shrunk alliance record (score scale) that earns it */
	double
	    good_outcome_reason; /* 0.5: shrunk reliable-improvement share that earns the reason */
	double style_fit_reason; /* 0.8: style component that earns "style fits" */

	/* --- alliance feedback --- */
	double threshold_alliance5; /* 70: concern threshold on the 0-100 index */
	double threshold_srs;       /* 90: a total of 36 */
	double threshold_wai_sr;    /* 62.5: mean item 3.5 */
	double trust_floor;         /* 70: trust signal (0-100) at or above = trust holds */
	double affect_threshold;    /* 6: negative_feelings (0-10) at or above = strong affect */
	int min_sessions;           /* 3: rated sessions before the alliance is judged */
	double strained_drop;       /* 15: score points the latest lies below the highest of
	                                the three sessions before it ("more than" = strained) */
	double ewma_alpha;          /* 0.5: weight of the newest session in index_ewma */
	int trend_window;           /* 5: sessions in the least-squares trend (2..16) */
	double item_low_alliance5;  /* 7: an alliance5 item below this is evidence */
	double item_low_srs;        /* 9: "an item below 9 is worth discussing" */
	double item_low_wai_sr;     /* 3: a WAI-SR item below this is evidence */
	double item_flag_max;       /* 3: an alliance5 heard/open/adapts or SRS relationship/
	                                approach item at or below this raises the flag it mirrors */
	int repair_window;          /* 6: rated sessions a poor one holds "repaired" (1..16) */
	double ors_cutoff;          /* 25: adult clinical cutoff (total 0-40) */
	double ors_reliable_change; /* 5: points of rise from the first ORS = reliable */

	/* --- referrals --- */
	double colleague_bonus;   /* 10: score points for a trusted colleague */
	double colleague_partial; /* 0.5: share of the bonus when the link's tags do not fit */
	double
	    referral_low_item; /* 70: an approach/adapts or heard/bond signal (0-100) below = low */
	double
	    referral_away_modality; /* 0.5: modality score lost for the old therapist's modalities */
	double referral_away_style; /* 1: weight of the "different style" component */
	double
	    referral_alliance_boost; /* 2: alliance_record weight multiplier after low heard/bond */
};

void engine_params_defaults(struct engine_params *p);

/*
 * 0 when valid; else ENGINE_EINVAL with *field = the offending field name
 * (e.g. "weight.concerns", "min_sessions") and *message a static English
 * message ("must be between 0 and 100"). field/message may be NULL.
 */
int engine_params_validate(const struct engine_params *p, const char **field, const char **message);

#endif

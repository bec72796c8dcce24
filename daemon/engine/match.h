/*
 * match.h — rank a catalog's therapists for one intake (docs/matching.md).
 *
 * One pass over the catalog: the hard filters (each exclusion counted under
 * the first reason that applies, in enum exclusion order; docs/matching.md "Hard
 * filters": sites without formats still restrict in-person sessions to those
 * sites, no self-pay fee is no self-pay, `required` applies to avoid too),
 * then the score of
 * each survivor: 100 x the weighted mean of the component scores in [0,1],
 * leaving out components the client expressed no preference on (capacity
 * always counts; alliance_record / outcome_record count once the clinic has
 * any such record). Selection keeps the best k in a binary heap (no sort of
 * the catalog, no allocation); only the k winners get components, reasons
 * and warnings filled in.
 *
 * Order (deterministic): need tags met (referrals only), then higher score,
 * then more free slots (capacity - caseload), then lower therapist id.
 *
 * Component definitions (all in [0,1]):
 *   concerns      sum(priority x level) / (2 x sum(priority)); level 0/1/2
 *   modality      share of preferred modalities offered (1 when only avoids
 *                 are given); 0 plus a warning if an avoided one is offered
 *   style         sum over given axes of w(1 - |client - therapist| / 6) / sum w,
 *                 w = 1 + |client value| (strength of the preference)
 *   identity      share of requested identity tags the therapist has
 *   gender        1 if the therapist's gender is one the client prefers
 *   availability  min(1, overlap hours / wanted hours)
 *   alliance_record  the hierarchically shrunk alliance record (score scale)
 *                 / 100 (records.h): the mean over the client's concerns,
 *                 priority-weighted, of r_tc (r_t where the therapist has no
 *                 history in a concern); r_t when the client names none
 *   outcome_record   the shrunk reliable-improvement share, same way
 *   capacity      (capacity - caseload) / capacity
 *
 * Ownership: out[] is caller-provided with room for k items; nothing is kept.
 */
#ifndef ENGINE_MATCH_H
#define ENGINE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/catalog.h"
#include "engine/params.h"
#include "engine/profile.h"
#include "engine/reasons.h"
#include "engine/vocab.h"

enum exclusion {
	EXCL_INACTIVE,
	EXCL_NOT_ACCEPTING, /* flag off or caseload at capacity */
	EXCL_LANGUAGE,
	EXCL_FORMAT,
	EXCL_POPULATION,
	EXCL_PAYMENT, /* payer not taken, and no self-pay fee or one above the maximum */
	EXCL_AVAILABILITY,
	EXCL_EXCLUDED, /* client's exclusions, earlier mismatches, current therapist */
	EXCL_REQUIRED, /* a preference marked required is not met; a required avoid:
	                       offers avoided modalities and nothing else */
	EXCL_COUNT
};

/* "inactive", "not_accepting", … (the JSON key in "excluded"). */
const char *exclusion_name(enum exclusion e);

#define MATCH_MAX_K        100
#define MATCH_MAX_REASONS  12
#define MATCH_MAX_WARNINGS 4

struct match_item {
	uint32_t therapist_id;
	float score; /* 0-100 */
	uint16_t free_slots;
	uint16_t comp_used;           /* bit c: component c counted in the mean */
	float components[COMP_COUNT]; /* valid where comp_used has the bit */
	bool colleague;               /* referrals: a colleague of the current therapist */
	uint8_t need_met;             /* referrals: need tags this therapist meets */
	uint8_t n_reasons, n_warnings;
	struct reason reasons[MATCH_MAX_REASONS];
	struct reason warnings[MATCH_MAX_WARNINGS];
};

struct match_summary {
	uint32_t excluded[EXCL_COUNT];
	uint32_t considered; /* therapists in the catalog */
	uint32_t n_results;  /* items written to out[] */
};

/* A trusted colleague of the current therapist, for the tags named (empty = anything). */
struct colleague_link {
	uint32_t therapist_id;
	struct tagset concerns, modalities;
};

/* Adjustments used by referral.c; all-zero (plus alliance_weight_mult 1) = plain match. */
struct match_adjust {
	const uint32_t *exclude; /* extra therapist ids to exclude */
	size_t n_exclude;
	const struct colleague_link *colleagues;
	size_t n_colleagues;
	bool away_modality; /* lower the modality score for these modalities */
	struct tagset away_modalities;
	bool away_style; /* reward distance from this style */
	int8_t away_style_from[4];
	double alliance_weight_mult; /* multiplies weight[COMP_ALLIANCE_RECORD]; 0 is taken as 1 */
	struct tagset need_modalities, need_concerns;
};

#define MATCH_MAX_EXCLUDE (INTAKE_MAX_EXCLUDE + 64)

/*
 * Rank catalog c for intake in; write the best min(k, MATCH_MAX_K) into
 * out[], fill *sum. Returns 0, or ENGINE_EINVAL (NULL args, k == 0, invalid
 * intake or params, more than MATCH_MAX_EXCLUDE exclusions).
 */
int match_run(const struct catalog *c, const struct engine_params *p, const struct intake *in,
    size_t k, struct match_item *out, struct match_summary *sum);

/* match_run with referral adjustments (adj may be NULL). */
int match_run_adjusted(const struct catalog *c, const struct engine_params *p,
    const struct intake *in, const struct match_adjust *adj, size_t k, struct match_item *out,
    struct match_summary *sum);

#endif

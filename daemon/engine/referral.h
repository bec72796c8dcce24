/*
 * referral.h — suggest colleagues when a client-therapist pair does not work
 * (docs/referrals.md).
 *
 * Reruns matching for the client's intake with:
 *  - the current therapist and earlier mismatches excluded (counted under
 *    "excluded");
 *  - a bonus for the current therapist's colleague links: the score closes
 *    colleague_bonus % of its gap to 100, times colleague_partial when the
 *    link names tags none of which the client asked for;
 *  - learning from what failed: a low approach/adapts signal lowers the
 *    modality score by referral_away_modality x the share of a candidate's
 *    modalities the current therapist also uses, and adds "distance from the
 *    current therapist's style" (weight referral_away_style) to the style
 *    component; a low heard/bond signal multiplies the alliance_record weight
 *    by referral_alliance_boost;
 *  - an optional need (modalities/concerns): therapists meeting more need tags
 *    rank first, whatever their score.
 * Every suggestion carries reason codes (colleague, need met, different
 * approach/style, and the usual match reasons).
 *
 * Ownership: everything is borrowed for the call; out[] is the caller's.
 */
#ifndef ENGINE_REFERRAL_H
#define ENGINE_REFERRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/catalog.h"
#include "engine/instrument.h"
#include "engine/match.h"
#include "engine/params.h"
#include "engine/profile.h"

struct referral_signals {
	bool low_approach; /* approach (srs), adapts (alliance5) or Task (wai_sr) low */
	bool low_heard;    /* relationship (srs), heard (alliance5) or Bond (wai_sr) low */
};

/*
 * Derive the signals from an episode's feedback (any order; ORS ignored):
 * the mean over the last three rated alliance sessions of each signal,
 * normalised to 0-100, below referral_low_item means low.
 */
int referral_signals_from_feedback(const struct engine_params *p, const struct feedback *fb,
    size_t n, struct referral_signals *out);

struct referral_need {
	struct tagset modalities, concerns;
};

struct referral_request {
	const struct intake *intake; /* the client's intake */
	uint32_t current_therapist;
	const uint32_t *mismatches; /* therapists of earlier episodes ended as mismatch */
	size_t n_mismatches;
	const struct colleague_link *colleagues; /* the current therapist's links */
	size_t n_colleagues;
	struct referral_signals signals;
	const struct referral_need *need; /* NULL = none */
};

/* Suggest up to k colleagues (out[i].colleague marks links). ENGINE_EINVAL on bad input. */
int referral_suggest(const struct catalog *c, const struct engine_params *p,
    const struct referral_request *req, size_t k, struct match_item *out,
    struct match_summary *sum);

#endif

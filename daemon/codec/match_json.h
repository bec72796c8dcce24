/*
 * match_json.h - the engine's match results as the API's JSON, with the
 * reason codes turned into plain-language sentences (engine reason_render).
 *
 * Shared by matching (routes_match.c) and referrals (routes_referrals.c).
 */
#ifndef ALLIANCE_MATCH_JSON_H
#define ALLIANCE_MATCH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"
#include "codec/json_writer.h"

/* What the writers need beside the results: the vocabulary the tag bits
 * were built with, and the therapists' external_ref and display_name by id
 * (borrowed; lookup returns -1 for an unknown id: the fields are then null).
 * The catalog provides it (catalog_sync_names). */
struct match_names {
	const struct vocab *vocab;
	int (*lookup)(const void *arg, uint32_t id, const char **external_ref,
	    const char **display_name);
	const void *arg;
};

/* Written as text into a json_writer (no json_t tree per answer).
 *
 * One result: {"therapist_id", "external_ref", "display_name", "score" (one
 * decimal), "components": {name: value in [0,1], only those used, three
 * decimals}, "reasons": [sentences], "warnings": [sentences]}; referrals add
 * "colleague": bool (with_colleague). */
void match_item_write(struct json_writer *w, struct match_names names, const struct match_item *it,
    bool with_colleague);
/* {"matches": [...], "excluded": {reason: count > 0}, "considered": N}, plus
 * "hint" when hint is not NULL. */
void match_result_write(struct json_writer *w, struct match_names names,
    const struct match_item *items, size_t n, const struct match_summary *sum, const char *hint);
/* {"suggestions": [... with "colleague"], "excluded": {...}, "considered": N} */
void referral_result_write(struct json_writer *w, struct match_names names,
    const struct match_item *items, size_t n, const struct match_summary *sum);

#endif

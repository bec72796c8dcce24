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

#include <jansson.h>

#include "engine.h"
#include "json_writer.h"

struct catalog_sync;

/* One result: {"therapist_id", "external_ref", "display_name", "score" (one
 * decimal), "components": {name: value in [0,1], only those used},
 * "reasons": [sentences], "warnings": [sentences]}; referrals add
 * "colleague": bool when with_colleague. New reference or NULL. */
json_t *match_item_json(const struct catalog_sync *cs, const struct match_item *it,
			bool with_colleague);

/* {"name": count, ...} for the exclusion reasons with a count > 0. */
json_t *match_excluded_json(const struct match_summary *sum);

/* The same objects written as text (the hot path: no json_t per value).
 * match_item_write writes one result; match_result_write the whole answer
 * {"matches", "excluded", "considered"} plus "hint" when hint is not NULL. */
void match_item_write(struct json_writer *w, const struct catalog_sync *cs,
		      const struct match_item *it, bool with_colleague);
void match_result_write(struct json_writer *w, const struct catalog_sync *cs,
			const struct match_item *items, size_t n,
			const struct match_summary *sum, const char *hint);

#endif

/*
 * intake_json.h - a client intake (the API's intake object, daemon/api/openapi.yaml) from JSON into
 * the engine's struct intake, with every bad field named.
 *
 * Used by POST /v1/clients (stored), GET /v1/clients/{id}/matches and
 * POST /v1/match (stateless), and referrals (the stored preferences).
 * Everything is optional except what the caller demands (external_ref for a
 * stored client); a missing preference means "no preference".
 */
#ifndef ALLIANCE_INTAKE_JSON_H
#define ALLIANCE_INTAKE_JSON_H

#include <stdbool.h>

#include <jansson.h>

#include "engine/engine.h"
#include "codec/json_fields.h"

/* Validates obj and fills *out (intake_init'ed first).  Unknown fields are
 * errors.  external_ref is read and checked (1..128 chars) when present;
 * require_ref makes it mandatory.  Returns 0, or -1 with errors in fe. */
int intake_from_json(const json_t *obj, const struct vocab *v, bool require_ref, struct intake *out,
    struct field_errors *fe);

/* What a client row stores of an object intake_from_json accepted: its
 * intake fields only, at every level (never anything else the body held),
 * without external_ref and without nulls.  A new reference; NULL when obj is
 * not an accepted intake (a field of the wrong shape) or on ENOMEM. */
json_t *intake_json_stored(const json_t *obj);

#endif

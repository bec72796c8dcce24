/*
 * feedback_json.h - a session's feedback (the API's feedback object, daemon/api/openapi.yaml) from
 * JSON into the engine's struct feedback, every bad field named
 * ("items.relationship", "flags.judgd"); and the stored form back.
 *
 * The engine's instrument tables (instrument.h) are the one source of item
 * names, ranges and steps: nothing about an instrument is repeated here.
 *
 * Ownership: feedback_from_json borrows from obj (occurred_at points into
 * it); the json_t builders return new references.
 */
#ifndef ALLIANCE_FEEDBACK_JSON_H
#define ALLIANCE_FEEDBACK_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/engine.h"
#include "codec/json_fields.h"
#include "codec/json_writer.h"

#define FEEDBACK_MAX_SESSION 10000 /* the schema's CHECK */

struct feedback_request {
	struct feedback fb;      /* validated with feedback_validate */
	const char *occurred_at; /* borrowed from the JSON; NULL = now */
};

/* Validates obj (unknown fields, items and flags are errors) and fills *out.
 * 0, or -1 with every problem in fe. */
int feedback_from_json(const json_t *obj, struct feedback_request *out, struct field_errors *fe);

/* {"name": value, ...} in the instrument's item order (integers stay integers). */
json_t *feedback_items_json(const struct feedback *fb);
/* {"flag": true, ...} for the flags that are set (false is the default). */
json_t *feedback_flags_json(const struct feedback *fb);

/* The same two objects written as text (what json_dumps(JSON_COMPACT |
 * JSON_REAL_PRECISION(15)) gives for the json_t versions above: with
 * Jansson's default 17 digits an item of 8.4 would read 8.4000000000000004). */
void feedback_items_write(struct json_writer *w, const struct feedback *fb);
void feedback_flags_write(struct json_writer *w, const struct feedback *fb);

/* A stored row back into *out: instrument name, items and flags as JSON text,
 * negative_feelings as text (NULL or "" = absent).  0, or -1 when the row does
 * not make a valid feedback (never trusted blindly). */
int feedback_from_row(uint32_t session, const char *instrument, const char *items,
    const char *flags, const char *negative_feelings, struct feedback *out);

/* True for an RFC 3339 date-time: 2026-11-20T17:00:00Z, fractions and
 * +hh:mm offsets allowed (PostgreSQL checks the calendar). */
bool rfc3339_valid(const char *s);

#endif

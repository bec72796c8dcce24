/*
 * json_fields.h - reading request objects field by field, collecting every
 * problem as {field, message} so that one 422 names all bad fields at once.
 *
 * Pattern:
 *     struct field_errors fe;
 *     field_errors_init(&fe);
 *     jf_only(obj, "", allowed_keys, &fe);           // unknown fields are errors
 *     jf_int(obj, "capacity", "capacity", 0, 10000, &cap, &fe);
 *     ...
 *     if (fe.errors != NULL && json_array_size(fe.errors) > 0) -> 422 with fe.errors
 *     field_errors_clear(&fe);
 *
 * Every jf_* returns 1 when the field was present and valid (out written),
 * 0 when absent (out untouched), -1 when present but invalid (error added).
 * A JSON null counts as absent.  PATH is the field's full name in messages
 * ("availability[2].from", "items.relationship"); build nested paths with
 * jf_path().
 */
#ifndef ALLIANCE_JSON_FIELDS_H
#define ALLIANCE_JSON_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/engine.h"

struct field_errors {
	json_t *errors; /* owned; a JSON array, NULL until the first error */
	bool lost;      /* an error could not be recorded (it still counts) */
};

void field_errors_init(struct field_errors *fe);
void field_errors_clear(struct field_errors *fe);
/* True once any error was added, recorded or not. */
bool field_errors_any(const struct field_errors *fe);
/* Adds {field: path, message: printf(fmt, ...)}.  A message or path too long
 * for its buffer is cut on a UTF-8 character boundary; an error that cannot
 * be recorded at all (no memory, not UTF-8) marks fe lost, never vanishes. */
void field_error(struct field_errors *fe, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands the array over (e.g. to request_problem); fe is empty afterwards.
 * When an error was lost the array says so, so it is never empty then. */
json_t *field_errors_take(struct field_errors *fe);

/* Cuts S after its last whole UTF-8 character: what a byte-bounded snprintf
 * of valid UTF-8 left half-written at the end is dropped. */
void jf_utf8_trim(char *s);

/* Writes "prefix.key" (or "key" when prefix is "") into buf, cut on a
 * character boundary when long; returns buf. */
const char *jf_path(char *buf, size_t len, const char *prefix, const char *key);
/* Writes "prefix[i]" into buf (cut the same way); returns buf. */
const char *jf_index_path(char *buf, size_t len, const char *prefix, size_t i);

/* Every key of obj must be in allowed (NULL-terminated); others are errors
 * ("unknown field").  -1 if obj is not an object (error at prefix). */
int jf_only(const json_t *obj, const char *prefix, const char *const *allowed,
    struct field_errors *fe);

/* obj[key] as the given type; see the return convention above. */
int jf_string(const json_t *obj, const char *key, const char *path, size_t maxlen, const char **out,
    struct field_errors *fe);
int jf_int(const json_t *obj, const char *key, const char *path, long long min, long long max,
    long long *out, struct field_errors *fe);
/* Integers or reals; step > 0 demands a multiple of step (0.1 for "one decimal"). */
int jf_number(const json_t *obj, const char *key, const char *path, double min, double max,
    double step, double *out, struct field_errors *fe);
int jf_bool(const json_t *obj, const char *key, const char *path, bool *out,
    struct field_errors *fe);
/* An object / array value (borrowed reference). */
int jf_object(const json_t *obj, const char *key, const char *path, const json_t **out,
    struct field_errors *fe);
int jf_array(const json_t *obj, const char *key, const char *path, size_t max_items,
    const json_t **out, struct field_errors *fe);

/* A list of vocabulary tags of KIND into a tagset.  An unknown tag is an
 * error "unknown <kind> tag \"x\"; allowed: a, b, c" at "path[i]". Duplicates
 * are errors too. */
int jf_tags(const json_t *obj, const char *key, const char *path, const struct vocab *v,
    enum vocab_kind kind, struct tagset *out, struct field_errors *fe);
/* A narrow-kind tag list (formats, populations, identity) into a uint64_t mask. */
int jf_tags_mask(const json_t *obj, const char *key, const char *path, const struct vocab *v,
    enum vocab_kind kind, uint64_t *out, struct field_errors *fe);
/* One tag of KIND; its index into *out. */
int jf_tag(const json_t *obj, const char *key, const char *path, const struct vocab *v,
    enum vocab_kind kind, int *out, struct field_errors *fe);
/* ISO 639-1 codes (two lowercase letters) into packed codes; at most max. */
int jf_languages(const json_t *obj, const char *key, const char *path, uint16_t *out, uint8_t *n,
    size_t max, struct field_errors *fe);
/* [{"day":"mon","from":"09:00","to":"13:00"}, ...] into a weekly mask; hour
 * granularity ("09:30" is an error), "24:00" allowed as an end. */
int jf_availability(const json_t *obj, const char *key, const char *path, struct avail *out,
    struct field_errors *fe);
/* A list of short free strings (sites, payers, genders): 1..maxlen bytes each,
 * at most max items; pointers borrowed from the JSON. */
int jf_strings(const json_t *obj, const char *key, const char *path, size_t maxlen,
    const char **out, size_t max, size_t *n, struct field_errors *fe);

/* Ids from the text of a JSON array (a database aggregate such as
 * json_agg(therapist_id)): the positive ones that fit, at most max; the
 * count, or -1 when the text is not an array. */
int json_parse_ids(const char *text, uint32_t *out, size_t max);

/* The vocabulary of KIND as a JSON array (for "allowed" lists in errors). */
json_t *jf_vocab_list(const struct vocab *v, enum vocab_kind kind);

#endif

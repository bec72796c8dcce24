/*
 * json_writer.h - a small JSON text writer for hot responses.
 *
 * Builds the answer text directly instead of a json_t tree that is then
 * dumped: no allocation per value, no printf for numbers.  The text goes into
 * a caller-supplied buffer (usually on the stack) and moves to the heap only
 * when it outgrows it, so a typical answer costs no allocation at all.
 *
 * Output is what json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15)) gives for
 * the same values: keys in the order written, strings escaped like Jansson
 * (", \, control characters; '/' and non-ASCII UTF-8 as they are), reals with
 * at least one decimal ("87.0", "0.125").
 *
 * Commas are placed automatically: a value inside an array or after a key,
 * keys inside an object.  Errors (out of memory, NaN, nesting deeper than
 * JW_MAX_DEPTH, invalid UTF-8 in a string) are sticky: check jw_failed() once
 * at the end.
 *
 * Ownership: the writer owns the heap buffer it may allocate (jw_free);
 * the initial buffer stays the caller's.
 */
#ifndef ALLIANCE_JSON_WRITER_H
#define ALLIANCE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

struct json_writer {
	char *buf; /* the text so far (not NUL-terminated) */
	size_t len, cap;
	bool heap; /* buf is ours (grown beyond the caller's buffer) */
	bool failed;
	bool after_key; /* the next value follows "key": no comma */
	int depth;
	uint32_t nonempty; /* bit d: the container at depth d has a member */
};

/* Starts writing into buf (cap bytes, may be NULL/0). */
void jw_init(struct json_writer *w, char *buf, size_t cap);
void jw_free(struct json_writer *w);
bool jw_failed(const struct json_writer *w);
/* The text (not NUL-terminated) and its length; valid until the next write. */
const char *jw_text(const struct json_writer *w, size_t *len);
/* The text NUL-terminated (the NUL is not counted), or NULL after an error. */
const char *jw_cstr(struct json_writer *w);

void jw_object_begin(struct json_writer *w);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w);
void jw_array_end(struct json_writer *w);
/* A key inside an object; the next call writes its value. */
void jw_key(struct json_writer *w, const char *key);

void jw_string(struct json_writer *w, const char *s);
void jw_string_n(struct json_writer *w, const char *s, size_t n);
void jw_int(struct json_writer *w, long long v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
/* v rounded to DECIMALS (0..6) places, written as the shortest decimal of the
 * rounded value with at least one decimal ("0.5", "87.0", "0.125"): what
 * Jansson prints for json_real(round(v * 10^d) / 10^d). */
void jw_fixed(struct json_writer *w, double v, int decimals);

/* The shortest decimal text of round(v * 10^decimals) / 10^decimals with at
 * least one decimal, into out (>= 32 bytes); its length, or -1 for NaN or
 * infinity. */
int jw_format_fixed(double v, int decimals, char *out);

#endif

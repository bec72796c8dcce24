/*
 * json_body.h - bounded parsing of request bodies.
 *
 * Jansson's own nesting limit is a compile-time 2048; a request body gets
 * the configured limits.max_json_depth, checked by a scan before parsing so
 * that a hostile body never reaches the parser's recursion.
 */
#ifndef ALLIANCE_JSON_BODY_H
#define ALLIANCE_JSON_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* True when BUF nests arrays/objects no deeper than MAX (strings skipped). */
bool json_depth_ok(const char *buf, size_t len, int max);

/* True for "application/json" and "application/<x>+json", parameters allowed. */
bool json_content_type_ok(const char *content_type);

/* Parses BUF as any JSON value (the caller checks its shape); on failure
 * returns NULL and writes a message with the line and column (never the
 * body's content) into err, saying what is refused (a \u0000 in a string,
 * bytes that are not UTF-8, a duplicate key, a syntax error). */
json_t *json_body_parse(const char *buf, size_t len, int max_depth, char *err, size_t errlen);

#endif

/*
 * problem.h - RFC 9457 problem details (application/problem+json).
 */
#ifndef ALLIANCE_PROBLEM_H
#define ALLIANCE_PROBLEM_H

#include <jansson.h>

/* The reason phrase for an HTTP status ("Unprocessable Content"). */
const char *http_status_title(int status);

/* {"type","title","status","detail","instance","errors"}; errors stolen (may be NULL,
 * then an empty list).  Returns a new reference or NULL on allocation failure. */
json_t *problem_new(int status, const char *detail, const char *instance, json_t *errors);

/* Appends {"field": field, "message": message} to errors (a JSON array). 0 or -1. */
int problem_add_error(json_t *errors, const char *field, const char *message);

#endif

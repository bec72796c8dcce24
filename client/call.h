/*
 * call.h - one request whose answer is one object (a client, an episode, a
 * therapist), shown the one way every command shows such an answer.
 */
#ifndef ALLIANCECTL_CALL_H
#define ALLIANCECTL_CALL_H

#include <jansson.h>

#include "ctl.h"

/* Prints a one-line summary of the answer (obj borrowed; status the HTTP
 * status, e.g. 201 for a create). */
typedef void (*call_line_fn)(const json_t *obj, long status, const void *arg);

/* Sends BODY (may be NULL).  With --json the answer is printed as it came;
 * otherwise line(obj, status, arg) prints a summary, or, when line is NULL,
 * the whole object as a table.  Returns an enum ctl_exit code (errors were
 * reported on stderr). */
int call_object(struct ctl *ctl, const char *method, const char *path, const json_t *body,
    call_line_fn line, const void *arg);

#endif

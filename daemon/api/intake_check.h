/*
 * intake_check.h - checks of an intake that need the catalog, after the codec has read it.
 */
#ifndef ALLIANCE_INTAKE_CHECK_H
#define ALLIANCE_INTAKE_CHECK_H

#include <stdbool.h>

#include <jansson.h>

#include "http/router.h"

/* 0 when every id in body's "exclude_therapists" names a therapist of the catalog (active
 * or not).  Otherwise answers (422 naming each unknown id, or 503 while the catalog is still
 * loading: nothing to check against) and returns -1; r is gone then. */
int intake_excludes_known(struct request *r, const json_t *body);

struct intake;

/* Reads r->body as an intake with the catalog's vocabulary (require_ref: a stored client's
 * external_ref is required) and checks its exclusions.  0, or -1 after answering (422
 * naming the fields, or what intake_excludes_known answers); r is gone then. */
int intake_read(struct request *r, bool require_ref, struct intake *in);

#endif

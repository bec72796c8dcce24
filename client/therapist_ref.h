/*
 * therapist_ref.h - therapists named by id or by the clinic's external_ref,
 * and the whole therapist list (paged through `next`).
 *
 * Ownership: therapists_fetch() gives the caller a new array reference.
 */
#ifndef THERAPIST_REF_H
#define THERAPIST_REF_H

#include <jansson.h>

#include "ctl.h"

/* Every therapist (QUERY, e.g. "active=true", or NULL), in id order.
 * Returns an enum ctl_exit; *list is set on CTL_OK. */
int therapists_fetch(struct ctl *ctl, const char *query, json_t **list);

/* ARG is an id ("12") or an external_ref ("T-1001").  Returns an enum
 * ctl_exit (CTL_REFUSED with a message when no therapist has that ref). */
int therapist_resolve(struct ctl *ctl, const char *arg, long long *id);

#endif

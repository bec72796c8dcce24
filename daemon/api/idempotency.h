/*
 * idempotency.h - the Idempotency-Key request header (feedback, episode start and end).
 */
#ifndef ALLIANCE_IDEMPOTENCY_H
#define ALLIANCE_IDEMPOTENCY_H

#include <stdbool.h>

#include "http/router.h"

#define IDEMPOTENCY_KEY_LEN 255 /* the schema's CHECK and openapi.yaml */

/* Copies the header into key (IDEMPOTENCY_KEY_LEN + 1 bytes) and sets *has.  0, or -1 after
 * answering 422 for a malformed key (then r is gone). */
int idempotency_key_read(struct request *r, char *key, bool *has);

#endif

/*
 * match_out.h - a ranked list (matches or referral suggestions) as a table,
 * then the exclusion counts and the hint.  Shared by match and referrals.
 *
 * Ownership: borrows ANSWER.
 */
#ifndef MATCH_OUT_H
#define MATCH_OUT_H

#include <jansson.h>

#include "out.h"

/* LIST is the key of the ranked array ("matches" or "suggestions"). */
int match_print(const struct out *o, const json_t *answer, const char *list);

#endif

/*
 * alliance_out.h - an episode's alliance answer for people: status and
 * action (coloured), the numbers, the reasons, the evidence, and a
 * sparkline of the session scores when the answer carries them.  Shared by
 * `alliance`, `feedback add` and `attendance`, which all answer with it.
 *
 * Ownership: borrows everything.
 */
#ifndef ALLIANCE_OUT_H
#define ALLIANCE_OUT_H

#include <stddef.h>

#include <jansson.h>

#include "out.h"

int alliance_print(const struct out *o, const json_t *a);

struct ctl;

/* One request whose answer is an alliance (GET …/alliance, POST …/feedback,
 * …/attendance; BODY and HEADER may be NULL), printed as it came with --json,
 * else with alliance_print.  Returns an enum ctl_exit code. */
int alliance_call(struct ctl *ctl, const char *method, const char *path, const json_t *body,
    const char *header);

/* The sparkline of VALUES (0..100) in BUF (UTF-8 block characters, 3
 * bytes each); returns BUF. */
char *alliance_sparkline(const double *values, size_t n, char *buf, size_t buflen);

#endif

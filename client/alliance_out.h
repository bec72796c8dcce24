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

/* The sparkline of VALUES (0..100) in BUF (UTF-8 block characters, 3
 * bytes each); returns BUF. */
char *alliance_sparkline(const double *values, size_t n, char *buf, size_t buflen);

#endif

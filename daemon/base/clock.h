/*
 * clock.h - the one clock the daemon reads: monotonic seconds.
 *
 * Layers below the process wiring measure durations and deadlines with it;
 * the engine never reads a clock (time is passed in).
 */
#ifndef ALLIANCE_CLOCK_H
#define ALLIANCE_CLOCK_H

/* CLOCK_MONOTONIC in seconds: never jumps with the wall clock. */
double clock_now(void);

#endif

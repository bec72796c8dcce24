/*
 * compiler.h - attributes the compiler checks for us.
 */
#ifndef ALLIANCE_COMPILER_H
#define ALLIANCE_COMPILER_H

/* The result says whether the call answered, freed or failed: ignoring it
 * is a bug (a use after free, a lost error), so the compiler refuses. */
#define MUSTCHECK __attribute__((warn_unused_result))

#endif

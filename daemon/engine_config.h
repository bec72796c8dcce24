/*
 * engine_config.h - the engine's parameters and vocabulary from the config.
 *
 * The config holds what a clinic may tune; engine_params_defaults() gives
 * the rest.  Called at start and on every SIGHUP.
 */
#ifndef ALLIANCE_ENGINE_CONFIG_H
#define ALLIANCE_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct engine_params;
struct vocab;

/* Fills *params and a new *vocab (caller frees with vocab_free).  On error
 * returns -1 with a message naming the config key in err. */
int engine_config_build(const struct config *cfg, struct engine_params *params,
    struct vocab **vocab, char *err, size_t errlen);

/* True when both vocabularies have the same tags in the same order. */
bool engine_vocab_equal(const struct vocab *a, const struct vocab *b);

#endif

/*
 * engine.h — umbrella header of the Alliance core engine (daemon/engine/).
 *
 * The engine is pure C11: it includes only the C standard library and its own
 * headers, does no I/O and reads no clock. Modules:
 *   engine_err.h  error codes
 *   vocab.h       tag vocabularies as data, tag bitsets, language codes
 *   params.h      every weight and threshold (the documented defaults, config/allianced.yaml)
 *   profile.h     therapist profile, client intake, weekly availability
 *   records.h     alliance/outcome records and empirical-Bayes shrinkage
 *   catalog.h     the cache-friendly therapist catalog
 *   reasons.h     reason/warning codes and their English rendering
 *   match.h       hard filters, component scores, top-k
 *   instrument.h  feedback instruments: validation and scoring
 *   alliance.h    per-session judgement and episode status
 *   referral.h    colleague suggestions
 */
#ifndef ENGINE_H
#define ENGINE_H

#include "engine/engine_err.h"
#include "engine/vocab.h"
#include "engine/params.h"
#include "engine/profile.h"
#include "engine/records.h"
#include "engine/catalog.h"
#include "engine/reasons.h"
#include "engine/match.h"
#include "engine/instrument.h"
#include "engine/alliance.h"
#include "engine/referral.h"

#endif

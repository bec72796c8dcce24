/*
 * catalog_sync.h - the in-memory engine catalog, kept current from PostgreSQL.
 *
 * Matching reads this catalog and never all therapists from the database per
 * request.  It is loaded in full when the LISTEN on "alliance_catalog" is
 * (re)established (the pool calls back with a NULL payload: notifications
 * may have been missed) and per therapist on every NOTIFY (the triggers of
 * sql/ send the therapist id on changes to therapists, their concerns,
 * colleagues and episodes), so several daemons on one database see each
 * other's changes.  Caseloads (active episodes) and the alliance and outcome
 * records come with each load.
 *
 * The catalog owns the vocabulary its tag bits were built with: requests
 * parse tags with catalog_sync_vocab() so that bits always agree.  A new
 * vocabulary (SIGHUP) builds a new catalog in the background and swaps both
 * at once when it is loaded.
 *
 * Ownership: the daemon owns the struct catalog_sync; everything it returns
 * is borrowed and valid until the next return to the event loop.  What it
 * needs (loop, pool, logger, engine parameters) it gets at creation.
 */
#ifndef ALLIANCE_CATALOG_SYNC_H
#define ALLIANCE_CATALOG_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "codec/match_json.h"

struct catalog;
struct db_pool;
struct engine_params;
struct event_base;
struct json_t;
struct logger;
struct vocab;

struct catalog_sync;

/* Borrowed pointers; each must outlive the catalog. */
struct catalog_sync_settings {
	struct event_base *base;
	struct db_pool *db;
	const struct logger *log;
	const struct engine_params *params; /* read at each load (SIGHUP replaces the value) */
	int records_refresh;                /* seconds between all-therapist records refreshes */
};

/* Takes ownership of vocab.  NULL on ENOMEM. */
struct catalog_sync *catalog_sync_new(const struct catalog_sync_settings *set, struct vocab *vocab);
/* Registers the LISTEN; loading starts as soon as the database is up. 0 or -1. */
MUSTCHECK int catalog_sync_start(struct catalog_sync *cs);
/* The daemon is stopping: failed loads are expected, not worth a warning. */
void catalog_sync_stop(struct catalog_sync *cs);
/* engine.records_refresh changed (SIGHUP); takes effect at the next tick. */
void catalog_sync_set_records_refresh(struct catalog_sync *cs, int seconds);
void catalog_sync_free(struct catalog_sync *cs);

/*
 * The common alliance score (engine alliance.h) of feedback row F (an SQL
 * alias with instrument and alliance_index) as SQL text: the instrument's
 * threshold maps to 70.  A5, SRS and WAI are the SQL parameters ("$3") of the
 * alliance5, srs and wai_sr thresholds.  NULL for an ORS.  Records and
 * reports average scores, never the indexes of different instruments.
 */
/* clang-format off */
#define ALLIANCE_THRESHOLD_SQL(F, A5, SRS, WAI) \
	"(CASE " F ".instrument WHEN 'srs' THEN " SRS "::float8" \
	" WHEN 'wai_sr' THEN " WAI "::float8 ELSE " A5 "::float8 END)"
/* clang-format on */
/* clang-format off */
#define ALLIANCE_SCORE_SQL(F, A5, SRS, WAI) \
	"(CASE WHEN " F ".alliance_index IS NULL THEN NULL" \
	" WHEN " F ".alliance_index < " ALLIANCE_THRESHOLD_SQL(F, A5, SRS, WAI) \
	" THEN " F ".alliance_index / " ALLIANCE_THRESHOLD_SQL(F, A5, SRS, WAI) " * 70" \
	" WHEN " ALLIANCE_THRESHOLD_SQL(F, A5, SRS, WAI) " >= 100 THEN 100" \
	" ELSE 70 + (" F ".alliance_index - " ALLIANCE_THRESHOLD_SQL(F, A5, SRS, WAI) ")" \
	" / (100 - " ALLIANCE_THRESHOLD_SQL(F, A5, SRS, WAI) ") * 30 END)"
/* clang-format on */

/* The 503 detail of routes that need the catalog before its first load. */
#define CATALOG_LOADING "the therapist catalog is still loading; retry shortly"

/* True once a full load has completed (matching answers 503 before). */
bool catalog_sync_ready(const struct catalog_sync *cs);
const struct catalog *catalog_sync_catalog(const struct catalog_sync *cs);
const struct vocab *catalog_sync_vocab(const struct catalog_sync *cs);

/* The vocabulary and the therapists' names, for the match writers (borrowed
 * like the catalog). */
struct match_names catalog_sync_names(const struct catalog_sync *cs);

/* Refresh one therapist's alliance and outcome records soon: within about
 * 2 s, in one statement with every other therapist that got feedback in the
 * meantime (feedback sends no NOTIFY; profiles and caseloads do). */
void catalog_sync_refresh(struct catalog_sync *cs, uint32_t therapist_id);

/* Apply a therapist object as the database answered a write (THERAPIST_JSON_SQL
 * of therapist_json.h, "id" included) to this daemon's catalog at once, keeping
 * its caseload and records, so that the writer's next match sees it before the
 * NOTIFY's reload arrives.  Borrowed; invalid objects are ignored (logged). */
void catalog_sync_apply(struct catalog_sync *cs, const struct json_t *therapist);

/* SIGHUP with a changed vocabulary: takes ownership of vocab, reloads in full. */
void catalog_sync_reconfigure(struct catalog_sync *cs, struct vocab *vocab);

/* For /metrics: therapists loaded, full loads, single reloads. */
void catalog_sync_stats(const struct catalog_sync *cs, unsigned *therapists,
    unsigned long long *full_loads, unsigned long long *reloads);

/* Therapists in the database that the catalog could not hold (an invalid
 * stored profile, a label it cannot intern, no memory): matching misses them,
 * so /readyz and /metrics report them.  Count; *ids (borrowed, unordered)
 * lists them when ids is not NULL. */
size_t catalog_sync_unheld(const struct catalog_sync *cs, const uint32_t **ids);

#endif

/*
 * catalog.h — the in-memory set of therapist profiles that matching scans.
 *
 * Laid out for one fast pass: the hard filters run on bitmaps (one row of
 * bits per label, format, population, hour of the week, ..., a bit per
 * therapist), so a filter takes 64 therapists per AND and never reads the
 * records of those it excludes; a first bound on the score comes from the
 * concern rows and two bytes per therapist (the best its records can give).
 * Only the candidates left read their records: a 64-byte hot record (concerns,
 * hours), a 64-byte score record (style, modalities, identity, capacity) and a
 * 48-byte record summary in parallel arrays, and per-concern records in one
 * arena (memory: about 90 bytes of bitmaps per therapist besides them).
 * Strings (languages, genders, sites, payers) are interned per catalog into
 * indices folded onto the bitmaps' rows, so a filter is one AND; a table
 * wider than its bits confirms a folded hit against the therapist's exact
 * labels (catalog_layout.h). No fixed limit below 65535 distinct labels of a
 * kind (ENGINE_EFULL beyond, or for a label over 31 bytes).
 *
 * Ownership: catalog_new() returns a catalog owned by the caller, freed with
 * catalog_free(); it copies what it is given. Not thread-safe for writers:
 * the daemon mutates it on its loop thread only, and matching only reads it.
 * Removing a therapist moves the last one into its slot, so slots are not
 * stable across removals; ids are.
 */
#ifndef ENGINE_CATALOG_H
#define ENGINE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "engine/profile.h"
#include "engine/records.h"

struct catalog;

struct catalog *catalog_new(void);
void catalog_free(struct catalog *c);
/* Room for n therapists at once, so that filling the catalog never doubles
 * and copies its arrays midway (a full reload of a network: one allocation
 * instead of a 10 ms copy on some page).  0 or ENGINE_ENOMEM. */
int catalog_reserve(struct catalog *c, size_t n);

/* Insert or replace by p->id; an update keeps caseload and records.
 * ENGINE_EINVAL (profile_validate), ENGINE_EFULL (intern table), ENGINE_ENOMEM. */
int catalog_upsert(struct catalog *c, const struct therapist_profile *p);
/* Drop a therapist (retired: history stays in the database). ENGINE_ENOTFOUND. */
int catalog_remove(struct catalog *c, uint32_t id);
int catalog_set_caseload(struct catalog *c, uint32_t id, unsigned caseload);
/* Add delta (may be negative; clamps at 0). */
int catalog_caseload_add(struct catalog *c, uint32_t id, int delta);
/* Replace a therapist's records; clinic means update incrementally. */
int catalog_set_records(struct catalog *c, uint32_t id, const struct therapist_records *r);

size_t catalog_count(const struct catalog *c);
/* True if present; then *caseload and *capacity are filled (either may be NULL). */
int catalog_lookup(const struct catalog *c, uint32_t id, unsigned *caseload, unsigned *capacity);
/* Clinic means (alliance index 0-100, outcome share 0-1); n = episodes behind them. */
double catalog_clinic_alliance(const struct catalog *c, double *n);
double catalog_clinic_outcome(const struct catalog *c, double *n);

/* The per-therapist record arrays (hot, score, record summary: what a pass
 * without bitmaps and bounds would read in full), for the benchmark floor: at
 * most max regions into ptr[] and bytes[]; returns how many. */
size_t catalog_scan_memory(const struct catalog *c, const void **ptr, size_t *bytes, size_t max);

#endif

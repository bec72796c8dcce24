/*
 * roster.h - a clinic roster file read into therapist records: YAML or JSON
 * (a list of therapist objects, or {"therapists": [...]}, through doc.h)
 * or CSV (libcsv; the column mapping below), each record with its line.
 *
 * CSV: the first row names the columns, in any order:
 *   external_ref, display_name, gender         text
 *   capacity, self_pay_fee                     integers
 *   accepting_new, active, sliding_scale       true/false (also yes/no, 1/0)
 *   languages, modalities, formats, sites,
 *   populations, identity, payers              lists separated by ";"
 *   concerns                                   "trauma:2;anxiety:1" (level 1 when left out)
 *   directiveness, emotional_intensity,
 *   past_orientation, challenge                the style axes, integers -3..3
 *   availability                               "mon 09:00-13:00;wed 14:00-18:00"
 * An empty cell leaves the field out.  The daemon validates the values.
 *
 * Ownership: struct roster owns every record and its object;
 * roster_clear() frees them.
 */
#ifndef ROSTER_H
#define ROSTER_H

#include <stddef.h>

#include <jansson.h>

#include "doc.h"

struct roster_record {
	json_t *obj;     /* owned: the therapist, NULL when the record is bad */
	unsigned line;   /* where the record starts, 0 when unknown */
	char ref[128];   /* its external_ref when readable (obj == NULL) */
	char field[64];  /* the bad field (obj == NULL) */
	char error[256]; /* why (obj == NULL) */
};

struct roster {
	struct roster_record *v; /* owned */
	size_t n, cap;
};

/* By the file name: *.csv is CSV, anything else YAML or JSON.  0, or -1
 * with a message in ERR when the file as a whole cannot be read. */
int roster_load(struct roster *r, const char *path, char *err, size_t errlen);
void roster_clear(struct roster *r);

#endif

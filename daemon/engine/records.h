/*
 * records.h — a therapist's alliance and outcome records, and their
 * empirical-Bayes shrinkage toward the clinic mean.
 *
 *   shrunk = (n * mean + k * prior_mean) / (n + k)
 *
 * n = the therapist's number of episodes in the record, mean = their mean
 * (alliance: mean episode alliance index 0-100; outcome: share 0-1 of
 * finished episodes with reliable ORS improvement), prior_mean = the clinic
 * mean over all therapists (per concern when the clinic has data there),
 * k = engine_params.record_prior_weight: the number of pseudo-episodes the
 * clinic mean is worth. With k = 20 a therapist with 5 clients stays 80%
 * at the clinic mean: a therapist's own mean needs dozens of clients before
 * it is reliable (DESIGN.md "Matching").
 *
 * Plain data; no ownership.
 */
#ifndef ENGINE_RECORDS_H
#define ENGINE_RECORDS_H

#include <stdint.h>

struct record {
	uint32_t n;  /* episodes counted */
	double mean; /* their mean (see above); ignored when n == 0 */
};

/* Running totals used to build a prior: sum of n*mean and sum of n. */
struct record_total {
	double sum;
	double n;
};

#define RECORDS_MAX_CONCERNS 32

struct concern_record {
	uint8_t concern; /* concern index */
	struct record alliance, outcome;
};

struct therapist_records {
	struct record alliance, outcome; /* over all the therapist's episodes */
	struct concern_record per_concern[RECORDS_MAX_CONCERNS];
	uint8_t n_per_concern;
};

/* The formula above; k <= 0 and n == 0 give prior_mean, and n + k == 0 gives mean. */
double records_shrink(double n, double mean, double prior_mean, double k);

/* Clinic mean of a total (0 when empty). */
double record_total_mean(const struct record_total *t);
void record_total_add(struct record_total *t, const struct record *r);
void record_total_sub(struct record_total *t, const struct record *r);

/* 0 if every mean is in range (alliance 0-100, outcome 0-1) and concerns are
 * distinct; ENGINE_EINVAL otherwise. */
int therapist_records_validate(const struct therapist_records *r, int max_concern);

#endif

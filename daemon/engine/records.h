/*
 * records.h — a therapist's alliance and outcome records, and their
 * hierarchical empirical-Bayes shrinkage (docs/matching.md "Records").
 *
 *   overall      r_t  = (n_t  m_t  + k   M)   / (n_t  + k)
 *   in concern c r_tc = (n_tc m_tc + k_c r_t) / (n_tc + k_c)
 *
 * n = the therapist's number of rated episodes in the record, m = their mean
 * (alliance: mean over episodes of each episode's mean alliance SCORE 0-100,
 * the common scale of alliance.h, never raw indexes of different instruments;
 * outcome: share 0-1 of finished episodes with reliable ORS improvement),
 * M = the clinic mean over all episodes, k = engine_params.record_prior_weight
 * (20) and k_c = engine_params.concern_prior_weight (10). A per-concern record
 * shrinks toward the therapist's own overall record, never toward a concern
 * mean that a handful of episodes (maybe all one therapist's) can set; so a
 * therapist with no history sits exactly at M, and one with no history in a
 * concern exactly at r_t. With k = 20 a therapist with 5 clients stays 80% at
 * the clinic mean: their own mean needs dozens of clients to be reliable.
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

/* (n mean + k prior_mean) / (n + k), both levels above: n == 0 gives prior_mean,
 * k <= 0 gives mean. */
double records_shrink(double n, double mean, double prior_mean, double k);

/* Clinic mean of a total (0 when empty). */
double record_total_mean(const struct record_total *t);
void record_total_add(struct record_total *t, const struct record *r);
void record_total_sub(struct record_total *t, const struct record *r);

/* 0 if every mean is in range (alliance 0-100, outcome 0-1) and concerns are
 * distinct; ENGINE_EINVAL otherwise. */
int therapist_records_validate(const struct therapist_records *r, int max_concern);

#endif

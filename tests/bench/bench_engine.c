/*
 * bench_engine.c — match time per intake against a read-only pass over the
 * catalog's per-therapist record arrays, for 1k, 10k and 100k synthetic
 * therapists, and for 100k shaped like make bench-scale's network
 * (tests/bench/scale_data.sql) matched with its intake (scale_intake.json).
 * Prints a table and, last, "ratio_to_floor_100k=R" (R = match / floor at 100k).
 * Each figure is the minimum over several repetitions (a noisy shared machine).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"

static uint64_t rs = 88172645463325252ULL;
static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11);
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *const langs[] = { "en", "en", "en", "es", "fr", "de", "pt", "zh" };
static const char *const payers[] = { "aetna", "cigna", "bcbs", "united", "medicaid" };

static int
fill(struct catalog *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct therapist_profile t;
		therapist_profile_init(&t, (uint32_t)(i + 1));
		t.active = rnd() % 20 != 0;
		t.accepting_new = rnd() % 8 != 0;
		t.capacity = (uint16_t)(10 + rnd() % 30);
		profile_add_language(&t, "en");
		profile_add_language(&t, langs[rnd() % 8]);
		t.formats = 1 + rnd() % 7;
		t.populations = (UINT64_C(1) << 2) | (rnd() % 64);
		for (int k = 0; k < 6; k++)
			profile_set_concern(&t, (int)(rnd() % 20),
			    (enum concern_level)(1 + rnd() % 2));
		for (int k = 0; k < 3; k++)
			tagset_add(&t.modalities, (int)(rnd() % 16));
		t.identity = rnd() % 32;
		for (int a = 0; a < STYLE_AXES; a++)
			t.style[a] = (int8_t)((int)(rnd() % 7) - 3);
		for (int d = 0; d < 6; d++)
			if (rnd() % 3)
				avail_add(&t.availability, d, (int)(8 + rnd() % 4),
				    (int)(14 + rnd() % 7));
		profile_set_gender(&t, rnd() % 2 ? "female" : "male");
		t.self_pay_fee = (uint16_t)(80 + rnd() % 150);
		t.sliding_scale = rnd() % 3 == 0;
		profile_add_payer(&t, payers[rnd() % 5]);
		profile_add_payer(&t, payers[rnd() % 5]);
		if (catalog_upsert(c, &t) != 0)
			return -1;
		catalog_set_caseload(c, t.id, rnd() % t.capacity);
		struct therapist_records r = { 0 };
		r.alliance = (struct record){ rnd() % 60, 50 + rnd() % 50 };
		r.outcome = (struct record){ rnd() % 40, (double)(rnd() % 100) / 100.0 };
		/* Realistic per-concern records: a therapist with history has one
		 * for most concerns their clients named (about 12 of 20 at the
		 * network size of make bench-scale), so most candidates that pass
		 * the filters read them. */
		if (rnd() % 10 != 0) {
			int want = 6 + (int)(rnd() % 11);
			uint32_t seen = 0;
			for (int k = 0; k < want; k++) {
				int concern = (int)(rnd() % 20);
				if (seen >> concern & 1)
					continue;
				seen |= UINT32_C(1) << concern;
				r.per_concern[r.n_per_concern++] =
				    (struct concern_record){ (uint8_t)concern,
					    { 1 + rnd() % 8, 40 + rnd() % 60 },
					    { rnd() % 6, (double)(rnd() % 100) / 100.0 } };
			}
		}
		catalog_set_records(c, t.id, &r);
	}
	return 0;
}

static double
frac(void)
{
	return (double)(rnd() % 1000000) / 1e6;
}

/* The network of tests/bench/scale_data.sql: 20 languages (English for 60%),
 * 1-3 formats of 3, 1-2 sites of 30, 2-5 payers of 20, 2-7 concerns of 20, a
 * weekday-heavy week; records from about 13 episodes each (1-3 per concern). */
static int
fill_network(struct catalog *c, size_t n)
{
	static const char *const other[] = { "es", "fr", "de", "pt", "zh", "ar", "ru", "it", "pl",
		"vi", "ko", "ja", "hi", "tr", "fa", "uk", "ro", "nl", "el" };
	char b[32];
	for (size_t i = 0; i < n; i++) {
		struct therapist_profile t;
		therapist_profile_init(&t, (uint32_t)(i + 1));
		double g = frac();
		profile_set_gender(&t, g < 0.55 ? "female" : g < 0.95 ? "male" : "nonbinary");
		if (frac() < 0.6)
			profile_add_language(&t, "en");
		for (int k = frac() < 0.6 ? (int)(rnd() % 2) : 1; k > 0; k--)
			profile_add_language(&t, other[rnd() % 19]);
		for (int k = 2 + (int)(rnd() % 3); k > 0; k--)
			tagset_add(&t.modalities, (int)(rnd() % 16));
		while (engine_popcount64(t.formats) < 1 + (int)(rnd() % 3))
			t.formats |= UINT64_C(1) << (rnd() % 3);
		for (int k = 1 + (int)(rnd() % 2); k > 0; k--) {
			snprintf(b, sizeof(b), "site-%02u", 1 + rnd() % 30);
			profile_add_site(&t, b);
		}
		t.populations = UINT64_C(1) << 2; /* adult, and teen, older adult or couple */
		if (rnd() % 2)
			t.populations |= UINT64_C(1) << (int[]){ 1, 3, 4 }[rnd() % 3];
		for (int k = (int)(rnd() % 3); k > 0; k--)
			t.identity |= UINT64_C(1) << (rnd() % 5);
		for (int k = 2 + (int)(rnd() % 4); k > 0; k--) {
			snprintf(b, sizeof(b), "payer-%02u", 1 + rnd() % 20);
			profile_add_payer(&t, b);
		}
		t.self_pay_fee = (uint16_t)(80 + rnd() % 150);
		t.sliding_scale = frac() < 0.3;
		for (int a = 0; a < STYLE_AXES; a++)
			t.style[a] = (int8_t)((int)(rnd() % 7) - 3);
		for (int d = 0; d < 7; d++)
			if (frac() < (d < 5 ? 0.75 : 0.15)) {
				int from = 8 + (int)(rnd() % 5), to = from + 4 + (int)(rnd() % 6);
				avail_add(&t.availability, d, from, to > 22 ? 22 : to);
			}
		t.capacity = (uint16_t)(15 + rnd() % 21);
		t.accepting_new = frac() < 0.9;
		t.active = frac() < 0.97;
		for (int k = 2 + (int)(rnd() % 6); k > 0; k--)
			profile_set_concern(&t, (int)(rnd() % 20),
			    frac() < 0.35 ? CONCERN_SPECIALIST : CONCERN_EXPERIENCED);
		if (catalog_upsert(c, &t) != 0)
			return -1;
		catalog_set_caseload(c, t.id, rnd() % (t.capacity + 3u));
		struct therapist_records r = { 0 };
		r.alliance = (struct record){ 5 + rnd() % 20, 60 + rnd() % 35 };
		r.outcome = (struct record){ rnd() % 12, frac() };
		uint32_t seen = 0;
		for (int k = 8 + (int)(rnd() % 8); k > 0; k--) {
			int concern = (int)(rnd() % 20);
			if (seen >> concern & 1)
				continue;
			seen |= UINT32_C(1) << concern;
			r.per_concern[r.n_per_concern++] =
			    (struct concern_record){ (uint8_t)concern,
				    { 1 + rnd() % 3, 50 + rnd() % 50 },
				    { rnd() % 3, (double)(rnd() % 3) / 2 } };
		}
		catalog_set_records(c, t.id, &r);
	}
	return 0;
}

/* tests/bench/scale_intake.json (default vocabularies: anxiety 0, sleep 18,
 * cbt 0, psychodynamic 4, video 1, adult 2, lgbtq_affirming 0). */
static void
make_network_intake(struct intake *in)
{
	intake_init(in);
	in->population = 2;
	intake_add_language(in, "en");
	intake_add_concern(in, 0, 3);
	intake_add_concern(in, 18, 1);
	tagset_add(&in->mod_prefer, 0);
	tagset_add(&in->mod_avoid, 4);
	in->formats = UINT64_C(1) << 1;
	intake_add_gender(in, "female");
	in->identity = 1;
	intake_set_style(in, STYLE_DIRECTIVENESS, 2);
	intake_set_style(in, STYLE_CHALLENGE, -1);
	avail_add(&in->availability, 1, 17, 20);
	avail_add(&in->availability, 3, 12, 14);
	in->wanted_hours = 2;
	intake_set_payer(in, "payer-03");
	in->self_pay_max = 150;
}

/* A realistic intake: adult, English, video, two concerns, a preferred
 * modality, two style axes, evening hours, a payer with a self-pay cap. */
static void
make_intake(struct intake *in)
{
	intake_init(in);
	in->population = 2;
	intake_add_language(in, "en");
	in->formats = 2; /* video */
	intake_add_concern(in, 2, 3);
	intake_add_concern(in, 18, 1);
	tagset_add(&in->mod_prefer, 3);
	tagset_add(&in->mod_avoid, 4);
	intake_add_gender(in, "female");
	intake_set_style(in, STYLE_DIRECTIVENESS, 2);
	intake_set_style(in, STYLE_CHALLENGE, -1);
	for (int d = 0; d < 5; d++)
		avail_add(&in->availability, d, 12, 19);
	in->wanted_hours = 3;
	intake_set_payer(in, "aetna");
	in->self_pay_max = 150;
}

/* Read every 64-bit word the match pass may read (the filter, score and
 * record arrays in full); volatile sink defeats DCE. */
static volatile uint64_t sink;
static uint64_t
floor_pass(const struct catalog *c)
{
	const void *mem[3];
	size_t bytes[3];
	size_t n = catalog_scan_memory(c, mem, bytes, 3);
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	for (size_t m = 0; m < n; m++) {
		const uint64_t *h = mem[m];
		size_t i = 0;
		for (; i + 4 <= bytes[m] / 8; i += 4) {
			s0 += h[i];
			s1 ^= h[i + 1];
			s2 += h[i + 2];
			s3 ^= h[i + 3];
		}
		for (; i < bytes[m] / 8; i++)
			s0 += h[i];
	}
	return s0 + s1 + s2 + s3;
}

int
main(void)
{
	/* the last: the network of make bench-scale, its intake, limit 5 */
	static const size_t sizes[] = { 1000, 10000, 100000, 100000 };
	static const char *const label[] = { "1000", "10000", "100000", "100000net" };
	struct engine_params p;
	engine_params_defaults(&p);
	struct intake in;
	struct match_item out[10];
	struct match_summary sum;
	double ratio100k = 0;

	printf("%-10s %12s %14s %12s %14s %8s %8s\n", "therapists", "match_ms", "ns/candidate",
	    "floor_ms", "floor_ns/cand", "ratio", "passed");
	for (size_t si = 0; si < 4; si++) {
		size_t n = sizes[si], k = si == 3 ? 5 : 10;
		struct catalog *c = catalog_new();
		if (si == 3)
			make_network_intake(&in);
		else
			make_intake(&in);
		if (!c || (si == 3 ? fill_network(c, n) : fill(c, n)) != 0) {
			fprintf(stderr, "bench: cannot build catalog\n");
			return 1;
		}
		int reps = n >= 100000 ? 100 : n >= 10000 ? 400 : 2000;
		double best_m = 1e30, best_f = 1e30;
		/* interleave match and floor so both see the same cache/frequency state */
		for (int r = 0; r < reps; r++) {
			double t0 = now_ms();
			if (match_run(c, &p, &in, k, out, &sum) != 0) {
				fprintf(stderr, "bench: match failed\n");
				return 1;
			}
			double t1 = now_ms();
			sink += floor_pass(c);
			double t2 = now_ms();
			if (t1 - t0 < best_m)
				best_m = t1 - t0;
			if (t2 - t1 < best_f)
				best_f = t2 - t1;
		}
		double ratio = best_m / best_f;
		printf("%-10s %12.4f %14.2f %12.4f %14.2f %8.2f %8u\n", label[si], best_m,
		    best_m * 1e6 / (double)n, best_f, best_f * 1e6 / (double)n, ratio,
		    sum.n_results ? sum.considered -
		            (sum.excluded[0] + sum.excluded[1] + sum.excluded[2] + sum.excluded[3] +
		                sum.excluded[4] + sum.excluded[5] + sum.excluded[6] +
		                sum.excluded[7] + sum.excluded[8])
		                  : 0);
		if (si == 2)
			ratio100k = ratio;
		catalog_free(c);
	}
	printf("ratio_to_floor_100k=%.2f\n", ratio100k);
	return 0;
}

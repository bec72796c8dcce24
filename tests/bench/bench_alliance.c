/*
 * bench_alliance.c - one alliance evaluation of a large episode (issue 11).
 *
 * 10,000 sessions, each with an alliance5 form, an ORS and an attendance entry (30,000 rows,
 * the most the schema allows per session number), and a smaller episode at the default cap of
 * 500 sessions.  Prints the median time of alliance_evaluate for each: an evaluation runs on
 * the event loop (every feedback, attendance, GET alliance and report row), so it must stay
 * far below the loop's watchdog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* tail: the last TAIL sessions are cancelled with no feedback (the slow case of a scan per
 * row: no scheduled session is found among them). */
static double
run(const struct engine_params *p, uint32_t sessions, uint32_t tail, int reps)
{
	size_t n_fb = 2 * (size_t)(sessions - tail), n_att = sessions;
	struct feedback *fb = calloc(n_fb, sizeof(*fb));
	struct attendance *att = calloc(n_att, sizeof(*att));
	struct alliance_result out;
	double *t = calloc((size_t)reps, sizeof(*t)), med;

	if (fb == NULL || att == NULL || t == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (uint32_t s = sessions - tail + 1; s <= sessions; s++) {
		att[s - 1].session = s;
		att[s - 1].status = ATT_CANCELLED;
	}
	for (uint32_t s = 1; s <= sessions - tail; s++) {
		struct feedback *o = &fb[2 * (s - 1)], *a = &fb[2 * (s - 1) + 1];
		o->session = s;
		o->instrument = INSTR_ORS;
		for (int i = 0; i < 4; i++)
			o->items[i] = 6;
		o->items_present = 0xf;
		a->session = s;
		a->instrument = INSTR_ALLIANCE5;
		for (int i = 0; i < 5; i++)
			a->items[i] = 8;
		a->items_present = 0x1f;
		att[s - 1].session = s;
		att[s - 1].status = s % 7 == 0 ? ATT_CANCELLED : ATT_ATTENDED;
	}
	for (int r = 0; r < reps; r++) {
		double t0 = now_ms();
		if (alliance_evaluate(p, fb, n_fb, att, n_att, &out) != 0) {
			fprintf(stderr, "alliance_evaluate failed\n");
			exit(1);
		}
		t[r] = now_ms() - t0;
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp);
	med = t[reps / 2];
	free(fb);
	free(att);
	free(t);
	return med;
}

int
main(int argc, char **argv)
{
	struct engine_params p;
	int reps = argc > 1 ? atoi(argv[1]) : 5;

	engine_params_defaults(&p);
	printf("sessions=500 rows=1500 median_ms=%.3f\n", run(&p, 500, 0, reps * 20));
	printf("sessions=10000 rows=30000 median_ms=%.3f\n", run(&p, 10000, 0, reps));
	printf("sessions=10000 rows=25000 cancelled_tail=5000 median_ms=%.3f\n",
	    run(&p, 10000, 5000, reps));
	return 0;
}

/* records.c — empirical-Bayes shrinkage of therapist records (see records.h). */
#include "engine/records.h"
#include "engine/engine_err.h"

double
records_shrink(double n, double mean, double prior_mean, double k)
{
	if (n <= 0)
		return prior_mean;
	if (k <= 0)
		return mean;
	return (n * mean + k * prior_mean) / (n + k);
}

double
record_total_mean(const struct record_total *t)
{
	return t->n > 0 ? t->sum / t->n : 0.0;
}

void
record_total_add(struct record_total *t, const struct record *r)
{
	t->sum += (double)r->n * r->mean;
	t->n += r->n;
}

void
record_total_sub(struct record_total *t, const struct record *r)
{
	t->sum -= (double)r->n * r->mean;
	t->n -= r->n;
	if (t->n <= 0) /* float residue must not leave a phantom prior */
		t->sum = t->n = 0;
}

static int
bad_record(const struct record *r, double max)
{
	return r->n > 0 && !(r->mean >= 0 && r->mean <= max);
}

int
therapist_records_validate(const struct therapist_records *r, int max_concern)
{
	if (!r || r->n_per_concern > RECORDS_MAX_CONCERNS)
		return ENGINE_EINVAL;
	if (bad_record(&r->alliance, 100) || bad_record(&r->outcome, 1))
		return ENGINE_EINVAL;
	for (int i = 0; i < r->n_per_concern; i++) {
		const struct concern_record *c = &r->per_concern[i];
		if (c->concern >= max_concern || bad_record(&c->alliance, 100) ||
		    bad_record(&c->outcome, 1))
			return ENGINE_EINVAL;
		for (int j = 0; j < i; j++)
			if (r->per_concern[j].concern == c->concern)
				return ENGINE_EINVAL;
	}
	return 0;
}

/* Unit tests: catalog.c (upsert/remove by id, interning, caseload, clinic means). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "engine/engine.h"

static void
prof(struct therapist_profile *t, uint32_t id)
{
	therapist_profile_init(t, id);
	t->active = t->accepting_new = true;
	t->capacity = 10;
}

static void
test_upsert_remove_many(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	for (uint32_t id = 1; id <= 5000; id++) {
		prof(&t, id * 7);
		assert_int_equal(catalog_upsert(c, &t), 0);
	}
	assert_int_equal(catalog_count(c), 5000);
	for (uint32_t id = 1; id <= 5000; id += 2)
		assert_int_equal(catalog_remove(c, id * 7), 0);
	assert_int_equal(catalog_count(c), 2500);
	for (uint32_t id = 1; id <= 5000; id++)
		assert_int_equal(catalog_lookup(c, id * 7, NULL, NULL), id % 2 == 0);
	assert_int_equal(catalog_remove(c, 7), ENGINE_ENOTFOUND);
	assert_int_equal(catalog_lookup(c, 0, NULL, NULL), 0);
	catalog_free(c);
}

static void
test_update_keeps_caseload_and_validates(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	prof(&t, 3);
	assert_int_equal(catalog_upsert(c, &t), 0);
	assert_int_equal(catalog_set_caseload(c, 3, 4), 0);
	t.capacity = 12;
	assert_int_equal(catalog_upsert(c, &t), 0);
	unsigned load = 0, cap = 0;
	assert_true(catalog_lookup(c, 3, &load, &cap));
	assert_int_equal(load, 4);
	assert_int_equal(cap, 12);
	assert_int_equal(catalog_caseload_add(c, 3, -10), 0);
	catalog_lookup(c, 3, &load, NULL);
	assert_int_equal(load, 0);
	assert_int_equal(catalog_caseload_add(c, 99, 1), ENGINE_ENOTFOUND);
	t.style[0] = 4;
	assert_int_equal(catalog_upsert(c, &t), ENGINE_EINVAL);
	prof(&t, 0);
	assert_int_equal(catalog_upsert(c, &t), ENGINE_EINVAL);
	catalog_free(c);
}

static void
test_intern_tables_full(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	char site[16];
	for (uint32_t i = 0; i < 32; i++) {
		prof(&t, i + 1);
		snprintf(site, sizeof(site), "site%u", i);
		profile_add_site(&t, site);
		assert_int_equal(catalog_upsert(c, &t), 0);
	}
	prof(&t, 100);
	profile_add_site(&t, "site0"); /* known: fine */
	assert_int_equal(catalog_upsert(c, &t), 0);
	profile_add_site(&t, "one_too_many");
	assert_int_equal(catalog_upsert(c, &t), ENGINE_EFULL);
	catalog_free(c);
}

static void
test_clinic_means_follow_records(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	prof(&t, 1);
	catalog_upsert(c, &t);
	prof(&t, 2);
	catalog_upsert(c, &t);
	double n = -1;
	assert_float_equal(catalog_clinic_alliance(c, &n), 0, 1e-9);
	assert_float_equal(n, 0, 1e-9);
	struct therapist_records r = { 0 };
	r.alliance = (struct record){ 10, 80 };
	r.outcome = (struct record){ 4, 0.5 };
	assert_int_equal(catalog_set_records(c, 1, &r), 0);
	r.alliance = (struct record){ 30, 60 };
	r.outcome = (struct record){ 4, 0.25 };
	assert_int_equal(catalog_set_records(c, 2, &r), 0);
	assert_float_equal(catalog_clinic_alliance(c, &n), 65, 1e-4);
	assert_float_equal(n, 40, 1e-9);
	assert_float_equal(catalog_clinic_outcome(c, NULL), 0.375, 1e-6);
	r.alliance = (struct record){ 10, 60 }; /* replace therapist 2's record */
	catalog_set_records(c, 2, &r);
	assert_float_equal(catalog_clinic_alliance(c, NULL), 70, 1e-4);
	catalog_remove(c, 1);
	assert_float_equal(catalog_clinic_alliance(c, NULL), 60, 1e-4);
	r.alliance.mean = 120;
	assert_int_equal(catalog_set_records(c, 2, &r), ENGINE_EINVAL);
	assert_int_equal(catalog_set_records(c, 1, &r), ENGINE_ENOTFOUND);
	const void *hot, *rec;
	size_t hb, rb;
	catalog_scan_memory(c, &hot, &hb, &rec, &rb);
	assert_int_equal(hb, 128);
	assert_int_equal(rb, 24);
	catalog_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_remove_many),
		cmocka_unit_test(test_update_keeps_caseload_and_validates),
		cmocka_unit_test(test_intern_tables_full),
		cmocka_unit_test(test_clinic_means_follow_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

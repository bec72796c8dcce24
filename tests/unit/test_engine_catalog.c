/* Unit tests: catalog.c (upsert/remove by id, interning, caseload, clinic means). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "engine/catalog_layout.h"
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

/* catalog_reserve: room at once, so filling the catalog never moves its
 * arrays (a full reload's pages each stay a bounded loop turn). */
static void
test_reserve_fills_without_moving(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	assert_int_equal(catalog_reserve(c, 5000), 0);
	assert_true(c->cap >= 5000 && c->cap % 64 == 0);
	const struct cat_hot *hot = c->hot;
	const uint64_t *bm = c->bm;
	for (uint32_t id = 1; id <= 5000; id++) {
		prof(&t, id);
		assert_int_equal(catalog_upsert(c, &t), 0);
	}
	assert_ptr_equal(c->hot, hot);
	assert_ptr_equal(c->bm, bm);
	assert_int_equal(catalog_count(c), 5000);
	for (uint32_t id = 1; id <= 5000; id += 499)
		assert_int_equal(catalog_lookup(c, id, NULL, NULL), 1);
	size_t cap = c->cap;
	assert_int_equal(catalog_reserve(c, 10), 0); /* less than there is: nothing */
	assert_int_equal(c->cap, cap);
	for (uint32_t id = 5001; id <= cap + 1; id++) { /* past the reservation: grows */
		prof(&t, id);
		assert_int_equal(catalog_upsert(c, &t), 0);
	}
	assert_true(c->cap > cap);
	assert_int_equal(catalog_lookup(c, 3, NULL, NULL), 1);
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

/* No fixed label limit: the 40th site and payer, the 70th language and gender
 * are held like the first (folded bits, exact labels beside them). */
static void
test_intern_tables_grow(void **state)
{
	(void)state;
	struct catalog *c = catalog_new();
	struct therapist_profile t;
	char s[32], lang[3] = { 0 };
	for (uint32_t i = 0; i < 70; i++) {
		prof(&t, i + 1);
		snprintf(s, sizeof(s), "site%u", i);
		profile_add_site(&t, s);
		snprintf(s, sizeof(s), "payer%u", i);
		profile_add_payer(&t, s);
		snprintf(s, sizeof(s), "gender%u", i);
		profile_set_gender(&t, s);
		lang[0] = (char)('a' + i / 26);
		lang[1] = (char)('a' + i % 26);
		assert_int_equal(profile_add_language(&t, lang), 0);
		assert_int_equal(catalog_upsert(c, &t), 0);
	}
	assert_int_equal(catalog_count(c), 70);
	assert_int_equal(catalog_site_bit(c, "SITE69"), 69);
	assert_int_equal(catalog_payer_bit(c, "payer39"), 39);
	assert_int_equal(catalog_gender_index(c, "gender64"), 64);
	/* a label over 31 bytes cannot be held: refused, never half-written */
	prof(&t, 100);
	assert_int_equal(catalog_upsert(c, &t), 0);
	assert_int_equal(profile_add_site(&t, "a_site_name_of_exactly_31_chars"), 0);
	assert_int_equal(catalog_upsert(c, &t), 0);
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
	const void *mem[3];
	size_t bytes[3];
	assert_int_equal(catalog_scan_memory(c, mem, bytes, 3), 3);
	assert_int_equal(bytes[0], 64); /* filter record */
	assert_int_equal(bytes[1], 64); /* score record */
	assert_int_equal(bytes[2], 48); /* record summary */
	assert_int_equal(catalog_scan_memory(c, mem, bytes, 1), 1);
	catalog_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_remove_many),
		cmocka_unit_test(test_reserve_fills_without_moving),
		cmocka_unit_test(test_update_keeps_caseload_and_validates),
		cmocka_unit_test(test_intern_tables_grow),
		cmocka_unit_test(test_clinic_means_follow_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_migrate.c - the embedded migration list and its checks (no database needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/migrate.h"

static void
test_embedded_list_valid(void **state)
{
	char err[256] = "";

	(void)state;
	assert_true(migrations_count >= 1);
	assert_int_equal(migrate_check_list(migrations, migrations_count, err, sizeof err), 0);
	for (size_t i = 0; i < migrations_count; i++)
		assert_int_equal(migrations[i].version, (int)i + 1);
}

static void
test_latest_version(void **state)
{
	(void)state;
	assert_int_equal(migrate_latest_version(), (int)migrations_count);
	assert_int_equal(migrate_latest_version(), migrations[migrations_count - 1].version);
}

/* The generator's escaping must round-trip: the embedded text equals the file byte for byte
 * (make runs the tests from the checkout's root). */
static void
test_embedded_text_matches_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < migrations_count; i++) {
		char path[256];
		FILE *f;
		char *buf;
		long n;

		snprintf(path, sizeof path, "sql/%s.sql", migrations[i].name);
		f = fopen(path, "rb");
		if (f == NULL)
			skip();
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		n = ftell(f);
		assert_true(n > 0);
		rewind(f);
		buf = malloc((size_t)n + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
		buf[n] = '\0';
		fclose(f);
		assert_string_equal(migrations[i].sql, buf);
		free(buf);
	}
}

/* Every table the daemon keeps exists somewhere in the migrations, and the catalog
 * NOTIFY trigger is there (the API's in-memory catalog relies on it). */
static void
test_schema_has_all_tables(void **state)
{
	static const char *const tables[] = {
		"therapists",
		"therapist_concerns",
		"colleagues",
		"clients",
		"episodes",
		"feedback",
		"attendance",
		"api_tokens",
		"audit_log",
	};

	(void)state;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
		char needle[64];
		bool found = false;

		snprintf(needle, sizeof needle, "CREATE TABLE %s (", tables[t]);
		for (size_t i = 0; i < migrations_count && !found; i++)
			found = strstr(migrations[i].sql, needle) != NULL;
		if (!found)
			fail_msg("no migration creates table %s", tables[t]);
	}
	bool notify = false;
	for (size_t i = 0; i < migrations_count && !notify; i++)
		notify = strstr(migrations[i].sql, "pg_notify('alliance_catalog'") != NULL;
	assert_true(notify);
}

static void
test_check_list_rejects(void **state)
{
	char err[256];
	const struct migration gap[] = { { 1, "001_a", "SELECT 1;" }, { 3, "003_c", "SELECT 1;" } };
	const struct migration order[] = { { 2, "002_b", "SELECT 1;" },
		{ 1, "001_a", "SELECT 1;" } };
	const struct migration badname[] = { { 1, "01_a", "SELECT 1;" } };
	const struct migration noname[] = { { 1, "001_", "SELECT 1;" } };
	const struct migration empty[] = { { 1, "001_a", " \n\t\n" } };
	const struct migration begin[] = { { 1, "001_a", "begin;\nCREATE TABLE t (a int);\n" } };
	const struct migration commit[] = { { 1, "001_a",
	    "CREATE TABLE t (a int);\n  COMMIT;\n" } };
	const struct migration start[] = { { 1, "001_a", "START TRANSACTION;\nSELECT 1;\n" } };

	(void)state;
	assert_int_equal(migrate_check_list(gap, 2, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected 2"));
	assert_int_equal(migrate_check_list(order, 2, err, sizeof err), -1);
	assert_int_equal(migrate_check_list(badname, 1, err, sizeof err), -1);
	assert_int_equal(migrate_check_list(noname, 1, err, sizeof err), -1);
	assert_int_equal(migrate_check_list(empty, 1, err, sizeof err), -1);
	assert_int_equal(migrate_check_list(begin, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "transaction"));
	assert_int_equal(migrate_check_list(commit, 1, err, sizeof err), -1);
	assert_int_equal(migrate_check_list(start, 1, err, sizeof err), -1);
}

/* PL/pgSQL blocks (BEGIN ... END without a semicolon after BEGIN) are not transactions. */
static void
test_check_list_accepts_plpgsql(void **state)
{
	char err[256] = "";
	const struct migration ok[] = {
		{ 1, "001_a",
		    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
		    "\tRETURN NEW;\nEND;\n$$;\n" },
		{ 2, "002_begins", "CREATE TABLE begin_log (committed boolean);\n" },
	};

	(void)state;
	assert_int_equal(migrate_check_list(ok, 2, err, sizeof err), 0);
	assert_string_equal(err, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_list_valid),
		cmocka_unit_test(test_latest_version),
		cmocka_unit_test(test_embedded_text_matches_files),
		cmocka_unit_test(test_schema_has_all_tables),
		cmocka_unit_test(test_check_list_rejects),
		cmocka_unit_test(test_check_list_accepts_plpgsql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

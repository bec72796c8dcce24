/*
 * test_catalog_sync.c - the in-memory catalog against a real PostgreSQL, on
 * its own: a pool, a catalog and an event loop, no daemon and no HTTP.
 *
 * It needs a migrated database: ALLIANCE_TEST_DATABASE_URL (a libpq string).
 * Without it every test is skipped; tests/e2e/test_unit_with_pg.py runs this
 * binary against the e2e harness's PostgreSQL, so make check covers it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "base/clock.h"
#include "base/log.h"
#include "config.h"
#include "engine/engine.h"
#include "engine_config.h"
#include "store/catalog_sync.h"
#include "codec/therapist_json.h"
#include "store/db.h"
#include "store/therapist_row.h"

struct fixture {
	struct event_base *base;
	struct logger log;
	struct engine_params params;
	struct db_pool *db;
	struct catalog_sync *cs;
	PGconn *admin; /* blocking: the test's own writes */
};

static void
sql(struct fixture *f, const char *text)
{
	PGresult *res = PQexec(f->admin, text);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", text, PQerrorMessage(f->admin));
	PQclear(res);
}

/* Runs the loop until pred(f) holds; fails after 10 s. */
static void
run_until(struct fixture *f, bool (*pred)(struct fixture *), const char *what)
{
	double deadline = clock_now() + 10;

	while (!pred(f)) {
		if (clock_now() > deadline)
			fail_msg("timed out waiting for %s", what);
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
}

static int
setup(void **state)
{
	const char *url = getenv("ALLIANCE_TEST_DATABASE_URL");
	struct fixture *f;
	struct db_settings dbs;
	struct catalog_sync_settings css;
	struct config *cfg;
	struct vocab *vocab = NULL;
	char err[256];

	if (url == NULL || url[0] == '\0') {
		*state = NULL;
		return 0;
	}
	f = calloc(1, sizeof(*f));
	cfg = config_new_defaults();
	if (f == NULL || cfg == NULL ||
	    engine_config_build(cfg, &f->params, &vocab, err, sizeof(err)) != 0)
		return -1;
	config_free(cfg);
	f->base = event_base_new();
	logger_init(&f->log, LOG_ERROR, stderr);
	f->admin = PQconnectdb(url);
	if (PQstatus(f->admin) != CONNECTION_OK)
		return -1;
	sql(f, "TRUNCATE therapists, clients RESTART IDENTITY CASCADE");
	memset(&dbs, 0, sizeof(dbs));
	dbs.url = url;
	dbs.pool_size = 2;
	dbs.connect_timeout = 2;
	dbs.queue_timeout_ms = 5000;
	dbs.max_queue = 64;
	dbs.log = &f->log;
	f->db = db_pool_new(f->base, &dbs);
	if (f->db == NULL || db_pool_start(f->db) != 0)
		return -1;
	memset(&css, 0, sizeof(css));
	css.base = f->base;
	css.db = f->db;
	css.log = &f->log;
	css.params = &f->params;
	css.records_refresh = 60;
	f->cs = catalog_sync_new(&css, vocab);
	if (f->cs == NULL || catalog_sync_start(f->cs) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	catalog_sync_stop(f->cs);
	db_pool_free(f->db);
	catalog_sync_free(f->cs);
	event_base_free(f->base);
	PQfinish(f->admin);
	free(f);
	return 0;
}

#define NEED_DATABASE(f)         \
	do {                     \
		if ((f) == NULL) \
			skip();  \
	} while (0)

static bool
ready(struct fixture *f)
{
	return catalog_sync_ready(f->cs);
}

static unsigned
therapists(struct fixture *f)
{
	unsigned n;
	unsigned long long full, single;

	catalog_sync_stats(f->cs, &n, &full, &single);
	return n;
}

static bool
one_therapist(struct fixture *f)
{
	return therapists(f) == 1;
}

static const char *
name_of(struct fixture *f, uint32_t id)
{
	struct match_names m = catalog_sync_names(f->cs);
	const char *ref = NULL, *name = NULL;

	return m.lookup(m.arg, id, &ref, &name) == 0 ? name : NULL;
}

static bool
renamed(struct fixture *f)
{
	const char *n = name_of(f, 1);

	return n != NULL && strcmp(n, "Ana R.") == 0;
}

static void
test_loads_in_full_then_follows_notify(void **state)
{
	struct fixture *f = *state;

	NEED_DATABASE(f);
	run_until(f, ready, "the first full load");
	assert_int_equal(therapists(f), 0);
	assert_null(name_of(f, 1));

	/* Another writer (not this process): the trigger's NOTIFY brings it in. */
	sql(f,
	    "INSERT INTO therapists (external_ref, display_name, languages) "
	    "VALUES ('T-1', 'Ana Ruiz', '{es}')");
	run_until(f, one_therapist, "the NOTIFY reload of a new therapist");
	assert_string_equal(name_of(f, 1), "Ana Ruiz");

	sql(f, "UPDATE therapists SET display_name = 'Ana R.' WHERE id = 1");
	run_until(f, renamed, "the NOTIFY reload of a changed therapist");
	assert_non_null(catalog_sync_catalog(f->cs));
	assert_non_null(catalog_sync_vocab(f->cs));
}

/* catalog_sync_apply: the writer's own answer is in the catalog at once,
 * before any NOTIFY (read-your-writes). */
static void
test_apply_is_seen_before_the_notify(void **state)
{
	struct fixture *f = *state;
	json_t *t;

	NEED_DATABASE(f);
	run_until(f, ready, "the first full load");
	t = json_pack("{s:i, s:s, s:s, s:[s], s:{}, s:[], s:[], s:[], s:[], s:[], s:[], s:{},"
	              " s:[], s:b, s:i, s:b, s:b}",
	    "id", 77, "external_ref", "T-77", "display_name", "Bo Lind", "languages", "en",
	    "concerns", "modalities", "formats", "sites", "populations", "identity", "payers",
	    "style", "availability", "sliding_scale", 0, "capacity", 10, "accepting_new", 1,
	    "active", 1);
	assert_non_null(t);
	catalog_sync_apply(f->cs, t);
	json_decref(t);
	assert_int_equal(therapists(f), 1);
	assert_string_equal(name_of(f, 77), "Bo Lind");
}

/* The loader's columns (therapist_from_row) give the very profile the API
 * object gives (therapist_from_json, stored mode): labels with quotes, commas
 * and blanks, tags the vocabulary lacks, a fee in cents, style, hours. */
static void
test_row_equals_the_stored_object(void **state)
{
	struct fixture *f = *state;
	struct therapist_profile from_json, from_row;
	struct field_errors fe;
	const char *field = NULL;
	PGresult *res;
	json_t *obj;

	NEED_DATABASE(f);
	sql(f,
	    "INSERT INTO therapists (external_ref, display_name, gender, languages, modalities,"
	    " formats, sites, populations, identity, payers, self_pay_fee, sliding_scale,"
	    " style_directiveness, style_challenge, availability, capacity, accepting_new)"
	    " VALUES ('T-ROW', 'Row \"Quoted\", Name', 'non-binary', '{en,de,fr}',"
	    " '{cbt,not_in_vocab,emdr}', '{video,in_person}',"
	    " ARRAY['North, \"old\" wing', 'a\\b', 'NULL', 'x y'], '{adults}', '{}',"
	    " ARRAY['Payer {1}', 'P2'], 150.50, true, -2, 3,"
	    " (repeat('0', 9) || repeat('1', 8) || repeat('0', 151))::bit(168), 12, false)");
	sql(f,
	    "INSERT INTO therapist_concerns (therapist_id, concern, level)"
	    " SELECT id, c, l FROM therapists, (VALUES ('trauma', 2), ('anxiety', 1),"
	    " ('not_a_concern', 2)) v(c, l) WHERE external_ref = 'T-ROW'");
	res = PQexec(f->admin,
	    "SELECT t.id, " THERAPIST_JSON_SQL("t", THERAPIST_CONCERNS_SQL("t")) ", " THERAPIST_ROW_SQL(
	        "t") " FROM therapists t WHERE t.external_ref = 'T-ROW'");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	obj = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
	assert_non_null(obj);
	field_errors_init(&fe);
	memset(&from_json, 0, sizeof(from_json));
	memset(&from_row, 0, sizeof(from_row));
	assert_int_equal(therapist_from_json(obj, THERAPIST_STORED, catalog_sync_vocab(f->cs),
	                     &from_json, NULL, &fe),
	    0);
	assert_int_equal(therapist_from_row(res, 0, 2, (uint32_t)atoi(PQgetvalue(res, 0, 0)),
	                     catalog_sync_vocab(f->cs), &from_row, &field),
	    0);
	assert_int_equal(from_row.n_sites, 4);
	assert_string_equal(from_row.sites[0], "North, \"old\" wing");
	assert_string_equal(from_row.sites[1], "a\\b");
	assert_string_equal(from_row.sites[2], "NULL");
	assert_int_equal(from_row.self_pay_fee, 151);
	assert_memory_equal(&from_json, &from_row, sizeof(from_row));
	/* more languages than the profile holds: refused by both */
	sql(f,
	    "UPDATE therapists SET languages = '{en,de,fr,es,it,nl,pt,pl,sv}'"
	    " WHERE external_ref = 'T-ROW'");
	PQclear(res);
	res = PQexec(f->admin,
	    "SELECT t.id, " THERAPIST_ROW_SQL(
	        "t") " FROM therapists t WHERE t.external_ref = 'T-ROW'");
	assert_int_equal(therapist_from_row(res, 0, 1, 1, catalog_sync_vocab(f->cs), &from_row,
	                     &field),
	    -1);
	assert_string_equal(field, "languages");
	PQclear(res);
	json_decref(obj);
	field_errors_clear(&fe);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_loads_in_full_then_follows_notify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_row_equals_the_stored_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_is_seen_before_the_notify, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

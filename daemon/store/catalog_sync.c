/*
 * catalog_sync.c - the engine catalog, loaded from PostgreSQL and kept current
 * through LISTEN/NOTIFY (see catalog_sync.h).
 *
 * Two statements, one for everyone (the full load) and one for a batch of ids
 * (NOTIFY reloads), read the therapist's API object (THERAPIST_JSON_SQL,
 * parsed by therapist_from_json() like a request body: one mapping), the
 * caseload (active episodes) and the records, both stored rows that triggers
 * keep (sql/007_therapist_records.sql, which defines them as below).
 *
 * Records, per therapist and per concern of the client's intake
 * (clients.preferences->concerns[].tag):
 * - alliance: n = episodes with at least one rated session, mean = the mean
 *   over those episodes of each episode's MEAN alliance score (every rated
 *   session's ALLIANCE_SCORE_SQL, the common scale, never the raw indexes of
 *   different instruments; each session counts once within its episode, so
 *   one rupture does not decide, and each episode counts once for the
 *   therapist);
 * - outcome: n = ended episodes with at least one ORS, mean = the share of
 *   them whose latest ORS total minus the first is >= ors_reliable_change (a
 *   single ORS is no measurable change).
 *
 * Ordering.  A full load replaces the whole catalog when its answer is
 * complete (matching never sees a half-built one).  NOTIFYs that arrive while
 * it runs may describe commits after its snapshot, so their ids are kept and
 * reloaded once it is swapped in.  NOTIFYed ids are coalesced: they wait in a
 * bounded set and go out as ONE batch statement, at most one in flight, so a
 * flood of NOTIFYs (any role with CONNECT may send them) takes one pool
 * connection at a time and never fills the pool's queue ahead of requests;
 * an id NOTIFYed while its batch is in flight is read again by the next
 * batch, so an older answer never overwrites a newer one.  A batch older
 * than the last full load is dropped (the full load saw at least as much).
 * A failed reload, or more distinct ids than the set holds, falls back to a
 * full load (with backoff) rather than leave the catalog stale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "base/clock.h"
#include "base/log.h"
#include "codec/json_fields.h"
#include "codec/therapist_json.h"
#include "engine/engine.h"
#include "store/catalog_sync.h"
#include "store/db.h"
#include "store/therapist_row.h"

#define CHANNEL      "alliance_catalog"
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 2000
#define PENDING_MAX  4096 /* distinct ids waiting for a reload; beyond: one full load */
#define BATCH_MAX    256  /* ids per reload statement: rows applied in one loop turn */
/* Records after feedback: statistics shrunk toward the clinic mean move
 * little per session, so a therapist's reload is at most this often, not
 * once per submission (the reload aggregates all their episodes). */
#define REFRESH_DELAY_MS 2000
#define REFRESH_MAX      4096

/* The records are rows of sql/007's tables, kept by triggers in the same
 * transaction as every change they depend on (feedback through episode_stats,
 * episodes, the clients' intakes): a load reads one row per therapist and its
 * per-concern rows, never the history.  The per-concern rows come as one text
 * column, "tag a_n a_mean o_n o_mean" joined by ';' (tags are [a-z0-9_]):
 * cheaper to build and to parse than JSON, for ~1.2M rows at 100k therapists. */
/* clang-format off */
#define CONCERN_RECORDS_SQL(TID) \
	"(SELECT string_agg(c.concern || ' ' || c.a_n || ' '" \
	"   || CASE WHEN c.a_n > 0 THEN c.a_sum / c.a_n ELSE 0 END || ' ' || c.o_n || ' '" \
	"   || CASE WHEN c.o_n > 0 THEN c.o_k::float8 / c.o_n ELSE 0 END, ';')" \
	"  FROM therapist_concern_records c WHERE c.therapist_id = " TID ")"
/* clang-format on */

/* a_n, a_mean, o_n, o_mean of therapist_records R (rows hold counts and sums;
 * NULL columns when R has no row) */
/* clang-format off */
#define RECORD_COLS \
	"coalesce(r.a_n, 0), CASE WHEN r.a_n > 0 THEN r.a_sum / r.a_n END," \
	" coalesce(r.o_n, 0), CASE WHEN r.o_n > 0 THEN r.o_k::float8 / r.o_n END"
/* clang-format on */

/* The therapist's row as columns (THERAPIST_ROW_SQL: building and parsing its
 * API object would cost twice the database and loop time), caseload and
 * records, and the xmin of the statement's snapshot: every change to
 * therapist_records it did not see has xact >= that (the cursor of the next
 * records refresh). */
/* clang-format off */
#define LOAD_SELECT(RCOND) \
	" SELECT t.id, " THERAPIST_ROW_SQL("t") "," \
	"  coalesce(r.caseload, 0), " RECORD_COLS "," \
	"  " CONCERN_RECORDS_SQL("t.id") "," \
	"  pg_snapshot_xmin(pg_current_snapshot())" \
	" FROM therapists t LEFT JOIN therapist_records r" \
	"  ON r.therapist_id = t.id AND " RCOND
/* clang-format on */

/* Separate statements for everyone and for a batch of ids ($1 a bigint[]).
 * Everyone is read in pages of FULL_PAGE therapists by id ($1 the last id of
 * the previous page: an index range scan), each applied in one loop turn: no
 * stall, and no result of the whole network held in memory.  The next page
 * is asked for before a page is applied, so the database builds one while
 * the loop parses the other.  200: a page applies in 4-9 ms at 100k
 * therapists (400 took up to 17.6 ms on a busy machine), far below the
 * 20 ms a turn may take. */
#define FULL_PAGE 200
#define STR2(x)   #x
#define STR(x)    STR2(x)
/* (RCOND repeats the page's range for the records: without it a merge join
 * would walk therapist_records from the first id on every page) */
static const char load_full_sql[] = LOAD_SELECT(
    "r.therapist_id > $1::bigint") " WHERE t.id > $1::bigint ORDER BY t.id LIMIT " STR(FULL_PAGE);
static const char load_batch_sql[] =
    LOAD_SELECT("r.therapist_id = ANY($1::bigint[])") " WHERE t.id = ANY($1::bigint[])";

/* Records only: what feedback moves.  Profiles and caseloads follow NOTIFY;
 * this never touches them, so it cannot race a newer single reload.  The
 * batch names therapists ($1); the periodic refresh asks for every therapist
 * whose records changed since its cursor ($1, an xid8; $2 the last id of the
 * previous page): feedback stored by other daemons, at the cost of what
 * changed. */
/* clang-format off */
#define RECORDS_SELECT \
	" SELECT r.therapist_id, " RECORD_COLS "," \
	"  " CONCERN_RECORDS_SQL("r.therapist_id") "," \
	"  pg_snapshot_xmin(pg_current_snapshot())" \
	" FROM therapist_records r"
/* clang-format on */
static const char records_batch_sql[] = RECORDS_SELECT " WHERE r.therapist_id = ANY($1::bigint[])";
static const char records_changed_sql[] =
    RECORDS_SELECT " WHERE r.xact >= $1::xid8 AND r.therapist_id > $2::bigint"
                   " ORDER BY r.therapist_id LIMIT " STR(FULL_PAGE);
enum { RCOL_ID, RCOL_A_N, RCOL_A_MEAN, RCOL_O_N, RCOL_O_MEAN, RCOL_PC, RCOL_CURSOR };

enum {
	COL_ID,
	COL_ROW, /* the TR_NCOLS columns of THERAPIST_ROW_SQL */
	COL_CASELOAD = COL_ROW + TR_NCOLS,
	COL_A_N,
	COL_A_MEAN,
	COL_O_N,
	COL_O_MEAN,
	COL_PC,
	COL_CURSOR
};

/* The thresholds and the outcome rule the database's aggregates and records
 * are computed with: set before every full load (a no-op unless they
 * changed: then every aggregate and record is rebuilt, sql/004 and 007). */
/* Column 1: how many therapists the load will bring (the catalog is sized
 * for them at once: no array doubled and copied on some page). */
static const char settings_sql[] = "SELECT alliance_records_settings_set($1, $2, $3, $4),"
                                   " (SELECT count(*) FROM therapists)";
#define N_SETTINGS 4

/* id -> names, sorted by id (loads arrive in id order: appends). */
struct name_entry {
	uint32_t id;
	char *external_ref, *display_name; /* owned */
};

struct names {
	struct name_entry *v;
	size_t n, cap;
};

/* A small unsorted set of therapist ids. */
struct idset {
	uint32_t *v;
	size_t n, cap;
};

struct idhash {
	uint32_t *k; /* cap slots; 0 = empty */
	size_t cap, n;
};

struct catalog_sync {
	struct event_base *base;            /* borrowed */
	struct db_pool *db;                 /* borrowed */
	const struct logger *log;           /* borrowed */
	const struct engine_params *params; /* borrowed; changes on SIGHUP */
	int records_refresh;                /* seconds between all-therapist refreshes */
	bool stopping;                      /* failures are expected: no warnings */
	struct catalog *cat;                /* owned; what matching reads */
	struct vocab *vocab;                /* owned; the bits of cat */
	struct names names;
	struct vocab *next_vocab; /* owned; waiting for its full load */
	bool ready;
	bool listening;
	/* full load */
	struct db_query *full_q; /* in flight */
	double full_started;
	struct event *retry; /* owned; a full load after a failure */
	/* The catalog a full load replaced, freed a piece per loop turn (the
	 * catalog, then its names, then the heap trimmed): at 100k therapists
	 * the three in the swap's turn took 10-14 ms. */
	struct event *retire; /* owned */
	struct catalog *retired_cat;
	struct names retired_names;
	int retire_step;
	int retry_ms;
	bool full_again; /* too much deferred: load in full once more */
	bool last_full_efull;
	unsigned gen; /* full loads sent */
	/* reloads: ids NOTIFYed since the last batch (or during a full load),
	 * the batch in flight (at most one), and the ids of that batch that a
	 * local write overtook (their answer is dropped, they are pending) */
	struct idhash pending, stale;
	struct db_query *batch_q;
	uint32_t *batch_ids; /* PENDING_MAX */
	size_t n_batch;
	unsigned batch_gen;
	uint32_t *dirty;            /* owned; catalog_sync_refresh() ids waiting */
	struct db_query *refresh_q; /* the records batch in flight */
	bool refresh_all;           /* the next batch covers every therapist */
	struct event *records_tick; /* owned; sets refresh_all every records_refresh s */
	unsigned refresh_gen;       /* cs->gen when it was sent */
	double refresh_started;     /* clock_now() when it was sent */
	unsigned long long cursor;  /* episode_stats changes before it are in the catalog */
	/* alliance5, srs, wai_sr thresholds and ors_reliable_change set in the database */
	double sent[N_SETTINGS], applied[N_SETTINGS];
	bool refresh_was_all;
	size_t n_dirty;
	struct event *refresh; /* owned; reloads the dirty ids */
	unsigned long long full_loads, reload_count;
	struct idset unheld; /* therapists in the database the catalog could not hold */
	double b_slowest;    /* the longest page apply of this full load, seconds */
	/* a paged full load in progress: what it has built so far (owned) */
	struct catalog *b_cat;
	struct names b_names;
	struct idset b_unheld;
	bool b_efull;
	uint32_t b_after;            /* last id of the previous page */
	unsigned long long b_cursor; /* snapshot xmin of the first page */
	uint32_t changed_after;      /* the periodic refresh's next page */
	unsigned long long changed_cursor;
};

static void full_load_start(struct catalog_sync *cs);
static void reload_request(struct catalog_sync *cs, uint32_t id);
static void schedule_full_load(struct catalog_sync *cs);
static void batch_kick(struct catalog_sync *cs);
static void refresh_cb(evutil_socket_t fd, short what, void *arg);
static void records_tick_cb(evutil_socket_t fd, short what, void *arg);

/* --- therapists the catalog could not hold -------------------------------- */

static void
idset_del(struct idset *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id) {
			s->v[i] = s->v[--s->n];
			return;
		}
}

/* -1 on ENOMEM (the count is then short by one: logged by the caller). */
static int
idset_put(struct idset *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return 0;
}

/* A fixed-capacity hash set of therapist ids (key 0 = empty): a NOTIFY flood
 * of distinct ids costs O(1) each and a bounded amount of memory. */
static int
idhash_init(struct idhash *h, size_t max)
{
	h->cap = 1;
	while (h->cap < max * 2)
		h->cap <<= 1;
	h->n = 0;
	h->k = calloc(h->cap, sizeof(*h->k));
	return h->k != NULL ? 0 : -1;
}

static size_t
idhash_at(const struct idhash *h, uint32_t id)
{
	size_t i = (size_t)((id * UINT32_C(2654435761)) & (uint32_t)(h->cap - 1));

	while (h->k[i] != 0 && h->k[i] != id)
		i = (i + 1) & (h->cap - 1);
	return i;
}

static bool
idhash_has(const struct idhash *h, uint32_t id)
{
	return h->k != NULL && h->k[idhash_at(h, id)] == id;
}

/* 0 added or present; -1 when it holds cap / 2 ids already. */
static int
idhash_put(struct idhash *h, uint32_t id)
{
	size_t i = idhash_at(h, id);

	if (h->k[i] == id)
		return 0;
	if (h->n >= h->cap / 2)
		return -1;
	h->k[i] = id;
	h->n++;
	return 0;
}

static void
idhash_clear(struct idhash *h)
{
	if (h->n > 0)
		memset(h->k, 0, h->cap * sizeof(*h->k));
	h->n = 0;
}

/* --- names ------------------------------------------------------------- */

static long
names_find(const struct names *nm, uint32_t id, bool *found)
{
	size_t lo = 0, hi = nm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (nm->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < nm->n && nm->v[lo].id == id;
	return (long)lo;
}

static int
names_put(struct names *nm, uint32_t id, const char *ref, const char *name)
{
	char *r = strdup(ref), *n = strdup(name);
	bool found;
	long at;

	if (r == NULL || n == NULL)
		goto fail;
	at = names_find(nm, id, &found);
	if (found) {
		free(nm->v[at].external_ref);
		free(nm->v[at].display_name);
	} else {
		if (nm->n == nm->cap) {
			size_t cap = nm->cap ? nm->cap * 2 : 256;
			struct name_entry *v = realloc(nm->v, cap * sizeof(*v));

			if (v == NULL)
				goto fail;
			nm->v = v;
			nm->cap = cap;
		}
		memmove(&nm->v[at + 1], &nm->v[at], (nm->n - (size_t)at) * sizeof(nm->v[0]));
		nm->n++;
		nm->v[at].id = id;
	}
	nm->v[at].external_ref = r;
	nm->v[at].display_name = n;
	return 0;
fail:
	free(r);
	free(n);
	return -1;
}

static void
names_del(struct names *nm, uint32_t id)
{
	bool found;
	long at = names_find(nm, id, &found);

	if (!found)
		return;
	free(nm->v[at].external_ref);
	free(nm->v[at].display_name);
	memmove(&nm->v[at], &nm->v[at + 1], (nm->n - (size_t)at - 1) * sizeof(nm->v[0]));
	nm->n--;
}

static void
names_clear(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->v[i].external_ref);
		free(nm->v[i].display_name);
	}
	free(nm->v);
	memset(nm, 0, sizeof(*nm));
}

/* --- rows into a catalog ---------------------------------------------- */

static double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static void
record_from(struct record *rec, const char *n, const char *mean, double max)
{
	rec->n = (uint32_t)strtoul(n, NULL, 10);
	rec->mean = rec->n > 0 && mean != NULL && mean[0] ? clamp(strtod(mean, NULL), 0, max) : 0;
}

/* "tag a_n a_mean o_n o_mean;..." (CONCERN_RECORDS_SQL) into per-concern
 * records; tags the vocabulary does not have are skipped. */
static void
concern_records(const char *text, const struct vocab *v, struct therapist_records *r)
{
	const char *s = text;

	while (s != NULL && *s != '\0') {
		const char *sp = strchr(s, ' '), *end = strchr(s, ';');
		char tag[80], *p;
		size_t len = sp != NULL ? (size_t)(sp - s) : 0;
		struct concern_record cr;
		int c;

		if (end == NULL)
			end = s + strlen(s);
		if (sp == NULL || sp > end || len == 0 || len >= sizeof(tag))
			goto next;
		memcpy(tag, s, len);
		tag[len] = '\0';
		c = vocab_lookup(v, VOCAB_CONCERNS, tag);
		if (c < 0 || r->n_per_concern >= RECORDS_MAX_CONCERNS)
			goto next;
		memset(&cr, 0, sizeof(cr));
		cr.concern = (uint8_t)c;
		cr.alliance.n = (uint32_t)strtoul(sp + 1, &p, 10);
		cr.alliance.mean =
		    cr.alliance.n ? clamp(strtod(p, &p), 0, 100) : (strtod(p, &p), 0);
		cr.outcome.n = (uint32_t)strtoul(p, &p, 10);
		cr.outcome.mean = cr.outcome.n ? clamp(strtod(p, &p), 0, 1) : 0;
		r->per_concern[r->n_per_concern++] = cr;
	next:
		s = *end == ';' ? end + 1 : NULL;
	}
}

/* The records of a row whose columns from A_N on are a_n, a_mean, o_n,
 * o_mean and the per-concern list (both queries share that order). */
static void
records_of(const PGresult *res, int row, int a_n, const struct vocab *v,
    struct therapist_records *rec)
{
	memset(rec, 0, sizeof(*rec));
	record_from(&rec->alliance, PQgetisnull(res, row, a_n) ? "0" : PQgetvalue(res, row, a_n),
	    PQgetisnull(res, row, a_n + 1) ? NULL : PQgetvalue(res, row, a_n + 1), 100);
	record_from(&rec->outcome,
	    PQgetisnull(res, row, a_n + 2) ? "0" : PQgetvalue(res, row, a_n + 2),
	    PQgetisnull(res, row, a_n + 3) ? NULL : PQgetvalue(res, row, a_n + 3), 1);
	if (!PQgetisnull(res, row, a_n + 4))
		concern_records(PQgetvalue(res, row, a_n + 4), v, rec);
}

/* The profile of a stored object; -1 (logged, ids and field names only). */
static int
profile_of(struct catalog_sync *cs, const json_t *obj, const struct vocab *v,
    struct therapist_profile *p)
{
	struct field_errors fe;
	int rc;

	field_errors_init(&fe);
	rc = therapist_from_json(obj, THERAPIST_STORED, v, p, NULL, &fe);
	if (rc != 0) {
		const char *field =
		    json_string_value(json_object_get(json_array_get(fe.errors, 0), "field"));

		log_warn(cs->log, "catalog: therapist id=%lld skipped: invalid %s",
		    (long long)json_integer_value(json_object_get(obj, "id")),
		    field && field[0] ? field : "object");
	}
	field_errors_clear(&fe);
	return rc;
}

/* Upserts one row; 0, -1 skipped, ENGINE_EFULL when the intern tables are full.
 * A therapist not held goes into unheld (reported by /readyz and /metrics:
 * never a silent miss), one held leaves it. */
static int
apply_row(struct catalog_sync *cs, struct catalog *cat, struct names *nm, const struct vocab *v,
    const PGresult *res, int row, struct idset *unheld)
{
	struct therapist_profile p;
	struct therapist_records rec;
	unsigned long long lid = strtoull(PQgetvalue(res, row, COL_ID), NULL, 10);
	uint32_t id = lid <= UINT32_MAX ? (uint32_t)lid : 0;
	const char *field = "id";
	int rc = -1;

	if (id == 0 || therapist_from_row(res, row, COL_ROW, id, v, &p, &field) != 0) {
		log_warn(cs->log, "catalog: therapist id=%llu skipped: invalid %s", lid, field);
		goto done;
	}
	rc = catalog_upsert(cat, &p);
	if (rc != 0) {
		log_warn(cs->log, "catalog: therapist id=%u not loaded: %s", p.id,
		    engine_strerror(rc));
		goto done;
	}
	catalog_set_caseload(cat, p.id,
	    (unsigned)strtoul(PQgetvalue(res, row, COL_CASELOAD), NULL, 10));
	records_of(res, row, COL_A_N, v, &rec);
	if (catalog_set_records(cat, p.id, &rec) != 0)
		log_warn(cs->log, "catalog: therapist id=%u records refused", p.id);
	if (names_put(nm, p.id, PQgetvalue(res, row, COL_ROW + TR_EXTERNAL_REF),
	        PQgetvalue(res, row, COL_ROW + TR_DISPLAY_NAME)) != 0)
		rc = ENGINE_ENOMEM;
done:
	if (rc == 0)
		idset_del(unheld, id);
	else if (idset_put(unheld, id) != 0)
		log_error(cs->log, "catalog: out of memory counting therapist id=%u", id);
	return rc;
}

/* --- full loads -------------------------------------------------------- */

static void
schedule_full_load(struct catalog_sync *cs)
{
	struct timeval tv;

	/* Whatever is pending is covered by the load to come. */
	idhash_clear(&cs->pending);
	if (cs->retry == NULL || evtimer_pending(cs->retry, NULL))
		return;
	tv.tv_sec = cs->retry_ms / 1000;
	tv.tv_usec = (cs->retry_ms % 1000) * 1000;
	evtimer_add(cs->retry, &tv);
	cs->retry_ms = cs->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : cs->retry_ms * 2;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	full_load_start(arg);
}

static void
full_failed(struct catalog_sync *cs, enum db_status st, const PGresult *res)
{
	if (cs->stopping)
		return;
	log_warn(cs->log, "catalog: full load failed (%s%s); retrying",
	    st == DB_SQL_ERROR     ? "sqlstate "
	        : st == DB_TIMEOUT ? "timeout"
	                           : "unavailable",
	    st == DB_SQL_ERROR && PQresultErrorField(res, PG_DIAG_SQLSTATE)
	        ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
	        : "");
	schedule_full_load(cs);
}

/* One piece of the replaced catalog per loop turn (see cs->retire). */
static const struct timeval retire_soon = { 0, 0 };

static void
retire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct catalog_sync *cs = arg;

	(void)fd;
	(void)what;
	switch (cs->retire_step++) {
	case 0:
		catalog_free(cs->retired_cat);
		cs->retired_cat = NULL;
		break;
	case 1: names_clear(&cs->retired_names); break;
	default:
#ifdef __GLIBC__
		/* The old catalog and the pages' results are freed: give the
		 * memory back, so RSS does not grow with every full reload. */
		malloc_trim(0);
#endif
		return;
	}
	event_add(cs->retire, &retire_soon);
}

/* Frees what is left of a replaced catalog at once (another full load is
 * complete, or the daemon stops). */
static void
retire_now(struct catalog_sync *cs)
{
	if (cs->retire != NULL)
		event_del(cs->retire);
	catalog_free(cs->retired_cat);
	cs->retired_cat = NULL;
	names_clear(&cs->retired_names);
}

/* The catalog being built by a paged full load (cs->building), freed whole
 * when the load fails or is restarted. */
static void
building_free(struct catalog_sync *cs)
{
	catalog_free(cs->b_cat);
	cs->b_cat = NULL;
	names_clear(&cs->b_names);
	free(cs->b_unheld.v);
	memset(&cs->b_unheld, 0, sizeof(cs->b_unheld));
	cs->b_efull = false;
	cs->b_after = 0;
	cs->b_slowest = 0;
}

static void full_page_send(struct catalog_sync *cs);

static void
full_load_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct catalog_sync *cs = arg;
	struct vocab *v = cs->next_vocab ? cs->next_vocab : cs->vocab;
	double t0 = clock_now(), took, slowest;
	int i, n;

	cs->full_q = NULL;
	if (st != DB_OK) {
		building_free(cs);
		full_failed(cs, st, res);
		return;
	}
	n = PQntuples(res);
	if (cs->b_after == 0 && n > 0) /* the first page's snapshot: the oldest */
		cs->b_cursor = strtoull(PQgetvalue(res, 0, COL_CURSOR), NULL, 10);
	if (n == FULL_PAGE) {
		/* the next page is built by the database while this one is
		 * applied, and applied on a later loop turn: requests run in
		 * between */
		cs->b_after = (uint32_t)strtoul(PQgetvalue(res, n - 1, COL_ID), NULL, 10);
		full_page_send(cs);
		if (cs->b_cat == NULL)
			return; /* not sent: building_free() and a retry */
	}
	for (i = 0; i < n; i++) {
		int rc = apply_row(cs, cs->b_cat, &cs->b_names, v, res, i, &cs->b_unheld);

		if (rc == ENGINE_ENOMEM)
			goto nomem;
		if (rc == ENGINE_EFULL)
			cs->b_efull = true;
	}
	took = clock_now() - t0;
	if (took > cs->b_slowest)
		cs->b_slowest = took;
	if (n == FULL_PAGE)
		return;
	slowest = cs->b_slowest; /* building_free() below clears it */
	/* Complete: swap catalog, names and (after SIGHUP) the vocabulary at once;
	 * the old ones are freed on the next turns. */
	retire_now(cs);
	cs->retired_cat = cs->cat;
	cs->retired_names = cs->names;
	cs->retire_step = 0;
	event_add(cs->retire, &retire_soon);
	cs->cat = cs->b_cat;
	cs->b_cat = NULL;
	cs->names = cs->b_names;
	memset(&cs->b_names, 0, sizeof(cs->b_names));
	free(cs->unheld.v);
	cs->unheld = cs->b_unheld;
	memset(&cs->b_unheld, 0, sizeof(cs->b_unheld));
	if (cs->unheld.n > 0)
		log_error(cs->log, "catalog: %zu therapists could not be loaded (see /readyz)",
		    cs->unheld.n);
	if (cs->next_vocab != NULL) {
		vocab_free(cs->vocab);
		cs->vocab = cs->next_vocab;
		cs->next_vocab = NULL;
	}
	cs->cursor = cs->b_cursor;
	cs->ready = true;
	cs->full_loads++;
	cs->retry_ms = RETRY_MIN_MS;
	cs->last_full_efull = cs->b_efull;
	building_free(cs);
	/* What the loop spent at most in one turn: the slowest page, or this
	 * last page with the swap (a stall budget an operator can read). */
	took = clock_now() - t0;
	log_info(cs->log,
	    "catalog: %zu therapists loaded in %.0f ms (one loop turn at most %.1f ms: "
	    "slowest page %.1f ms, last page and swap %.1f ms)",
	    catalog_count(cs->cat), (clock_now() - cs->full_started) * 1000,
	    (took > slowest ? took : slowest) * 1000, slowest * 1000, took * 1000);
	if (cs->full_again) {
		cs->full_again = false;
		full_load_start(cs);
		return;
	}
	batch_kick(cs); /* the NOTIFYs that came during the load */
	return;
nomem:
	log_error(cs->log, "catalog: out of memory during a full load; retrying");
	if (cs->full_q != NULL) /* the next page, asked for already */
		db_query_cancel(cs->full_q);
	cs->full_q = NULL;
	building_free(cs);
	schedule_full_load(cs);
}

static void
full_page_send(struct catalog_sync *cs)
{
	char after[16];
	const char *values[1] = { after };

	snprintf(after, sizeof(after), "%u", cs->b_after);
	cs->full_q = db_query(cs->db, load_full_sql, 1, values, full_load_cb, cs);
	if (cs->full_q == NULL) {
		building_free(cs);
		schedule_full_load(cs);
	}
}

/* The thresholds are set (episode_stats rebuilt if they changed): now the load. */
static void
full_settings_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct catalog_sync *cs = arg;

	cs->full_q = NULL;
	if (st != DB_OK) {
		full_failed(cs, st, res);
		return;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		log_info(cs->log,
		    "catalog: alliance thresholds changed: episode aggregates rebuilt");
	memcpy(cs->applied, cs->sent, sizeof(cs->applied));
	building_free(cs);
	cs->b_cat = catalog_new();
	if (cs->b_cat != NULL && PQntuples(res) == 1 &&
	    catalog_reserve(cs->b_cat, strtoul(PQgetvalue(res, 0, 1), NULL, 10)) != 0) {
		catalog_free(cs->b_cat);
		cs->b_cat = NULL;
	}
	if (cs->b_cat == NULL) {
		log_error(cs->log, "catalog: out of memory starting a full load; retrying");
		schedule_full_load(cs);
		return;
	}
	full_page_send(cs);
}

static void
full_load_start(struct catalog_sync *cs)
{
	char th[N_SETTINGS][32];
	const char *values[N_SETTINGS] = { th[0], th[1], th[2], th[3] };

	if (cs->full_q != NULL)
		db_query_cancel(cs->full_q);
	cs->full_q = NULL;
	building_free(cs);
	if (cs->retry != NULL)
		evtimer_del(cs->retry);
	cs->sent[0] = cs->params->threshold_alliance5;
	cs->sent[1] = cs->params->threshold_srs;
	cs->sent[2] = cs->params->threshold_wai_sr;
	cs->sent[3] = cs->params->ors_reliable_change;
	for (int i = 0; i < N_SETTINGS; i++)
		snprintf(th[i], sizeof(th[i]), "%.17g", cs->sent[i]);
	cs->gen++;
	cs->full_started = clock_now();
	idhash_clear(&cs->pending); /* what came before is in the load's snapshot */
	cs->full_q = db_query(cs->db, settings_sql, N_SETTINGS, values, full_settings_cb, cs);
	if (cs->full_q == NULL)
		schedule_full_load(cs);
}

/* --- reloads by NOTIFY, coalesced -------------------------------------- */

/* A NOTIFY (or a re-read after a local write): the id joins the pending set,
 * which goes out as ONE batch statement whenever none is in flight.  Any
 * role with CONNECT may NOTIFY, so a flood must cost one pool connection at
 * a time, never one queued query per payload: requests keep the rest of the
 * pool.  Beyond PENDING_MAX distinct ids, one full load covers them all. */
static void
reload_request(struct catalog_sync *cs, uint32_t id)
{
	if (!cs->ready && cs->full_q == NULL)
		return; /* the first full load is on its way */
	if (idhash_put(&cs->pending, id) != 0) {
		if (cs->full_q != NULL)
			cs->full_again = true;
		else
			schedule_full_load(cs);
		return;
	}
	batch_kick(cs);
}

static void
batch_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct catalog_sync *cs = arg;
	struct idhash seen = { NULL, 0, 0 };
	int i, n;

	cs->batch_q = NULL;
	if (st != DB_OK) {
		if (!cs->stopping)
			log_warn(cs->log,
			    "catalog: reload of %zu therapists failed; loading in full",
			    cs->n_batch);
		cs->n_batch = 0;
		idhash_clear(&cs->stale);
		schedule_full_load(cs);
		return;
	}
	if (cs->batch_gen != cs->gen)
		goto next; /* a full load since saw at least as much */
	n = PQntuples(res);
	if (idhash_init(&seen, cs->n_batch) != 0) {
		log_error(cs->log, "catalog: out of memory applying a reload; loading in full");
		cs->n_batch = 0;
		idhash_clear(&cs->stale);
		schedule_full_load(cs);
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t id = (uint32_t)strtoul(PQgetvalue(res, i, COL_ID), NULL, 10);

		(void)idhash_put(&seen, id);
		if (idhash_has(&cs->stale, id))
			continue; /* a local write was applied meanwhile: re-read pending */
		if (apply_row(cs, cs->cat, &cs->names, cs->vocab, res, i, &cs->unheld) ==
		        ENGINE_EFULL &&
		    !cs->last_full_efull)
			schedule_full_load(cs); /* the intern tables only grow: compact */
		cs->reload_count++;
	}
	/* Asked for and not answered: deleted. */
	for (i = 0; i < (int)cs->n_batch; i++) {
		uint32_t id = cs->batch_ids[i];

		if (idhash_has(&seen, id) || idhash_has(&cs->stale, id))
			continue;
		idset_del(&cs->unheld, id);
		if (catalog_remove(cs->cat, id) != 0)
			continue; /* never held (a NOTIFY naming no therapist) */
		names_del(&cs->names, id);
		cs->reload_count++;
	}
	free(seen.k);
next:
	cs->n_batch = 0;
	idhash_clear(&cs->stale);
	batch_kick(cs);
}

/* Send the pending ids as one statement, unless one is in flight already
 * (its callback kicks again) or a full load will cover them. */
static void
batch_kick(struct catalog_sync *cs)
{
	char *ids;
	const char *values[1];
	size_t i, n, used = 0, cap;

	if (cs->batch_q != NULL || cs->full_q != NULL || cs->pending.n == 0 || !cs->ready ||
	    (cs->retry != NULL && evtimer_pending(cs->retry, NULL)))
		return;
	cap = cs->pending.n * 11 + 3;
	ids = malloc(cap);
	if (ids == NULL) {
		schedule_full_load(cs);
		return;
	}
	ids[used++] = '{';
	for (i = 0, n = 0; i < cs->pending.cap; i++)
		if (cs->pending.k[i] != 0)
			cs->batch_ids[n++] = cs->pending.k[i];
	cs->n_batch = n < BATCH_MAX ? n : BATCH_MAX;
	for (i = 0; i < cs->n_batch; i++)
		used += (size_t)snprintf(ids + used, cap - used, "%s%u", i ? "," : "",
		    cs->batch_ids[i]);
	ids[used++] = '}';
	ids[used] = '\0';
	values[0] = ids;
	cs->batch_gen = cs->gen;
	cs->batch_q = db_query(cs->db, load_batch_sql, 1, values, batch_cb, cs);
	free(ids);
	if (cs->batch_q == NULL) {
		/* No connection or a full queue: the full load covers them. */
		cs->n_batch = 0;
		schedule_full_load(cs);
		return;
	}
	/* the rest waits for the next batch: each applies at most BATCH_MAX
	 * rows in one loop turn */
	idhash_clear(&cs->pending);
	for (i = cs->n_batch; i < n; i++)
		(void)idhash_put(&cs->pending, cs->batch_ids[i]);
}

static void
notify_cb(void *arg, const char *channel, const char *payload)
{
	struct catalog_sync *cs = arg;
	unsigned long long id = 0;
	const char *s;

	(void)channel;
	if (payload == NULL) {
		/* (Re)connected: anything may have been missed. */
		full_load_start(cs);
		return;
	}
	for (s = payload; *s >= '0' && *s <= '9' && id <= UINT32_MAX; s++)
		id = id * 10 + (unsigned)(*s - '0');
	if (*s != '\0' || s == payload || id == 0 || id > UINT32_MAX) {
		log_debug(cs->log, "catalog: ignoring a malformed notification");
		return;
	}
	reload_request(cs, (uint32_t)id);
}

/* --- the public API ----------------------------------------------------- */

struct catalog_sync *
catalog_sync_new(const struct catalog_sync_settings *set, struct vocab *vocab)
{
	struct catalog_sync *cs = calloc(1, sizeof(*cs));

	if (cs == NULL || (cs->cat = catalog_new()) == NULL) {
		free(cs);
		vocab_free(vocab);
		return NULL;
	}
	cs->base = set->base;
	cs->db = set->db;
	cs->log = set->log;
	cs->params = set->params;
	cs->records_refresh = set->records_refresh;
	cs->vocab = vocab;
	cs->retry_ms = RETRY_MIN_MS;
	return cs;
}

int
catalog_sync_start(struct catalog_sync *cs)
{
	struct timeval tv = { 0, 0 };

	cs->retry = evtimer_new(cs->base, retry_cb, cs);
	cs->retire = evtimer_new(cs->base, retire_cb, cs);
	cs->refresh = evtimer_new(cs->base, refresh_cb, cs);
	cs->records_tick = evtimer_new(cs->base, records_tick_cb, cs);
	cs->dirty = calloc(REFRESH_MAX, sizeof(*cs->dirty));
	cs->batch_ids = calloc(PENDING_MAX, sizeof(*cs->batch_ids));
	if (cs->retry == NULL || cs->retire == NULL || cs->refresh == NULL ||
	    cs->records_tick == NULL || cs->dirty == NULL || cs->batch_ids == NULL ||
	    idhash_init(&cs->pending, PENDING_MAX) != 0 ||
	    idhash_init(&cs->stale, PENDING_MAX) != 0)
		return -1;
	tv.tv_sec = cs->records_refresh;
	evtimer_add(cs->records_tick, &tv);
	if (db_pool_listen(cs->db, CHANNEL, notify_cb, cs) != 0)
		return -1;
	cs->listening = true;
	return 0;
}

void
catalog_sync_free(struct catalog_sync *cs)
{
	if (cs == NULL)
		return;
	if (cs->full_q != NULL)
		db_query_cancel(cs->full_q);
	if (cs->refresh_q != NULL)
		db_query_cancel(cs->refresh_q);
	if (cs->batch_q != NULL)
		db_query_cancel(cs->batch_q);
	if (cs->retry != NULL)
		event_free(cs->retry);
	retire_now(cs);
	if (cs->retire != NULL)
		event_free(cs->retire);
	if (cs->refresh != NULL)
		event_free(cs->refresh);
	if (cs->records_tick != NULL)
		event_free(cs->records_tick);
	free(cs->dirty);
	catalog_free(cs->cat);
	names_clear(&cs->names);
	vocab_free(cs->vocab);
	vocab_free(cs->next_vocab);
	free(cs->pending.k);
	free(cs->stale.k);
	free(cs->batch_ids);
	free(cs->unheld.v);
	building_free(cs);
	free(cs);
}

bool
catalog_sync_ready(const struct catalog_sync *cs)
{
	return cs->ready;
}

const struct catalog *
catalog_sync_catalog(const struct catalog_sync *cs)
{
	return cs->cat;
}

const struct vocab *
catalog_sync_vocab(const struct catalog_sync *cs)
{
	return cs->vocab;
}

void
catalog_sync_stop(struct catalog_sync *cs)
{
	cs->stopping = true;
}

void
catalog_sync_set_records_refresh(struct catalog_sync *cs, int seconds)
{
	cs->records_refresh = seconds;
}

static int
names_lookup(const void *arg, uint32_t id, const char **external_ref, const char **display_name)
{
	const struct catalog_sync *cs = arg;
	bool found;
	long at = names_find(&cs->names, id, &found);

	if (!found)
		return -1;
	if (external_ref != NULL)
		*external_ref = cs->names.v[at].external_ref;
	if (display_name != NULL)
		*display_name = cs->names.v[at].display_name;
	return 0;
}

struct match_names
catalog_sync_names(const struct catalog_sync *cs)
{
	struct match_names m = { cs->vocab, names_lookup, cs };

	return m;
}

void
catalog_sync_refresh(struct catalog_sync *cs, uint32_t therapist_id)
{
	struct timeval tv = { REFRESH_DELAY_MS / 1000, (REFRESH_DELAY_MS % 1000) * 1000 };
	size_t i;

	if (therapist_id == 0)
		return;
	for (i = 0; i < cs->n_dirty; i++)
		if (cs->dirty[i] == therapist_id)
			return;
	if (cs->n_dirty == REFRESH_MAX)
		return; /* full: its records wait for its next reload */
	cs->dirty[cs->n_dirty++] = therapist_id;
	if (!evtimer_pending(cs->refresh, NULL))
		evtimer_add(cs->refresh, &tv);
}

static void
refresh_done_cb(void *arg, enum db_status st, const PGresult *res)
{
	struct catalog_sync *cs = arg;
	struct therapist_records rec;
	int i, n;

	cs->refresh_q = NULL;
	if (st != DB_OK) {
		if (!cs->stopping)
			log_warn(cs->log, "catalog: records refresh failed; loading in full");
		cs->changed_after = 0;
		schedule_full_load(cs);
		return;
	}
	if (cs->refresh_gen != cs->gen) {
		cs->changed_after = 0;
		return; /* a full load since: it has newer records (and cursor) */
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		uint32_t id = (uint32_t)strtoul(PQgetvalue(res, i, RCOL_ID), NULL, 10);

		records_of(res, i, RCOL_A_N, cs->vocab, &rec);
		if (catalog_set_records(cs->cat, id, &rec) != 0)
			log_warn(cs->log, "catalog: therapist id=%u records refused", id);
	}
	cs->reload_count += (unsigned long long)n;
	/* Only the periodic statement, page by page, sees every change before
	 * the snapshot of its first page: the cursor moves after the last. */
	if (cs->refresh_was_all) {
		if (cs->changed_after == 0 && n > 0)
			cs->changed_cursor = strtoull(PQgetvalue(res, 0, RCOL_CURSOR), NULL, 10);
		if (n == FULL_PAGE) {
			struct timeval now = { 0, 0 };

			cs->changed_after =
			    (uint32_t)strtoul(PQgetvalue(res, n - 1, RCOL_ID), NULL, 10);
			cs->refresh_all = true; /* the next page on a later loop turn */
			evtimer_add(cs->refresh, &now);
		} else {
			if (cs->changed_after != 0 || n > 0)
				cs->cursor = cs->changed_cursor;
			cs->changed_after = 0;
		}
	}
	/* the database time a refresh costs (the bench reads it; info, ids only) */
	log_info(cs->log, "catalog: records of %d therapists refreshed (%s) in %.0f ms", n,
	    cs->refresh_was_all ? "periodic" : "batch", (clock_now() - cs->refresh_started) * 1000);
}

/* Every REFRESH_DELAY_MS: the records of all therapists with new feedback in
 * one statement (a burst of single reloads would queue ahead of requests). */
static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct catalog_sync *cs = arg;
	struct timeval tv = { REFRESH_DELAY_MS / 1000, (REFRESH_DELAY_MS % 1000) * 1000 };
	const char *values[2];
	char cursor[24], after[16], *ids = NULL;
	size_t i, used = 0, cap;

	(void)fd;
	(void)what;
	if (cs->n_dirty == 0 && !cs->refresh_all)
		return;
	if (cs->refresh_q != NULL || cs->full_q != NULL || !cs->ready) {
		evtimer_add(cs->refresh, &tv); /* one batch at a time */
		return;
	}
	if (cs->refresh_all) {
		/* everyone whose records changed since the cursor: feedback
		 * stored by other daemons */
		snprintf(cursor, sizeof(cursor), "%llu", cs->cursor);
		snprintf(after, sizeof(after), "%u", cs->changed_after);
		values[0] = cursor;
		values[1] = after;
		cs->refresh_gen = cs->gen;
		cs->refresh_q =
		    db_query(cs->db, records_changed_sql, 2, values, refresh_done_cb, cs);
		cs->refresh_was_all = true;
		goto sent;
	}
	cap = cs->n_dirty * 11 + 3;
	ids = malloc(cap);
	if (ids == NULL) {
		evtimer_add(cs->refresh, &tv);
		return;
	}
	ids[used++] = '{';
	for (i = 0; i < cs->n_dirty; i++)
		used +=
		    (size_t)snprintf(ids + used, cap - used, "%s%u", i ? "," : "", cs->dirty[i]);
	ids[used++] = '}';
	ids[used] = '\0';
	values[0] = ids;
	cs->refresh_gen = cs->gen;
	cs->refresh_q = db_query(cs->db, records_batch_sql, 1, values, refresh_done_cb, cs);
	cs->refresh_was_all = false;
	free(ids);
sent:
	cs->refresh_started = clock_now();
	if (cs->refresh_q == NULL) {
		evtimer_add(cs->refresh, &tv); /* the database is away: later */
		return;
	}
	cs->n_dirty = 0;
	cs->refresh_all = false;
}

/* Feedback stored through another daemon sends no NOTIFY: every
 * records_refresh seconds the records of all therapists are read again. */
static void
records_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct catalog_sync *cs = arg;
	struct timeval tv = { cs->records_refresh, 0 };

	(void)fd;
	(void)what;
	if (cs->ready && cs->full_q == NULL &&
	    (cs->applied[0] != cs->params->threshold_alliance5 ||
	        cs->applied[1] != cs->params->threshold_srs ||
	        cs->applied[2] != cs->params->threshold_wai_sr ||
	        cs->applied[3] != cs->params->ors_reliable_change)) {
		/* SIGHUP changed a threshold or the outcome rule: the aggregates
		 * and records are rebuilt first */
		full_load_start(cs);
		evtimer_add(cs->records_tick, &tv);
		return;
	}
	cs->refresh_all = true;
	if (!evtimer_pending(cs->refresh, NULL))
		refresh_cb(-1, 0, cs);
	evtimer_add(cs->records_tick, &tv); /* reread: SIGHUP may change it */
}

void
catalog_sync_apply(struct catalog_sync *cs, const json_t *therapist)
{
	struct therapist_profile p;
	size_t i;
	int rc;

	if (profile_of(cs, therapist, cs->vocab, &p) != 0)
		return;
	rc = catalog_upsert(cs->cat, &p);
	if (rc != 0) {
		log_warn(cs->log, "catalog: therapist id=%u not applied: %s", p.id,
		    engine_strerror(rc));
		return;
	}
	/* A reload in flight read a snapshot older than this write: its answer
	 * must not overwrite it (read-your-writes); reload once more after. */
	for (i = 0; i < cs->n_batch; i++)
		if (cs->batch_ids[i] == p.id) {
			if (idhash_put(&cs->stale, p.id) != 0 ||
			    idhash_put(&cs->pending, p.id) != 0)
				schedule_full_load(cs);
			break;
		}
	names_put(&cs->names, p.id, json_string_value(json_object_get(therapist, "external_ref")),
	    json_string_value(json_object_get(therapist, "display_name")));
}

void
catalog_sync_reconfigure(struct catalog_sync *cs, struct vocab *vocab)
{
	vocab_free(cs->next_vocab);
	cs->next_vocab = vocab;
	if (cs->listening)
		full_load_start(cs);
}

void
catalog_sync_stats(const struct catalog_sync *cs, unsigned *therapists,
    unsigned long long *full_loads, unsigned long long *reloads)
{
	*therapists = (unsigned)catalog_count(cs->cat);
	*full_loads = cs->full_loads;
	*reloads = cs->reload_count;
}

size_t
catalog_sync_unheld(const struct catalog_sync *cs, const uint32_t **ids)
{
	if (ids != NULL)
		*ids = cs->unheld.v;
	return cs->unheld.n;
}

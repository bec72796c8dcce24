/*
 * migrate.c - apply the embedded sql/ migrations.  Synchronous libpq (PQexec): this runs
 * from `allianced --migrate`, never on the event loop.
 */
#include "store/migrate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

/* Session advisory lock key: "alli" + "migr", arbitrary but fixed for every daemon version. */
#define MIGRATE_LOCK_KEY "7020383521034560114"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* One line: libpq messages carry newlines and tabs. */
	for (char *p = err; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	for (size_t n = strlen(err); n > 0 && err[n - 1] == ' '; n--)
		err[n - 1] = '\0';
}

/* libpq's default prints NOTICEs ("relation already exists, skipping") to stderr. */
static void
quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int
migrate_latest_version(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version : 0;
}

/* Does a line start a transaction statement (BEGIN; COMMIT ...)?  PL/pgSQL's BEGIN alone
 * on a line (block start) is not one. */
static bool
is_txn_line(const char *line)
{
	static const char *const words[] = { "COMMIT", "ROLLBACK", "START TRANSACTION",
		"END TRANSACTION", "ABORT", "BEGIN TRANSACTION", "BEGIN WORK" };

	while (*line == ' ' || *line == '\t')
		line++;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i]);
		if (strncasecmp(line, words[i], n) == 0 && !isalnum((unsigned char)line[n]) &&
		    line[n] != '_')
			return true;
	}
	if (strncasecmp(line, "BEGIN", 5) == 0) {
		const char *p = line + 5;
		while (*p == ' ' || *p == '\t')
			p++;
		return *p == ';';
	}
	return false;
}

int
migrate_check_list(const struct migration *list, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct migration *m = &list[i];
		char prefix[16];

		if (m->version != (int)i + 1) {
			set_err(err, errlen, "migration %zu has version %d, expected %zu", i + 1,
			    m->version, i + 1);
			return -1;
		}
		snprintf(prefix, sizeof prefix, "%03d_", m->version);
		if (m->name == NULL || strncmp(m->name, prefix, strlen(prefix)) != 0 ||
		    m->name[strlen(prefix)] == '\0') {
			set_err(err, errlen, "migration %d: name must start with %s", m->version,
			    prefix);
			return -1;
		}
		if (m->sql == NULL || m->sql[strspn(m->sql, " \t\r\n")] == '\0') {
			set_err(err, errlen, "migration %s: empty", m->name);
			return -1;
		}
		for (const char *line = m->sql; line != NULL && *line;) {
			if (is_txn_line(line)) {
				set_err(err, errlen,
				    "migration %s: contains its own transaction statement",
				    m->name);
				return -1;
			}
			line = strchr(line, '\n');
			if (line != NULL)
				line++;
		}
	}
	return 0;
}

/* Runs one statement; on failure sets err with `what` and returns -1. */
static int
exec_ok(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_err(err, errlen, "%s: %s", what,
		    res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Marks in `done` (indexed by version) what schema_migrations records. */
static int
read_applied(PGconn *conn, bool *done, size_t n, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, "SELECT version FROM schema_migrations ORDER BY version");
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(err, errlen, "reading schema_migrations: %s",
		    res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		long v = strtol(PQgetvalue(res, i, 0), NULL, 10);
		if (v >= 1 && (size_t)v <= n)
			done[v] = true;
		else if ((size_t)v > n)
			fprintf(stderr,
			    "database: schema version %ld is newer than this daemon's %zu\n", v, n);
	}
	PQclear(res);
	return rc;
}

static int
apply_one(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	char version[16];
	const char *params[2] = { version, m->name };
	char what[128];
	PGresult *res;

	snprintf(what, sizeof what, "migration %s", m->name);
	if (exec_ok(conn, "BEGIN", what, err, errlen) < 0)
		return -1;
	/* A multi-statement string: PQexec runs it all inside our transaction. */
	if (exec_ok(conn, m->sql, what, err, errlen) < 0)
		goto fail;
	snprintf(version, sizeof version, "%d", m->version);
	res = PQexecParams(conn,
	    "INSERT INTO schema_migrations (version, name) VALUES ($1::integer, $2)", 2, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_err(err, errlen, "recording %s: %s", m->name,
		    res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (exec_ok(conn, "COMMIT", what, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	/* Best effort: the connection is closed right after anyway, which also rolls back. */
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

int
migrate_apply(const char *conninfo, int connect_timeout, char *err, size_t errlen, int *applied)
{
	const char *keys[] = { "dbname", "connect_timeout", "fallback_application_name", NULL };
	char timeout[16];
	const char *vals[] = { conninfo, timeout, "allianced-migrate", NULL };
	PGconn *conn = NULL;
	bool *done = NULL;
	int count = 0;
	int rc = -1;

	if (applied != NULL)
		*applied = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (migrate_check_list(migrations, migrations_count, err, errlen) < 0)
		return -1;
	if (conninfo == NULL) {
		set_err(err, errlen, "no database url");
		return -1;
	}
	snprintf(timeout, sizeof timeout, "%d", connect_timeout);
	if (connect_timeout <= 0) {
		/* Leave connect_timeout to libpq's default (wait indefinitely). */
		keys[1] = "fallback_application_name";
		vals[1] = "allianced-migrate";
		keys[2] = vals[2] = NULL;
	}

	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL) {
		set_err(err, errlen, "connecting: out of memory");
		goto fail;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		set_err(err, errlen, "connecting: %s", PQerrorMessage(conn));
		goto fail;
	}
	PQsetNoticeProcessor(conn, quiet_notices, NULL);

	/* Lock first: two daemons migrating at once must not race on CREATE TABLE. */
	if (exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "advisory lock", err,
	        errlen) < 0)
		goto fail;
	if (exec_ok(conn,
	        "CREATE TABLE IF NOT EXISTS schema_migrations ("
	        " version integer PRIMARY KEY CHECK (version > 0),"
	        " name text NOT NULL,"
	        " applied_at timestamptz NOT NULL DEFAULT now())",
	        "creating schema_migrations", err, errlen) < 0)
		goto fail;

	done = calloc(migrations_count + 1, sizeof *done);
	if (done == NULL) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (read_applied(conn, done, migrations_count, err, errlen) < 0)
		goto fail;

	for (size_t i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		if (done[m->version])
			continue;
		if (apply_one(conn, m, err, errlen) < 0)
			goto fail;
		fprintf(stderr, "database: applied migration %s\n", m->name);
		count++;
	}
	rc = 0;
fail:
	if (applied != NULL)
		*applied = count;
	free(done);
	/* Closing the session releases the advisory lock. */
	if (conn != NULL)
		PQfinish(conn);
	return rc;
}

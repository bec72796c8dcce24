/*
 * migrate.h - forward-only schema migrations, embedded at build time.
 *
 * sql/NNN_name.sql files become `migrations[]` (build/gen/migrations.c, written by
 * daemon/mkmigrations.sh), ordered by version 1..N without gaps.  migrate_apply() runs
 * from `allianced --migrate`, OFF the event loop: it is synchronous and may block.
 */
#ifndef ALLIANCE_MIGRATE_H
#define ALLIANCE_MIGRATE_H

#include <stddef.h>

struct migration {
	int version;      /* 1, 2, ... from the file name's NNN */
	const char *name; /* "001_init": the file name without .sql */
	const char *sql;  /* the file's text; no BEGIN/COMMIT (the migrator wraps it) */
};

/* The embedded list (generated). */
extern const struct migration migrations[];
extern const size_t migrations_count;

/*
 * Connects with `conninfo` (URL or key=value string; connect_timeout in seconds, 0 = libpq's
 * default), takes a session advisory lock (so concurrent migrators serialise), creates
 * schema_migrations if missing, and applies every embedded migration not yet recorded, each
 * in its own transaction together with its schema_migrations row.  Idempotent.  Logs one
 * stderr line per applied version.  Returns 0 and sets *applied (may be NULL) to the number
 * applied; on failure returns -1 with a one-line message in err (nothing of the failing
 * migration stays applied).
 */
int migrate_apply(const char *conninfo, int connect_timeout, char *err, size_t errlen,
    int *applied);

/* The newest embedded version (0 if none); /readyz compares it with max(version). */
int migrate_latest_version(void);

/*
 * Checks a migration list: versions 1..n in order without gaps, names "NNN_..." matching
 * their version, non-empty SQL without a transaction statement of its own.  0 or -1 + err.
 * migrate_apply() checks the embedded list with it; unit tests call it too.
 */
int migrate_check_list(const struct migration *list, size_t n, char *err, size_t errlen);

#endif

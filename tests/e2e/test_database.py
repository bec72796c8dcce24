"""Migrations and the database connection: idempotent --migrate, readiness,
and a PostgreSQL outage the daemon recovers from by itself."""

import re

import pytest

from conftest import to_yaml, wait_until, free_port


def applied_count(stderr):
    """How many migrations `allianced --migrate` says it applied."""
    for rx in (r"applied[= :]+(\d+)\b", r"\b(\d+) (?:migrations? )?(?:were |was )?applied"):
        m = re.search(rx, stderr, re.I)
        if m:
            return int(m.group(1))
    return None


def migration_rows(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_migrations")
        return cur.fetchone()[0]


def write_cfg(tmp_path, url, name="migrate.yaml"):
    f = tmp_path / name
    f.write_text(to_yaml({"database": {"url": url}}) + "\n")
    return f


def test_session_migrations_applied(migrated, db):
    n = applied_count(migrated.stderr)
    assert n is not None, f"--migrate does not say how many it applied:\n{migrated.stderr}"
    assert migration_rows(db) >= 1


def test_migrate_idempotent(migrated, run_allianced, pg, db, tmp_path):
    before = migration_rows(db)
    p = run_allianced("--migrate", "-c", str(write_cfg(tmp_path, pg.conninfo)))
    assert p.returncode == 0, p.stderr
    assert applied_count(p.stderr) == 0, p.stderr
    assert migration_rows(db) == before


@pytest.fixture
def fresh_db(pg):
    name = "alliance_fresh"
    pg.dropdb(name)
    pg.createdb(name)
    yield name
    pg.dropdb(name)


def test_migrate_fresh_database_via_env(run_allianced, pg, fresh_db, tmp_path):
    # ALLIANCE_DATABASE_URL overrides database.url (which points nowhere here).
    cfg = write_cfg(tmp_path, f"host=/nonexistent port={free_port()} dbname=nope")
    env = {"ALLIANCE_DATABASE_URL": pg.conninfo_for(fresh_db)}
    p1 = run_allianced("--migrate", "-c", str(cfg), env=env)
    assert p1.returncode == 0, p1.stderr
    n = applied_count(p1.stderr)
    assert n is not None and n >= 1, p1.stderr
    conn = pg.connect(fresh_db)
    try:
        assert migration_rows(conn) == n
        p2 = run_allianced("--migrate", "-c", str(cfg), env=env)
        assert p2.returncode == 0, p2.stderr
        assert applied_count(p2.stderr) == 0, p2.stderr
        assert migration_rows(conn) == n
    finally:
        conn.close()


def test_migrate_unreachable_database_fails(run_allianced, tmp_path):
    cfg = write_cfg(tmp_path, f"host=127.0.0.1 port={free_port()} dbname=nope connect_timeout=2")
    p = run_allianced("--migrate", "-c", str(cfg))
    assert p.returncode != 0
    assert p.stderr.strip()


def assert_not_ready(r):
    assert r.status == 503, r
    assert r.content_type == "application/json", r
    # README: "else 503 + Retry-After" with the documented `Retry-After: 1`.
    assert r.headers.get("Retry-After") == "1", r.headers
    body = r.json()
    assert body["status"] == "not_ready"
    assert "database" in body and "up" in body["database"]
    return body


def test_readyz_503_until_migrated(daemon_factory, run_allianced, pg, fresh_db, tmp_path):
    d = daemon_factory({"database": {"url": pg.conninfo_for(fresh_db)}})
    r = wait_until(lambda: (lambda r: r if r.status == 503 and r.json()["database"]["up"]
                            else None)(d.get("/readyz")), 5,
                   what="/readyz 503 with database up on an unmigrated database")
    body = assert_not_ready(r)
    db = body["database"]
    assert db["schema_version"] < db["expected_version"]
    p = run_allianced("--migrate", "-c", str(write_cfg(tmp_path, pg.conninfo_for(fresh_db))))
    assert p.returncode == 0, p.stderr
    r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(d.get("/readyz")), 5,
                   what="/readyz 200 after --migrate")
    assert r.json()["database"]["schema_version"] == db["expected_version"]


def test_starts_without_database(daemon_factory):
    # The daemon stays up while the database is unreachable.
    d = daemon_factory({"database": {"url": f"host=127.0.0.1 port={free_port()} dbname=x"}})
    assert d.get("/healthz").status == 200
    body = assert_not_ready(d.get("/readyz"))
    assert body["database"]["up"] is False
    assert d.unix_get("/healthz").status == 200


def test_postgres_outage_and_recovery(daemon_factory, pg):
    d = daemon_factory()
    pid = d.pid
    assert d.get("/readyz").status == 200
    pg.stop("fast")
    try:
        r = wait_until(lambda: (lambda r: r if r.status == 503 else None)(d.get("/readyz")), 5,
                       what="/readyz 503 with PostgreSQL stopped")
        body = assert_not_ready(r)
        assert body["database"]["up"] is False
        assert d.get("/healthz").status == 200        # alive all along
    finally:
        pg.start()
    r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(d.get("/readyz")), 5,
                   interval=0.1, what="/readyz 200 within 5 s of PostgreSQL coming back")
    assert r.json()["database"]["up"] is True
    assert d.pid == pid and d.alive()


def test_postgres_outage_metrics_and_log(daemon_factory, pg):
    d = daemon_factory()
    mark = d.log_mark()
    pg.stop("immediate")
    try:
        wait_until(lambda: d.get("/readyz").status == 503, 5, what="/readyz 503")
    finally:
        pg.start()
    wait_until(lambda: d.get("/readyz").status == 200, 5, interval=0.1, what="/readyz 200")
    log = d.log_since(mark)
    assert re.search(r" (WARNING|ERROR) ", log), "the outage was not logged as a warning"
    assert d.get("/metrics").status == 200

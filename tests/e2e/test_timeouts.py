"""A timeout stops the work: a request answered 503 changes nothing afterwards.

The database is held with a lock the test owns, past limits.request_timeout;
then the lock is let go and the test checks that nothing was committed.
  - the cancel path: statement_timeout out of the way (600 s), so only the
    daemon's cancel of the abandoned statement can stop it;
  - the statement_timeout path: the default (a little under the request
    timeout) stops it on the server, answered 503 as well.
"""

import time

import pytest

from conftest import wait_until
from episode_util import add_client, add_therapist, rows, start_episode

LOCK = 7_700_777

# A deferred constraint trigger runs inside COMMIT: waiting on the test's
# advisory lock there holds the COMMIT of POST /v1/episodes itself.
HOLD_COMMIT = f"""
CREATE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock({LOCK}); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER test_hold_commit AFTER INSERT ON episodes
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_hold_commit();
"""
UNHOLD = """
DROP TRIGGER IF EXISTS test_hold_commit ON episodes;
DROP FUNCTION IF EXISTS test_hold_commit();
"""

NO_STATEMENT_TIMEOUT = {"limits": {"request_timeout": 1},
                        "database": {"statement_timeout_ms": 600000}}


@pytest.fixture
def hold_commit(db):
    with db.cursor() as cur:
        cur.execute(UNHOLD + HOLD_COMMIT)
    yield
    with db.cursor() as cur:
        cur.execute(UNHOLD)


def waiting_on_lock(db):
    return rows(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND NOT granted")[0][0]


def lock(db):
    with db.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (LOCK,))


def unlock(db):
    with db.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))


def test_a_commit_held_past_the_timeout_is_503_and_never_commits(daemon_factory, db,
                                                                  hold_commit):
    d = daemon_factory(config=NO_STATEMENT_TIMEOUT)
    t = add_therapist(db)
    c = add_client(db)
    key = {"Idempotency-Key": "start-after-503"}
    body = {"client_id": c, "therapist_id": t}
    lock(db)
    try:
        t0 = time.monotonic()
        r = d.post("/v1/episodes", json_body=body, headers=key)
        took = time.monotonic() - t0
        assert r.status == 503, r.text
        assert r.headers.get("Retry-After") == "1"
        assert took < 3, took
        # The COMMIT was cancelled on the server: nothing waits on the lock
        # any more, although the test still holds it.
        wait_until(lambda: waiting_on_lock(db) == 0, 5, what="the COMMIT to be cancelled")
    finally:
        unlock(db)
    assert rows(db, "SELECT count(*) FROM episodes WHERE client_id = %s", (c,)) == [(0,)]
    # The connection serves the next request (the pool is not stuck), and the
    # client's retry with its key starts the episode exactly once.
    r = d.post("/v1/episodes", json_body=body, headers=key)
    assert r.status == 201, r.text
    again = d.post("/v1/episodes", json_body=body, headers=key)
    assert again.status == 201 and again.json() == r.json()
    assert rows(db, "SELECT count(*) FROM episodes WHERE client_id = %s", (c,)) == [(1,)]


def test_an_end_held_past_the_timeout_is_503_and_never_ends(daemon_factory, db, pg_cluster):
    d = daemon_factory(config=NO_STATEMENT_TIMEOUT)
    t = add_therapist(db)
    c = add_client(db)
    ep = start_episode(d, c, t).json()["id"]
    holder = pg_cluster.connect(autocommit=False)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM episodes WHERE id = %s FOR UPDATE", (ep,))
        r = d.post(f"/v1/episodes/{ep}/end", json_body={"reason": "completed"})
        assert r.status == 503, r.text
        # The autocommit UPDATE was cancelled on the server while it waited.
        wait_until(lambda: rows(db, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                                    " USING (pid) WHERE NOT l.granted"
                                    " AND a.application_name = 'allianced'")[0][0] == 0,
                   5, what="the UPDATE to be cancelled")
    finally:
        holder.rollback()
        holder.close()
    assert rows(db, "SELECT status FROM episodes WHERE id = %s", (ep,)) == [("active",)]


def test_statement_timeout_stops_a_held_statement_before_the_request_timeout(
        daemon_factory, db, pg_cluster):
    # Defaults: statement_timeout a little under request_timeout (2 s -> 1.75 s).
    # (Not the COMMIT: PostgreSQL switches statement_timeout off for COMMIT
    # itself, so only the cancel above stops a held COMMIT.)
    d = daemon_factory(config={"limits": {"request_timeout": 2}})
    t = add_therapist(db)
    c = add_client(db)
    holder = pg_cluster.connect(autocommit=False)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM therapists WHERE id = %s FOR UPDATE", (t,))
        mark = d.log_mark()
        r = start_episode(d, c, t)
        assert r.status == 503, r.text
        assert "did not answer in time" in r.json()["detail"], r.text
        assert r.headers.get("Retry-After") == "1"
        assert "timed out" not in d.log_since(mark)  # the database stopped it first
    finally:
        holder.rollback()
        holder.close()
    assert rows(db, "SELECT count(*) FROM episodes WHERE client_id = %s", (c,)) == [(0,)]
    r = start_episode(d, c, t)
    assert r.status == 201, r.text

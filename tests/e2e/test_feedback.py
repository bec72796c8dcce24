"""Feedback: the four instruments, validation, stored scores, idempotency, alliance GET."""

import pytest

from conftest import wait_until
from episode_util import (a5, count, feedback, new_episode, ors, poor, problem_fields, rows,
                          snapshot, srs, wai)


def stored(db, episode_id):
    return rows(db, "SELECT session, instrument, alliance_index, trust_signal, ors_total,"
                    " negative_feelings FROM feedback WHERE episode_id = %s ORDER BY id",
                (episode_id,))


def test_alliance5_stores_scores_and_answers_alliance(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    r = feedback(daemon, ep["id"], a5(1, heard=8, open=7, adapts=8, trust=9, looking_forward=6,
                                      negative_feelings=3))
    assert r.status == 200, r.text
    a = r.json()
    assert a["episode_id"] == ep["id"]
    assert a["status"] == "forming" and a["action"] == "continue"
    assert a["sessions"] == 1 and a["index_latest"] == 76.0 and a["index_ewma"] == 76.0
    assert a["trend"] == 0.0 and a["outcome"] is None
    assert any("still forming" in s for s in a["reasons"])
    assert stored(db, ep["id"]) == [(1, "alliance5", 76.0, 90.0, None, 3)]
    g = daemon.get(f"/v1/episodes/{ep['id']}/alliance")
    assert g.status == 200 and g.json() == a


def test_every_instrument(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    assert feedback(daemon, ep["id"], srs(1, relationship=9.5, goals=9, approach=8.5,
                                          overall=9)).status == 200
    assert feedback(daemon, ep["id"], wai(2, value=4)).status == 200
    assert feedback(daemon, ep["id"], ors(2, 4, 4, 5, 5)).status == 200
    r = feedback(daemon, ep["id"], ors(3, 6, 6, 6, 7))
    assert r.status == 200, r.text
    a = r.json()
    # ORS never counts as an alliance session.
    assert a["sessions"] == 2
    assert a["outcome"] == {"first": 18.0, "latest": 25.0, "reliable_improvement": True}
    assert a["index_latest"] == 75.0          # wai_sr all 4: (4 - 1) / 4
    got = stored(db, ep["id"])
    assert got[0][:3] == (1, "srs", 90.0) and got[0][3] == 95.0
    assert got[1][:4] == (2, "wai_sr", 75.0, 75.0)
    assert got[2][:5] == (2, "ors", None, None, 18.0)
    assert rows(db, "SELECT items::text FROM feedback WHERE instrument = 'srs'") == \
        [('{"goals": 9, "overall": 9, "approach": 8.5, "relationship": 9.5}',)]


@pytest.mark.parametrize("body,fields", [
    (srs(1, relationship=11), ["items.relationship"]),
    (srs(1, relationship=9.55), ["items.relationship"]),
    ({**srs(1), "items": {"relationship": 9, "goals": 9, "approach": 9}}, ["items.overall"]),
    ({**a5(1), "items": {**a5(1)["items"], "hear": 5}}, ["items.hear"]),
    (a5(1, heard=7.5), ["items.heard"]),
    (a5(1, flags={"judgd": True}), ["flags.judgd"]),
    (a5(1, flags={"judged": "yes"}), ["flags.judged"]),
    (a5(1, negative_feelings=11), ["negative_feelings"]),
    ({**a5(1), "mood": 3}, ["mood"]),
    ({**a5(1), "instrument": "phq9"}, ["instrument"]),
    ({**a5(1), "session": 0}, ["session"]),
    ({**a5(1), "occurred_at": "yesterday"}, ["occurred_at"]),
    ({**a5(1), "occurred_at": "2026-02-30T10:00:00Z"}, ["occurred_at"]),
    ({"instrument": "alliance5"}, ["session", "items"]),
    (wai(1, value=6), [f"items.q{i}" for i in range(1, 13)]),
])
def test_invalid_feedback_is_422_and_changes_nothing(daemon, db, body, fields):
    ep, _, _ = new_episode(daemon, db)
    before = snapshot(db)
    r = feedback(daemon, ep["id"], body)
    assert r.status == 422, r.text
    assert sorted(problem_fields(r)) == sorted(fields)
    assert r.headers.get("Content-Type").startswith("application/problem+json")
    assert snapshot(db) == before


def test_unknown_or_ended_episode(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    before = snapshot(db)
    r = feedback(daemon, 999999, a5(1))
    assert r.status == 404
    assert daemon.get("/v1/episodes/999999/alliance").status == 404
    daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "completed"})
    before = snapshot(db)
    r = feedback(daemon, ep["id"], a5(1))
    assert r.status == 409 and "ended" in r.json()["detail"]
    assert snapshot(db) == before


def test_second_rating_of_a_session_is_409(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    assert feedback(daemon, ep["id"], a5(1)).status == 200
    before = snapshot(db)
    r = feedback(daemon, ep["id"], srs(1))
    assert r.status == 409
    assert snapshot(db) == before
    # An ORS of the same session is a different thing: accepted.
    assert feedback(daemon, ep["id"], ors(1)).status == 200
    assert count(db, "feedback") == 2


def test_idempotency_key(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    first = feedback(daemon, ep["id"], poor(1), key="k-1")
    assert first.status == 200
    # Later feedback must not change the answer to a retry of the first.
    assert feedback(daemon, ep["id"], a5(2), key="k-2").status == 200
    again = feedback(daemon, ep["id"], poor(1), key="k-1")
    assert again.status == first.status and again.json() == first.json()
    assert count(db, "feedback", "idempotency_key = 'k-1'") == 1
    before = snapshot(db)
    other = feedback(daemon, ep["id"], poor(3), key="k-1")
    assert other.status == 409 and "Idempotency-Key" in other.json()["detail"]
    assert snapshot(db) == before
    bad = feedback(daemon, ep["id"], a5(3), key="x" * 256)
    assert bad.status == 422 and problem_fields(bad) == ["Idempotency-Key"]
    assert snapshot(db) == before


def test_concurrent_retries_store_once(daemon_factory, db, pg):
    """Two submissions with one key, the first held uncommitted while the retry
    arrives: every time, the retry meets the first one's row in the unique
    index, waits for it, and must answer what the first answered.

    The test holds the episode row FOR UPDATE: since issue 13 every
    submission locks its episode's row first (the status event is written in
    the same transaction, api/episode_txn.h), so both wait on that lock, and
    the second, whose statement starts after the first committed, finds the
    first's row.  Both are seen waiting before the lock goes."""
    import concurrent.futures
    d = daemon_factory(config={"database": {"pool_size": 4}})
    ep, _, _ = new_episode(d, db)
    locker = pg.connect(autocommit=False)
    watcher = pg.connect()
    pool = concurrent.futures.ThreadPoolExecutor(2)

    def waiting():
        with watcher.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                        " AND wait_event_type = 'Lock' AND datname = current_database()"
                        " AND query LIKE '%FROM episodes WHERE id = $1::bigint FOR UPDATE%'")
            return cur.fetchone()[0]
    try:
        with locker.cursor() as cur:
            cur.execute("SELECT id FROM episodes WHERE id = %s FOR UPDATE", (ep["id"],))
        first = pool.submit(feedback, d, ep["id"], a5(1), "same")
        wait_until(lambda: waiting() == 1, 5, what="the first submission to wait on the lock")
        retry = pool.submit(feedback, d, ep["id"], a5(1), "same")
        wait_until(lambda: waiting() == 2, 5, what="the retry to wait on the episode's lock")
        assert not first.done() and not retry.done()
        locker.rollback()
        out = [first.result(timeout=10), retry.result(timeout=10)]
    finally:
        locker.rollback()
        locker.close()
        watcher.close()
        pool.shutdown(wait=False)
    assert [r.status for r in out] == [200, 200], [(r.status, r.text) for r in out]
    assert out[0].json() == out[1].json()
    assert count(db, "feedback") == 1


def test_outage_answers_503_with_retry_after(daemon, db, pg):
    ep, _, _ = new_episode(daemon, db)
    pg.stop()
    try:
        # README: "503 ... (with `Retry-After: 1`)".
        r = feedback(daemon, ep["id"], a5(1))
        assert r.status == 503 and r.headers.get("Retry-After") == "1"
        r = daemon.get(f"/v1/episodes/{ep['id']}/alliance")
        assert r.status == 503 and r.headers.get("Retry-After") == "1"
    finally:
        pg.start()

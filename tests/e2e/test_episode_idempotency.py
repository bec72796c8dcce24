"""Idempotency-Key on POST /v1/episodes and POST /v1/episodes/{id}/end: a retry
with the same key and body answers the same episode and changes nothing; the
same key with another body is a 409; a malformed key is a 422."""

import threading

from conftest import wait_until
from episode_util import add_client, add_therapist, rows


def start(d, c, t, key=None, referred_from=None):
    body = {"client_id": c, "therapist_id": t}
    if referred_from is not None:
        body["referred_from"] = referred_from
    return d.post("/v1/episodes", json_body=body,
                  headers={"Idempotency-Key": key} if key else None)


def end(d, ep, reason="completed", key=None):
    return d.post(f"/v1/episodes/{ep}/end", json_body={"reason": reason},
                  headers={"Idempotency-Key": key} if key else None)


def test_start_retried_with_its_key_answers_the_same_episode(daemon, db):
    t, t2 = add_therapist(db), add_therapist(db)
    c = add_client(db)
    first = start(daemon, c, t, key="start-1")
    assert first.status == 201, first.text
    again = start(daemon, c, t, key="start-1")
    assert again.status == 201, again.text
    assert again.json() == first.json()
    assert rows(db, "SELECT count(*) FROM episodes WHERE client_id = %s", (c,)) == [(1,)]
    other = start(daemon, c, t2, key="start-1")
    assert other.status == 409, other.text
    assert "Idempotency-Key" in other.json()["detail"]
    # Without the key the same start is the conflict it always was.
    assert start(daemon, c, t).status == 409
    # A key is per client: another client may use it.
    c2 = add_client(db)
    assert start(daemon, c2, t, key="start-1").status == 201
    assert rows(db, "SELECT count(*) FROM episodes") == [(2,)]


def test_a_referral_retried_ends_nothing_twice(daemon, db):
    t, t2 = add_therapist(db), add_therapist(db)
    c = add_client(db)
    old = start(daemon, c, t).json()["id"]
    first = start(daemon, c, t2, key="ref-1", referred_from=old)
    assert first.status == 201, first.text
    again = start(daemon, c, t2, key="ref-1", referred_from=old)
    assert again.status == 201 and again.json()["id"] == first.json()["id"]
    assert rows(db, "SELECT status, end_reason FROM episodes WHERE id = %s",
                (old,)) == [("ended", "referred")]


def test_malformed_keys_are_422_and_change_nothing(daemon, db):
    t = add_therapist(db)
    c = add_client(db)
    for key in ("x" * 256, "has space", "caf\u00e9".encode().decode("latin-1")):
        r = start(daemon, c, t, key=key)
        assert r.status == 422, r.text
        assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert rows(db, "SELECT count(*) FROM episodes") == [(0,)]
    ep = start(daemon, c, t).json()["id"]
    r = end(daemon, ep, key="has space")
    assert r.status == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert rows(db, "SELECT status FROM episodes WHERE id = %s", (ep,)) == [("active",)]


def test_end_retried_with_its_key_answers_the_ended_episode(daemon, db):
    t = add_therapist(db)
    c = add_client(db)
    ep = start(daemon, c, t).json()["id"]
    first = end(daemon, ep, key="end-1")
    assert first.status == 200, first.text
    again = end(daemon, ep, key="end-1")
    assert again.status == 200, again.text
    assert again.json() == first.json()
    other = end(daemon, ep, reason="mismatch", key="end-1")
    assert other.status == 409 and "Idempotency-Key" in other.json()["detail"]
    assert end(daemon, ep, key="end-2").status == 409
    assert end(daemon, ep).status == 409
    assert rows(db, "SELECT end_reason FROM episodes WHERE id = %s", (ep,)) == [("completed",)]


def test_concurrent_ends_with_one_key_both_answer_200(daemon, db, pg_cluster):
    """Both wait on a row lock the test holds, so the second sees the first
    only after its own snapshot: it must look again, not answer 409."""
    t = add_therapist(db)
    c = add_client(db)
    ep = start(daemon, c, t).json()["id"]
    holder = pg_cluster.connect(autocommit=False)
    answers = []
    with holder.cursor() as cur:
        cur.execute("SELECT id FROM episodes WHERE id = %s FOR UPDATE", (ep,))
    threads = [threading.Thread(target=lambda: answers.append(end(daemon, ep, key="same")))
               for _ in range(2)]
    try:
        for th in threads:
            th.start()
        wait_until(lambda: rows(db, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                                    " USING (pid) WHERE NOT l.granted"
                                    " AND a.application_name = 'allianced'")[0][0] == 2,
                   5, what="both ends to wait on the lock")
    finally:
        holder.rollback()
        holder.close()
    for th in threads:
        th.join(10)
    assert sorted(a.status for a in answers) == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()

"""Episodes: start (capacity, referred_from), show, end; attendance."""

import json
import re
import threading

from episode_util import (add_client, add_therapist, attendance, count, new_episode,
                          problem_fields, rows, snapshot, start_episode)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def test_start_show_end(daemon, db):
    t = add_therapist(db)
    c = add_client(db)
    r = start_episode(daemon, c, t)
    assert r.status == 201, r.text
    ep = r.json()
    assert ep["client_id"] == c and ep["therapist_id"] == t
    assert ep["status"] == "active" and ep["ended_at"] is None and ep["end_reason"] is None
    assert ep["referred_from"] is None and isinstance(ep["id"], int)
    assert ISO.match(ep["started_at"])
    assert rows(db, "SELECT status FROM episodes WHERE id = %s", (ep["id"],)) == [("active",)]

    g = daemon.get(f"/v1/episodes/{ep['id']}")
    assert g.status == 200 and g.json() == ep

    e = daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "completed"})
    assert e.status == 200, e.text
    assert e.json()["status"] == "ended" and e.json()["end_reason"] == "completed"
    assert ISO.match(e.json()["ended_at"])
    assert rows(db, "SELECT status, end_reason FROM episodes WHERE id = %s",
                (ep["id"],)) == [("ended", "completed")]


def test_start_bad_inputs_change_nothing(daemon, db):
    t = add_therapist(db)
    c = add_client(db)
    before = snapshot(db)
    r = start_episode(daemon, c + 100, t + 100)
    assert r.status == 422, r.text
    assert set(problem_fields(r)) == {"client_id", "therapist_id"}
    r = daemon.post("/v1/episodes", json_body={"client_id": c})
    assert r.status == 422 and problem_fields(r) == ["therapist_id"]
    r = daemon.post("/v1/episodes", json_body={"client_id": c, "therapist_id": t, "note": 1})
    assert r.status == 422 and problem_fields(r) == ["note"]
    r = daemon.post("/v1/episodes", json_body={"client_id": "1", "therapist_id": 0})
    assert r.status == 422 and set(problem_fields(r)) == {"client_id", "therapist_id"}
    r = daemon.post("/v1/episodes", json_body=[1, 2])
    assert r.status == 422
    r = daemon.post("/v1/episodes", body=b"{not json")
    assert r.status == 400
    assert snapshot(db) == before


def test_retired_and_not_accepting_are_409(daemon, db):
    retired = add_therapist(db, active=False)
    closed = add_therapist(db, accepting=False)
    c = add_client(db)
    before = snapshot(db)
    r = start_episode(daemon, c, retired)
    assert r.status == 409 and "retired" in r.json()["detail"]
    r = start_episode(daemon, c, closed)
    assert r.status == 409 and "accepting" in r.json()["detail"]
    assert snapshot(db) == before


def test_capacity_enforced(daemon, db):
    t = add_therapist(db, capacity=2)
    clients = [add_client(db) for _ in range(3)]
    assert start_episode(daemon, clients[0], t).status == 201
    assert start_episode(daemon, clients[1], t).status == 201
    before = snapshot(db)
    r = start_episode(daemon, clients[2], t)
    assert r.status == 409 and r.json()["detail"] == "therapist at capacity"
    assert snapshot(db) == before
    # Ending an episode frees its slot.
    first = rows(db, "SELECT min(id) FROM episodes")[0][0]
    assert daemon.post(f"/v1/episodes/{first}/end",
                       json_body={"reason": "client_left"}).status == 200
    assert start_episode(daemon, clients[2], t).status == 201


def test_capacity_holds_under_concurrent_starts(daemon_factory, db):
    # Two daemons (two pools) race for the last slots of one therapist.
    d1 = daemon_factory(config={"database": {"pool_size": 4}})
    d2 = daemon_factory(config={"database": {"pool_size": 4}})
    t = add_therapist(db, capacity=3)
    clients = [add_client(db) for _ in range(12)]
    results = []
    lock = threading.Lock()

    def go(d, c):
        r = start_episode(d, c, t)
        with lock:
            results.append(r.status)

    threads = [threading.Thread(target=go, args=(d1 if i % 2 else d2, c))
               for i, c in enumerate(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [201] * 3 + [409] * 9, results
    assert count(db, "episodes", "therapist_id = %s AND status = 'active'", (t,)) == 3


def test_same_pair_twice_is_409(daemon, db):
    ep, c, t = new_episode(daemon, db)
    before = snapshot(db)
    r = start_episode(daemon, c, t)
    assert r.status == 409
    assert snapshot(db) == before


def test_referred_from_ends_old_episode_and_frees_slot(daemon, db):
    old_t = add_therapist(db, capacity=1)
    new_t = add_therapist(db)
    c = add_client(db)
    old = start_episode(daemon, c, old_t).json()
    r = start_episode(daemon, c, new_t, referred_from=old["id"])
    assert r.status == 201, r.text
    assert r.json()["referred_from"] == old["id"]
    o = daemon.get(f"/v1/episodes/{old['id']}").json()
    assert o["status"] == "ended" and o["end_reason"] == "referred" and o["ended_at"]
    # The old therapist's only slot is free again.
    other = add_client(db)
    assert start_episode(daemon, other, old_t).status == 201


def test_referred_from_bad_inputs_change_nothing(daemon, db):
    t1, t2 = add_therapist(db), add_therapist(db, capacity=0)
    c, other = add_client(db), add_client(db)
    old = start_episode(daemon, c, t1).json()
    stranger = start_episode(daemon, other, t1).json()
    t3 = add_therapist(db)
    before = snapshot(db)
    # Another client's episode.
    r = start_episode(daemon, c, t3, referred_from=stranger["id"])
    assert r.status == 422 and problem_fields(r) == ["referred_from"]
    # No such episode.
    r = start_episode(daemon, c, t3, referred_from=old["id"] + 1000)
    assert r.status == 422 and problem_fields(r) == ["referred_from"]
    # The new therapist is full: the old episode must stay active.
    r = start_episode(daemon, c, t2, referred_from=old["id"])
    assert r.status == 409
    assert snapshot(db) == before
    # An ended episode cannot be referred from.
    daemon.post(f"/v1/episodes/{old['id']}/end", json_body={"reason": "other"})
    before = snapshot(db)
    r = start_episode(daemon, c, t3, referred_from=old["id"])
    assert r.status == 409
    assert snapshot(db) == before


def test_get_unknown_episode_404(daemon, db):
    r = daemon.get("/v1/episodes/999999")
    assert r.status == 404 and r.json()["detail"] == "no episode 999999"


def test_end_bad_inputs_change_nothing(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    before = snapshot(db)
    r = daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "bored"})
    assert r.status == 422 and problem_fields(r) == ["reason"]
    r = daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={})
    assert r.status == 422 and problem_fields(r) == ["reason"]
    r = daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "completed", "x": 1})
    assert r.status == 422 and problem_fields(r) == ["x"]
    r = daemon.post("/v1/episodes/999999/end", json_body={"reason": "completed"})
    assert r.status == 404
    assert snapshot(db) == before
    assert daemon.post(f"/v1/episodes/{ep['id']}/end",
                       json_body={"reason": "mismatch"}).status == 200
    before = snapshot(db)
    r = daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "completed"})
    assert r.status == 409
    assert snapshot(db) == before


def test_attendance_upserts_and_answers_alliance(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    r = attendance(daemon, ep["id"], 1, "attended")
    assert r.status == 200, r.text
    a = r.json()
    assert a["episode_id"] == ep["id"] and a["status"] == "forming"
    assert a["sessions"] == 0 and a["index_latest"] is None
    r = attendance(daemon, ep["id"], 1, "no_show")
    assert r.status == 200
    assert rows(db, "SELECT session, status FROM attendance WHERE episode_id = %s",
                (ep["id"],)) == [(1, "no_show")]
    r = attendance(daemon, ep["id"], 2, "no_show")
    assert r.json()["status"] == "disengaging" and r.json()["action"] == "reach_out"
    # Correcting session 2 to cancelled leaves one no-show only.
    r = attendance(daemon, ep["id"], 2, "cancelled")
    assert r.json()["status"] == "forming"


def test_attendance_bad_inputs_change_nothing(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    attendance(daemon, ep["id"], 1, "attended")
    before = snapshot(db)
    r = attendance(daemon, ep["id"], 2, "late")
    assert r.status == 422 and problem_fields(r) == ["status"]
    r = attendance(daemon, ep["id"], 0, "attended")
    assert r.status == 422 and problem_fields(r) == ["session"]
    r = daemon.post(f"/v1/episodes/{ep['id']}/attendance",
                    json_body={"session": 2, "status": "attended", "room": "b"})
    assert r.status == 422 and problem_fields(r) == ["room"]
    r = attendance(daemon, 999999, 1, "attended")
    assert r.status == 404
    r = daemon.post(f"/v1/episodes/{ep['id']}/attendance", body=json.dumps({"session": 1}),
                    content_type="text/plain")
    assert r.status == 415
    assert snapshot(db) == before
    daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "completed"})
    before = snapshot(db)
    assert attendance(daemon, ep["id"], 2, "attended").status == 409
    assert snapshot(db) == before

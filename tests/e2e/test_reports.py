"""Reports: alliance per therapist and the episodes at risk."""

from episode_util import (a5, add_client, add_therapist, attendance, feedback, ors, poor,
                          problem_fields, snapshot, start_episode)


def episode(daemon, db, therapist):
    r = start_episode(daemon, add_client(db), therapist)
    assert r.status == 201, r.text
    return r.json()["id"]


def at_risk_clinic(daemon, db):
    """Five active episodes (unsafe, disengaging, mismatch, strained, strong) and an
    ended mismatch; returns their ids by status."""
    t1, t2 = add_therapist(db), add_therapist(db)
    ids = {}
    ids["strong"] = episode(daemon, db, t1)
    for s in (1, 2, 3):
        feedback(daemon, ids["strong"], a5(s, 9, 9, 9, 9, 9))
    ids["mismatch"] = episode(daemon, db, t1)
    for s in (1, 2, 3):
        feedback(daemon, ids["mismatch"], poor(s))
    ids["unsafe"] = episode(daemon, db, t2)
    feedback(daemon, ids["unsafe"], a5(1, flags={"boundaries": True}))
    ids["disengaging"] = episode(daemon, db, t2)
    attendance(daemon, ids["disengaging"], 1, "no_show")
    attendance(daemon, ids["disengaging"], 2, "no_show")
    ids["strained"] = episode(daemon, db, t2)
    for s, v in ((1, 9), (2, 9), (3, 6)):
        feedback(daemon, ids["strained"], a5(s, v, v, v, v, v))
    ended = episode(daemon, db, t1)
    for s in (1, 2, 3):
        feedback(daemon, ended, poor(s))
    daemon.post(f"/v1/episodes/{ended}/end", json_body={"reason": "mismatch"})
    return ids, t1, t2


def test_at_risk_most_urgent_first(daemon, db):
    ids, t1, t2 = at_risk_clinic(daemon, db)
    r = daemon.get("/v1/reports/at-risk")
    assert r.status == 200, r.text
    eps = r.json()["episodes"]
    assert [(e["episode_id"], e["status"]) for e in eps] == [
        (ids["unsafe"], "unsafe"), (ids["disengaging"], "disengaging"),
        (ids["mismatch"], "mismatch"), (ids["strained"], "strained")]
    assert [e["action"] for e in eps] == ["review", "reach_out", "refer", "discuss"]
    assert all(e["reasons"] for e in eps)
    assert eps[2]["therapist_id"] == t1 and eps[2]["sessions"] == 3
    assert r.json()["next"] is None


def test_at_risk_paging(daemon, db):
    ids, _, _ = at_risk_clinic(daemon, db)
    seen, after, pages = [], None, 0
    while True:
        r = daemon.get("/v1/reports/at-risk?limit=2" + (f"&after={after}" if after else ""))
        assert r.status == 200, r.text
        seen += [e["episode_id"] for e in r.json()["episodes"]]
        after = r.json()["next"]
        pages += 1
        if after is None:
            break
    assert sorted(seen) == sorted(ids[k] for k in ("unsafe", "disengaging", "mismatch",
                                                    "strained"))
    assert pages == 3            # five active episodes, two per page


def test_alliance_report(daemon, db):
    ids, t1, t2 = at_risk_clinic(daemon, db)
    idle = add_therapist(db, ref="T-IDLE", name="Idle Therapist")
    feedback(daemon, ids["strong"], ors(1, 4, 4, 5, 5))
    r = daemon.get("/v1/reports/alliance")
    assert r.status == 200, r.text
    rep = r.json()
    rows = {t["therapist_id"]: t for t in rep["therapists"]}
    assert set(rows) == {t1, t2, idle}
    a, b, z = rows[t1], rows[t2], rows[idle]
    assert (a["active_episodes"], a["ended_episodes"], a["rated_sessions"]) == (2, 1, 9)
    assert (b["active_episodes"], b["ended_episodes"], b["rated_sessions"]) == (3, 0, 4)
    assert (a["at_risk"], b["at_risk"], z["at_risk"]) == (1, 3, 0)
    # t1: three sessions at 90, six poor at 28.
    assert a["alliance_mean"] == round((3 * 90 + 6 * 28) / 9, 1)
    assert z["alliance_mean"] is None and z["rated_sessions"] == 0
    assert z["display_name"] == "Idle Therapist" and z["external_ref"] == "T-IDLE"
    # Records shrink toward the clinic mean.
    cm = rep["clinic_mean"]
    assert cm is not None
    assert min(a["alliance_mean"], cm) - 0.1 <= a["alliance_record"] <= max(
        a["alliance_mean"], cm) + 0.1
    assert z["alliance_record"] == cm


def test_report_bad_inputs(daemon, db):
    at_risk_clinic(daemon, db)
    before = snapshot(db)
    r = daemon.get("/v1/reports/at-risk?limit=0")
    assert r.status == 422 and problem_fields(r) == ["limit"]
    r = daemon.get("/v1/reports/at-risk?after=abc")
    assert r.status == 422 and problem_fields(r) == ["after"]
    r = daemon.post("/v1/reports/alliance", json_body={})
    assert r.status == 405
    assert snapshot(db) == before


def test_reports_503_while_database_down(daemon, db, pg):
    pg.stop()
    try:
        for path in ("/v1/reports/alliance", "/v1/reports/at-risk"):
            r = daemon.get(path)
            assert r.status == 503 and r.headers.get("Retry-After") == "1"
    finally:
        pg.start()

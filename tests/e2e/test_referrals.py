"""Referrals: colleagues for an episode, excluding the current therapist and earlier
mismatches, with the colleague bonus and an optional need."""

from episode_util import (add_client, add_colleague, add_therapist, feedback, poor,
                          problem_fields, snapshot, start_episode, wait_catalog)


def clinic(daemon, db):
    """Current therapist A (capacity 5), colleague B (EMDR), C and D; a client in an
    episode with A after three poor sessions."""
    a = add_therapist(db, modalities=["cbt"], concerns={"trauma": 2}, capacity=5)
    b = add_therapist(db, modalities=["emdr"], concerns={"trauma": 1})
    c = add_therapist(db, modalities=["act"], concerns={"trauma": 2})
    d = add_therapist(db, modalities=["cbt"], concerns={"trauma": 1})
    add_colleague(db, a, b, ["emdr"])
    client = add_client(db, preferences={"languages": ["en"], "population": "adult",
                                         "concerns": [{"tag": "trauma", "priority": 3}]})
    ep = start_episode(daemon, client, a).json()["id"]
    for s in (1, 2, 3):
        feedback(daemon, ep, poor(s))
    wait_catalog(daemon, db)
    return ep, client, a, b, c, d


def test_referrals_exclude_current_and_mark_colleagues(daemon, db):
    ep, _, a, b, c, d = clinic(daemon, db)
    r = daemon.post(f"/v1/episodes/{ep}/referrals", json_body={})
    assert r.status == 200, r.text
    body = r.json()
    sugg = body["suggestions"]
    assert len(sugg) == 3                       # the default limit
    ids = [s["therapist_id"] for s in sugg]
    assert a not in ids and set(ids) == {b, c, d}
    assert body["excluded"] == {"excluded": 1}
    assert body["considered"] == 4
    for s in sugg:
        assert s["reasons"] and 0 <= s["score"] <= 100
        assert s["colleague"] is (s["therapist_id"] == b)
    # Without a body at all, and with a smaller limit.
    r = daemon.post(f"/v1/episodes/{ep}/referrals?limit=1", body=None, content_type=None)
    assert r.status == 200, r.text
    assert len(r.json()["suggestions"]) == 1


def test_need_and_earlier_mismatch(daemon, db):
    ep, client, a, b, c, d = clinic(daemon, db)
    r = daemon.post(f"/v1/episodes/{ep}/referrals",
                    json_body={"need": {"modalities": ["act"]}})
    assert r.status == 200
    assert r.json()["suggestions"][0]["therapist_id"] == c
    # C did not work out before: an earlier episode of this client ended as a mismatch.
    old = start_episode(daemon, client, c).json()["id"]
    assert daemon.post(f"/v1/episodes/{old}/end", json_body={"reason": "mismatch"}).status == 200
    wait_catalog(daemon, db)
    r = daemon.post(f"/v1/episodes/{ep}/referrals?limit=5",
                    json_body={"need": {"modalities": ["act"]}})
    ids = [s["therapist_id"] for s in r.json()["suggestions"]]
    assert c not in ids and a not in ids
    assert r.json()["excluded"] == {"excluded": 2}


def test_referral_bad_inputs_change_nothing(daemon, db):
    ep, _, _, _, _, _ = clinic(daemon, db)
    before = snapshot(db)
    r = daemon.post(f"/v1/episodes/{ep}/referrals", json_body={"need": {"modalities": ["yoga"]}})
    assert r.status == 422 and problem_fields(r) == ["need.modalities[0]"]
    r = daemon.post(f"/v1/episodes/{ep}/referrals", json_body={"need": {"vibes": ["calm"]}})
    assert r.status == 422 and problem_fields(r) == ["need.vibes"]
    r = daemon.post(f"/v1/episodes/{ep}/referrals", json_body={"nede": {}})
    assert r.status == 422 and problem_fields(r) == ["nede"]
    r = daemon.post(f"/v1/episodes/{ep}/referrals?limit=0", json_body={})
    assert r.status == 422 and problem_fields(r) == ["limit"]
    r = daemon.post("/v1/episodes/999999/referrals", json_body={})
    assert r.status == 404
    assert snapshot(db) == before

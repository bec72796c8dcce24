"""The acceptance stories of issue 4: a bad first match that does not end therapy,
transference that is not a mismatch, safety first, clients who vanish, retries,
and a database outage."""

from episode_util import (a5, api_therapist, attendance, count, feedback, new_episode, poor,
                          rows, snapshot, start_episode, wait_catalog)


def test_story_mismatch_referral_new_episode(daemon, db):
    # (a) The clinic: a trauma specialist who will not fit, a colleague she trusts for
    # EMDR, another therapist, and one who does not speak the client's language.
    # Two places: with this client she still has room, so only the referral's own
    # exclusion of the current therapist can keep her out of the suggestions.
    first = api_therapist(daemon, "T-ANA", concerns={"trauma": 2}, modalities=["cbt"],
                          capacity=2)
    colleague = api_therapist(daemon, "T-LENA", concerns={"trauma": 1}, modalities=["emdr"])
    other = api_therapist(daemon, "T-OMAR", concerns={"anxiety": 1}, modalities=["act"])
    api_therapist(daemon, "T-KAI", languages=["de"], concerns={"trauma": 2})
    r = daemon.request("PUT", f"/v1/therapists/{first}/colleagues",
                       body='[{"therapist_id": %d, "for": ["emdr"]}]' % colleague,
                       headers={"Content-Type": "application/json"})
    assert r.status in (200, 204), r.text
    wait_catalog(daemon, db)

    # Intake and matches.
    r = daemon.post("/v1/clients", json_body={
        "external_ref": "C-STORY", "population": "adult", "languages": ["en"],
        "concerns": [{"tag": "trauma", "priority": 3}]})
    assert r.status == 201, r.text
    client = r.json()["id"]
    m = daemon.get(f"/v1/clients/{client}/matches?limit=5")
    assert m.status == 200, m.text
    assert m.json()["matches"][0]["therapist_id"] == first
    assert m.json()["excluded"].get("language") == 1

    # The episode, then three poor sessions.
    r = start_episode(daemon, client, first)
    assert r.status == 201, r.text
    ep = r.json()["id"]
    statuses = []
    for s in (1, 2, 3):
        r = feedback(daemon, ep, poor(s), key=f"story-{s}")
        assert r.status == 200, r.text
        statuses.append((r.json()["status"], r.json()["action"]))
    # Early on: forming, but speak up about your needs.
    assert statuses[0] == ("forming", "discuss")
    assert statuses[2] == ("mismatch", "refer")
    a = daemon.get(f"/v1/episodes/{ep}/alliance").json()
    assert a["status"] == "mismatch" and a["action"] == "refer" and a["sessions"] == 3
    assert a["reasons"] and all(isinstance(x, str) and x for x in a["reasons"])
    assert any(e["session"] == 3 and "judged" in e["items"] for e in a["evidence"])

    # Referrals: the current therapist is not among them; each says why.
    r = daemon.post(f"/v1/episodes/{ep}/referrals?limit=3", json_body={})
    assert r.status == 200, r.text
    ref = r.json()
    ids = [s["therapist_id"] for s in ref["suggestions"]]
    # Without the exclusion Ana (the best match, with a free place) would lead.
    assert first not in ids
    assert set(ids) == {colleague, other}
    assert all(s["reasons"] for s in ref["suggestions"])
    by_id = {s["therapist_id"]: s for s in ref["suggestions"]}
    assert by_id[colleague]["colleague"] is True and by_id[other]["colleague"] is False
    # Ana as the current therapist (not for want of room) and Kai (language) are left out.
    assert ref["excluded"] == {"excluded": 1, "language": 1}, ref["excluded"]
    # Looking for something specific: EMDR.
    r = daemon.post(f"/v1/episodes/{ep}/referrals", json_body={"need": {"modalities": ["emdr"]}})
    assert r.status == 200 and r.json()["suggestions"][0]["therapist_id"] == colleague

    # The new episode with the colleague ends the old one as referred and frees its slot.
    r = start_episode(daemon, client, colleague, referred_from=ep)
    assert r.status == 201, r.text
    assert r.json()["referred_from"] == ep
    old = daemon.get(f"/v1/episodes/{ep}").json()
    assert old["status"] == "ended" and old["end_reason"] == "referred"
    assert count(db, "episodes", "therapist_id = %s AND status = 'active'", (first,)) == 0
    # Both of Ana's places are free again for others (the second only if the old
    # episode's place was given back).
    for ref_ in ("C-NEXT", "C-NEXT-2"):
        r = daemon.post("/v1/clients", json_body={"external_ref": ref_, "languages": ["en"]})
        assert start_episode(daemon, r.json()["id"], first).status == 201


def test_story_transference_stays_continue(daemon, db):
    # (b) Strong negative feelings, trust intact, ratings a little low: transference.
    ep, _, _ = new_episode(daemon, db)
    for s in range(1, 6):
        r = feedback(daemon, ep["id"], a5(s, heard=6, open=5, adapts=6, trust=9,
                                           looking_forward=5, negative_feelings=8))
        assert r.status == 200, r.text
        a = r.json()
        assert (a["status"], a["action"]) == ("transference", "continue"), a
    assert a["sessions"] == 5
    assert any("trust" in x for x in a["reasons"])
    # The same ratings without the trust: a mismatch, to show the difference is trust.
    ep2, _, _ = new_episode(daemon, db)
    for s in range(1, 4):
        r = feedback(daemon, ep2["id"], a5(s, heard=6, open=5, adapts=6, trust=4,
                                            looking_forward=5, negative_feelings=8))
    assert (r.json()["status"], r.json()["action"]) == ("mismatch", "refer")


def test_story_safety_flag_reviews_at_once(daemon, db):
    # (c) Unsafe at session 1: no waiting for 2-3 sessions.
    ep, _, _ = new_episode(daemon, db)
    r = feedback(daemon, ep["id"], a5(1, heard=9, open=9, adapts=9, trust=9,
                                       looking_forward=9, flags={"unsafe": True}))
    assert r.status == 200
    a = r.json()
    assert (a["status"], a["action"]) == ("unsafe", "review")
    assert a["evidence"][0]["session"] == 1 and "unsafe" in a["evidence"][0]["items"]
    # Good sessions later never hide it.
    r = feedback(daemon, ep["id"], a5(2, 10, 10, 10, 10, 10))
    assert r.json()["status"] == "unsafe"
    at = daemon.get("/v1/reports/at-risk").json()["episodes"]
    assert [(e["episode_id"], e["status"]) for e in at] == [(ep["id"], "unsafe")]


def test_story_two_no_shows_reach_out(daemon, db):
    # (d) Clients should not simply vanish: two no-shows in a row.
    ep, _, _ = new_episode(daemon, db)
    feedback(daemon, ep["id"], a5(1))
    assert attendance(daemon, ep["id"], 2, "no_show").json()["status"] == "forming"
    r = attendance(daemon, ep["id"], 3, "no_show")
    assert r.status == 200
    assert (r.json()["status"], r.json()["action"]) == ("disengaging", "reach_out")
    assert [e["session"] for e in r.json()["evidence"]] == [2, 3]
    # Coming back ends it.
    r = feedback(daemon, ep["id"], a5(4))
    assert r.json()["status"] != "disengaging"


def test_story_idempotent_retry(daemon, db):
    # (e) A retry stores once and answers the same; another body under the key is 409.
    ep, _, _ = new_episode(daemon, db)
    one = feedback(daemon, ep["id"], a5(1), key="abc-123")
    two = feedback(daemon, ep["id"], a5(1), key="abc-123")
    assert one.status == two.status == 200 and one.json() == two.json()
    assert count(db, "feedback") == 1
    before = snapshot(db)
    r = feedback(daemon, ep["id"], a5(1, trust=2), key="abc-123")
    assert r.status == 409
    assert snapshot(db) == before


def test_story_database_down_is_503(daemon, db, pg):
    # (f) While PostgreSQL is down: 503 with Retry-After, and nothing half-done after.
    ep, c, t = new_episode(daemon, db)
    pg.stop()
    try:
        for r in (feedback(daemon, ep["id"], a5(1), key="down-1"),
                  start_episode(daemon, c, t),
                  daemon.get(f"/v1/episodes/{ep['id']}"),
                  daemon.post(f"/v1/episodes/{ep['id']}/end", json_body={"reason": "other"}),
                  attendance(daemon, ep["id"], 1, "attended")):
            assert r.status == 503, r.text
            assert r.headers.get("Retry-After") == "1"     # README: `Retry-After: 1`
    finally:
        pg.start()
    conn = pg.connect()
    try:
        assert rows(conn, "SELECT count(*) FROM feedback") == [(0,)]
        assert rows(conn, "SELECT status FROM episodes") == [("active",)]
    finally:
        conn.close()

"""Matching: the stateless POST /v1/match and GET /v1/clients/{id}/matches."""

import json

from match_util import (add_therapists, client_rows, count_rows, error_fields, ids_of, intake,
                        match, therapist)


def test_specialist_ranks_first_with_reasons(daemon, db):
    spec, none, exp = add_therapists(
        daemon, db,
        therapist("T-spec", display_name="Ana Ruiz", concerns={"trauma": 2},
                  languages=["en", "es"], modalities=["emdr", "cbt"]),
        therapist("T-none", concerns={"grief": 2}),
        therapist("T-exp", concerns={"trauma": 1, "sleep": 2}))
    res = match(daemon, intake(concerns=[{"tag": "trauma", "priority": 3}],
                               languages=["es"],
                               modalities={"prefer": ["emdr"]}))
    # Only T-spec speaks es.
    assert ids_of(res) == [spec]
    assert res["excluded"] == {"language": 2}
    assert res["considered"] == 3

    res = match(daemon, intake(concerns=[{"tag": "trauma", "priority": 3},
                                         {"tag": "sleep", "priority": 1}]))
    assert ids_of(res) == [spec, exp, none]
    top = res["matches"][0]
    assert top["external_ref"] == "T-spec"
    assert top["display_name"] == "Ana Ruiz"
    assert "specialist in trauma" in top["reasons"]
    assert top["warnings"] == []
    assert "experienced with trauma" in res["matches"][1]["reasons"]
    assert "specialist in sleep" in res["matches"][1]["reasons"]
    # Components: only those the client expressed a preference on, plus capacity.
    assert set(top["components"]) == {"concerns", "capacity"}
    assert top["components"]["concerns"] == 0.75       # (3*2 + 1*0) / (2 * 4)
    assert top["components"]["capacity"] == 1.0
    assert res["matches"][2]["components"]["concerns"] == 0.0
    scores = [m["score"] for m in res["matches"]]
    assert scores == sorted(scores, reverse=True)
    for m in res["matches"]:
        assert 0 <= m["score"] <= 100
        assert round(m["score"], 1) == m["score"]
        assert all(0.0 <= v <= 1.0 for v in m["components"].values())
    assert res["excluded"] == {}
    assert "hint" not in res


def test_avoided_modality_gives_a_warning(daemon, db):
    psy, cbt = add_therapists(daemon, db,
                              therapist("T-psy", modalities=["psychodynamic", "emdr"]),
                              therapist("T-cbt", modalities=["cbt"]))
    res = match(daemon, intake(modalities={"prefer": ["emdr"], "avoid": ["psychodynamic"]}))
    by_id = {m["therapist_id"]: m for m in res["matches"]}
    assert by_id[psy]["warnings"] == ["offers psychodynamic, which you wanted to avoid"]
    assert by_id[psy]["components"]["modality"] == 0.0
    assert by_id[cbt]["warnings"] == []
    # Not a hard filter: both are still listed.
    assert set(by_id) == {psy, cbt}

    res = match(daemon, intake(modalities={"prefer": ["emdr"]}))
    assert ids_of(res)[0] == psy
    assert "offers EMDR" in res["matches"][0]["reasons"]


def test_excluded_counts_per_reason(daemon, db):
    base = {"modalities": ["emdr"]}
    ids = add_therapists(
        daemon, db,
        therapist("T-good", **base),
        therapist("T-full", capacity=0, **base),                          # not_accepting
        therapist("T-closed", accepting_new=False, **base),               # not_accepting
        therapist("T-fr", languages=["fr"], **base),                      # language
        therapist("T-phone", formats=["phone"], **base),                  # format
        therapist("T-teen", populations=["teen"], **base),                # population
        therapist("T-pricey", payers=["cigna"], self_pay_fee=200, **base),  # payment
        therapist("T-weekend", availability=[{"day": "sat", "from": "09:00", "to": "17:00"}],
                  **base),                                                # availability
        therapist("T-excl", **base),                                      # excluded
        therapist("T-cbt", modalities=["cbt"]),                           # required
        therapist("T-sliding", payers=["cigna"], self_pay_fee=200, sliding_scale=True,
                  **base))
    good, excl, sliding = ids[0], ids[8], ids[10]
    body = intake(formats=["video"],
                  availability=[{"day": "mon", "from": "09:00", "to": "12:00"}],
                  payment={"payer": "aetna", "self_pay_max": 120},
                  modalities={"prefer": ["emdr"], "required": True},
                  exclude_therapists=[excl])
    res = match(daemon, body, limit=20)
    assert sorted(ids_of(res)) == sorted([good, sliding])
    assert res["excluded"] == {"not_accepting": 2, "language": 1, "format": 1,
                               "population": 1, "payment": 1, "availability": 1,
                               "excluded": 1, "required": 1}
    assert res["considered"] == 11
    assert "3 h of shared availability" in res["matches"][0]["reasons"]


def test_why_nobody(daemon, db):
    add_therapists(daemon, db, therapist("T-1"), therapist("T-2", formats=["phone"]),
                   therapist("T-3"))
    res = match(daemon, intake(languages=["ja"], formats=["video"]))
    assert res["matches"] == []
    # Each therapist counts once, under the first filter it fails.
    assert res["excluded"] == {"language": 3}
    assert res["considered"] == 3
    assert "languages" in res["hint"]

    res = match(daemon, intake(formats=["phone"], gender={"prefer": ["male"],
                                                          "required": True}))
    assert res["matches"] == []
    assert res["excluded"] == {"format": 2, "required": 1}
    assert "format" in res["hint"]


def test_considered_and_limit(daemon, db):
    ids = add_therapists(daemon, db, *[therapist(f"T-{i}") for i in range(7)])
    res = match(daemon, intake())
    assert len(res["matches"]) == 5                 # engine.default_limit
    assert res["considered"] == 7
    res = match(daemon, intake(), limit=2)
    assert len(res["matches"]) == 2
    res = match(daemon, intake(), limit=50)
    assert sorted(ids_of(res)) == sorted(ids)
    # Identical therapists: ties break by therapist id.
    assert ids_of(res) == sorted(ids)
    for bad in ("0", "51", "two", ""):
        r = daemon.post(f"/v1/match?limit={bad}", json_body=intake())
        assert r.status == 422, (bad, r.text)
        assert error_fields(r) == ["limit"]


def test_stateless_match_stores_nothing(daemon, db):
    add_therapists(daemon, db, therapist("T-1"))
    before = count_rows(db, "clients")
    res = match(daemon, intake("C-stateless", concerns=[{"tag": "anxiety", "priority": 2}]))
    assert len(res["matches"]) == 1
    assert count_rows(db, "clients") == before == 0
    # The empty intake is valid: no preferences at all.
    assert len(match(daemon, {})["matches"]) == 1


def test_bad_inputs(daemon, db):
    add_therapists(daemon, db, therapist("T-1"))
    r = daemon.post("/v1/match", json_body={"concerns": [{"tag": "trauma", "priority": 0}],
                                            "modalities": {"prefer": ["emdr"], "avoid": "cbt"},
                                            "style": {"challenge": 9, "warmth": 1},
                                            "availability": [{"day": "mon", "from": "09:00"}],
                                            "languages": ["english"]})
    assert r.status == 422
    assert sorted(error_fields(r)) == sorted([
        "concerns[0].priority", "modalities.avoid", "style.challenge", "style.warmth",
        "availability[0].to", "languages[0]"])
    r = daemon.post("/v1/match", json_body={"concerns": [{"tag": "sadness", "priority": 1}]})
    assert r.status == 422
    err = r.json()["errors"][0]
    assert err["field"] == "concerns[0].tag"
    assert "allowed:" in err["message"] and "anxiety" in err["message"]
    r = daemon.post("/v1/match", json_body=[1])
    assert r.status == 422
    assert error_fields(r) == [""]
    r = daemon.post("/v1/match", body=b'{"languages": ["en"]')
    assert r.status == 400
    r = daemon.post("/v1/match", body=b'{}', content_type="text/plain")
    assert r.status == 415
    r = daemon.post("/v1/match", body=b'{}', content_type=None)
    assert r.status == 415
    assert count_rows(db, "clients") == 0


def _ended_episode(db, client_id, therapist_id, reason):
    with db.cursor() as cur:
        cur.execute("INSERT INTO episodes (client_id, therapist_id, status, started_at,"
                    " ended_at, end_reason) VALUES (%s, %s, 'ended', now() - interval '1 day',"
                    " now(), %s) RETURNING id", (client_id, therapist_id, reason))
        return cur.fetchone()[0]


def test_stored_client_matches_exclude_earlier_mismatches(daemon, db):
    a, b, c = add_therapists(daemon, db,
                             therapist("T-a", concerns={"trauma": 2}),
                             therapist("T-b", concerns={"trauma": 1}),
                             therapist("T-c"))
    r = daemon.post("/v1/clients", json_body=intake("C-1", concerns=[{"tag": "trauma",
                                                                      "priority": 3}]))
    assert r.status == 201, r.text
    cid = r.json()["id"]

    r = daemon.get(f"/v1/clients/{cid}/matches")
    assert r.status == 200, r.text
    res = r.json()
    assert ids_of(res) == [a, b, c]
    assert "specialist in trauma" in res["matches"][0]["reasons"]

    # An episode with a that ended as a mismatch, one with b that ended well.
    _ended_episode(db, cid, a, "mismatch")
    _ended_episode(db, cid, b, "completed")
    r = daemon.get(f"/v1/clients/{cid}/matches?limit=1")
    assert r.status == 200, r.text
    res = r.json()
    assert ids_of(res) == [b]
    assert res["excluded"] == {"excluded": 1}
    assert res["considered"] == 3

    # The client's own exclusions add to the mismatches.
    r = daemon.post("/v1/clients", json_body=intake("C-1", exclude_therapists=[c]))
    assert r.status == 200
    res = daemon.get(f"/v1/clients/{cid}/matches").json()
    assert ids_of(res) == [b]
    assert res["excluded"] == {"excluded": 2}

    # Another client is not affected by C-1's history.
    r = daemon.post("/v1/clients", json_body=intake("C-2"))
    res = daemon.get(f"/v1/clients/{r.json()['id']}/matches").json()
    assert sorted(ids_of(res)) == sorted([a, b, c])


def test_stored_client_matches_bad_inputs(daemon, db):
    add_therapists(daemon, db, therapist("T-1"))
    r = daemon.get("/v1/clients/424242/matches")
    assert r.status == 404
    assert r.content_type == "application/problem+json"
    r = daemon.post("/v1/clients", json_body=intake("C-1"))
    cid = r.json()["id"]
    before = client_rows(db)
    r = daemon.get(f"/v1/clients/{cid}/matches?limit=-3")
    assert r.status == 422
    assert error_fields(r) == ["limit"]
    r = daemon.get(f"/v1/clients/{cid}/matches?limit=1", body=b"{}",
                   headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert client_rows(db) == before
    r = daemon.get(f"/v1/clients/{cid}/matches?limit=1")
    assert r.status == 200
    assert json.loads(before[0][2]) == {"population": "adult", "languages": ["en"]}


def test_sites_restrict_in_person_sessions_only(daemon, db):
    down, up = add_therapists(daemon, db, therapist("T-down", sites=["downtown"]),
                              therapist("T-up", sites=["uptown"], formats=["in_person"]))
    res = match(daemon, intake(formats=["in_person"], sites=["uptown"]))
    assert ids_of(res) == [up]
    assert res["excluded"] == {"format": 1}
    # Video sessions are not tied to a site: T-down still fits by video.
    res = match(daemon, intake(formats=["in_person", "video"], sites=["uptown"]))
    assert sorted(ids_of(res)) == sorted([down, up])
    assert res["excluded"] == {}


def test_stateless_match_needs_no_database(daemon, db, pg):
    (tid,) = add_therapists(daemon, db, therapist("T-1", concerns={"trauma": 2}))
    r = daemon.post("/v1/clients", json_body=intake("C-1"))
    cid = r.json()["id"]
    db.close()
    pg.stop()
    # The catalog is in memory: matching goes on while PostgreSQL is down.
    res = match(daemon, intake(concerns=[{"tag": "trauma", "priority": 2}]))
    assert ids_of(res) == [tid]
    assert "specialist in trauma" in res["matches"][0]["reasons"]
    # A stored client needs the database.
    for r in (daemon.get(f"/v1/clients/{cid}/matches"), daemon.get(f"/v1/clients/{cid}"),
              daemon.post("/v1/clients", json_body=intake("C-2"))):
        assert r.status == 503, r.text
        assert r.headers.get("Retry-After") == "1"     # README: `Retry-After: 1`

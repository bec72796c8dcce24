"""Therapist routes: create, list with paging, show, replace, change, retire,
colleagues.  Every bad input is refused with the bad field named, and changes
nothing in the database."""

import pytest

from therapist_util import (ANA, count, create, field_names, insert_client, insert_episode,
                            rows, same_as_sent, send, snapshot, therapist, wait_catalog_ready)


@pytest.fixture(autouse=True)
def _database_up(daemon):
    """/healthz answers before the pool has connected: wait for the first catalog
    load, which also means the database is reachable."""
    wait_catalog_ready(daemon)


# --------------------------------------------------------------------------
# create

def test_create_answers_201_with_the_stored_object(daemon, db):
    r = daemon.post("/v1/therapists", json_body=ANA)
    assert r.status == 201, r
    t = r.json()
    assert isinstance(t["id"], int) and t["id"] >= 1
    assert same_as_sent(t, ANA), t
    # Committed before the answer: the row and its concerns are there now.
    assert rows(db, "SELECT external_ref, display_name, capacity, active FROM therapists") == \
        [("T-1001", "Ana Ruiz", 25, True)]
    assert rows(db, "SELECT concern, level FROM therapist_concerns ORDER BY 1") == \
        [("anxiety", 1), ("trauma", 2)]
    g = daemon.get(f"/v1/therapists/{t['id']}")
    assert g.status == 200 and g.json() == t


def test_create_minimal_takes_defaults(daemon, db):
    t = create(daemon, "T-2", **{k: None for k in ANA if k not in ("external_ref",
                                                                   "display_name")})
    assert same_as_sent(t, {"external_ref": "T-2", "display_name": "Ana Ruiz"}), t
    assert "gender" not in t and "self_pay_fee" not in t
    assert t["capacity"] == 25 and t["accepting_new"] is True and t["active"] is True


def test_availability_round_trips_as_runs(daemon):
    slots = [{"day": "mon", "from": "09:00", "to": "12:00"},
             {"day": "mon", "from": "14:00", "to": "15:00"},
             {"day": "sun", "from": "22:00", "to": "24:00"},
             {"day": "tue", "from": "00:00", "to": "02:00"}]
    t = create(daemon, availability=slots)
    assert t["availability"] == [slots[0], slots[1], slots[3], slots[2]]


BAD_CREATES = [
    ({k: v for k, v in ANA.items() if k != "display_name"}, ["display_name"]),
    (dict(ANA, colour="blue"), ["colour"]),
    (dict(ANA, concerns={"trauma": 2, "bogus": 1}), ["concerns.bogus"]),
    (dict(ANA, modalities=["emdr", "reiki"]), ["modalities[1]"]),
    (dict(ANA, availability=[{"day": "mon", "from": "09:00", "to": "10:00"},
                             {"day": "tue", "from": "12:00", "to": "11:00"}]),
     ["availability[1].to"]),
    (dict(ANA, style={"directiveness": 5}), ["style.directiveness"]),
    (dict(ANA, style={"warmth": 1}), ["style.warmth"]),
    (dict(ANA, capacity=10001, self_pay_fee=-1), ["self_pay_fee", "capacity"]),
    (dict(ANA, languages=["EN"]), ["languages[0]"]),
    (dict(ANA, external_ref="x" * 129), ["external_ref"]),
    ([ANA], [""]),
]


@pytest.mark.parametrize("body,fields", BAD_CREATES)
def test_create_refuses_bad_fields_and_changes_nothing(daemon, db, body, fields):
    create(daemon, "T-0")
    before = snapshot(db)
    r = daemon.post("/v1/therapists", json_body=body)
    assert r.status == 422, r
    assert r.content_type == "application/problem+json"
    assert sorted(field_names(r)) == sorted(fields), r.json()
    assert snapshot(db) == before


def test_create_unknown_tag_lists_the_allowed_values(daemon, db):
    r = daemon.post("/v1/therapists", json_body=dict(ANA, formats=["hologram"]))
    assert r.status == 422
    msg = r.json()["errors"][0]["message"]
    assert "hologram" in msg and "in_person" in msg and "phone" in msg
    assert count(db, "therapists") == 0


def test_create_malformed_or_wrong_type_changes_nothing(daemon, db):
    r = daemon.post("/v1/therapists", body=b'{"external_ref": "T-1",')
    assert r.status == 400, r
    r = daemon.post("/v1/therapists", body=b'{"external_ref": "T-1"}', content_type="text/plain")
    assert r.status == 415, r
    assert count(db, "therapists") == 0


def test_create_duplicate_external_ref_is_409(daemon, db):
    create(daemon, "T-1")
    before = snapshot(db)
    r = daemon.post("/v1/therapists", json_body=therapist("T-1", display_name="Other"))
    assert r.status == 409, r
    assert field_names(r) == ["external_ref"]
    assert snapshot(db) == before


# --------------------------------------------------------------------------
# show and list

def test_get_unknown_is_404(daemon):
    assert daemon.get("/v1/therapists/999").status == 404
    assert daemon.get("/v1/therapists/abc").status == 404


def test_list_pages_through_everything_with_after_and_next(daemon, db):
    ids = [create(daemon, f"T-{i}")["id"] for i in range(7)]
    seen, after, pages = [], None, 0
    while True:
        path = "/v1/therapists?limit=3" + (f"&after={after}" if after else "")
        r = daemon.get(path)
        assert r.status == 200, r
        page = r.json()
        assert len(page["therapists"]) <= 3
        seen += [t["id"] for t in page["therapists"]]
        pages += 1
        after = page["next"]
        if after is None:
            break
        assert isinstance(after, str)
    assert seen == ids and pages == 3
    # Objects in the list are the stored objects.
    full = daemon.get("/v1/therapists").json()
    assert full["next"] is None and len(full["therapists"]) == 7
    assert full["therapists"][0] == daemon.get(f"/v1/therapists/{ids[0]}").json()


def test_list_exact_page_has_no_next(daemon):
    for i in range(3):
        create(daemon, f"T-{i}")
    r = daemon.get("/v1/therapists?limit=3").json()
    assert len(r["therapists"]) == 3 and r["next"] is None


def test_list_filters_on_active(daemon):
    a = create(daemon, "T-a")["id"]
    b = create(daemon, "T-b")["id"]
    assert daemon.request("DELETE", f"/v1/therapists/{a}").status == 200
    act = daemon.get("/v1/therapists?active=true").json()["therapists"]
    ret = daemon.get("/v1/therapists?active=false").json()["therapists"]
    assert [t["id"] for t in act] == [b]
    assert [t["id"] for t in ret] == [a]


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"),
    ("active=maybe", "active"), ("after=xyz", "after"), ("after=-3", "after"),
])
def test_list_refuses_bad_query(daemon, query, field):
    r = daemon.get("/v1/therapists?" + query)
    assert r.status == 422, r
    assert field_names(r) == [field]


# --------------------------------------------------------------------------
# replace (PUT)

def test_put_replaces_the_whole_profile(daemon, db):
    t = create(daemon)
    body = {"external_ref": "T-1001", "display_name": "Ana R.", "concerns": {"grief": 1},
            "capacity": 5}
    r = send(daemon, "PUT", f"/v1/therapists/{t['id']}", body)
    assert r.status == 200, r
    got = r.json()
    assert got["id"] == t["id"]
    assert same_as_sent(got, body), got
    assert "gender" not in got and got["languages"] == [] and got["availability"] == []
    assert rows(db, "SELECT concern, level FROM therapist_concerns") == [("grief", 1)]
    assert daemon.get(f"/v1/therapists/{t['id']}").json() == got


def test_get_edit_put_round_trip(daemon, db):
    """The README's way to edit a profile: GET it, change it, PUT it back whole
    (the GET answer carries "id", which must match the path)."""
    t = create(daemon)
    got = daemon.get(f"/v1/therapists/{t['id']}").json()
    got["display_name"] = "Ana R."
    r = send(daemon, "PUT", f"/v1/therapists/{t['id']}", got)
    assert r.status == 200, r
    assert r.json() == got
    other = create(daemon, "T-2")
    before = snapshot(db)
    got["id"] = other["id"]
    r = send(daemon, "PUT", f"/v1/therapists/{t['id']}", got)
    assert r.status == 422 and field_names(r) == ["id"], r
    r = send(daemon, "PATCH", f"/v1/therapists/{t['id']}", {"id": "x", "capacity": 3})
    assert r.status == 422 and field_names(r) == ["id"], r
    assert snapshot(db) == before


def test_put_bad_inputs_change_nothing(daemon, db):
    t = create(daemon, "T-1")
    create(daemon, "T-2")
    before = snapshot(db)
    r = send(daemon, "PUT", f"/v1/therapists/{t['id']}", {"display_name": "X"})
    assert r.status == 422 and field_names(r) == ["external_ref"]
    r = send(daemon, "PUT", f"/v1/therapists/{t['id']}",
             therapist("T-1", concerns={"trauma": 3}))
    assert r.status == 422 and field_names(r) == ["concerns.trauma"]
    r = send(daemon, "PUT", f"/v1/therapists/{t['id']}", therapist("T-2"))
    assert r.status == 409, r
    r = send(daemon, "PUT", "/v1/therapists/999", therapist("T-9"))
    assert r.status == 404, r
    assert snapshot(db) == before


# --------------------------------------------------------------------------
# change (PATCH)

def test_patch_changes_only_the_given_fields(daemon, db):
    t = create(daemon)
    r = send(daemon, "PATCH", f"/v1/therapists/{t['id']}",
             {"capacity": 3, "concerns": {"trauma": 1, "grief": 2}})
    assert r.status == 200, r
    got = r.json()
    want = dict(t, capacity=3, concerns={"trauma": 1, "grief": 2})
    assert got == want
    assert rows(db, "SELECT concern, level FROM therapist_concerns ORDER BY 1") == \
        [("grief", 2), ("trauma", 1)]
    assert daemon.get(f"/v1/therapists/{t['id']}").json() == want


def test_patch_null_clears_an_optional_field(daemon, db):
    t = create(daemon)
    r = send(daemon, "PATCH", f"/v1/therapists/{t['id']}",
             {"gender": None, "self_pay_fee": None, "languages": None, "style": None,
              "availability": None})
    assert r.status == 200, r
    got = r.json()
    assert "gender" not in got and "self_pay_fee" not in got
    assert got["languages"] == [] and got["style"] == {} and got["availability"] == []
    assert got["concerns"] == t["concerns"] and got["modalities"] == t["modalities"]
    assert rows(db, "SELECT gender, self_pay_fee, style_directiveness, "
                    "position('1' in availability::text) FROM therapists") == \
        [(None, None, None, 0)]


def test_patch_bad_inputs_change_nothing(daemon, db):
    t = create(daemon, "T-1")
    create(daemon, "T-2")
    before = snapshot(db)
    path = f"/v1/therapists/{t['id']}"
    r = send(daemon, "PATCH", path, {})
    assert r.status == 422, r
    r = send(daemon, "PATCH", path, {"capacity": "ten", "identity": ["jedi"]})
    assert r.status == 422 and sorted(field_names(r)) == ["capacity", "identity[0]"]
    r = send(daemon, "PATCH", path, {"external_ref": None})
    assert r.status == 422 and field_names(r) == ["external_ref"]
    r = send(daemon, "PATCH", path, {"external_ref": "T-2"})
    assert r.status == 409, r
    r = send(daemon, "PATCH", "/v1/therapists/999", {"capacity": 1})
    assert r.status == 404, r
    assert snapshot(db) == before


# --------------------------------------------------------------------------
# retire (DELETE)

def test_retire_keeps_history_and_is_idempotent(daemon, db):
    t = create(daemon)
    c = insert_client(db)
    e = insert_episode(db, c, t["id"])
    r = daemon.request("DELETE", f"/v1/therapists/{t['id']}")
    assert r.status == 200, r
    got = r.json()
    assert got == dict(t, active=False)
    (active, retired_at), = rows(db, "SELECT active, retired_at FROM therapists")
    assert active is False and retired_at is not None
    # History stays: the row, its concerns and its episodes.
    assert count(db, "therapist_concerns") == 2
    assert rows(db, "SELECT id, therapist_id FROM episodes") == [(e, t["id"])]
    again = daemon.request("DELETE", f"/v1/therapists/{t['id']}")
    assert again.status == 200 and again.json() == got
    assert rows(db, "SELECT retired_at FROM therapists") == [(retired_at,)]
    assert daemon.get(f"/v1/therapists/{t['id']}").json()["active"] is False


def test_retire_unknown_is_404(daemon, db):
    create(daemon)
    before = snapshot(db)
    assert daemon.request("DELETE", "/v1/therapists/999").status == 404
    assert daemon.request("DELETE", "/v1/therapists/0").status == 404
    assert snapshot(db) == before


def test_reactivating_clears_retired_at(daemon, db):
    t = create(daemon)
    daemon.request("DELETE", f"/v1/therapists/{t['id']}")
    r = send(daemon, "PATCH", f"/v1/therapists/{t['id']}", {"active": True})
    assert r.status == 200 and r.json()["active"] is True
    assert rows(db, "SELECT active, retired_at FROM therapists") == [(True, None)]


# --------------------------------------------------------------------------
# colleagues

def test_colleagues_replace_and_show(daemon, db):
    a, b, c = (create(daemon, f"T-{i}")["id"] for i in "abc")
    path = f"/v1/therapists/{a}/colleagues"
    assert daemon.get(path).json() == []
    r = send(daemon, "PUT", path, [{"therapist_id": c, "for": ["trauma", "emdr"]},
                                   {"therapist_id": b}])
    assert r.status == 200, r
    want = [{"therapist_id": b, "for": []}, {"therapist_id": c, "for": ["trauma", "emdr"]}]
    assert r.json() == want
    assert daemon.get(path).json() == want
    assert rows(db, "SELECT therapist_id, colleague_id, for_tags FROM colleagues ORDER BY 2") == \
        [(a, b, []), (a, c, ["trauma", "emdr"])]
    # Replaces the set: b goes, c's tags change.
    r = send(daemon, "PUT", path, [{"therapist_id": c, "for": ["grief"]}])
    assert r.status == 200 and r.json() == [{"therapist_id": c, "for": ["grief"]}]
    assert rows(db, "SELECT colleague_id, for_tags FROM colleagues") == [(c, ["grief"])]
    assert send(daemon, "PUT", path, []).json() == []
    assert count(db, "colleagues") == 0


def test_colleagues_bad_inputs_change_nothing(daemon, db):
    a, b = (create(daemon, f"T-{i}")["id"] for i in "ab")
    path = f"/v1/therapists/{a}/colleagues"
    assert send(daemon, "PUT", path, [{"therapist_id": b, "for": ["emdr"]}]).status == 200
    before = snapshot(db)

    r = send(daemon, "PUT", path, [{"therapist_id": b}, {"therapist_id": 999}])
    assert r.status == 422 and field_names(r) == ["[1].therapist_id"], r.json()
    r = send(daemon, "PUT", path, [{"therapist_id": a}])
    assert r.status == 422 and field_names(r) == ["[0].therapist_id"]
    r = send(daemon, "PUT", path, [{"therapist_id": b, "for": ["emdr", "reiki"]}])
    assert r.status == 422 and field_names(r) == ["[0].for[1]"]
    msg = r.json()["errors"][0]["message"]
    assert "reiki" in msg and "trauma" in msg and "emdr" in msg
    r = send(daemon, "PUT", path, [{"therapist_id": b}, {"therapist_id": b}])
    assert r.status == 422 and field_names(r) == ["[1].therapist_id"]
    r = send(daemon, "PUT", path, [{"therapist_id": b, "trust": 1}])
    assert r.status == 422 and field_names(r) == ["[0].trust"]
    r = send(daemon, "PUT", path, {"therapist_id": b})
    assert r.status == 422 and field_names(r) == [""]
    r = send(daemon, "PUT", "/v1/therapists/999/colleagues", [{"therapist_id": b}])
    assert r.status == 404
    assert snapshot(db) == before


def test_colleagues_of_unknown_therapist_is_404(daemon):
    assert daemon.get("/v1/therapists/999/colleagues").status == 404
    assert daemon.get("/v1/therapists/0/colleagues").status == 404


# --------------------------------------------------------------------------
# the database down

def test_503_while_the_database_is_down(daemon, db, pg):
    t = create(daemon)
    pg.stop()
    try:
        for method, path, body in (("GET", "/v1/therapists", None),
                                   ("GET", f"/v1/therapists/{t['id']}", None),
                                   ("POST", "/v1/therapists", therapist("T-2")),
                                   ("PATCH", f"/v1/therapists/{t['id']}", {"capacity": 2})):
            r = send(daemon, method, path, body)
            assert r.status == 503, (method, path, r)
            assert r.headers.get("Retry-After") == "1"     # README: `Retry-After: 1`
    finally:
        pg.start()

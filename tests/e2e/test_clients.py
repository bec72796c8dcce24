"""Clients: intake upsert by external_ref (POST /v1/clients) and GET /v1/clients/{id}."""

import json

import pytest

from episode_util import add_therapist
from match_util import client_rows, error_fields

FULL = {
    "external_ref": "C-88231", "population": "adult", "languages": ["es"],
    "concerns": [{"tag": "trauma", "priority": 3}, {"tag": "sleep", "priority": 1}],
    "modalities": {"prefer": ["emdr"], "avoid": ["psychodynamic"], "required": False},
    "formats": ["video"], "sites": [],
    "gender": {"prefer": ["female"], "required": False},
    "identity": {"prefer": ["lgbtq_affirming"], "required": False},
    "style": {"directiveness": 2, "challenge": -1},
    "availability": [{"day": "tue", "from": "17:00", "to": "20:00"}], "wanted_hours": 2,
    "payment": {"payer": "aetna", "self_pay_max": 120}, "exclude_therapists": [1],
}


@pytest.fixture(autouse=True)
def therapist_1(db):
    """The therapist FULL excludes (ids restart at 1): an exclusion must name one that
    exists.  Made before the daemon starts, so its catalog holds it."""
    assert add_therapist(db) == 1


def test_create_then_upsert_keeps_the_id(daemon, db):
    r = daemon.post("/v1/clients", json_body=FULL)
    assert r.status == 201, r.text
    assert r.content_type == "application/json"
    created = r.json()
    cid = created["id"]
    assert isinstance(cid, int) and cid > 0
    assert created == {"id": cid, **FULL}

    # Stored: only the reference and the preferences (no external_ref inside them).
    rows = client_rows(db)
    assert len(rows) == 1
    assert rows[0][0] == cid and rows[0][1] == "C-88231"
    prefs = json.loads(rows[0][2])
    assert "external_ref" not in prefs
    assert prefs["concerns"] == FULL["concerns"]

    # The same external_ref again: 200, same id, preferences replaced.
    changed = dict(FULL, languages=["en"], wanted_hours=3)
    del changed["payment"]
    r = daemon.post("/v1/clients", json_body=changed)
    assert r.status == 200, r.text
    assert r.json() == {"id": cid, **changed}
    rows = client_rows(db)
    assert len(rows) == 1
    assert json.loads(rows[0][2]).get("payment") is None
    assert json.loads(rows[0][2])["languages"] == ["en"]

    # GET answers what is stored.
    r = daemon.get(f"/v1/clients/{cid}")
    assert r.status == 200, r.text
    assert r.json() == {"id": cid, **changed}

    # Another external_ref is another client.
    r = daemon.post("/v1/clients", json_body={"external_ref": "C-2"})
    assert r.status == 201, r.text
    assert r.json() == {"id": r.json()["id"], "external_ref": "C-2"}
    assert r.json()["id"] != cid
    assert len(client_rows(db)) == 2


def test_nulls_are_not_stored(daemon, db):
    r = daemon.post("/v1/clients", json_body={"external_ref": "C-n", "population": None,
                                              "modalities": {"prefer": ["cbt"],
                                                             "required": None}})
    assert r.status == 201, r.text
    assert r.json() == {"id": r.json()["id"], "external_ref": "C-n",
                        "modalities": {"prefer": ["cbt"]}}
    assert json.loads(client_rows(db)[0][2]) == {"modalities": {"prefer": ["cbt"]}}


def test_get_unknown_client_is_404(daemon, db):
    r = daemon.get("/v1/clients/999999")
    assert r.status == 404
    assert r.content_type == "application/problem+json"
    assert r.json()["status"] == 404


def test_invalid_intake_is_422_and_changes_nothing(daemon, db):
    r = daemon.post("/v1/clients", json_body=FULL)
    assert r.status == 201
    before = client_rows(db)

    # An update of the existing client with bad fields: every field named.
    bad = dict(FULL, languages=["spanish"],
               concerns=[{"tag": "trauma", "priority": 3}, {"tag": "sleep", "priority": 5}],
               modalities={"prefer": ["emdrx"]}, style={"challenge": -4},
               availability=[{"day": "tue", "from": "17:30", "to": "20:00"}])
    r = daemon.post("/v1/clients", json_body=bad)
    assert r.status == 422, r.text
    fields = error_fields(r)
    for f in ("languages[0]", "concerns[1].priority", "modalities.prefer[0]",
              "style.challenge", "availability[0].from"):
        assert f in fields, (f, r.json())
    msg = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "allowed:" in msg["modalities.prefer[0]"] and "emdr" in msg["modalities.prefer[0]"]
    assert client_rows(db) == before

    # Unknown fields (a name and free-text notes are not stored: refused).
    r = daemon.post("/v1/clients", json_body=dict(FULL, name="Jane Doe", notes="x",
                                                  payment={"payer": "aetna", "copay": 20}))
    assert r.status == 422
    assert sorted(error_fields(r)) == ["name", "notes", "payment.copay"]
    assert client_rows(db) == before

    # external_ref is required for a stored client.
    r = daemon.post("/v1/clients", json_body={"population": "adult"})
    assert r.status == 422
    assert error_fields(r) == ["external_ref"]
    r = daemon.post("/v1/clients", json_body={"external_ref": "x" * 129})
    assert r.status == 422
    assert error_fields(r) == ["external_ref"]
    # Not an object.
    r = daemon.post("/v1/clients", json_body=["C-1"])
    assert r.status == 422
    assert error_fields(r) == [""]
    assert client_rows(db) == before


def test_malformed_and_wrong_type_change_nothing(daemon, db):
    r = daemon.post("/v1/clients", body=b'{"external_ref": "C-1", ')
    assert r.status == 400
    r = daemon.post("/v1/clients", body=json.dumps({"external_ref": "C-1"}).encode(),
                    content_type="text/plain")
    assert r.status == 415
    assert client_rows(db) == []

"""Bad input never slips through (issue 11): an error cut to fit a message is
still an error, the stored intake holds only the intake's fields, a body of
the wrong JSON shape is a 422 naming the shape, and a NUL in a string is
refused with a message that says so."""

import json

import pytest

from episode_util import a5, new_episode
from match_util import client_rows, error_fields
from therapist_util import wait_catalog_ready


@pytest.fixture(autouse=True)
def _database_up(daemon):
    wait_catalog_ready(daemon)


def post_raw(daemon, path, text):
    return daemon.post(path, body=text.encode())


def test_an_unknown_tag_cut_in_its_message_is_still_refused(daemon, db):
    # The tag is cut at 48 bytes for the message, in the middle of the "é".
    body = {"external_ref": "C-1",
            "modalities": {"avoid": ["psychodynamic", "a" * 47 + "é"]}}
    r = daemon.post("/v1/clients", json_body=body)
    assert r.status == 422, r.text
    assert error_fields(r) == ["modalities.avoid[1]"]
    msg = r.json()["errors"][0]["message"]
    assert msg.startswith('unknown modalities tag "' + "a" * 47 + '"')
    assert client_rows(db) == []


def test_an_unknown_field_cut_in_its_path_is_still_refused(daemon, db):
    # 254 "a" then "é": the 256-byte path ends in the middle of the "é".
    key = "a" * 254 + "é"
    r = daemon.post("/v1/clients", json_body={"external_ref": "C-1", key: "Jane Doe"})
    assert r.status == 422, r.text
    fields = error_fields(r)
    assert len(fields) == 1 and fields[0].startswith("a" * 200), fields
    assert client_rows(db) == []
    # Nested too: the path is longer still.
    r = daemon.post("/v1/clients", json_body={"external_ref": "C-1",
                                              "payment": {key: "notes"}})
    assert r.status == 422, r.text
    assert client_rows(db) == []


def test_feedback_with_an_item_cut_in_its_path_is_refused(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    body = a5(1, heard=8, open=7, adapts=8, trust=9, looking_forward=6)
    body["items"]["a" * 88 + "é"] = 1
    r = daemon.post(f"/v1/episodes/{ep['id']}/feedback", json_body=body)
    assert r.status == 422, r.text
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback WHERE episode_id = %s", (ep["id"],))
        assert cur.fetchone()[0] == 0


WRONG_SHAPES = ["42", '"x"', "null", "[]", "true", "1.5"]
OBJECT_ROUTES = ["/v1/clients", "/v1/match", "/v1/therapists", "/v1/episodes"]


@pytest.mark.parametrize("text", WRONG_SHAPES)
@pytest.mark.parametrize("path", OBJECT_ROUTES)
def test_a_body_that_is_not_an_object_is_422(daemon, db, path, text):
    r = post_raw(daemon, path, text)
    assert r.status == 422, (path, text, r.status, r.text)
    assert r.content_type == "application/problem+json"
    p = r.json()
    assert p["title"] == "the body must be a JSON object" or \
        p.get("detail") == "the body must be a JSON object", p
    assert error_fields(r) == [""]
    assert client_rows(db) == []


def test_an_array_route_still_takes_its_array_and_refuses_an_object(daemon, db):
    r = daemon.post("/v1/therapists", json_body={"external_ref": "T-1",
                                                 "display_name": "T One"})
    assert r.status == 201, r.text
    tid = r.json()["id"]
    r = daemon.request("PUT", f"/v1/therapists/{tid}/colleagues", body=b"[]",
                       headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text
    r = daemon.request("PUT", f"/v1/therapists/{tid}/colleagues", body=b"{}",
                       headers={"Content-Type": "application/json"})
    assert r.status == 422, r.text
    assert "array" in r.text


def test_a_nul_in_a_string_is_refused_with_a_reason(daemon, db):
    r = post_raw(daemon, "/v1/clients", '{"external_ref": "C-\\u0000"}')
    assert r.status == 400, r.text
    assert r.content_type == "application/problem+json"
    text = json.dumps(r.json())
    assert "\\\\u0000" in text and "syntax error" not in text, text
    assert "NUL" in text, text
    assert client_rows(db) == []


def test_the_stored_intake_is_the_validated_fields(daemon, db):
    body = {"external_ref": "C-9", "population": "adult",
            "payment": {"payer": "aetna", "self_pay_max": 120}, "wanted_hours": None}
    r = daemon.post("/v1/clients", json_body=body)
    assert r.status == 201, r.text
    prefs = json.loads(client_rows(db)[0][2])
    assert prefs == {"population": "adult", "payment": {"payer": "aetna", "self_pay_max": 120}}


def test_a_colleague_tag_cut_in_its_message_is_refused_by_name(daemon, db):
    ids = []
    for ref in ("T-1", "T-2"):
        r = daemon.post("/v1/therapists", json_body={"external_ref": ref, "display_name": ref})
        assert r.status == 201, r.text
        ids.append(r.json()["id"])
    body = json.dumps([{"therapist_id": ids[1], "for": ["a" * 47 + "é"]}]).encode()
    r = daemon.request("PUT", f"/v1/therapists/{ids[0]}/colleagues", body=body,
                       headers={"Content-Type": "application/json"})
    assert r.status == 422, r.text
    assert error_fields(r) == ["[0].for[0]"], r.json()
    assert r.json()["errors"][0]["message"].startswith('unknown tag "' + "a" * 47 + '"')
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM colleagues")
        assert cur.fetchone()[0] == 0

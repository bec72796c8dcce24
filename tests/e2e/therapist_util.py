"""Builders and helpers for the therapist and catalog e2e tests."""

import copy
import json
import re

from conftest import wait_until

ANA = {
    "external_ref": "T-1001", "display_name": "Ana Ruiz", "gender": "female",
    "languages": ["en", "es"], "concerns": {"trauma": 2, "anxiety": 1},
    "modalities": ["emdr", "cbt"], "formats": ["video", "in_person"], "sites": ["downtown"],
    "populations": ["adult"], "identity": ["lgbtq_affirming"],
    "style": {"directiveness": 1, "emotional_intensity": 0, "past_orientation": -1,
              "challenge": 0},
    "availability": [{"day": "mon", "from": "09:00", "to": "13:00"}],
    "payers": ["aetna"], "self_pay_fee": 150, "sliding_scale": True,
    "capacity": 25, "accepting_new": True, "active": True,
}

# What a field left out of a PUT/POST becomes.
DEFAULTS = {
    "languages": [], "concerns": {}, "modalities": [], "formats": [], "sites": [],
    "populations": [], "identity": [], "style": {}, "availability": [], "payers": [],
    "sliding_scale": False, "capacity": 25, "accepting_new": True, "active": True,
}

JSON_HEADERS = {"Content-Type": "application/json"}


def therapist(ref="T-1001", **over):
    """A full valid therapist object (Ana's), with REF and overrides."""
    t = copy.deepcopy(ANA)
    t["external_ref"] = ref
    t.update(over)
    return t


def send(d, method, path, obj=None, raw=None):
    body = raw if raw is not None else (json.dumps(obj) if obj is not None else None)
    return d.request(method, path, body=body,
                     headers=JSON_HEADERS if body is not None else None)


def create(d, ref="T-1001", **over):
    """POST a therapist; asserts 201 and returns the stored object."""
    r = d.post("/v1/therapists", json_body=therapist(ref, **over))
    assert r.status == 201, r
    return r.json()


def same_as_sent(stored, sent):
    """The stored object equals what was sent (plus id and defaults)."""
    want = dict(DEFAULTS)
    want.update(sent)
    got = {k: v for k, v in stored.items() if k != "id"}
    return got == want


def field_names(resp):
    """The `field`s of a 422 problem."""
    return [e["field"] for e in resp.json().get("errors", [])]


def rows(db, sql, args=()):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def count(db, table):
    return rows(db, f"SELECT count(*) FROM {table}")[0][0]


def snapshot(db):
    """Everything the therapist routes may write, for "nothing changed" checks."""
    return {
        "therapists": rows(db, "SELECT id, external_ref, display_name, gender, languages, "
                               "modalities, formats, sites, populations, identity, payers, "
                               "self_pay_fee, sliding_scale, style_directiveness, "
                               "style_emotional_intensity, style_past_orientation, "
                               "style_challenge, availability::text, capacity, accepting_new, "
                               "active, retired_at, updated_at FROM therapists ORDER BY id"),
        "concerns": rows(db, "SELECT therapist_id, concern, level FROM therapist_concerns "
                             "ORDER BY 1, 2"),
        "colleagues": rows(db, "SELECT therapist_id, colleague_id, for_tags FROM colleagues "
                               "ORDER BY 1, 2"),
    }


def metrics(d):
    """The daemon's /metrics as {name: value} (unlabelled samples only)."""
    r = d.get("/metrics")
    assert r.status == 200, r
    out = {}
    for line in r.text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*) ([-+0-9.eE]+|NaN)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def wait_catalog_ready(d, timeout=10.0):
    wait_until(lambda: metrics(d).get("alliance_catalog_ready") == 1, timeout,
               what="catalog loaded")


def match_ids(d, intake, limit=50):
    r = d.post(f"/v1/match?limit={limit}", json_body=intake)
    assert r.status == 200, r
    return r.json()


def insert_client(db, ref="C-1", preferences=None):
    return rows(db, "INSERT INTO clients (external_ref, preferences) VALUES (%s, %s) "
                    "RETURNING id", (ref, json.dumps(preferences or {})))[0][0]


def insert_episode(db, client_id, therapist_id, status="active"):
    if status == "active":
        return rows(db, "INSERT INTO episodes (client_id, therapist_id) VALUES (%s, %s) "
                        "RETURNING id", (client_id, therapist_id))[0][0]
    return rows(db, "INSERT INTO episodes (client_id, therapist_id, status, ended_at, "
                    "end_reason) VALUES (%s, %s, 'ended', now(), 'completed') RETURNING id",
                (client_id, therapist_id))[0][0]

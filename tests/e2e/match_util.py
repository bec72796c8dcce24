"""Shared builders for the clients and matching e2e tests.

Therapists go in through the API (POST /v1/therapists); the tests then wait
until the daemon's in-memory catalog holds them (matching reads the catalog,
never the therapists table per request).
"""

from conftest import wait_until

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def therapist(ref, **over):
    """A therapist who passes every filter of an empty intake; OVER replaces fields."""
    t = {
        "external_ref": ref,
        "display_name": f"Therapist {ref}",
        "gender": "female",
        "languages": ["en"],
        "concerns": {},
        "modalities": ["cbt"],
        "formats": ["video", "in_person"],
        "sites": ["downtown"],
        "populations": ["adult"],
        "identity": [],
        "style": {"directiveness": 0, "emotional_intensity": 0, "past_orientation": 0,
                  "challenge": 0},
        "availability": [{"day": d, "from": "09:00", "to": "17:00"} for d in DAYS[:5]],
        "payers": ["aetna"],
        "self_pay_fee": 100,
        "sliding_scale": False,
        "capacity": 10,
        "accepting_new": True,
        "active": True,
    }
    t.update(over)
    return t


def intake(ref=None, **over):
    """A small valid intake; OVER replaces fields (None deletes one)."""
    i = {"population": "adult", "languages": ["en"]}
    if ref is not None:
        i["external_ref"] = ref
    for k, v in over.items():
        if v is None:
            i.pop(k, None)
        else:
            i[k] = v
    return i


def add_therapists(daemon, db, *ts):
    """Create therapists through the API; returns their ids in order, once the
    daemon's catalog holds all of them."""
    ids = []
    for t in ts:
        r = daemon.post("/v1/therapists", json_body=t)
        assert r.status == 201, r.text
        ids.append(r.json()["id"])
    wait_catalog(daemon, db)
    return ids


def catalog_size(daemon):
    r = daemon.post("/v1/match?limit=1", json_body={})
    if r.status != 200:
        return None
    return r.json()["considered"]


def wait_catalog(daemon, db, timeout=10.0):
    """Until every therapist row is in the daemon's catalog."""
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM therapists WHERE active")
        want = cur.fetchone()[0]
    wait_until(lambda: catalog_size(daemon) == want, timeout, interval=0.05,
               what=f"{want} therapists in the catalog")


def match(daemon, body, limit=None):
    path = "/v1/match" + (f"?limit={limit}" if limit is not None else "")
    r = daemon.post(path, json_body=body)
    assert r.status == 200, r.text
    return r.json()


def ids_of(result):
    return [m["therapist_id"] for m in result["matches"]]


def error_fields(resp):
    """The {field} names of a problem+json answer."""
    assert resp.content_type == "application/problem+json", resp
    return [e["field"] for e in resp.json()["errors"]]


def count_rows(db, table):
    with db.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def client_rows(db):
    """Every client row as comparable tuples (id, external_ref, preferences, updated_at)."""
    with db.cursor() as cur:
        cur.execute("SELECT id, external_ref, preferences::text, updated_at FROM clients"
                    " ORDER BY id")
        return cur.fetchall()

"""Shared builders for the episode, feedback, alliance, referral and report tests.

Therapists and clients are inserted with SQL here (independent of the therapist
and client routes), except where a test drives the whole API on purpose.
"""

import json

_seq = [0]


def _next():
    _seq[0] += 1
    return _seq[0]


def add_therapist(db, ref=None, name=None, capacity=25, active=True, accepting=True,
                  languages=("en",), modalities=(), formats=("video", "in_person"),
                  populations=("adult",), concerns=None, gender=None,
                  availability=None):
    """Insert a therapist row; returns its id.  availability: a 168-char '0'/'1' string."""
    n = _next()
    ref = ref or f"T-E{n}"
    name = name or f"Therapist {n}"
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO therapists (external_ref, display_name, gender, languages, modalities,"
            " formats, populations, capacity, accepting_new, active, retired_at, availability)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " CASE WHEN %s THEN NULL ELSE now() END, %s::bit(168)) RETURNING id",
            (ref, name, gender, list(languages), list(modalities), list(formats),
             list(populations), capacity, accepting, active, active,
             availability or ("1" * 168)))
        tid = cur.fetchone()[0]
        for tag, level in (concerns or {}).items():
            cur.execute("INSERT INTO therapist_concerns (therapist_id, concern, level)"
                        " VALUES (%s, %s, %s)", (tid, tag, level))
    return tid


def add_client(db, ref=None, preferences=None):
    ref = ref or f"C-E{_next()}"
    prefs = dict(preferences or {})
    prefs.setdefault("external_ref", ref)
    with db.cursor() as cur:
        cur.execute("INSERT INTO clients (external_ref, preferences) VALUES (%s, %s::jsonb)"
                    " RETURNING id", (ref, json.dumps(prefs)))
        return cur.fetchone()[0]


def add_colleague(db, therapist_id, colleague_id, for_tags=()):
    with db.cursor() as cur:
        cur.execute("INSERT INTO colleagues (therapist_id, colleague_id, for_tags)"
                    " VALUES (%s, %s, %s)", (therapist_id, colleague_id, list(for_tags)))


def rows(db, sql, params=()):
    with db.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def snapshot(db):
    """Everything the episode routes may change, to compare before/after a refused request."""
    return {
        "episodes": rows(db, "SELECT id, client_id, therapist_id, status, ended_at, end_reason,"
                             " referred_from FROM episodes ORDER BY id"),
        "feedback": rows(db, "SELECT id, episode_id, session, instrument, items::text,"
                             " flags::text, negative_feelings, idempotency_key"
                             " FROM feedback ORDER BY id"),
        "attendance": rows(db, "SELECT id, episode_id, session, status, recorded_at"
                               " FROM attendance ORDER BY id"),
    }


def count(db, table, where="true", params=()):
    # table and where are constants written in the tests, never input.
    return rows(db, f"SELECT count(*) FROM {table} WHERE {where}", params)[0][0]


def start_episode(d, client_id, therapist_id, referred_from=None):
    body = {"client_id": client_id, "therapist_id": therapist_id}
    if referred_from is not None:
        body["referred_from"] = referred_from
    return d.post("/v1/episodes", json_body=body)


def new_episode(d, db, **therapist_kw):
    """A fresh client and therapist with an active episode; returns (episode, client, therapist)."""
    t = add_therapist(db, **therapist_kw)
    c = add_client(db)
    r = start_episode(d, c, t)
    assert r.status == 201, r.text
    return r.json(), c, t


def a5(session, heard=8, open=8, adapts=8, trust=8, looking_forward=8, flags=None,
       negative_feelings=None, occurred_at="2026-11-20T17:00:00Z"):
    body = {"session": session, "instrument": "alliance5",
            "items": {"heard": heard, "open": open, "adapts": adapts, "trust": trust,
                      "looking_forward": looking_forward},
            "occurred_at": occurred_at}
    if flags is not None:
        body["flags"] = flags
    if negative_feelings is not None:
        body["negative_feelings"] = negative_feelings
    return body


def poor(session):
    """A poor session: low ratings and red flags."""
    return a5(session, heard=3, open=2, adapts=3, trust=4, looking_forward=2,
              flags={"judged": True, "unheard": True, "misunderstood": True})


def srs(session, relationship=9.5, goals=9.5, approach=9.5, overall=9.5, **kw):
    body = {"session": session, "instrument": "srs",
            "items": {"relationship": relationship, "goals": goals, "approach": approach,
                      "overall": overall}}
    body.update(kw)
    return body


def ors(session, individual=4, interpersonal=4, social=5, overall=5):
    return {"session": session, "instrument": "ors",
            "items": {"individual": individual, "interpersonal": interpersonal,
                      "social": social, "overall": overall}}


def wai(session, value=4):
    return {"session": session, "instrument": "wai_sr",
            "items": {f"q{i}": value for i in range(1, 13)}}


def feedback(d, episode_id, body, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return d.post(f"/v1/episodes/{episode_id}/feedback", json_body=body, headers=headers)


def attendance(d, episode_id, session, status):
    return d.post(f"/v1/episodes/{episode_id}/attendance",
                  json_body={"session": session, "status": status})


def problem_fields(r):
    """The field names of a 422's errors."""
    return [e["field"] for e in r.json().get("errors", [])]


# ---------------------------------------------------------------------------
# through the API (therapists, clients) and the in-memory catalog

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def therapist_body(ref, **over):
    """A therapist who passes every filter of a plain adult English intake."""
    t = {
        "external_ref": ref, "display_name": f"Therapist {ref}", "gender": "female",
        "languages": ["en"], "concerns": {}, "modalities": ["cbt"],
        "formats": ["video", "in_person"], "populations": ["adult"],
        "style": {"directiveness": 0, "emotional_intensity": 0, "past_orientation": 0,
                  "challenge": 0},
        "availability": [{"day": d, "from": "09:00", "to": "17:00"} for d in DAYS[:5]],
        "capacity": 10, "accepting_new": True, "active": True,
    }
    t.update(over)
    return t


def api_therapist(d, ref, **over):
    r = d.post("/v1/therapists", json_body=therapist_body(ref, **over))
    assert r.status == 201, r.text
    return r.json()["id"]


def catalog_considered(d):
    r = d.post("/v1/match?limit=1", json_body={})
    return r.json()["considered"] if r.status == 200 else None


def wait_catalog(d, db, timeout=10.0):
    """Until the daemon's catalog holds every active therapist row."""
    from conftest import wait_until
    want = count(db, "therapists", "active")
    wait_until(lambda: catalog_considered(d) == want, timeout, interval=0.05,
               what=f"{want} therapists in the catalog")

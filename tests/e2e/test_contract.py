"""The contract says every answer: each operation of daemon/api/openapi.yaml is
driven (its successes and its refusals), and every answer is checked against
the description: its status is listed for the operation (or `default`), its
Content-Type is the one described, and a JSON body validates against the
described schema.  So the description cannot drift from the daemon again.

Every operation is also sent the router's own refusals (a malformed query
string; a body on a GET), and the test fails if an operation of the file was
never driven."""

import json
import os

import jsonschema
import pytest
import yaml

from conftest import wait_until
from episode_util import a5, therapist_body
from match_util import intake

SPEC_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "daemon", "api", "openapi.yaml")
with open(SPEC_PATH, encoding="utf-8") as f:
    SPEC = yaml.safe_load(f)
RESOLVER = jsonschema.RefResolver.from_schema(SPEC)
METHODS = ("get", "post", "put", "patch", "delete")


def resolve(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = SPEC
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def check(method, template, r, seen):
    """R, the answer to METHOD on TEMPLATE, is one the description lists."""
    op = SPEC["paths"][template][method.lower()]
    seen.add((method.upper(), template))
    where = f"{method.upper()} {template} answered {r.status}"
    resp = op["responses"].get(str(r.status))
    assert resp is not None, f"{where}, a status the description does not list: {r.text[:300]}"
    resp = resolve(resp)
    content = resp.get("content")
    if not content:
        return
    ctype = (r.content_type or "").split(";")[0].strip()
    assert ctype in content, f"{where} with Content-Type {ctype}, described: {list(content)}"
    schema = content[ctype].get("schema")
    if schema is None or not ctype.endswith("json"):
        return
    body = json.loads(r.body)
    validator = jsonschema.Draft202012Validator(schema, resolver=RESOLVER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{where}: the body does not fit the description: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])


class Driver:
    def __init__(self, daemon):
        self.d = daemon
        self.seen = set()

    def call(self, method, template, path, body=None, raw=None, headers=None, want=None):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        r = self.d.request(method, path, body=data, headers=h)
        check(method, template, r, self.seen)
        if want is not None:
            assert r.status == want, f"{method} {path}: {r.status} {r.text[:300]}"
        return r


def every_operation():
    return {(m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops if m in METHODS}


def concrete(template, ids):
    path = template
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def test_every_answer_fits_the_description(daemon, db):
    drv = Driver(daemon)
    c = drv.call

    # -- health
    c("GET", "/healthz", "/healthz", want=200)
    c("GET", "/readyz", "/readyz", want=200)
    c("GET", "/metrics", "/metrics", want=200)

    # -- therapists
    t1 = c("POST", "/v1/therapists", "/v1/therapists", therapist_body("T-C1"), want=201).json()
    t2 = c("POST", "/v1/therapists", "/v1/therapists", therapist_body("T-C2"), want=201).json()
    t3 = c("POST", "/v1/therapists", "/v1/therapists", therapist_body("T-C3"), want=201).json()
    c("POST", "/v1/therapists", "/v1/therapists", therapist_body("T-C1"), want=409)
    c("POST", "/v1/therapists", "/v1/therapists", {"external_ref": "x"}, want=422)
    c("POST", "/v1/therapists", "/v1/therapists", raw=b"{bad", want=400)
    c("POST", "/v1/therapists", "/v1/therapists", raw=b"{}",
      headers={"Content-Type": "text/plain"}, want=415)
    c("GET", "/v1/therapists", "/v1/therapists?limit=2", want=200)
    c("GET", "/v1/therapists", "/v1/therapists?limit=0", want=422)
    tid = "/v1/therapists/{id}"
    c("GET", tid, f"/v1/therapists/{t1['id']}", want=200)
    c("GET", tid, "/v1/therapists/999999", want=404)
    c("PUT", tid, f"/v1/therapists/{t1['id']}", therapist_body("T-C1", capacity=12), want=200)
    c("PUT", tid, "/v1/therapists/999999", therapist_body("T-C9"), want=404)
    c("PUT", tid, f"/v1/therapists/{t1['id']}", therapist_body("T-C2"), want=409)
    c("PATCH", tid, f"/v1/therapists/{t1['id']}", {"capacity": 11}, want=200)
    c("PATCH", tid, f"/v1/therapists/{t1['id']}", {"capacity": -1}, want=422)
    col = "/v1/therapists/{id}/colleagues"
    c("PUT", col, f"/v1/therapists/{t1['id']}/colleagues", [{"therapist_id": t2["id"]}],
      want=200)
    c("PUT", col, f"/v1/therapists/{t1['id']}/colleagues", [{"therapist_id": "x"}], want=422)
    c("GET", col, f"/v1/therapists/{t1['id']}/colleagues", want=200)
    c("GET", col, "/v1/therapists/999999/colleagues", want=404)

    # -- clients and matching
    cl = c("POST", "/v1/clients", "/v1/clients", intake("C-C1"), want=201).json()
    c("POST", "/v1/clients", "/v1/clients", intake("C-C1"), want=200)
    c("POST", "/v1/clients", "/v1/clients", intake("C-C2", population="martian"), want=422)
    c("GET", "/v1/clients/{id}", f"/v1/clients/{cl['id']}", want=200)
    c("GET", "/v1/clients/{id}", "/v1/clients/999999", want=404)
    c("GET", "/v1/clients/{id}", f"/v1/clients/000{cl['id']}", want=404)
    cm = "/v1/clients/{id}/matches"
    c("GET", cm, f"/v1/clients/{cl['id']}/matches?limit=2", want=200)
    c("GET", cm, f"/v1/clients/{cl['id']}/matches?limit=0", want=422)
    c("GET", cm, "/v1/clients/999999/matches", want=404)
    c("POST", "/v1/match", "/v1/match", intake(), want=200)
    c("POST", "/v1/match", "/v1/match", intake(languages="en"), want=422)

    # -- episodes
    ep = c("POST", "/v1/episodes", "/v1/episodes",
           {"client_id": cl["id"], "therapist_id": t1["id"]}, want=201).json()
    c("POST", "/v1/episodes", "/v1/episodes",
      {"client_id": cl["id"], "therapist_id": t1["id"]}, want=409)
    c("POST", "/v1/episodes", "/v1/episodes", {"client_id": cl["id"]}, want=422)
    eid = "/v1/episodes/{id}"
    c("GET", eid, f"/v1/episodes/{ep['id']}", want=200)
    c("GET", eid, "/v1/episodes/999999", want=404)
    fb = "/v1/episodes/{id}/feedback"
    c("POST", fb, f"/v1/episodes/{ep['id']}/feedback", a5(1), want=200)
    c("POST", fb, f"/v1/episodes/{ep['id']}/feedback", a5(1), want=409)
    c("POST", fb, f"/v1/episodes/{ep['id']}/feedback", a5(0), want=422)
    c("POST", fb, "/v1/episodes/999999/feedback", a5(1), want=404)
    at = "/v1/episodes/{id}/attendance"
    c("POST", at, f"/v1/episodes/{ep['id']}/attendance",
      {"session": 2, "status": "no_show"}, want=200)
    c("POST", at, f"/v1/episodes/{ep['id']}/attendance",
      {"session": 2, "status": "late"}, want=422)
    c("POST", at, "/v1/episodes/999999/attendance", {"session": 2, "status": "no_show"},
      want=404)
    al = "/v1/episodes/{id}/alliance"
    c("GET", al, f"/v1/episodes/{ep['id']}/alliance", want=200)
    c("GET", al, "/v1/episodes/999999/alliance", want=404)
    rf = "/v1/episodes/{id}/referrals"
    c("POST", rf, f"/v1/episodes/{ep['id']}/referrals", {}, want=200)
    c("POST", rf, f"/v1/episodes/{ep['id']}/referrals?limit=0", {}, want=422)
    c("POST", rf, "/v1/episodes/999999/referrals", {}, want=404)

    # -- reports
    c("GET", "/v1/reports/alliance", "/v1/reports/alliance?limit=1", want=200)
    c("GET", "/v1/reports/alliance", "/v1/reports/alliance?limit=0", want=422)
    c("GET", "/v1/reports/at-risk", "/v1/reports/at-risk?limit=1", want=200)
    c("GET", "/v1/reports/at-risk", "/v1/reports/at-risk?limit=0", want=422)

    # -- endings
    end = "/v1/episodes/{id}/end"
    c("POST", end, f"/v1/episodes/{ep['id']}/end", {"reason": "completed"}, want=200)
    c("POST", end, f"/v1/episodes/{ep['id']}/end", {"reason": "completed"}, want=409)
    c("POST", end, f"/v1/episodes/{ep['id']}/end", {"reason": "bored"}, want=422)
    c("POST", end, "/v1/episodes/999999/end", {"reason": "completed"}, want=404)
    c("POST", fb, f"/v1/episodes/{ep['id']}/feedback", a5(3), want=409)
    c("DELETE", tid, f"/v1/therapists/{t3['id']}", want=200)
    c("DELETE", tid, "/v1/therapists/999999", want=404)

    # -- events: a replay (this daemon has no webhook of its own) and a ping
    rp = "/v1/events/{id}/replay"
    c("POST", rp, "/v1/events/1/replay", want=422)
    c("POST", rp, "/v1/events/1/replay", {"webhook": "intake"}, want=422)
    with db.cursor() as cur:
        cur.execute("INSERT INTO webhook_cursors (name) VALUES ('intake')")
    db.commit()
    c("POST", rp, "/v1/events/1/replay", {"webhook": "intake"}, want=202)
    c("POST", rp, "/v1/events/999999/replay", {"webhook": "intake"}, want=404)
    c("POST", "/v1/webhooks/{name}/test", "/v1/webhooks/intake/test", want=404)

    # -- the router's refusals, on every operation
    ids = {"id": t1["id"]}
    for method, template in sorted(every_operation()):
        path = concrete(template, ids if "therapists" in template else
                        {"id": ep["id"]} if "episodes" in template else {"id": cl["id"]})
        path = path.replace("{name}", "intake")
        c(method, template, path + "?a=%zz", want=400)
        if method == "GET":
            c(method, template, path, raw=b"{}", want=400)

    # Every operation describes the router's 400 and a default (500) answer.
    for method, template in every_operation():
        responses = SPEC["paths"][template][method.lower()]["responses"]
        assert "400" in responses and "default" in responses, (method, template)

    missing = every_operation() - drv.seen
    assert not missing, f"operations never driven: {sorted(missing)}"


def test_a_body_over_the_limit_fits_the_description(daemon_factory, db):
    d = daemon_factory(config={"limits": {"max_body_bytes": 1024}})
    drv = Driver(d)
    big = {"external_ref": "T-BIG", "display_name": "x" * 2000}
    drv.call("POST", "/v1/therapists", "/v1/therapists", big, want=413)


def test_unavailable_fits_the_description(daemon_factory, pg):
    """503 while the database is away, on a database route and on /readyz."""
    d = daemon_factory()
    drv = Driver(d)
    pg.stop("fast")
    try:
        wait_until(lambda: d.get("/readyz").status == 503, 5, what="/readyz 503")
        drv.call("GET", "/v1/clients/{id}", "/v1/clients/1", want=503)
        drv.call("GET", "/readyz", "/readyz", want=503)
    finally:
        pg.start()
    wait_until(lambda: d.get("/readyz").status == 200, 5, interval=0.1, what="/readyz 200")

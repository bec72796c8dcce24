"""Webhooks (issue 13): signed deliveries of the events, at least once, in order.

A receiver (Python's http.server, here in the test) checks every signature the
Standard Webhooks way and can be down (503) for a while.  Backoffs are in
milliseconds so that the tests run in seconds.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cli_util import alliancectl_bin, ctl  # noqa: F401 (fixtures)
from conftest import wait_until
from episode_util import a5, add_client, add_therapist, attendance, feedback, rows, start_episode

SECRET = base64.b64encode(os.urandom(24)).decode()


def verify(secret_b64, headers, body):
    """The README's check: HMAC-SHA256 of "id.timestamp.body" with the secret's bytes."""
    key = base64.b64decode(secret_b64)
    msg = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    ok = any(hmac.compare_digest(expected, s.split(",", 1)[1])
             for s in headers["webhook-signature"].split(" ") if s.startswith("v1,"))
    return ok and abs(time.time() - int(headers["webhook-timestamp"])) < 300


class Receiver:
    def __init__(self, tls=None):
        self.lock = threading.Lock()
        self.got = []          # (webhook-id, payload) for every accepted request
        self.bad = []          # requests whose signature failed
        self.down = False
        self.refused = 0
        self.delay = 0.0
        self.refuse = set()    # webhook-ids answered 503 even when up
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                h = {k.lower(): v for k, v in self.headers.items()}
                if rec.delay:
                    time.sleep(rec.delay)
                with rec.lock:
                    if not verify(SECRET, h, body):
                        rec.bad.append(h)
                        code = 401
                    elif rec.down or h["webhook-id"] in rec.refuse:
                        rec.refused += 1
                        code = 503
                    else:
                        rec.got.append((h["webhook-id"], json.loads(body)))
                        code = 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        scheme = "http"
        if tls is not None:  # (cert, key): https with that certificate
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.srv.server_address[1]}/hook"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def unique(self):
        """Deduplicated by webhook-id, in arrival order."""
        seen, out = set(), []
        with self.lock:
            for wid, p in self.got:
                if wid not in seen:
                    seen.add(wid)
                    out.append(p)
        return out

    def close(self):
        self.srv.shutdown()


def metric(d, name):
    for ln in d.get("/metrics").text.splitlines():
        if ln.startswith(name + " "):
            return float(ln.split()[1])
    raise AssertionError(f"no metric {name}")


def hook_config(tmp_path, rec, **over):
    path = tmp_path / "webhook.secret"
    path.write_text("whsec_" + SECRET + "\n")
    cfg = {"url": rec.url, "secret_file": str(path), "retry_base_ms": 100,
           "retry_max_ms": 400, "horizon": 3600, "timeout": 5}
    cfg.update(over)
    return {"webhook": cfg}


def all_event_ids(db):
    return [r[0] for r in rows(db, "SELECT id FROM events ORDER BY id")]


def test_receiver_down_then_back_gets_every_event_once_in_order(daemon_factory, db, tmp_path):
    rec = Receiver()
    try:
        d = daemon_factory(hook_config(tmp_path, rec))
        t = add_therapist(db)
        c1, c2 = add_client(db), add_client(db)
        e1 = start_episode(d, c1, t).json()["id"]
        wait_until(lambda: len(rec.unique()) == 1, 10, what="the first delivery")
        rec.down = True
        e2 = start_episode(d, c2, t).json()["id"]
        assert feedback(d, e1, a5(1, flags={"unsafe": True})).status == 200
        assert attendance(d, e2, 1, "no_show").status == 200
        assert d.post(f"/v1/episodes/{e2}/end", json_body={"reason": "other"}).status == 200
        wait_until(lambda: rec.refused >= 3, 10, what="refused attempts")
        assert metric(d, "alliance_webhook_oldest_undelivered_seconds") > 0
        rec.down = False
        ids = all_event_ids(db)
        wait_until(lambda: len(rec.unique()) == len(ids), 15, what="every event")
        got = rec.unique()
        assert [p["id"] for p in got] == ids  # every event once, in order
        assert [wid for wid, _ in rec.got] == [f"evt_{p['id']}" for p in got]  # no duplicate
        assert rec.bad == []
        by_ep = {}
        for p in got:
            by_ep.setdefault(p["data"].get("episode_id"), []).append(p["type"])
        assert by_ep[e1][:3] == ["episode.started", "feedback.flagged",
                                 "episode.status_changed"]
        assert by_ep[e2][0] == "episode.started" and "episode.ended" in by_ep[e2]
        m = d.get("/metrics").text
        assert "alliance_webhook_retried_total" in m
        retried = [ln for ln in m.splitlines() if ln.startswith("alliance_webhook_retried_total")]
        assert int(retried[0].split()[1]) >= 3
        wait_until(lambda: metric(d, "alliance_webhook_oldest_undelivered_seconds") == 0, 10,
                   what="nothing left to deliver")
        assert metric(d, "alliance_webhook_delivered_total") == len(ids)
    finally:
        rec.close()


def test_two_daemons_deliver_each_event_once(daemon_factory, db, tmp_path):
    rec = Receiver()
    try:
        cfg = hook_config(tmp_path, rec)
        a = daemon_factory(cfg)
        b = daemon_factory(cfg)
        t = add_therapist(db, capacity=100)
        for i in range(12):
            c = add_client(db)
            assert start_episode(a if i % 2 else b, c, t).status == 201
        ids = all_event_ids(db)
        wait_until(lambda: len(rec.unique()) == len(ids), 15, what="every event")
        time.sleep(1.0)
        assert [wid for wid, _ in rec.got] == [f"evt_{i}" for i in ids]  # once each, in order
        assert rec.bad == []
    finally:
        rec.close()


def test_kill_9_mid_delivery_loses_nothing(daemon_factory, db, tmp_path):
    rec = Receiver()
    try:
        cfg = hook_config(tmp_path, rec)
        a = daemon_factory(cfg)
        t = add_therapist(db)
        rec.delay = 2.0  # the first attempt hangs in the receiver
        c = add_client(db)
        assert start_episode(a, c, t).status == 201
        time.sleep(0.7)  # a is mid-delivery, its transaction open
        a.signal(signal.SIGKILL)
        a.wait(10)
        rec.delay = 0.0
        b = daemon_factory(cfg)
        ids = all_event_ids(db)
        # The receiver may still finish a's hung attempt: b's own delivery is
        # the one that moves the cursor.
        wait_until(lambda: rows(db, "SELECT last_event_id FROM webhook_cursors")[0][0]
                   == ids[-1], 15, what="the redelivery")
        assert [p["id"] for p in rec.unique()] == ids
        assert b.alive()
    finally:
        rec.close()


def test_an_event_failing_past_the_horizon_is_dead_lettered(daemon_factory, db, tmp_path, ctl):
    rec = Receiver()
    try:
        rec.down = True
        d = daemon_factory(hook_config(tmp_path, rec, horizon=1))
        t = add_therapist(db)
        assert start_episode(d, add_client(db), t).status == 201
        wait_until(lambda: rows(db, "SELECT count(*) FROM webhook_dead")[0][0] == 1, 15,
                   what="the dead letter")
        rec.down = False
        assert start_episode(d, add_client(db), t).status == 201
        wait_until(lambda: len(rec.unique()) == 1, 10, what="the next event")
        dead = rows(db, "SELECT event_id FROM webhook_dead")[0][0]
        assert rec.unique()[0]["id"] > dead
        r = d.get("/v1/events/failed")
        assert r.status == 200, r.text
        f = r.json()["failed"]
        assert [(x["event_id"], x["type"], x["webhook"]) for x in f] == [
            (dead, "episode.started", "intake")]
        assert f[0]["attempts"] >= 2 and f[0]["last_error"] == "HTTP 503"
        p = ctl("events", "list", "--failed", daemon=d)
        assert p.returncode == 0, p.stderr
        assert "episode.started" in p.stdout and "HTTP 503" in p.stdout
    finally:
        rec.close()


def test_a_bad_secret_file_refuses_to_start(daemon_factory, tmp_path):
    d = daemon_factory({"webhook": {"url": "http://127.0.0.1:9/", "secret_file":
                                    str(tmp_path / "missing")}}, start=False)
    d.start(wait=False)
    assert d.wait(10) == 1
    assert "webhook.secret_file: cannot open" in d.log_text()


def dead_letter(d, db, rec, t):
    """An episode.started event dead-lettered while the receiver is down; its id."""
    rec.down = True
    assert start_episode(d, add_client(db), t).status == 201
    wait_until(lambda: rows(db, "SELECT count(*) FROM webhook_dead")[0][0] == 1, 15,
               what="the dead letter")
    return rows(db, "SELECT event_id FROM webhook_dead")[0][0]


def test_replay_sends_a_dead_letter_again_and_clears_it(daemon_factory, db, tmp_path, ctl):
    rec = Receiver()
    try:
        d = daemon_factory(hook_config(tmp_path, rec, horizon=1))
        dead = dead_letter(d, db, rec, add_therapist(db))
        rec.down = False
        p = ctl("events", "replay", str(dead), daemon=d)
        assert p.returncode == 0, p.stderr
        assert p.stdout == f"event {dead} (episode.started): queued for webhook intake\n"
        wait_until(lambda: any(wid == f"evt_{dead}" for wid, _ in rec.got), 10,
                   what="the replayed event")
        got = [p for wid, p in rec.got if wid == f"evt_{dead}"]
        assert got[0]["id"] == dead and got[0]["type"] == "episode.started"
        wait_until(lambda: rows(db, "SELECT count(*) FROM webhook_replays")[0][0] == 0, 5,
                   what="the replay row gone")
        assert rows(db, "SELECT count(*) FROM webhook_dead")[0][0] == 0
        assert d.get("/v1/events/failed").json()["failed"] == []
        assert not rec.bad
    finally:
        rec.close()


def test_a_failing_replay_backs_off_without_holding_up_new_events(daemon_factory, db,
                                                                 tmp_path):
    rec = Receiver()
    try:
        d = daemon_factory(hook_config(tmp_path, rec, horizon=1))
        t = add_therapist(db)
        dead = dead_letter(d, db, rec, t)
        d.stop()  # a second life, with a horizon the replay cannot reach
        d = daemon_factory(hook_config(tmp_path, rec, horizon=3600))
        rec.down = False
        rec.refuse = {f"evt_{dead}"}  # the receiver still chokes on that one event
        r = d.post(f"/v1/events/{dead}/replay", json_body={"webhook": "intake"})
        assert r.status == 202, r.text
        assert r.json()["event_id"] == dead and r.json()["webhook"] == "intake"
        assert r.json()["type"] == "episode.started"
        wait_until(lambda: rows(db, "SELECT attempts FROM webhook_replays")[0][0] >= 2, 10,
                   what="the replay retried")
        assert start_episode(d, add_client(db), t).status == 201
        wait_until(lambda: len(rec.unique()) == 1, 10, what="the new event past the replay")
        assert rec.unique()[0]["id"] > dead
        assert rows(db, "SELECT count(*) FROM webhook_replays")[0][0] == 1
        rec.refuse = set()
        wait_until(lambda: len(rec.unique()) == 2, 10, what="the replay once fixed")
        assert rec.unique()[1]["id"] == dead
        wait_until(lambda: rows(db, "SELECT count(*) FROM webhook_dead")[0][0] == 0, 5,
                   what="the dead letter cleared")
    finally:
        rec.close()


def test_a_replay_that_dies_again_is_a_dead_letter_again(daemon_factory, db, tmp_path):
    rec = Receiver()
    try:
        d = daemon_factory(hook_config(tmp_path, rec, horizon=1))
        dead = dead_letter(d, db, rec, add_therapist(db))
        first = rows(db, "SELECT attempts FROM webhook_dead")[0][0]
        assert d.request("POST", f"/v1/events/{dead}/replay").status == 202
        wait_until(lambda: rows(db, "SELECT count(*) FROM webhook_replays")[0][0] == 0, 15,
                   what="the replay given up")
        again = rows(db, "SELECT event_id, attempts FROM webhook_dead")
        assert again[0][0] == dead and again[0][1] > first
    finally:
        rec.close()


def test_replay_refusals_name_the_problem(daemon_factory, db, tmp_path, ctl):
    rec = Receiver()
    try:
        d = daemon_factory(hook_config(tmp_path, rec))
        assert start_episode(d, add_client(db), add_therapist(db)).status == 201
        wait_until(lambda: len(rec.unique()) == 1, 10, what="the event")
        ev = rec.unique()[0]["id"]
        r = d.request("POST", "/v1/events/999999/replay")
        assert r.status == 404 and "no event 999999" in r.json()["detail"]
        r = d.post(f"/v1/events/{ev}/replay", json_body={"webhook": "crm"})
        assert r.status == 422 and r.json()["errors"][0]["field"] == "webhook"
        r = d.post(f"/v1/events/{ev}/replay", json_body={"webhook": "a b"})
        assert r.status == 422 and r.json()["errors"][0]["field"] == "webhook"
        p = ctl("events", "replay", "999999", daemon=d)
        assert p.returncode == 2 and "no event 999999" in p.stderr
        p = ctl("events", "replay", "x", daemon=d)
        assert p.returncode == 1
        assert rows(db, "SELECT count(*) FROM webhook_replays")[0][0] == 0
        # A daemon without a webhook has no default to send to.
        plain = daemon_factory()
        r = plain.request("POST", f"/v1/events/{ev}/replay")
        assert r.status == 422 and r.json()["errors"][0]["field"] == "webhook"
        assert "no webhook, or several" in r.json()["errors"][0]["message"]
        r = plain.post(f"/v1/events/{ev}/replay", json_body={"webhook": "intake"})
        assert r.status == 202, r.text
        r = plain.request("POST", f"/v1/events/{ev}/replay", auth=None)
        assert r.status == 401
    finally:
        rec.close()


def test_webhook_test_sends_a_signed_ping(daemon_factory, db, tmp_path, ctl):
    rec = Receiver()
    try:
        d = daemon_factory(hook_config(tmp_path, rec))
        p = ctl("webhook", "test", "intake", daemon=d)
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout.startswith("webhook intake: ping ping_") and " answered 204 in " in \
            p.stdout
        pings = [(wid, b) for wid, b in rec.got if b["type"] == "webhook.ping"]
        assert len(pings) == 1 and pings[0][0].startswith("ping_")
        assert pings[0][1]["data"] == {"webhook": "intake"}
        assert not rec.bad  # the signature verified
        assert rows(db, "SELECT count(*) FROM events")[0][0] == 0  # nothing stored
        r = d.request("POST", "/v1/webhooks/intake/test")
        assert r.status == 200 and r.json()["delivered"] is True and r.json()["status"] == 204
        assert r.json()["id"] != pings[0][0]  # a fresh id per ping
        rec.down = True
        p = ctl("webhook", "test", "intake", daemon=d)
        assert p.returncode == 3 and "failed: HTTP 503" in p.stdout, p.stdout
        r = d.request("POST", "/v1/webhooks/intake/test")
        assert r.json()["delivered"] is False and r.json()["error"] == "HTTP 503"
        p = ctl("webhook", "test", "crm", daemon=d)
        assert p.returncode == 2 and "no webhook named crm" in p.stderr
        assert d.request("POST", "/v1/webhooks/a%20b/test").status == 404
    finally:
        rec.close()


def test_webhook_test_of_an_unreachable_receiver_says_why(daemon_factory, tmp_path, ctl):
    rec = Receiver()
    rec.close()
    rec.srv.server_close()  # nothing listens there any more: refused
    d = daemon_factory(hook_config(tmp_path, rec))
    p = ctl("webhook", "test", "intake", daemon=d)
    assert p.returncode == 3
    assert "failed:" in p.stdout and "onnect" in p.stdout, p.stdout


def test_two_webhooks_each_get_their_events_and_their_own_cursor(daemon_factory, db, tmp_path,
                                                                 ctl):
    intake, oncall = Receiver(), Receiver()
    try:
        path = tmp_path / "webhook.secret"
        path.write_text("whsec_" + SECRET + "\n")
        common = {"secret_file": str(path), "retry_base_ms": 100, "retry_max_ms": 400}
        d = daemon_factory({"webhook": [
            dict(common, url=intake.url),
            dict(common, name="oncall", url=oncall.url, events="feedback.flagged")]})
        t = add_therapist(db)
        ep = start_episode(d, add_client(db), t).json()["id"]
        assert feedback(d, ep, a5(1, flags={"unsafe": True})).status in (200, 201)
        wait_until(lambda: len(oncall.unique()) == 1, 10, what="the flag at the on-call hook")
        wait_until(lambda: {p["type"] for p in intake.unique()} >=
                   {"episode.started", "feedback.flagged"}, 10, what="the intake hook")
        assert [p["type"] for p in oncall.unique()] == ["feedback.flagged"]
        cursors = dict(rows(db, "SELECT name, last_event_id FROM webhook_cursors"))
        assert set(cursors) == {"intake", "oncall"}
        assert not intake.bad and not oncall.bad
        # Each is tested by name; a replay must name one when there are two.
        p = ctl("webhook", "test", "oncall", daemon=d)
        assert p.returncode == 0 and p.stdout.startswith("webhook oncall: ping"), p.stdout
        assert [b["data"] for _, b in oncall.got if b["type"] == "webhook.ping"] == [
            {"webhook": "oncall"}]
        flag = oncall.unique()[0]["id"]
        r = d.request("POST", f"/v1/events/{flag}/replay")
        assert r.status == 422 and "several" in r.json()["errors"][0]["message"]
        p = ctl("events", "replay", str(flag), "--webhook", "oncall", daemon=d)
        assert p.returncode == 0, p.stderr
        wait_until(lambda: len([w for w, _ in oncall.got if w == f"evt_{flag}"]) == 2, 10,
                   what="the replay at the on-call hook")
    finally:
        intake.close()
        oncall.close()


def test_an_https_receiver_is_verified(daemon_factory, db, tmp_path, ctl):
    """TLS is verified: a receiver whose certificate no CA signed gets nothing."""
    from test_tls import make_cert
    rec = Receiver(tls=make_cert(str(tmp_path), "receiver"))
    try:
        d = daemon_factory(hook_config(tmp_path, rec))
        p = ctl("webhook", "test", "intake", daemon=d)
        assert p.returncode == 3 and "certificate" in p.stdout.lower(), p.stdout
        assert start_episode(d, add_client(db), add_therapist(db)).status == 201
        wait_until(lambda: rows(db, "SELECT attempts FROM webhook_cursors")[0][0] >= 1, 10,
                   what="a failed attempt")
        err = rows(db, "SELECT last_error FROM webhook_cursors")[0][0]
        assert "certificate" in err.lower(), err
        assert rec.got == [] and rec.bad == []
    finally:
        rec.close()

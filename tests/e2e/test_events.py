"""Events (issue 13): the transactional outbox and GET /v1/events.

Every event row is written by a trigger of the change that causes it
(sql/004_events.sql): it exists exactly when the change committed.  The pull
answers the events after a cursor in order, and its long poll returns as
soon as an event commits (NOTIFY) or after `wait` seconds.
"""

import json
import signal
import threading
import time

import psycopg2

from cli_util import alliancectl_bin, ctl  # noqa: F401 (fixtures)
from conftest import make_token, wait_until
from episode_util import (a5, add_client, add_therapist, attendance, feedback, new_episode,
                          rows, start_episode)

FORBIDDEN = ("items", "preferences", "alliance_index", "trust_signal", "ors_total",
             "negative_feelings", "ratings")


def events(d, after=0, wait=None, **kw):
    q = f"/v1/events?after={after}"
    if wait is not None:
        q += f"&wait={wait}"
    r = d.get(q, **kw)
    assert r.status == 200, r.text
    return r.json()


def types_of(page, episode=None):
    return [e["type"] for e in page["events"]
            if episode is None or e["data"].get("episode_id") == episode]


def test_episode_start_end_and_referral_emit_their_events(daemon, db):
    ep, client, t1 = new_episode(daemon, db)
    t2 = add_therapist(db)
    r = start_episode(daemon, client, t2, referred_from=ep["id"])
    assert r.status == 201, r.text
    new = r.json()["id"]
    page = events(daemon)
    got = [(e["type"], e["data"].get("episode_id")) for e in page["events"]]
    assert got[0] == ("episode.started", ep["id"])
    assert ("episode.started", new) in got
    ended = [e for e in page["events"] if e["type"] == "episode.ended"]
    assert len(ended) == 1
    assert ended[0]["data"]["episode_id"] == ep["id"]
    assert ended[0]["data"]["reason"] == "referred"
    assert ended[0]["data"]["referred_to"] == new
    slot = [e for e in page["events"] if e["type"] == "therapist.slot_opened"]
    assert [(s["data"]["therapist_id"], s["data"]["cause"]) for s in slot] == [
        (t1, "episode_ended")]
    ids = [e["id"] for e in page["events"]]
    assert ids == sorted(ids) and page["next"] == ids[-1]
    # The cursor: nothing after the last one.
    assert events(daemon, after=page["next"])["events"] == []
    # A plain end names its reason and no referral.
    r = daemon.post(f"/v1/episodes/{new}/end", json_body={"reason": "completed"})
    assert r.status == 200, r.text
    page2 = events(daemon, after=page["next"])
    assert types_of(page2) == ["episode.ended", "therapist.slot_opened"]
    assert page2["events"][0]["data"]["reason"] == "completed"
    assert page2["events"][0]["data"]["referred_to"] is None


def test_capacity_growth_opens_a_slot_and_a_shrink_does_not(daemon, db):
    t = add_therapist(db, capacity=5)
    r = daemon.request("PATCH", f"/v1/therapists/{t}", body=json.dumps({"capacity": 3}),
                       headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text
    assert events(daemon)["events"] == []
    r = daemon.request("PATCH", f"/v1/therapists/{t}", body=json.dumps({"capacity": 8}),
                       headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text
    ev = events(daemon)["events"]
    assert [(e["type"], e["data"]["therapist_id"], e["data"]["cause"]) for e in ev] == [
        ("therapist.slot_opened", t, "capacity_grew")]


def test_unsafe_feedback_is_flagged_with_ids_only(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    cursor = events(daemon)["next"]
    r = feedback(daemon, ep["id"], a5(1, flags={"unsafe": True, "judged": True}))
    assert r.status == 200, r.text
    assert (r.json()["status"], r.json()["action"]) == ("unsafe", "review")
    page = events(daemon, after=cursor)
    flagged = [e for e in page["events"] if e["type"] == "feedback.flagged"]
    assert len(flagged) == 1
    assert flagged[0]["data"]["episode_id"] == ep["id"]
    assert flagged[0]["data"]["flags"] == ["unsafe"]  # judged is not a safety flag
    assert flagged[0]["data"]["session"] == 1
    text = json.dumps(page)
    for word in FORBIDDEN:
        assert word not in text, word
    # An ordinary session emits no flag event.
    assert feedback(daemon, ep["id"], a5(2)).status == 200
    assert "feedback.flagged" not in types_of(events(daemon, after=page["next"]))


def test_a_rolled_back_transaction_emits_nothing(daemon, db, pg_cluster):
    t = add_therapist(db)
    c = add_client(db)
    conn = psycopg2.connect(pg_cluster.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO episodes (client_id, therapist_id) VALUES (%s, %s)"
                        " RETURNING id", (c, t))
            cur.execute("SELECT count(*) FROM events")
            assert cur.fetchone()[0] == 1  # written inside the transaction ...
        conn.rollback()
    finally:
        conn.close()
    # ... and gone with it.
    assert rows(db, "SELECT count(*) FROM events")[0][0] == 0
    assert events(daemon)["events"] == []
    # A refused request (409: the pair already has an open episode) emits nothing either.
    assert start_episode(daemon, c, t).status == 201
    n = rows(db, "SELECT count(*) FROM events")[0][0]
    assert start_episode(daemon, c, t).status == 409
    assert rows(db, "SELECT count(*) FROM events")[0][0] == n


def test_long_poll_returns_when_an_event_commits(daemon, db):
    t = add_therapist(db)
    c = add_client(db)
    cursor = events(daemon)["next"]
    out = {}

    def poll():
        t0 = time.monotonic()
        out["page"] = events(daemon, after=cursor, wait=20)
        out["took"] = time.monotonic() - t0

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(1.0)  # the poll is parked
    t_write = time.monotonic()
    assert start_episode(daemon, c, t).status == 201
    th.join(15)
    assert not th.is_alive()
    assert types_of(out["page"]) == ["episode.started"]
    assert out["took"] < 5.0, out["took"]
    assert time.monotonic() - t_write < 3.0


def test_sigterm_answers_parked_long_polls_at_once(daemon_factory):
    d = daemon_factory()
    out = {}

    def poll():
        t0 = time.monotonic()
        out["page"] = events(d, wait=30)
        out["took"] = time.monotonic() - t0

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(1.0)  # the poll is parked
    t_stop = time.monotonic()
    d.signal(signal.SIGTERM)
    th.join(15)
    assert not th.is_alive()
    assert out["page"] == {"events": [], "next": 0}
    assert out["took"] < 5.0, out["took"]
    assert d.wait(10) == 0
    assert time.monotonic() - t_stop < 3.0  # not the poll's 30 s, nor the drain timeout


def test_long_poll_wakes_on_another_daemons_event(daemon_factory, db):
    a = daemon_factory()
    b = daemon_factory()
    ep_t = add_therapist(db)
    c = add_client(db)
    out = {}

    def poll():
        t0 = time.monotonic()
        out["page"] = events(a, wait=20)
        out["took"] = time.monotonic() - t0

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(1.0)
    assert start_episode(b, c, ep_t).status == 201
    th.join(15)
    assert types_of(out["page"]) == ["episode.started"]
    assert out["took"] < 5.0, out["took"]


def test_long_poll_times_out_after_wait_even_past_the_request_timeout(daemon_factory):
    d = daemon_factory({"limits": {"request_timeout": 2}})
    t0 = time.monotonic()
    page = events(d, wait=3)
    took = time.monotonic() - t0
    assert page == {"events": [], "next": 0}
    assert 2.9 <= took < 5.0, took
    t0 = time.monotonic()
    assert events(d, wait=0) == {"events": [], "next": 0}
    assert time.monotonic() - t0 < 1.0


def test_events_need_the_intake_scope_and_valid_parameters(daemon, db):
    fb = make_token(db, "fb-only", "feedback")
    intake = make_token(db, "intake", "intake")
    wait_until(lambda: daemon.get("/v1/events", auth=intake).status == 200, 3,
               what="the tokens to be loaded")
    r = daemon.get("/v1/events", auth=fb)
    assert r.status == 403, r.text
    for q in ("after=-1", "after=x", "wait=61", "limit=0", "limit=1001"):
        r = daemon.get("/v1/events?" + q)
        assert r.status == 422, (q, r.text)
        assert r.json()["errors"][0]["field"] == q.split("=")[0]


def test_limit_pages_in_order(daemon, db):
    for _ in range(5):
        new_episode(daemon, db)
    seen, cursor = [], 0
    while True:
        page = daemon.get(f"/v1/events?after={cursor}&limit=2").json()
        if not page["events"]:
            break
        assert len(page["events"]) <= 2
        seen += [e["id"] for e in page["events"]]
        cursor = page["next"]
    assert seen == sorted(seen) and len(seen) == 5 and len(set(seen)) == 5


def status_events(d, episode, after=0):
    return [e["data"] for e in events(d, after=after)["events"]
            if e["type"] == "episode.status_changed" and e["data"]["episode_id"] == episode]


def test_story_judged_three_sessions_emits_refer(daemon, db):
    from episode_util import ors, srs
    ep, _, t = new_episode(daemon, db)
    assert feedback(daemon, ep["id"], a5(1, flags={"judged": True})).status == 200
    assert feedback(daemon, ep["id"], a5(2, open=2)).status == 200
    assert feedback(daemon, ep["id"], dict(ors(3), flags={"judged": True})).status == 200
    r = feedback(daemon, ep["id"], srs(3))
    assert (r.json()["status"], r.json()["action"]) == ("mismatch", "refer")
    changes = status_events(daemon, ep["id"])
    assert changes[-1]["new_status"] == "mismatch" and changes[-1]["action"] == "refer"
    assert changes[-1]["old_status"] != "mismatch"
    assert changes[-1]["therapist_id"] == t
    assert all(isinstance(x, str) and x for x in changes[-1]["reasons"])
    # One event per change, each starting where the last ended.
    for a, b in zip(changes, changes[1:]):
        assert a["new_status"] == b["old_status"]
    assert "score" not in json.dumps(changes)


def test_story_two_no_shows_emit_reach_out(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    for s in (1, 2, 3):
        assert feedback(daemon, ep["id"], a5(s)).status == 200
    before = events(daemon)["next"]
    assert attendance(daemon, ep["id"], 4, "no_show").status == 200
    assert status_events(daemon, ep["id"], after=before) == []  # still strong: no event
    r = attendance(daemon, ep["id"], 5, "no_show")
    assert (r.json()["status"], r.json()["action"]) == ("disengaging", "reach_out")
    changes = status_events(daemon, ep["id"], after=before)
    assert [(c["old_status"], c["new_status"], c["action"]) for c in changes] == [
        ("strong", "disengaging", "reach_out")]


def test_story_unsafe_emits_review_and_the_flag(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    r = feedback(daemon, ep["id"], a5(1, flags={"unsafe": True}))
    assert (r.json()["status"], r.json()["action"]) == ("unsafe", "review")
    page = events(daemon)
    mine = [(e["type"], e["data"].get("new_status"), e["data"].get("action"))
            for e in page["events"] if e["data"].get("episode_id") == ep["id"]]
    assert mine == [("episode.started", None, None), ("feedback.flagged", None, None),
                    ("episode.status_changed", "unsafe", "review")]
    # A retry of the same submission (same key) changes nothing and emits nothing.
    n = len(page["events"])
    key_r = feedback(daemon, ep["id"], a5(2), key="k-2")
    assert feedback(daemon, ep["id"], a5(2), key="k-2").json() == key_r.json()
    assert len(events(daemon)["events"]) <= n + 1


def test_a_failed_feedback_write_emits_no_status_event(daemon, db):
    ep, _, _ = new_episode(daemon, db)
    assert feedback(daemon, ep["id"], a5(1, flags={"unsafe": True})).status == 200
    n = rows(db, "SELECT count(*) FROM events")[0][0]
    # The same session again: the unique index refuses it, the transaction rolls back.
    r = feedback(daemon, ep["id"], a5(1, flags={"unsafe": True}))
    assert r.status == 409, r.text
    assert rows(db, "SELECT count(*) FROM events")[0][0] == n
    assert rows(db, "SELECT count(*) FROM feedback")[0][0] == 1


def test_cli_events_list(ctl, daemon, db):
    ep, _, _ = new_episode(daemon, db)
    assert feedback(daemon, ep["id"], a5(1, flags={"unsafe": True})).status == 200
    p = ctl("--json", "events", "list", daemon=daemon)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert [e["type"] for e in doc["events"]] == [
        "episode.started", "feedback.flagged", "episode.status_changed"]
    assert doc["next"] == doc["events"][-1]["id"]
    p = ctl("events", "list", "--after", str(doc["events"][0]["id"]), daemon=daemon)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert "TYPE" in lines[0] and len(lines) == 3, p.stdout
    assert "-> unsafe (review)" in p.stdout

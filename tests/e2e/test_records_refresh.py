"""Feedback moves the therapists' alliance records in the live catalog.

Feedback sends no NOTIFY; the daemon that stored it refreshes the records of
every therapist with new feedback in one batched statement within ~2 s.  Two
therapists identical in everything else tie on score, and a tie goes to the
lower id; once the second one's clients rate the alliance well and the first
one's badly, the second must rank first.
"""
import re

from conftest import wait_until
from episode_util import a5, add_client, api_therapist, feedback, poor, start_episode


def refreshes(d):
    m = re.search(r"^alliance_catalog_reloads_total (\S+)$", d.get("/metrics").text, re.M)
    return float(m.group(1))


def test_feedback_moves_alliance_records(daemon, db):
    d = daemon
    first = api_therapist(d, "T-R1")
    second = api_therapist(d, "T-R2")
    intake = {"languages": ["en"]}

    def top():
        r = d.post("/v1/match?limit=2", json_body=intake)
        assert r.status == 200, r.text
        return [m["therapist_id"] for m in r.json()["matches"]]

    wait_until(lambda: len(top()) == 2, 5, what="both therapists in the catalog")
    assert top() == [first, second]          # a tie goes to the lower id
    before = refreshes(d)
    for tid, rate in ((first, poor), (second, lambda s: a5(s, 10, 10, 10, 10, 10))):
        ep = start_episode(d, add_client(db), tid)
        assert ep.status == 201, ep.text
        for session in (1, 2, 3):
            r = feedback(d, ep.json()["id"], rate(session))
            assert r.status == 200, r.text
    wait_until(lambda: top() == [second, first], 6, interval=0.1,
               what="the well-rated therapist ranked first")
    assert refreshes(d) >= before + 2


def test_other_daemons_pick_up_records_on_their_refresh(daemon_factory, db):
    # Feedback sends no NOTIFY: a second daemon on the same database rereads
    # every therapist's records each engine.records_refresh seconds.
    a = daemon_factory({"engine": {"records_refresh": 1}})
    b = daemon_factory({"engine": {"records_refresh": 1}})
    first = api_therapist(a, "T-S1")
    second = api_therapist(a, "T-S2")
    intake = {"languages": ["en"]}

    def top(d):
        r = d.post("/v1/match?limit=2", json_body=intake)
        assert r.status == 200, r.text
        return [m["therapist_id"] for m in r.json()["matches"]]

    wait_until(lambda: len(top(b)) == 2, 5, what="both therapists in daemon B's catalog")
    assert top(b) == [first, second]
    for tid, rate in ((first, poor), (second, lambda s: a5(s, 10, 10, 10, 10, 10))):
        ep = start_episode(a, add_client(db), tid)
        assert ep.status == 201, ep.text
        for session in (1, 2, 3):
            assert feedback(a, ep.json()["id"], rate(session)).status == 200
    wait_until(lambda: top(b) == [second, first], 6, interval=0.1,
               what="daemon B ranks the well-rated therapist first")

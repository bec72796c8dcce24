"""Feedback moves the therapists' alliance records in the live catalog.

Feedback sends no NOTIFY.  The daemon that stored it refreshes the records of
every therapist with new feedback in one batched statement within ~2 s; every
other daemon rereads all records each engine.records_refresh seconds.  Two
therapists identical in everything else tie on score, and a tie goes to the
lower id; once the second one's clients rate the alliance well and the first
one's badly, the second must rank first.  The episodes are started (and their
NOTIFY reloads awaited) before any feedback, so only the records refresh can
change the ranking.
"""
import re

from conftest import wait_until
from episode_util import a5, add_client, api_therapist, feedback, poor, start_episode

INTAKE = {"languages": ["en"]}


def reloads(d):
    m = re.search(r"^alliance_catalog_reloads_total (\S+)$", d.get("/metrics").text, re.M)
    return float(m.group(1))


def top(d):
    r = d.post("/v1/match?limit=2", json_body=INTAKE)
    assert r.status == 200, r.text
    return [m["therapist_id"] for m in r.json()["matches"]]


def two_therapists_with_episodes(writer, readers, db):
    """Two tied therapists, an active episode each; returns (first, second, episodes)
    once every reader's catalog has reloaded both after the episodes started."""
    first = api_therapist(writer, "T-R1")
    second = api_therapist(writer, "T-R2")
    for d in readers:
        wait_until(lambda: len(top(d)) == 2, 5, what="both therapists in the catalog")
        assert top(d) == [first, second]          # a tie goes to the lower id
    before = [reloads(d) for d in readers]
    episodes = []
    for tid in (first, second):
        ep = start_episode(writer, add_client(db), tid)
        assert ep.status == 201, ep.text
        episodes.append(ep.json()["id"])
    for d, b in zip(readers, before):
        wait_until(lambda: reloads(d) >= b + 2, 5, what="the episodes' NOTIFY reloads")
    return first, second, episodes


def rate(d, episodes):
    """Poor sessions for the first episode, excellent ones for the second."""
    for ep, body in ((episodes[0], poor), (episodes[1], lambda s: a5(s, 10, 10, 10, 10, 10))):
        for session in (1, 2, 3):
            r = feedback(d, ep, body(session))
            assert r.status == 200, r.text


def test_feedback_moves_alliance_records(daemon, db):
    d = daemon
    first, second, episodes = two_therapists_with_episodes(d, [d], db)
    mid = reloads(d)
    rate(d, episodes)
    wait_until(lambda: top(d) == [second, first], 6, interval=0.1,
               what="the well-rated therapist ranked first")
    assert reloads(d) >= mid + 2            # one batch, both therapists' records


def test_other_daemons_pick_up_records_on_their_refresh(daemon_factory, db):
    a = daemon_factory({"engine": {"records_refresh": 1}})
    b = daemon_factory({"engine": {"records_refresh": 1}})
    first, second, episodes = two_therapists_with_episodes(a, [a, b], db)
    rate(a, episodes)
    wait_until(lambda: top(b) == [second, first], 6, interval=0.1,
               what="daemon B ranks the well-rated therapist first")

"""The in-memory catalog: loaded in full at start and after every reconnect,
kept current through LISTEN/NOTIFY, so that two daemons on one database see
each other's therapist changes within a second, and caseloads and records
follow episodes and feedback."""

import json
import time

import pytest

from conftest import wait_until
from therapist_util import (create, insert_client, insert_episode, metrics, rows, send,
                            therapist, wait_catalog_ready)

WITHIN = 1.0    # several daemons on one database: a therapist change reaches the others within 1 s


@pytest.fixture
def pair(daemon, daemon_factory):
    """Two daemons on one database, both with their catalog loaded."""
    b = daemon_factory()
    wait_catalog_ready(daemon)
    wait_catalog_ready(b)
    return daemon, b


def match(d, intake):
    r = d.post("/v1/match?limit=50", json_body=intake)
    assert r.status == 200, r
    return r.json()


def matched_ids(d, intake):
    return [m["therapist_id"] for m in match(d, intake)["matches"]]


def test_full_load_at_start_logs_one_line(daemon_factory, db):
    a = daemon_factory()
    wait_catalog_ready(a)
    create(a, "T-1")
    create(a, "T-2")
    b = daemon_factory()
    wait_catalog_ready(b)
    assert metrics(b)["alliance_catalog_therapists"] == 2
    assert metrics(b)["alliance_catalog_full_loads_total"] == 1
    b.wait_for_log(r"catalog: 2 therapists loaded in \d+ ms")
    # A's catalog followed by single reloads, not by loading everything again.
    assert metrics(a)["alliance_catalog_full_loads_total"] == 1
    assert metrics(a)["alliance_catalog_therapists"] == 2


def test_create_on_one_daemon_is_seen_by_the_other_within_1s(pair):
    a, b = pair
    t0 = time.monotonic()
    t = create(a, "T-1", languages=["es"])
    wait_until(lambda: t["id"] in matched_ids(b, {"languages": ["es"]}), WITHIN,
               what="therapist matched on daemon B")
    m = match(b, {"languages": ["es"]})["matches"][0]
    assert m["external_ref"] == "T-1" and m["display_name"] == "Ana Ruiz"
    assert time.monotonic() - t0 < WITHIN + 0.5


def test_update_on_one_daemon_is_seen_by_the_other_within_1s(pair):
    a, b = pair
    t = create(a, "T-1", languages=["es"])
    wait_until(lambda: metrics(b)["alliance_catalog_therapists"] == 1, WITHIN, what="loaded")
    reloads = metrics(b)["alliance_catalog_reloads_total"]
    r = send(a, "PATCH", f"/v1/therapists/{t['id']}",
             {"languages": ["fr"], "display_name": "Ana F."})
    assert r.status == 200, r
    wait_until(lambda: t["id"] in matched_ids(b, {"languages": ["fr"]}), WITHIN,
               what="update visible on daemon B")
    res = match(b, {"languages": ["es"]})
    assert res["matches"] == [] and res["excluded"].get("language") == 1
    assert match(b, {"languages": ["fr"]})["matches"][0]["display_name"] == "Ana F."
    # By a reload of that therapist, not by loading everything again.
    assert metrics(b)["alliance_catalog_reloads_total"] > reloads
    assert metrics(b)["alliance_catalog_full_loads_total"] == 1


def test_writer_sees_its_own_write_at_once(daemon):
    wait_catalog_ready(daemon)
    t = create(daemon, "T-1", languages=["es"])
    # No wait: the write's answer went into this daemon's catalog before the reply.
    assert t["id"] in matched_ids(daemon, {"languages": ["es"]})
    send(daemon, "PATCH", f"/v1/therapists/{t['id']}", {"accepting_new": False})
    assert match(daemon, {"languages": ["es"]})["excluded"].get("not_accepting") == 1


def test_retired_therapist_stays_in_the_catalog_as_inactive(pair):
    a, b = pair
    t = create(a, "T-1")
    wait_until(lambda: metrics(b)["alliance_catalog_therapists"] == 1, WITHIN, what="loaded")
    assert a.request("DELETE", f"/v1/therapists/{t['id']}").status == 200
    wait_until(lambda: match(b, {})["excluded"].get("inactive") == 1, WITHIN,
               what="retired therapist counted as inactive on daemon B")
    assert match(b, {})["matches"] == []
    assert metrics(b)["alliance_catalog_therapists"] == 1


def test_caseload_follows_episodes_inserted_with_sql(pair, db):
    a, b = pair
    t = create(a, "T-1", capacity=1)
    wait_until(lambda: metrics(b)["alliance_catalog_therapists"] == 1, WITHIN, what="loaded")
    c = insert_client(db, "C-1")
    e = insert_episode(db, c, t["id"])      # the episodes trigger NOTIFYs
    wait_until(lambda: match(b, {})["excluded"].get("not_accepting") == 1, WITHIN,
               what="caseload at capacity on daemon B")
    # Ending the episode frees the slot again.
    with db.cursor() as cur:
        cur.execute("UPDATE episodes SET status = 'ended', ended_at = now(), "
                    "end_reason = 'completed' WHERE id = %s", (e,))
    wait_until(lambda: t["id"] in matched_ids(b, {}), WITHIN, what="slot freed")


def test_postgres_restart_triggers_a_full_reload(pair, pg, db):
    a, b = pair
    t = create(a, "T-1", languages=["es"])
    wait_until(lambda: metrics(b)["alliance_catalog_therapists"] == 1, WITHIN, what="loaded")
    loads = {d: metrics(d)["alliance_catalog_full_loads_total"] for d in (a, b)}
    pg.stop()
    pg.start()
    for d in (a, b):
        wait_until(lambda: metrics(d)["alliance_catalog_full_loads_total"] > loads[d], 15,
                   what="a full reload after the restart")
        assert metrics(d)["alliance_catalog_therapists"] == 1
        assert metrics(d)["alliance_catalog_ready"] == 1
    # And NOTIFYs flow again on the new LISTEN connection.
    t2 = create(a, "T-2")
    wait_until(lambda: metrics(b)["alliance_catalog_therapists"] == 2, WITHIN,
               what="change after the restart seen by daemon B")
    assert t["id"] in matched_ids(b, {"languages": ["es"]})
    assert t2["id"] in matched_ids(b, {})


def _feedback(db, episode, session, index=None, ors=None):
    with db.cursor() as cur:
        if ors is None:
            cur.execute("INSERT INTO feedback (episode_id, session, instrument, items, "
                        "occurred_at, alliance_index, trust_signal) VALUES "
                        "(%s, %s, 'alliance5', '{}', now(), %s, %s)",
                        (episode, session, index, index))
        else:
            cur.execute("INSERT INTO feedback (episode_id, session, instrument, items, "
                        "occurred_at, ors_total) VALUES (%s, %s, 'ors', '{}', now(), %s)",
                        (episode, session, ors))


def test_records_load_from_episodes_and_feedback(daemon_factory, db):
    a = daemon_factory()
    wait_catalog_ready(a)
    good = create(a, "T-good", concerns={"trauma": 2})
    poor = create(a, "T-poor", concerns={"trauma": 2})
    prefs = {"external_ref": "C", "concerns": [{"tag": "trauma", "priority": 3}]}
    for i in range(6):
        for t, idx, ors in ((good, 95, (10, 30)), (poor, 30, (20, 19))):
            c = insert_client(db, f"C-{t['external_ref']}-{i}", dict(prefs, external_ref="x"))
            e = insert_episode(db, c, t["id"])
            _feedback(db, e, 1, index=idx)
            _feedback(db, e, 2, index=idx)
            _feedback(db, e, 1, ors=ors[0])
            _feedback(db, e, 2, ors=ors[1])
            with db.cursor() as cur:
                cur.execute("UPDATE episodes SET status = 'ended', ended_at = now(), "
                            "end_reason = 'completed' WHERE id = %s", (e,))
    # A fresh daemon loads everything in one query, records included.
    b = daemon_factory()
    wait_catalog_ready(b)
    assert metrics(b)["alliance_catalog_therapists"] == 2
    assert "records refused" not in b.log_text() and "full load failed" not in b.log_text()
    res = match(b, {"concerns": [{"tag": "trauma", "priority": 3}]})
    ranked = [m["therapist_id"] for m in res["matches"]]
    assert ranked == [good["id"], poor["id"]], res
    top, low = res["matches"]
    assert top["components"]["alliance_record"] > low["components"]["alliance_record"]
    assert top["components"]["outcome_record"] > low["components"]["outcome_record"]
    # Daemon A got the same through NOTIFYs (episodes) while the rows were written;
    # feedback itself does not notify, so A is only as fresh as its last reload.
    assert rows(db, "SELECT count(*) FROM feedback") == [(48,)]


def test_reload_after_sighup_vocabulary_change(daemon_factory, db):
    import signal
    a = daemon_factory()
    wait_catalog_ready(a)
    create(a, "T-1", modalities=["emdr"])
    loads = metrics(a)["alliance_catalog_full_loads_total"]
    a.write_config({"vocabulary": {"modalities": ["emdr", "cbt", "light_therapy"]}})
    a.signal(signal.SIGHUP)
    wait_until(lambda: metrics(a)["alliance_catalog_full_loads_total"] > loads, 5,
               what="a full reload after the vocabulary changed")
    # The reload says why it loaded everything again.
    a.wait_for_log(r"reload: the vocabulary or the outcome rule changed")
    assert metrics(a)["alliance_catalog_therapists"] == 1
    r = a.post("/v1/therapists", json_body=therapist("T-2", modalities=["light_therapy"]))
    assert r.status == 201, r
    assert json.loads(r.body)["modalities"] == ["light_therapy"]

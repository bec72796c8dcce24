"""A network of clinics: no fixed limit on sites, payers, languages or genders
in the catalog, and a therapist the catalog cannot hold is reported by /readyz
and /metrics, never a silent miss (issue 12)."""

import string

from conftest import wait_until
from match_util import add_therapists, therapist
from therapist_util import metrics, rows, wait_catalog_ready

N = 70
LANGS = [a + b for a in string.ascii_lowercase for b in string.ascii_lowercase][:N]


def labelled(i):
    return therapist(f"T-{i}", sites=[f"site-{i}"], payers=[f"payer-{i}"],
                     languages=[LANGS[i]], gender=f"gender-{i}", self_pay_fee=None)


def match(d, body, limit=50):
    r = d.post(f"/v1/match?limit={limit}", json_body=body)
    assert r.status == 200, r
    return r.json()


def test_the_40th_site_payer_and_70th_language_are_matched_like_any_other(daemon, db):
    ids = add_therapists(daemon, db, *[labelled(i) for i in range(N)])
    assert match(daemon, {})["considered"] == N
    # The 40th site and the 40th payer (index 39): exactly that therapist,
    # not one whose label folds onto the same bit (index 7 with 32 bits).
    res = match(daemon, {"sites": ["site-39"], "payment": {"payer": "payer-39"}})
    assert [m["therapist_id"] for m in res["matches"]] == [ids[39]]
    assert res["excluded"].get("payment") == N - 1
    res = match(daemon, {"formats": ["in_person"], "sites": ["site-39"]})
    assert [m["therapist_id"] for m in res["matches"]] == [ids[39]]
    assert res["excluded"].get("format") == N - 1
    res = match(daemon, {"formats": ["in_person"], "sites": ["site-39"],
                         "payment": {"payer": "payer-7"}})
    assert res["matches"] == []
    # The 70th language (index 69 folds onto 5 with 64 bits).
    res = match(daemon, {"languages": [LANGS[69]]})
    assert [m["therapist_id"] for m in res["matches"]] == [ids[69]]
    assert res["excluded"].get("language") == N - 1
    reasons = res["matches"][0]["reasons"]
    assert any(x.startswith("speaks") for x in reasons), reasons
    res = match(daemon, {"languages": [LANGS[5]]})
    assert [m["therapist_id"] for m in res["matches"]] == [ids[5]]
    # The 66th gender (index 65 folds onto 2 with 63 bits), required.
    res = match(daemon, {"gender": {"prefer": ["gender-65"], "required": True}})
    assert [m["therapist_id"] for m in res["matches"]] == [ids[65]]
    assert metrics(daemon)["alliance_catalog_therapists_not_loaded"] == 0


def test_a_therapist_the_catalog_cannot_hold_is_reported(daemon_factory, db):
    a = daemon_factory()
    wait_catalog_ready(a)
    (good,) = add_therapists(a, db, labelled(1))
    # The database allows a 64-byte gender, the reader 31 bytes: stored by
    # another tool, this profile cannot be loaded.
    bad = rows(db, "INSERT INTO therapists (external_ref, display_name, gender) "
                   "VALUES ('T-bad', 'Bad', repeat('g', 40)) RETURNING id")[0][0]
    b = daemon_factory()
    wait_catalog_ready(b)
    r = b.get("/readyz")
    assert r.status == 200, r
    cat = r.json()["catalog"]
    assert cat["therapists"] == 1 and cat["not_loaded"] == 1, cat
    assert cat["not_loaded_ids"] == [bad]
    assert metrics(b)["alliance_catalog_therapists_not_loaded"] == 1
    b.wait_for_log(r"catalog: 1 therapists could not be loaded")
    # The running daemon learns it from the NOTIFY's reload.
    wait_until(lambda: metrics(a)["alliance_catalog_therapists_not_loaded"] == 1, 2,
               what="daemon A counts the therapist it cannot hold")
    # Fixed in the database: loaded and no longer reported.
    rows(db, "UPDATE therapists SET gender = 'female' WHERE id = %s RETURNING id", (bad,))
    for d in (a, b):
        wait_until(lambda: metrics(d)["alliance_catalog_therapists_not_loaded"] == 0, 2,
                   what="fixed therapist loaded")
        assert d.get("/readyz").json()["catalog"]["not_loaded_ids"] == []
        assert match(d, {})["considered"] == 2
    assert good


def test_a_network_loads_in_pages_and_matches_whole(daemon_factory, db):
    """The full load reads pages of 400 therapists, each applied in one loop
    turn: 1,001 therapists (three pages, the last of one) all load, once."""
    rows(db, "INSERT INTO therapists (external_ref, display_name, languages, formats, "
             "populations, capacity) SELECT 'T-' || g, 'T', '{en}', '{video}', '{adult}', 5 "
             "FROM generate_series(1, 1001) g RETURNING id")
    d = daemon_factory()
    wait_catalog_ready(d)
    m = metrics(d)
    assert m["alliance_catalog_therapists"] == 1001
    assert m["alliance_catalog_full_loads_total"] == 1
    assert match(d, {"languages": ["en"]})["considered"] == 1001
    d.wait_for_log(r"catalog: 1001 therapists loaded in \d+ ms")

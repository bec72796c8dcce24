"""config/sample-clinic.json (loaded by `make run`): well-formed therapist
objects of the API that together use the whole vocabulary, and the loader
`make run` uses (tests/scripts/load-sample.py) puts them in place."""

import json
import os
import re

import pytest

from conftest import REPO

CLINIC = os.path.join(REPO, "config", "sample-clinic.json")
CONFIG = os.path.join(REPO, "config", "allianced.yaml")

# docs/matching.md "Vocabulary" (the built-in defaults).
BUILT_IN_VOCAB = {
    "concerns": "anxiety depression trauma grief relationships couples family substance_use "
                "eating ocd bipolar adhd self_esteem stress life_transitions identity parenting "
                "anger sleep chronic_illness".split(),
    "modalities": "cbt dbt act emdr psychodynamic person_centered ifs schema mindfulness "
                  "solution_focused narrative gottman eft somatic exposure "
                  "motivational_interviewing".split(),
    "formats": "in_person video phone".split(),
    "populations": "child teen adult older_adult couple family".split(),
    "identity": "lgbtq_affirming bipoc faith_based neurodivergent_affirming "
                "veteran_informed".split(),
}

FIELDS = {"external_ref", "display_name", "gender", "languages", "concerns", "modalities",
          "formats", "sites", "populations", "identity", "style", "availability", "payers",
          "self_pay_fee", "sliding_scale", "capacity", "accepting_new", "active"}
STYLE_AXES = {"directiveness", "emotional_intensity", "past_orientation", "challenge"}
DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}


def therapists():
    with open(CLINIC, encoding="utf-8") as f:
        data = json.load(f)
    return data["therapists"] if isinstance(data, dict) else data


def used(ts, key):
    out = set()
    for t in ts:
        v = t[key]
        out |= set(v) if isinstance(v, (list, dict)) else {v}
    return out


def config_vocab():
    yaml = pytest.importorskip("yaml")
    if not os.path.exists(CONFIG):
        pytest.skip("config/allianced.yaml not written yet")
    with open(CONFIG, encoding="utf-8") as f:
        cfg = yaml.safe_load(f) or {}
    voc = cfg.get("vocabulary") or {}
    out = {}
    for k in BUILT_IN_VOCAB:
        v = voc.get(k)
        if v is None:
            continue
        out[k] = v.split() if isinstance(v, str) else list(v)
    return out


def test_at_least_30_well_formed_profiles():
    ts = therapists()
    assert len(ts) >= 30
    refs = [t["external_ref"] for t in ts]
    assert len(set(refs)) == len(refs)
    assert refs[0] == "T-1001"
    for t in ts:
        where = t.get("external_ref")
        assert set(t) == FIELDS, (where, set(t) ^ FIELDS)
        assert re.fullmatch(r"T-\d{4}", t["external_ref"]), where
        assert t["display_name"].strip() and isinstance(t["gender"], str), where
        assert t["languages"] and all(re.fullmatch(r"[a-z]{2}", x) for x in t["languages"]), where
        assert t["concerns"] and all(v in (1, 2) for v in t["concerns"].values()), where
        assert set(t["style"]) == STYLE_AXES, where
        assert all(isinstance(v, int) and -3 <= v <= 3 for v in t["style"].values()), where
        assert t["formats"] and t["populations"], where
        # In person needs a site; video or phone only needs none.
        assert bool(t["sites"]) == ("in_person" in t["formats"]), where
        assert t["availability"], where
        for a in t["availability"]:
            assert set(a) == {"day", "from", "to"} and a["day"] in DAYS, (where, a)
            assert re.fullmatch(r"([01]\d|2[0-4]):00", a["from"]), (where, a)
            assert re.fullmatch(r"([01]\d|2[0-4]):00", a["to"]), (where, a)
            assert a["from"] < a["to"], (where, a)
        assert isinstance(t["payers"], list), where
        assert isinstance(t["self_pay_fee"], int) and t["self_pay_fee"] > 0, where
        assert isinstance(t["sliding_scale"], bool), where
        assert isinstance(t["capacity"], int) and t["capacity"] > 0, where
        assert isinstance(t["accepting_new"], bool) and isinstance(t["active"], bool), where
    # Some profiles exercise the hard filters.
    assert any(not t["active"] for t in ts)
    assert any(not t["accepting_new"] for t in ts)


@pytest.mark.parametrize("vocab,key", [("concerns", "concerns"), ("modalities", "modalities"),
                                       ("formats", "formats"), ("populations", "populations"),
                                       ("identity", "identity")])
def test_design_vocabulary_fully_used(vocab, key):
    ts = therapists()
    u = used(ts, key)
    allowed = set(BUILT_IN_VOCAB[vocab])
    assert u <= allowed, f"tags outside the vocabulary: {sorted(u - allowed)}"
    assert u == allowed, f"{vocab} never used: {sorted(allowed - u)}"


def test_config_vocabulary_fully_used():
    voc = config_vocab()
    assert voc, "config/allianced.yaml has no vocabulary section"
    ts = therapists()
    for vocab, words in voc.items():
        u = used(ts, vocab)
        assert u == set(words), (vocab, "unused:", sorted(set(words) - u),
                                 "unknown:", sorted(u - set(words)))


def _hours(slots):
    """A weekly availability as a set of (day, hour): runs may be split or merged."""
    return {(a["day"], h) for a in slots for h in range(int(a["from"][:2]), int(a["to"][:2]))}


def _as_api(t):
    """A sample profile as the API shows it (nulls left out, availability as hours)."""
    out = {k: v for k, v in t.items() if v is not None and k != "availability"}
    out["availability"] = _hours(t["availability"])
    return out


def test_the_loader_make_run_uses_puts_the_clinic_in_place(daemon, db):
    import subprocess

    from conftest import wait_until
    from therapist_util import metrics, wait_catalog_ready

    wait_catalog_ready(daemon)
    loader = os.path.join(REPO, "tests", "scripts", "load-sample.py")
    ts = therapists()

    def load():
        p = subprocess.run(["/usr/bin/python3", loader, db.dsn, CLINIC], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert f"sample clinic: {len(ts)} therapists loaded" in p.stdout, p.stdout
        with db.cursor() as cur:
            cur.execute("SELECT external_ref, id FROM therapists ORDER BY id")
            return dict(cur.fetchall())

    ids = load()
    assert set(ids) == {t["external_ref"] for t in ts}
    # The daemon follows (NOTIFY) and shows each profile as the file wrote it.
    wait_until(lambda: metrics(daemon)["alliance_catalog_therapists"] == len(ts), 5,
               what="the sample clinic in the daemon's catalog")
    for t in ts:
        r = daemon.get(f"/v1/therapists/{ids[t['external_ref']]}")
        assert r.status == 200, r
        got = r.json()
        assert got.pop("id") == ids[t["external_ref"]]
        assert _as_api(got) == _as_api(t), t["external_ref"]
    # make run may run it again: nothing changes.
    assert load() == ids

"""alliancectl therapist list|show|add|update|set|retire|import and
colleague link|unlink|list, against the real daemon."""

import json
import re

from cli_util import alliancectl_bin, as_json, ctl, ok  # noqa: F401 (fixtures)

ANA = """\
external_ref: T-1001
display_name: Ana Ruiz
gender: female
languages: [en, es]
concerns: {trauma: 2, anxiety: 1}
modalities: [emdr, cbt]
formats: [video]
capacity: 25
"""


def stored(daemon, ref):
    for t in daemon.get("/v1/therapists?limit=500").json()["therapists"]:
        if t["external_ref"] == ref:
            return t
    return None


def test_add_show_set_update_retire(ctl, daemon, tmp_path):
    f = tmp_path / "ana.yaml"
    f.write_text(ANA)
    assert ok(ctl("therapist", "add", str(f), daemon=daemon)).strip() == \
        "therapist 1 (T-1001): created"
    out = ok(ctl("therapist", "show", "T-1001", daemon=daemon))
    assert re.search(r"^display_name\s+Ana Ruiz$", out, re.M)
    assert re.search(r"^languages\s+en, es$", out, re.M)
    # Again: the daemon refuses the duplicate, the problem goes to stderr, exit 2.
    p = ctl("therapist", "add", str(f), daemon=daemon)
    assert p.returncode == 2 and "409" in p.stderr and p.stdout == ""

    ok(ctl("therapist", "set", "T-1001", "accepting_new=false", "capacity=20",
           'languages=["es"]', daemon=daemon))
    t = stored(daemon, "T-1001")
    assert (t["accepting_new"], t["capacity"], t["languages"]) == (False, 20, ["es"])
    p = ctl("therapist", "set", "1", "capacity=-3", daemon=daemon)
    assert p.returncode == 2 and re.search(r"^  capacity: ", p.stderr, re.M)
    p = ctl("therapist", "set", "1", "nonsense", daemon=daemon)
    assert p.returncode == 1

    f.write_text(ANA.replace("Ana Ruiz", "Ana Ruiz-Soto"))
    ok(ctl("therapist", "update", "1", str(f), daemon=daemon))
    t = stored(daemon, "T-1001")
    assert t["display_name"] == "Ana Ruiz-Soto" and t["accepting_new"] is True

    assert "retired" in ok(ctl("therapist", "retire", "T-1001", daemon=daemon))
    assert stored(daemon, "T-1001")["active"] is False
    p = ctl("therapist", "show", "T-4040", daemon=daemon)
    assert p.returncode == 2 and 'no therapist with id or external_ref "T-4040"' in p.stderr
    p = ctl("therapist", "show", "99", daemon=daemon)
    assert p.returncode == 2 and "404" in p.stderr


def test_list_filters_and_pages(ctl, daemon):
    for i in range(1, 8):
        body = {"external_ref": f"T-{i}", "display_name": f"Therapist {i}",
                "languages": ["en", "es"] if i % 2 else ["en"],
                "concerns": {"trauma": 2} if i <= 3 else {"grief": 1},
                "accepting_new": i != 2, "active": i != 7}
        assert daemon.post("/v1/therapists", json_body=body).status == 201
    refs = lambda out: re.findall(r"\bT-\d+\b", out)  # noqa: E731
    assert refs(ok(ctl("therapist", "list", daemon=daemon))) == [f"T-{i}" for i in range(1, 8)]
    assert refs(ok(ctl("therapist", "list", "--active", daemon=daemon))) == \
        [f"T-{i}" for i in range(1, 7)]
    assert refs(ok(ctl("therapist", "list", "--accepting", "--concern", "trauma",
                       daemon=daemon))) == ["T-1", "T-3"]
    assert refs(ok(ctl("therapist", "list", "--language", "es", "--active",
                       daemon=daemon))) == ["T-1", "T-3", "T-5"]
    assert "CONCERNS" in ok(ctl("therapist", "list", daemon=daemon)).splitlines()[0]


def test_list_pages_through_next(ctl, daemon):
    for i in range(1, 506):
        assert daemon.post("/v1/therapists", json_body={
            "external_ref": f"T-{i}", "display_name": f"T {i}"}).status == 201
    j = as_json(ctl("therapist", "list", "--json", daemon=daemon))
    assert len(j["therapists"]) == 505 and j["next"] is None


ROSTER_BAD_MIDDLE = """\
therapists:
  - external_ref: T-1
    display_name: One
    languages: [en]
  - external_ref: T-2
    display_name: Two
    languages: [english]
  - external_ref: T-3
    display_name: Three
    capacity: 12
"""


def test_import_yaml_bad_record_in_the_middle(ctl, daemon, tmp_path):
    f = tmp_path / "roster.yaml"
    f.write_text(ROSTER_BAD_MIDDLE)
    p = ctl("therapist", "import", str(f), daemon=daemon)
    assert p.returncode == 2
    assert p.stdout.strip() == "2 created, 0 updated, 0 unchanged, 1 failed"
    assert re.search(rf"^{re.escape(str(f))}:5: T-2: languages\[0\]: ", p.stderr, re.M)
    assert stored(daemon, "T-1") and stored(daemon, "T-3")["capacity"] == 12
    assert stored(daemon, "T-2") is None
    # Fixed and imported again: T-2 created, the others left alone.
    f.write_text(ROSTER_BAD_MIDDLE.replace("[english]", "[en]"))
    p = ctl("therapist", "import", str(f), daemon=daemon)
    assert p.returncode == 0 and p.stdout.strip() == "1 created, 0 updated, 2 unchanged, 0 failed"
    # A change is an update.
    f.write_text(ROSTER_BAD_MIDDLE.replace("[english]", "[en]").replace("12", "14"))
    out = ok(ctl("therapist", "import", str(f), daemon=daemon))
    assert out.strip() == "0 created, 1 updated, 2 unchanged, 0 failed"
    assert stored(daemon, "T-3")["capacity"] == 14


def test_import_sample_clinic_twice_is_all_unchanged(ctl, daemon):
    out = ok(ctl("therapist", "import", "config/sample-clinic.json", daemon=daemon))
    assert out.strip() == "34 created, 0 updated, 0 unchanged, 0 failed"
    out = ok(ctl("therapist", "import", "config/sample-clinic.json", daemon=daemon))
    assert out.strip() == "0 created, 0 updated, 34 unchanged, 0 failed"
    out = ok(ctl("therapist", "import", "config/sample-roster.csv", daemon=daemon))
    assert out.strip() == "4 created, 0 updated, 0 unchanged, 0 failed"
    out = ok(ctl("therapist", "import", "config/sample-roster.csv", daemon=daemon))
    assert out.strip() == "0 created, 0 updated, 4 unchanged, 0 failed"
    t = stored(daemon, "T-2004")
    assert t["display_name"] == 'Grace "GG" Ito'
    assert t["concerns"] == {"anxiety": 2, "ocd": 2}
    assert t["style"]["directiveness"] == 2 and t["self_pay_fee"] == 160
    assert {"day": "wed", "from": "12:00", "to": "18:00"} in t["availability"]


CSV_BAD_MIDDLE = """\
external_ref,display_name,languages,concerns,capacity,availability
T-1,"Ruiz, Ana",en;es,trauma:2;anxiety,20,mon 09:00-12:00
T-2,Bell,en,couples:2,lots,
T-3,"Multi
Line",en,,10,
T-4,Okafor,en,grief:9,10,
T-5,Five,en,,,tue 09:00-10:00;tue 10:00-12:00
"""


def test_import_csv_reports_line_and_field(ctl, daemon, tmp_path):
    f = tmp_path / "roster.csv"
    f.write_text(CSV_BAD_MIDDLE)
    p = ctl("therapist", "import", str(f), daemon=daemon)
    assert p.returncode == 2
    assert p.stdout.strip() == "3 created, 0 updated, 0 unchanged, 2 failed"
    assert re.search(rf"^{re.escape(str(f))}:3: T-2: capacity: \"lots\" is not an integer",
                     p.stderr, re.M)
    assert re.search(rf"^{re.escape(str(f))}:6: T-4: concerns\.grief: ", p.stderr, re.M)
    t1 = stored(daemon, "T-1")
    assert t1["display_name"] == "Ruiz, Ana" and t1["languages"] == ["en", "es"]
    assert t1["concerns"] == {"trauma": 2, "anxiety": 1}
    assert stored(daemon, "T-3")["display_name"] == "Multi\nLine"
    p = ctl("therapist", "import", str(f), daemon=daemon)
    assert p.stdout.strip() == "0 created, 0 updated, 3 unchanged, 2 failed"


def test_import_unknown_column_and_dry_run(ctl, daemon, tmp_path):
    f = tmp_path / "roster.csv"
    f.write_text("external_ref,display_nam\nT-1,x\n")
    p = ctl("therapist", "import", str(f), daemon=daemon)
    assert p.returncode == 1 and 'unknown column "display_nam"' in p.stderr
    g = tmp_path / "roster.json"
    g.write_text(json.dumps([{"external_ref": "T-1", "display_name": "One"},
                             {"display_name": "no ref"}]))
    p = ctl("therapist", "import", "--dry-run", str(g), daemon=daemon)
    assert p.returncode == 2
    assert p.stdout.strip() == ("dry run: would be 1 created, 0 updated, 0 unchanged, "
                                "1 failed")
    assert re.search(r"roster\.json:1: \(no ref\): external_ref: required", p.stderr)
    assert daemon.get("/v1/therapists").json()["therapists"] == []
    j = json.loads(ctl("therapist", "import", str(g), "--json", daemon=daemon).stdout)
    assert (j["created"], j["failed"]) == (1, 1)
    assert j["errors"][0]["field"] == "external_ref"


def test_colleagues(ctl, daemon):
    for i in (1, 2, 3):
        daemon.post("/v1/therapists", json_body={"external_ref": f"T-{i}",
                                                 "display_name": f"T {i}"})
    ok(ctl("colleague", "link", "T-1", "T-2", "--for", "emdr,trauma", daemon=daemon))
    ok(ctl("colleague", "link", "T-1", "3", daemon=daemon))
    assert sorted(daemon.get("/v1/therapists/1/colleagues").json(),
                  key=lambda c: c["therapist_id"]) == [
        {"therapist_id": 2, "for": ["emdr", "trauma"]}, {"therapist_id": 3, "for": []}]
    out = ok(ctl("colleague", "list", "T-1", daemon=daemon))
    assert re.search(r"^\s*2 emdr, trauma$", out, re.M) and re.search(r"^\s*3 any$", out, re.M)
    ok(ctl("colleague", "unlink", "T-1", "T-2", daemon=daemon))
    assert [c["therapist_id"] for c in daemon.get("/v1/therapists/1/colleagues").json()] == [3]
    p = ctl("colleague", "unlink", "T-1", "T-2", daemon=daemon)
    assert p.returncode == 2
    assert json.loads(ok(ctl("colleague", "list", "1", "--json", daemon=daemon))) == \
        daemon.get("/v1/therapists/1/colleagues").json()

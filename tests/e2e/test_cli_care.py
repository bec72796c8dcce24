"""alliancectl client show|add, match, episode start|end|show, feedback add,
attendance, alliance, referrals, report alliance|at-risk."""

import json
import re

from cli_util import alliancectl_bin, as_json, ctl, ok  # noqa: F401 (fixtures)

POOR = ["--instrument", "srs", "relationship=5", "goals=6", "approach=4", "overall=5",
        "--flag", "judged"]


def therapists(daemon, n=3):
    for i in range(1, n + 1):
        r = daemon.post("/v1/therapists", json_body={
            "external_ref": f"T-{i}", "display_name": f"Therapist {i}",
            "languages": ["es"] if i != 3 else ["en"], "concerns": {"trauma": 2},
            "modalities": ["emdr"] if i == 2 else ["cbt"], "formats": ["video"]})
        assert r.status == 201


def client(ctl, daemon, tmp_path):
    f = tmp_path / "intake.yaml"
    f.write_text("external_ref: C-1\nlanguages: [es]\nconcerns:\n  - {tag: trauma, priority: 3}\n")
    assert ok(ctl("client", "add", str(f), daemon=daemon)).strip() == "client 1 (C-1): created"
    return f


def test_client_add_show(ctl, daemon, tmp_path):
    f = client(ctl, daemon, tmp_path)
    assert ok(ctl("client", "add", str(f), daemon=daemon)).strip() == "client 1 (C-1): updated"
    out = ok(ctl("client", "show", "1", daemon=daemon))
    assert re.search(r"^external_ref\s+C-1$", out, re.M)
    assert as_json(ctl("client", "show", "1", "--json", daemon=daemon)) == \
        daemon.get("/v1/clients/1").json()
    p = ctl("client", "show", "C-1", daemon=daemon)
    assert p.returncode == 1 and "by its id" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"external_ref": "C-2", "concerns": [{"tag": "trauma", "priority": 7}]}')
    p = ctl("client", "add", str(bad), daemon=daemon)
    assert p.returncode == 2
    assert re.search(r"^  concerns\[0\]\.priority: ", p.stderr, re.M)


def test_match_stored_and_stateless(ctl, daemon, tmp_path):
    therapists(daemon)
    f = client(ctl, daemon, tmp_path)
    out = ok(ctl("match", "1", "--limit", "1", daemon=daemon))
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["#", "ID", "REF", "NAME", "SCORE"]
    assert re.match(r"\s*1\s+[12] T-[12] ", lines[1]) and len(lines) == 3
    assert re.search(r"^considered 3; excluded: language 1$", out, re.M)
    j = as_json(ctl("match", "--intake", str(f), "--json", daemon=daemon))
    assert {m["external_ref"] for m in j["matches"]} == {"T-1", "T-2"}
    assert j["excluded"] == {"language": 1}
    nobody = tmp_path / "nobody.json"
    nobody.write_text('{"languages": ["fi"]}')
    out = ok(ctl("match", "--intake", str(nobody), daemon=daemon))
    assert out.startswith("no matches\nconsidered 3; excluded: language 3")
    assert ctl("match", "77", daemon=daemon).returncode == 2


def test_episode_feedback_alliance_referrals_reports(ctl, daemon, tmp_path):
    therapists(daemon)
    client(ctl, daemon, tmp_path)
    assert ok(ctl("episode", "start", "1", "T-1", daemon=daemon)).strip() == \
        "episode 1: started (client 1, therapist 1)"
    assert re.search(r"^status\s+active$", ok(ctl("episode", "show", "1", daemon=daemon)), re.M)
    out = ""
    for s in (1, 2, 3):
        out = ok(ctl("feedback", "add", "1", "--session", str(s), *POOR,
                     "--idempotency-key", f"ep1-s{s}", daemon=daemon))
    assert re.search(r"^status\s+mismatch$", out, re.M)
    assert re.search(r"^action\s+refer$", out, re.M)
    assert re.search(r"^evidence\s+session 1 \[.*judged\]", out, re.M)
    # The same key with another body: 409, exit 2; the same body: stored once.
    p = ctl("feedback", "add", "1", "--session", "3", "--instrument", "srs", "relationship=9",
            "goals=9", "approach=9", "overall=9", "--idempotency-key", "ep1-s3", daemon=daemon)
    assert p.returncode == 2 and "409" in p.stderr
    ok(ctl("feedback", "add", "1", "--session", "3", *POOR, "--idempotency-key", "ep1-s3",
           daemon=daemon))
    a = as_json(ctl("alliance", "1", "--json", daemon=daemon))
    assert (a["status"], a["action"], a["sessions"]) == ("mismatch", "refer", 3)
    out = ok(ctl("alliance", "1", daemon=daemon))
    assert re.search(r"^reasons\s+3 of the last 3 sessions were poor$", out, re.M)
    p = ctl("feedback", "add", "1", "--session", "4", "--instrument", "srs", "relationship=55",
            daemon=daemon)
    assert p.returncode == 2 and re.search(r"^  items\.relationship: ", p.stderr, re.M)

    out = ok(ctl("referrals", "1", "--need", "emdr", daemon=daemon))
    assert re.search(r"^\s*1\s+2 T-2 Therapist 2 .*offers EMDR, as you asked", out, re.M)
    r = as_json(ctl("referrals", "1", "--limit", "1", "--json", daemon=daemon))
    assert [s["therapist_id"] for s in r["suggestions"]] == [2]

    out = ok(ctl("report", "at-risk", daemon=daemon))
    assert re.search(r"^\s*1\s+1\s+1 mismatch refer\s+3 ", out, re.M)
    assert ok(ctl("report", "at-risk", "--status", "review", daemon=daemon)).strip() == \
        "no episode at risk"
    j = as_json(ctl("report", "at-risk", "--status", "refer,review", "--json", daemon=daemon))
    assert [e["episode_id"] for e in j["episodes"]] == [1]
    out = ok(ctl("report", "alliance", daemon=daemon))
    assert re.search(r"^\s*1 T-1\s+Therapist 1\s+1\s+0\s+3 ", out, re.M)

    out = ok(ctl("episode", "start", "1", "2", "--referred-from", "1", daemon=daemon))
    assert out.strip() == "episode 2: started (client 1, therapist 2)"
    e1 = as_json(ctl("episode", "show", "1", "--json", daemon=daemon))
    assert (e1["status"], e1["end_reason"]) == ("ended", "referred")
    assert "ended" in ok(ctl("episode", "end", "2", "--reason", "completed", daemon=daemon))
    p = ctl("episode", "end", "2", "--reason", "completed", daemon=daemon)
    assert p.returncode == 2 and "409" in p.stderr
    p = ctl("episode", "end", "2", daemon=daemon)
    assert p.returncode == 1


def test_attendance_two_no_shows_disengaging(ctl, daemon, tmp_path):
    therapists(daemon, 1)
    client(ctl, daemon, tmp_path)
    ok(ctl("episode", "start", "1", "1", daemon=daemon))
    ok(ctl("attendance", "1", "1", "no_show", daemon=daemon))
    out = ok(ctl("attendance", "1", "2", "no_show", daemon=daemon))
    assert re.search(r"^status\s+disengaging$", out, re.M)
    assert re.search(r"^action\s+reach_out$", out, re.M)
    p = ctl("attendance", "1", "3", "maybe", daemon=daemon)
    assert p.returncode == 2
    j = json.loads(ok(ctl("attendance", "1", "3", "attended", "--json", daemon=daemon)))
    assert j["episode_id"] == 1


def test_alliance_sparkline_of_session_scores(ctl, daemon, tmp_path):
    """The daemon's per-session scores drawn as a sparkline: alliance5 80,
    100, 82 (scores 80, 100, 82), scaled between the lowest and highest."""
    therapists(daemon, 1)
    client(ctl, daemon, tmp_path)
    ok(ctl("episode", "start", "1", "1", daemon=daemon))
    for session, vs in ((1, (8, 8, 8, 8, 8)), (2, (10, 10, 10, 10, 10)), (3, (9, 8, 8, 8, 8))):
        items = [f"{k}={v}" for k, v in zip(("heard", "open", "adapts", "trust",
                                              "looking_forward"), vs)]
        ok(ctl("feedback", "add", "1", "--session", str(session), "--instrument", "alliance5",
               *items, daemon=daemon))
    out = ok(ctl("alliance", "1", daemon=daemon))
    assert re.search(r"^scores\s+\u2581\u2588\u2582  \(80 \.\. 82\)$", out, re.M), out
    assert re.search(r"^score\s+82\.0$", out, re.M), out
    assert re.search(r"^status\s+strained$", out, re.M), out  # 18 below the peak of 100
    j = json.loads(ok(ctl("alliance", "1", "--json", daemon=daemon)))
    assert [s["score"] for s in j["scores"]] == [80.0, 100.0, 82.0]

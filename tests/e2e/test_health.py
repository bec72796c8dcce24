"""Health, readiness, metrics, both listeners, and the HTTP error shapes."""

import os
import re
import shutil
import socket
import stat
import subprocess

import pytest

PROMTOOL = "/usr/bin/promtool"


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} from Prometheus text."""
    out = {}
    rx = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = rx.match(line)
        assert m, f"unparsable metrics line: {line!r}"
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def requests_total(metrics, route, status):
    total = 0.0
    for (name, labels), v in metrics.items():
        d = dict(labels)
        if name == "alliance_http_requests_total" and d.get("route") == route \
                and d.get("status") == str(status):
            total += v
    return total


def test_healthz(daemon):
    r = daemon.get("/healthz")
    assert r.status == 200
    assert r.content_type == "application/json"
    assert r.json()["status"] == "ok"


def test_readyz_ready_with_details(daemon):
    r = daemon.get("/readyz")
    assert r.status == 200, r
    assert r.content_type == "application/json"
    body = r.json()
    assert body["status"] == "ready"
    db = body["database"]
    assert db["up"] is True
    assert isinstance(db["schema_version"], int) and db["schema_version"] >= 1
    assert db["schema_version"] == db["expected_version"]


def test_request_log_line(daemon):
    mark = daemon.log_mark()
    assert daemon.get("/healthz").status == 200
    m = daemon.wait_for_log(r"INFO request id=(\S+) method=GET route=/healthz status=200 "
                            r"duration_ms=[0-9.]+", since=mark)
    assert m.group(1)
    # One line per event, each starting with an ISO 8601 UTC time and a level:
    # every line since start-up (the database layer's too).
    for line in daemon.log_text().splitlines():
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (DEBUG|INFO|WARNING|ERROR) ",
                        line), line


def test_metrics_format_and_content(daemon):
    assert daemon.get("/healthz").status == 200
    r = daemon.get("/metrics")
    assert r.status == 200
    assert r.content_type == "text/plain"
    text = r.text
    for name in ("alliance_http_requests_total", "alliance_http_request_duration_seconds_bucket",
                 "alliance_http_request_duration_seconds_sum",
                 "alliance_http_request_duration_seconds_count", "alliance_uptime_seconds"):
        assert re.search(rf"^{name}[{{ ]", text, re.M), f"{name} missing from /metrics"
    assert re.search(r"^# TYPE alliance_http_request_duration_seconds histogram$", text, re.M)
    assert re.search(r"^alliance_db_pool_\w+", text, re.M), "no alliance_db_pool_* gauge"
    assert re.search(r'alliance_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"', text)
    m = parse_metrics(text)
    assert requests_total(m, "/healthz", 200) >= 1


@pytest.mark.skipif(not os.path.exists(PROMTOOL), reason="promtool not installed")
def test_metrics_promtool_accepts(daemon):
    daemon.get("/healthz")
    daemon.get("/nope")
    r = daemon.get("/metrics")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=r.body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    # promtool exits 1 for lint warnings too (e.g. naming): print them for the record.
    assert p.returncode == 0, p.stdout.decode()


def test_metrics_count_requests(daemon):
    before = requests_total(parse_metrics(daemon.get("/metrics").text), "/healthz", 200)
    for _ in range(3):
        assert daemon.get("/healthz").status == 200
    after = requests_total(parse_metrics(daemon.get("/metrics").text), "/healthz", 200)
    assert after - before == 3


def test_both_listeners_serve_every_route(daemon):
    for path in ("/healthz", "/readyz", "/metrics"):
        t = daemon.get(path)
        u = daemon.unix_get(path)
        assert t.status == 200 and u.status == 200, (path, t, u)
        assert t.content_type == u.content_type
    assert daemon.unix_get("/nope").status == 404
    assert daemon.unix_post("/v1/match", body=b"{", content_type="application/json").status == 400


@pytest.mark.parametrize("mode", ["0660", "0600"])
def test_unix_socket_mode(daemon_factory, mode):
    d = daemon_factory({"listen": {"unix_mode": mode}})
    st = os.stat(d.unix_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == int(mode, 8)


def test_unix_only(daemon_factory):
    d = daemon_factory({"listen": {"tcp": ""}})
    assert d.unix_get("/healthz").status == 200
    with pytest.raises(OSError):
        d.get("/healthz", timeout=1)


def test_stale_unix_socket_removed(daemon_factory):
    d = daemon_factory(start=False)
    # A socket file left behind by a crashed daemon: bound, never unlinked.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(d.unix_path)
    s.close()
    assert stat.S_ISSOCK(os.stat(d.unix_path).st_mode)
    d.start()
    assert d.unix_get("/healthz").status == 200


def test_unix_socket_removed_on_exit(daemon):
    assert os.path.exists(daemon.unix_path)
    assert daemon.stop() == 0
    assert not os.path.exists(daemon.unix_path)


def assert_problem(r, status):
    assert r.status == status, r
    assert r.content_type == "application/problem+json", r
    body = r.json()
    assert body["status"] == status
    assert isinstance(body.get("title"), str) and body["title"]
    assert "type" in body
    return body


def test_unknown_route_404(daemon):
    for via in ("tcp", "unix"):
        assert_problem(daemon.get("/no/such/route", via=via), 404)
    assert_problem(daemon.get("/v1/nope"), 404)


def test_wrong_method_405_with_allow(daemon):
    r = daemon.post("/healthz", body=b"{}")
    assert_problem(r, 405)
    allow = [m.strip() for m in (r.headers.get("Allow") or "").split(",")]
    assert "GET" in allow, r.headers
    r = daemon.request("DELETE", "/metrics")
    assert_problem(r, 405)
    assert "GET" in r.headers.get("Allow", "")
    r = daemon.get("/v1/match")
    assert_problem(r, 405)
    assert "POST" in r.headers.get("Allow", "")


def test_match_malformed_json_400(daemon):
    r = daemon.post("/v1/match", body=b'{"population": "adult",')
    body = assert_problem(r, 400)
    assert isinstance(body.get("detail"), str)
    assert isinstance(body.get("errors"), list)
    for e in body["errors"]:
        assert set(e) >= {"field", "message"}


def test_match_not_an_object_400_or_422(daemon):
    r = daemon.post("/v1/match", body=b"[1, 2, 3]")
    assert r.status in (400, 422), r
    assert r.content_type == "application/problem+json"


def test_match_wrong_content_type_415(daemon):
    r = daemon.post("/v1/match", body=b"population=adult",
                    content_type="application/x-www-form-urlencoded")
    assert_problem(r, 415)
    r = daemon.post("/v1/match", body=b"{}", content_type="text/plain")
    assert_problem(r, 415)


def test_match_json_with_charset_accepted(daemon):
    r = daemon.post("/v1/match", body=b"{}", content_type="application/json; charset=utf-8")
    assert r.status == 200, r
    assert "matches" in r.json()


def test_match_empty_intake_ok(daemon):
    r = daemon.post("/v1/match", json_body={})
    assert r.status == 200, r
    assert r.content_type == "application/json"
    body = r.json()
    assert isinstance(body["matches"], list)
    assert isinstance(body["excluded"], dict)
    assert isinstance(body["considered"], int)


def test_request_body_never_logged(daemon):
    # Preferences are never logged (ids only): neither a valid nor a broken body.
    secret = "site-secret-7f3a9"
    daemon.post("/v1/match", json_body={"sites": [secret], "population": "adult"})
    daemon.post("/v1/match", json_body={"sites": [secret], "concerns": "oops"})
    daemon.post("/v1/match", body=('{"sites": ["%s"],' % secret).encode())
    assert secret not in daemon.log_text()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_over_unix_socket(daemon):
    # What the README tells a newcomer to type.
    p = subprocess.run(["curl", "-sf", "--unix-socket", daemon.unix_path,
                        "http://localhost/healthz"], stdout=subprocess.PIPE, timeout=10)
    assert p.returncode == 0
    assert b'"ok"' in p.stdout

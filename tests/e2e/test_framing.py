"""Request framing checked before evhttp reads a body (daemon/http/framing.c):
413 and 411 as problem+json without reading the body, the Host allowlist
(421), pipelining and keep-alive kept, HEAD without a body, libevent's own
answers counted in /metrics, the request read deadline."""

import json
import re
import socket
import time

import pytest

from conftest import HARNESS_TOKEN

# Raw requests to /v1 carry the harness's admin token (README "Security").
AUTH = b"Authorization: Bearer " + HARNESS_TOKEN.encode() + b"\r\n"
LIMITS = {"limits": {"max_body_bytes": 2048, "request_read_timeout": 2}}


@pytest.fixture
def framed(daemon_factory, clean_db):
    return daemon_factory(config=LIMITS)


def connect(d):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    return s


def read_response(f):
    """One HTTP response from a buffered socket file: (status, headers, body)."""
    line = f.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, v = h.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = f.read(n) if n else b""
    return status, headers, body


def test_huge_content_length_413_at_once_without_body(framed):
    s = connect(framed)
    f = s.makefile("rb")
    t0 = time.monotonic()
    s.sendall(b"POST /v1/match HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b""
              b"Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n")
    status, headers, body = read_response(f)
    elapsed = time.monotonic() - t0
    assert status == 413
    assert elapsed < 1.0, elapsed
    assert headers["content-type"] == "application/problem+json"
    p = json.loads(body)
    assert p["status"] == 413 and "max_body_bytes" in p["detail"]
    assert headers.get("connection") == "close"
    assert f.read() == b""   # then closed: the body is never read
    s.close()


def test_body_just_over_limit_413_problem_json(framed):
    r = framed.post("/v1/match", body=b"{" + b" " * 2100 + b"}")
    assert r.status == 413 and r.content_type == "application/problem+json"
    assert r.json()["type"] == "urn:alliance:problem:413"
    line = framed.request_lines(route="/v1/match")[-1]
    assert "status=413" in line   # in the access log and the metrics like any answer


def test_chunked_upload_411(framed):
    s = connect(framed)
    f = s.makefile("rb")
    s.sendall(b"POST /v1/match HTTP/1.1\r\nHost: localhost\r\n"
              b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, headers, body = read_response(f)
    assert status == 411
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 411
    s.close()


def test_pipelined_requests_answered_in_order_then_413(framed):
    s = connect(framed)
    f = s.makefile("rb")
    ok = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    small = (b"POST /v1/match HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"Content-Type: application/json\r\n"
             b"Content-Length: 2\r\n\r\n{}")
    big = (b"POST /v1/match HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b"Content-Type: application/json\r\n"
           b"Content-Length: 999999\r\n\r\n")
    s.sendall(ok + small + ok + big + b"x" * 5000)
    got = [read_response(f) for _ in range(4)]
    assert [g[0] for g in got[:3]] == [200, 200, 200]
    assert json.loads(got[0][2])["status"] == "ok"
    assert "matches" in json.loads(got[1][2])   # the match answer, in its place
    assert got[3][0] == 413
    assert f.read() == b""
    s.close()


def test_keep_alive_after_body_requests(framed):
    s = connect(framed)
    f = s.makefile("rb")
    for _ in range(3):
        s.sendall(b"POST /v1/match HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + b""
                  b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
        status, headers, body = read_response(f)
        assert status == 422 and json.loads(body)["status"] == 422
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(f)[0] == 200
    s.close()


def test_head_has_no_body_and_keeps_framing(framed):
    s = connect(framed)
    f = s.makefile("rb")
    s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
              b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    line = f.readline()
    assert b" 200 " in line
    headers = {}
    while True:
        h = f.readline()
        if h == b"\r\n":
            break
        k, v = h.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    assert int(headers["content-length"]) > 0   # the GET body's length, not sent
    status, _, body = read_response(f)            # the next answer starts right here
    assert status == 200 and json.loads(body)["status"] == "ok"
    s.close()


@pytest.mark.parametrize("host", [b"evil.example", b"evil.example:7420", b"127.0.0.2"])
def test_bad_host_421(framed, host):
    s = connect(framed)
    f = s.makefile("rb")
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    status, headers, body = read_response(f)
    assert status == 421
    assert json.loads(body)["status"] == 421
    s.close()


def test_allowed_hosts_and_unix_exempt(framed):
    for host in (b"localhost", b"127.0.0.1:1", b"[::1]:7420", b"LOCALHOST"):
        s = connect(framed)
        f = s.makefile("rb")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert read_response(f)[0] == 200, host
        s.close()
    out = framed.raw(b"GET /healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
                     via="unix")
    assert out.startswith(b"HTTP/1.1 200")


def test_configured_host(daemon_factory):
    d = daemon_factory(config={"listen": {"allowed_hosts": "127.0.0.1 alliance.clinic.test"}})
    s = connect(d)
    f = s.makefile("rb")
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: alliance.clinic.test:443\r\n\r\n"
              b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert read_response(f)[0] == 200
    assert read_response(f)[0] == 421
    s.close()


def test_oversized_header_block_431_problem_json(framed):
    out = framed.raw(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 9000
                     + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431")
    assert b"application/problem+json" in out


def libevent_errors(d):
    text = d.get("/metrics", via="unix").text
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r'^alliance_http_libevent_errors_total\{status="(\d+)"\} (\d+)$', text,
                        re.M)}


def test_libevent_errors_counted(framed):
    before = libevent_errors(framed).get("400", 0)
    out = framed.raw(b"GET /healthz HTTP/9.9 junk\r\nHost: 127.0.0.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400") or out.startswith(b"HTTP/1.0 400")
    assert b"<HTML>" in out   # libevent's own answer, left as it writes it
    out = framed.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
    assert b"400" in out.split(b"\r\n")[0]
    assert libevent_errors(framed)["400"] == before + 2


def test_slow_request_cut_at_deadline(framed):
    """A byte every 0.5 s keeps evhttp's idle timer happy; the deadline
    (request_read_timeout: 2) cuts it anyway."""
    s = connect(framed)
    t0 = time.monotonic()
    closed_at = None
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
    for b in request:
        try:
            s.sendall(bytes([b]))
            s.settimeout(0.5)
            if s.recv(1) == b"":
                closed_at = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            closed_at = time.monotonic() - t0
            break
    s.close()
    assert closed_at is not None, "never cut off"
    assert 1.5 <= closed_at < 4.0, closed_at
    # and the daemon still answers
    assert framed.get("/healthz").status == 200

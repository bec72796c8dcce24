"""Limits from the config: body size, header size, idle timeout, JSON depth,
connections."""

import http.client
import re
import socket
import time

import pytest

from conftest import wait_until


LIMITS = {"limits": {"max_body_bytes": 2048, "max_header_bytes": 2048, "idle_timeout": 1,
                     "max_json_depth": 8, "request_timeout": 5}}


@pytest.fixture
def limited(daemon_factory):
    return daemon_factory(LIMITS)


def test_oversized_body_413(limited):
    body = b'{"sites": ["' + b"x" * 4096 + b'"]}'
    r = limited.post("/v1/match", body=body)
    assert r.status == 413, r
    # Still serving afterwards.
    assert limited.get("/healthz").status == 200


def test_oversized_body_413_unix(limited):
    body = b'{"sites": ["' + b"x" * 4096 + b'"]}'
    assert limited.unix_post("/v1/match", body=body).status == 413


def test_body_at_limit_accepted(limited):
    # A valid intake padded to the limit: served in full, so nothing but 200 will do.
    head = b'{"sites": ["downtown"]'
    body = head + b" " * (2048 - len(head) - 1) + b"}"
    assert len(body) == 2048
    r = limited.post("/v1/match", body=body)
    assert r.status == 200, r
    assert "matches" in r.json()


def test_oversized_headers_rejected(limited):
    req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 +
           b"\r\nConnection: close\r\n\r\n")
    resp = limited.raw(req)
    # evhttp answers 400/431 or just closes; what it must not do is serve it.
    assert not resp.startswith(b"HTTP/1.1 200"), resp[:200]
    assert limited.get("/healthz").status == 200


def test_idle_connection_closed(limited):
    s = socket.create_connection(("127.0.0.1", limited.port), timeout=5)
    try:
        t0 = time.monotonic()
        data = s.recv(1)          # nothing sent: the server closes after idle_timeout
        took = time.monotonic() - t0
    except ConnectionResetError:
        data, took = b"", time.monotonic() - t0
    finally:
        s.close()
    assert data == b""
    assert took < 4.5, f"idle connection kept {took:.1f}s with idle_timeout 1"


def test_json_depth_limit(limited):
    deep = b'{"sites": ' + b"[" * 50 + b"]" * 50 + b"}"
    r = limited.post("/v1/match", body=deep)
    assert r.status in (400, 422), r
    assert r.content_type == "application/problem+json"
    assert limited.get("/healthz").status == 200


def _connections(conn):
    """alliance_http_connections, asked on the kept-alive connection CONN."""
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    text = r.read().decode()
    assert r.status == 200, text
    return int(float(re.search(r"^alliance_http_connections (\S+)$", text, re.M).group(1)))


def test_max_connections(daemon_factory):
    # idle_timeout well above the test's own waits: no connection of the four may
    # be closed by the daemon while the fifth is being refused.
    d = daemon_factory({"limits": {"max_connections": 4, "idle_timeout": 30,
                                   "unix_reserved_connections": 0}})
    socks = []
    fourth = http.client.HTTPConnection("127.0.0.1", d.port, timeout=5)
    try:
        for _ in range(3):
            socks.append(socket.create_connection(("127.0.0.1", d.port), timeout=2))
        # The fourth, kept alive, watches the daemon count all four: from then on
        # it is at its limit (the window the fifth must fall into).
        wait_until(lambda: _connections(fourth) == 4, 5, interval=0.05,
                   what="the daemon to count its 4 connections")
        # A fifth connection is not served (refused, closed, 503, or left waiting).
        try:
            r = d.get("/healthz", timeout=1.5)
            assert r.status == 503, f"served a 5th connection with max_connections 4: {r}"
        except OSError:
            pass
        # The four are still there: the window held for the whole attempt.
        assert _connections(fourth) == 4
    finally:
        for s in socks:
            s.close()
        fourth.close()
    # Once they are gone it serves again.
    wait_until(lambda: _ok(d), 5, interval=0.1, what="/healthz 200 after closing connections")
    assert d.alive()


def _ok(d):
    try:
        return d.get("/healthz", timeout=1).status == 200
    except OSError:
        return False


def test_closed_probe_connections_free_their_slots(daemon_factory):
    # TCP health probes (connect, close) must not use up max_connections.
    d = daemon_factory({"limits": {"max_connections": 4, "idle_timeout": 60,
                                   "unix_reserved_connections": 0}})
    for _ in range(6):
        socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
    # All six given back: only the asking connection is left.  A leak would keep
    # the count up (and, past 4, nothing would answer at all).
    wait_until(lambda: _gauge(d) == 1, 5, interval=0.05, what="the probes' slots freed")
    assert d.get("/healthz", timeout=2).status == 200


def _gauge(d):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=1)
        try:
            return _connections(conn)
        finally:
            conn.close()
    except OSError:
        return None

"""Limits from the config: body size, header size, idle timeout, JSON depth,
connections."""

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
    body = b'{"sites": ["' + b"x" * 1900 + b'"]}'
    assert len(body) <= 2048
    r = limited.post("/v1/match", body=body)
    assert r.status != 413, r


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


def test_max_connections(daemon_factory):
    # idle_timeout bounds how long a connection that never sent a request counts.
    d = daemon_factory({"limits": {"max_connections": 4, "idle_timeout": 2}})
    socks = []
    try:
        for _ in range(4):
            socks.append(socket.create_connection(("127.0.0.1", d.port), timeout=2))
        time.sleep(0.2)
        # A fifth connection is not served (refused, closed, 503, or left waiting).
        try:
            r = d.get("/healthz", timeout=2)
            assert r.status == 503, f"served a 5th connection with max_connections 4: {r}"
        except OSError:
            pass
    finally:
        for s in socks:
            s.close()
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
    d = daemon_factory({"limits": {"max_connections": 4, "idle_timeout": 60}})
    for _ in range(6):
        socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
    time.sleep(0.3)
    assert d.get("/healthz", timeout=2).status == 200

"""TLS on the TCP listener (daemon/http/tls.c): a handshake with a certificate
made here by the openssl command, plaintext refused on the TLS port, TLS 1.2
or later, a plaintext listener on a non-loopback address refused at start
unless allow_plaintext, and SIGHUP serving a new certificate while an open
connection keeps working."""

import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import wait_until


def make_cert(folder, name):
    cert = os.path.join(folder, f"{name}.crt")
    key = os.path.join(folder, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def der(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def wait_unix_healthy(d, timeout=10.0):
    def ok():
        if not d.alive():
            raise AssertionError("allianced exited:\n" + d.log_text())
        try:
            return d.get("/healthz", via="unix", timeout=1.0).status == 200
        except OSError:
            return False
    wait_until(ok, timeout, what="healthz on the UNIX socket")


@pytest.fixture
def certs(tmp_path):
    return make_cert(str(tmp_path), "first"), make_cert(str(tmp_path), "second")


@pytest.fixture
def tls_daemon(daemon_factory, certs, tmp_path):
    (cert, key), _ = certs
    live_cert, live_key = str(tmp_path / "live.crt"), str(tmp_path / "live.key")
    with open(cert, "rb") as a, open(live_cert, "wb") as b:
        b.write(a.read())
    with open(key, "rb") as a, open(live_key, "wb") as b:
        b.write(a.read())
    d = daemon_factory(config={"listen": {"tls_cert": live_cert, "tls_key": live_key}},
                       start=False)
    d.start(wait=False)
    wait_unix_healthy(d)
    return d


def tls_connect(d, cafile=None, **ctx_kw):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    for k, v in ctx_kw.items():
        setattr(ctx, k, v)
    raw = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def get(s, path="/healthz"):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    f = s.makefile("rb")
    status = int(f.readline().split()[1])
    n = 0
    while True:
        h = f.readline()
        if h == b"\r\n":
            break
        if h.lower().startswith(b"content-length:"):
            n = int(h.split(b":")[1])
    return status, f.read(n)


def test_tls_handshake_verified(tls_daemon, certs):
    (cert, _), _ = certs
    with tls_connect(tls_daemon, cafile=cert) as s:
        assert s.version() in ("TLSv1.2", "TLSv1.3")
        status, body = get(s)
        assert status == 200 and json.loads(body)["status"] == "ok"


def test_tls_1_1_refused(tls_daemon):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot even offer TLS 1.1")
    raw = socket.create_connection(("127.0.0.1", tls_daemon.port), timeout=5)
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        ctx.wrap_socket(raw, server_hostname="localhost")
    raw.close()


def test_plaintext_on_tls_port_refused(tls_daemon):
    out = tls_daemon.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout=3)
    assert b"HTTP/1.1 200" not in out
    assert b'"status"' not in out
    # and the UNIX socket stays plaintext
    assert tls_daemon.get("/healthz", via="unix").status == 200


def test_sighup_new_certificate_old_connection_kept(tls_daemon, certs, tmp_path):
    (first, _), (second, second_key) = certs
    old = tls_connect(tls_daemon)
    assert old.getpeercert(binary_form=True) == der(first)
    assert get(old)[0] == 200
    with open(second, "rb") as a, open(tmp_path / "live.crt", "wb") as b:
        b.write(a.read())
    with open(second_key, "rb") as a, open(tmp_path / "live.key", "wb") as b:
        b.write(a.read())
    mark = tls_daemon.log_mark()
    tls_daemon.signal(signal.SIGHUP)
    tls_daemon.wait_for_log(r"TLS certificate re-read", since=mark)
    with tls_connect(tls_daemon) as new:
        assert new.getpeercert(binary_form=True) == der(second)
        assert get(new)[0] == 200
    # the connection opened before the reload still works, on its old certificate
    assert get(old)[0] == 200
    assert old.getpeercert(binary_form=True) == der(first)
    old.close()


def test_sighup_with_broken_certificate_keeps_serving(tls_daemon, certs, tmp_path):
    (first, _), _ = certs
    with open(tmp_path / "live.crt", "w") as f:
        f.write("not a certificate\n")
    mark = tls_daemon.log_mark()
    tls_daemon.signal(signal.SIGHUP)
    tls_daemon.wait_for_log(r"reload refused", since=mark)
    with tls_connect(tls_daemon) as s:
        assert s.getpeercert(binary_form=True) == der(first)
        assert get(s)[0] == 200


def test_missing_key_refused_at_start(daemon_factory, certs):
    (cert, _), _ = certs
    d = daemon_factory(config={"listen": {"tls_cert": cert, "tls_key": cert + ".nope"}},
                       start=False)
    d.start(wait=False)
    assert d.wait(10) != 0
    assert "listen.tls_key" in d.log_text()


def test_non_loopback_plaintext_refused_at_start(daemon_factory):
    d = daemon_factory(start=False)
    d.write_config({"listen": {"tcp": f"0.0.0.0:{d.port}"}})
    d.start(wait=False)
    assert d.wait(10) != 0
    assert "allow_plaintext" in d.log_text()


def test_non_loopback_plaintext_allowed_by_config(daemon_factory):
    d = daemon_factory(start=False)
    d.write_config({"listen": {"tcp": f"0.0.0.0:{d.port}", "allow_plaintext": True}})
    d.start()
    assert d.get("/healthz").status == 200


def test_non_loopback_tls_accepted(daemon_factory, certs):
    (cert, key), _ = certs
    d = daemon_factory(start=False)
    d.write_config({"listen": {"tcp": f"0.0.0.0:{d.port}", "tls_cert": cert, "tls_key": key}})
    d.start(wait=False)
    wait_unix_healthy(d)
    with tls_connect(d, cafile=cert) as s:
        assert get(s)[0] == 200


def test_tls_keep_alive_answers_without_nagle_stall(tls_daemon):
    """An answer's head and body are two TLS records: without TCP_NODELAY the
    second waits for the client's delayed ACK, 40 ms per answer."""
    with tls_connect(tls_daemon) as s:
        assert get(s)[0] == 200
        t0 = time.monotonic()
        for _ in range(50):
            assert get(s)[0] == 200
        elapsed = time.monotonic() - t0
    assert elapsed < 1.0, f"50 keep-alive answers took {elapsed:.2f} s"

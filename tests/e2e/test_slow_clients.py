"""Slow clients and floods (daemon/http/server.c, framing.c): slowhttptest in
slowloris and slow-body modes while another client and the UNIX socket still
get answers within 1 s; the per-peer connection limit; the UNIX socket's
reserved share of connections under a TCP flood; the socket's mode and group.

Each attack is bounded: slowhttptest runs a few seconds (-l) and is killed
after a few more."""

import grp
import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time

import pytest

from conftest import wait_until

SLOW = {"limits": {"max_connections": 120, "max_connections_per_peer": 40,
                   "unix_reserved_connections": 10, "request_read_timeout": 2,
                   "idle_timeout": 20}}


def connections(d):
    text = d.get("/metrics", via="unix").text
    return int(re.search(r"^alliance_http_connections (\d+)", text, re.M).group(1))


def timed_get(d, via, source=None):
    """Seconds /healthz takes, from a fresh connection (from SOURCE when given)."""
    t0 = time.monotonic()
    if via == "unix":
        r = d.get("/healthz", via="unix", timeout=2)
        assert r.status == 200
        return time.monotonic() - t0
    s = socket.create_connection(("127.0.0.1", d.port), timeout=2,
                                 source_address=(source, 0) if source else None)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            out += c
    finally:
        s.close()
    assert out.startswith(b"HTTP/1.1 200"), out[:80]
    return time.monotonic() - t0


class Prober(threading.Thread):
    """Probes TCP (from another address) and the UNIX socket every 0.2 s,
    noting when each probe started."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d = d
        self.stop = threading.Event()
        self.tcp, self.unix, self.errors = [], [], []

    def run(self):
        while not self.stop.is_set():
            for via, out in (("tcp", self.tcp), ("unix", self.unix)):
                t = time.monotonic()
                try:
                    out.append((t, timed_get(self.d, via, source="127.0.0.2")))
                except (OSError, AssertionError) as e:
                    self.errors.append(f"{via}: {e!r}")
            time.sleep(0.2)


def attack(d, mode, seconds=6):
    if shutil.which("slowhttptest") is None:
        pytest.fail("slowhttptest is not installed (tests/scripts/install-deps.sh)")
    args = ["slowhttptest", mode, "-c", "1000", "-r", "150", "-i", "1", "-l", str(seconds),
            "-p", "2", "-x", "8", "-v", "1"]
    if mode == "-B":
        args += ["-u", f"http://127.0.0.1:{d.port}/v1/match", "-t", "POST", "-s", "8192",
                 "-f", "application/json"]
    else:
        args += ["-u", f"http://127.0.0.1:{d.port}/healthz"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.parametrize("mode", ["-H", "-B"], ids=["slowloris", "slow_body"])
def test_slowhttptest_others_still_answered(daemon_factory, mode):
    d = daemon_factory(config=SLOW)
    prober = Prober(d)
    prober.start()
    proc = attack(d, mode)
    # Windows of the attack: when the daemon holds many connections.
    busy, peak = [], 0
    t_end = time.monotonic() + 12
    while proc.poll() is None and time.monotonic() < t_end:
        n = connections(d)
        peak = max(peak, n)
        if n >= 30:
            busy.append(time.monotonic())
        time.sleep(0.1)
    prober.stop.set()
    prober.join(5)
    if proc.poll() is None:
        proc.kill()
    out = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", proc.communicate()[0])
    assert busy, f"the attack never held 30 connections (peak {peak}):\n{out[-600:]}"
    assert not prober.errors, prober.errors
    during = lambda probes: [s for t, s in probes if busy[0] <= t <= busy[-1]]
    assert len(during(prober.tcp)) >= 3 and len(during(prober.unix)) >= 3
    assert max(s for _, s in prober.tcp) < 1.0, prober.tcp
    assert max(s for _, s in prober.unix) < 1.0, prober.unix
    # The attacker (one peer) never took the connections the UNIX socket keeps
    # (120 - 10); its live ones are capped at 40 (connections cut by the
    # deadline are counted until the next sweep, a quarter second later).
    assert peak <= 110, peak
    # And the daemon closed the attacker's connections (deadline, per-peer limit).
    m = re.findall(rb"closed:\s*(\d+)", out)
    assert m and int(m[-1]) > 0, out[-600:]
    print(f"{mode}: probes tcp max {max(s for _, s in prober.tcp) * 1000:.1f} ms, "
          f"unix max {max(s for _, s in prober.unix) * 1000:.1f} ms, peak connections {peak}, "
          f"attacker connections closed {int(m[-1])}")


def test_per_peer_limit(daemon_factory):
    d = daemon_factory(config={"limits": {"max_connections_per_peer": 3, "idle_timeout": 20,
                                          "request_read_timeout": 20}})
    # The harness's own probes from 127.0.0.1 hold their slots until the
    # daemon's next sweep (a quarter second): start from none.
    wait_until(lambda: connections(d) <= 1, 5, interval=0.05, what="no TCP connection left")
    held = [socket.create_connection(("127.0.0.1", d.port), timeout=2) for _ in range(3)]
    try:
        wait_until(lambda: connections(d) >= 3, 5, interval=0.05, what="3 connections counted")
        fourth = socket.create_connection(("127.0.0.1", d.port), timeout=2)
        t0 = time.monotonic()
        fourth.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            got = fourth.recv(100)
        except ConnectionResetError:
            got = b""
        assert got == b"", got          # closed, not served
        assert time.monotonic() - t0 < 1.0
        fourth.close()
        # Another address is not affected, and the held ones still work.
        assert timed_get(d, "tcp", source="127.0.0.2") < 1.0
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert held[0].recv(100).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()
    # Closed connections give their slots back.
    wait_until(lambda: _served(d), 5, interval=0.1, what="a served connection after closing")


def _served(d):
    try:
        return timed_get(d, "tcp") < 1.0
    except (OSError, AssertionError):
        return False


def test_unix_reserve_survives_tcp_flood(daemon_factory):
    d = daemon_factory(config={"limits": {"max_connections": 20, "unix_reserved_connections": 5,
                                          "max_connections_per_peer": 1000,
                                          "idle_timeout": 30, "request_read_timeout": 30}})
    flood = []
    try:
        for i in range(40):
            s = socket.socket()
            s.setblocking(False)
            s.bind((f"127.0.0.{10 + i % 200}", 0))
            try:
                s.connect(("127.0.0.1", d.port))
            except BlockingIOError:
                pass
            flood.append(s)
        wait_until(lambda: connections(d) >= 15, 5, interval=0.05, what="TCP at its share")
        time.sleep(0.3)
        assert connections(d) <= 16          # TCP stops at 20 - 5 (+ the metrics call itself)
        for _ in range(5):
            assert timed_get(d, "unix") < 1.0
    finally:
        for s in flood:
            s.close()


def test_unix_socket_mode_and_group(daemon_factory):
    group = grp.getgrgid(os.getgid()).gr_name
    other = next((g.gr_name for g in grp.getgrall() if g.gr_gid != os.getgid()), None)
    if os.geteuid() == 0 and other is not None:
        group = other
    d = daemon_factory(config={"listen": {"unix_mode": "0660", "unix_group": group}})
    st = os.stat(d.unix_path)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert grp.getgrgid(st.st_gid).gr_name == group


def test_unknown_socket_group_refused_at_start(daemon_factory):
    d = daemon_factory(config={"listen": {"unix_group": "no-such-group-alliance"}}, start=False)
    d.start(wait=False)
    assert d.wait(10) != 0
    assert "listen.unix_group" in d.log_text()


def test_descriptor_exhaustion_pauses_then_serves(daemon_factory):
    """accept() failing with EMFILE pauses the listener (no spinning, no
    crash) and the daemon serves again once descriptors are free."""
    import resource
    d = daemon_factory(config={"limits": {"max_connections_per_peer": 1000,
                                          "request_read_timeout": 30}}, start=False)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    try:
        d.start(wait=False)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    wait_until(lambda: _served(d), 10, interval=0.1, what="the daemon to serve")
    held = []
    try:
        for _ in range(100):
            held.append(socket.create_connection(("127.0.0.1", d.port), timeout=2))
        time.sleep(1.5)    # the daemon meets EMFILE and pauses; nothing to wait for
        assert d.alive()
    finally:
        for s in held:
            s.close()
    wait_until(lambda: _served(d), 10, interval=0.1, what="serving again after EMFILE")
    assert d.alive()

"""Signals and sd_notify: SIGTERM/SIGINT drain, SIGHUP reload, READY/STOPPING/WATCHDOG."""

import concurrent.futures
import re
import signal
import socket

import pytest

from conftest import wait_until, to_yaml


def test_sd_notify_ready_after_bind_and_stopping(daemon_factory):
    d = daemon_factory(notify=True, wait=False)
    d.notify.wait_for("READY", "1", timeout=10)
    # READY=1 promises the listeners are bound: no retry here.
    assert d.get("/healthz", timeout=2).status == 200
    assert d.unix_get("/healthz", timeout=2).status == 200
    # STATUS is its own datagram, sent right after READY=1: wait for the
    # listener thread to have it rather than assume it already does.
    d.notify.wait_for("STATUS", timeout=5)
    n = d.notify.count()
    d.signal(signal.SIGTERM)
    d.notify.wait_for("STOPPING", "1", timeout=10, start=n)
    assert d.wait(10) == 0


def test_no_notify_socket_no_problem(daemon):
    # Without NOTIFY_SOCKET the daemon must not complain or fail.
    assert daemon.get("/healthz").status == 200
    assert daemon.stop() == 0


def test_watchdog_pings(daemon_factory):
    d = daemon_factory(notify=True, env={"WATCHDOG_USEC": "400000"})
    first = d.notify.wait_for("WATCHDOG", "1", timeout=3)
    # Pinged from a loop timer (at about half the interval), so more follow.
    d.notify.wait_for("WATCHDOG", "1", timeout=3, start=first + 1)


def test_sigterm_exits_0(daemon):
    assert daemon.get("/healthz").status == 200
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(10) == 0


def test_sigint_exits_0(daemon):
    daemon.signal(signal.SIGINT)
    assert daemon.wait(10) == 0


def _ignored(pid, sig):
    """True when process PID ignores SIG (its SigIgn mask in /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigIgn:"))
    return bool(mask & (1 << (sig - 1)))


def test_sigpipe_ignored(daemon):
    # An ignored signal is discarded when it is sent: once the mask says so, the
    # kill below cannot act later, and no waiting is needed.
    assert _ignored(daemon.pid, signal.SIGPIPE)
    daemon.signal(signal.SIGPIPE)
    assert daemon.alive()
    assert daemon.get("/healthz").status == 200


def test_sighup_good_reload(daemon_factory):
    d = daemon_factory(notify=True)      # log.level debug
    mark = d.log_mark()
    assert d.get("/healthz").status == 200
    d.wait_for_log(r"request .*route=/healthz status=200", since=mark)

    # debug -> warning: request lines (INFO) are no longer logged.
    n = d.notify.count()
    d.write_config({"log": {"level": "warning"}})
    d.signal(signal.SIGHUP)
    i = d.notify.wait_for("RELOADING", "1", timeout=10, start=n)
    assert re.fullmatch(r"\d+", d.notify.messages[i].get("MONOTONIC_USEC", "")), \
        f"RELOADING=1 without MONOTONIC_USEC: {d.notify.messages[i]['raw']!r}"
    d.notify.wait_for("READY", "1", timeout=10, start=i + 1)
    mark = d.log_mark()
    for _ in range(3):
        assert d.get("/healthz").status == 200
    # A line that is logged at warning level, after those requests: once it is
    # in the log, any request line of theirs would be too (one loop, in order).
    n = d.notify.count()
    d.write_config(text="log: [")
    d.signal(signal.SIGHUP)
    i = d.notify.wait_for("RELOADING", "1", timeout=10, start=n)
    d.notify.wait_for("READY", "1", timeout=10, start=i + 1)   # that reload is over
    d.wait_for_log(r"reload refused", since=mark)
    assert d.request_lines(since=mark) == []

    # warning -> info: they come back.
    n = d.notify.count()
    d.write_config({"log": {"level": "info"}})
    d.signal(signal.SIGHUP)
    i = d.notify.wait_for("RELOADING", "1", timeout=10, start=n)
    d.notify.wait_for("READY", "1", timeout=10, start=i + 1)
    mark = d.log_mark()
    assert d.get("/healthz").status == 200
    d.wait_for_log(r"request .*route=/healthz status=200", since=mark)

    # At least one of the two reloads logs it, whatever the order of log-then-apply.
    assert "configuration reloaded" in d.log_text()
    assert d.alive()


def test_sighup_bad_config_keeps_old(daemon_factory):
    d = daemon_factory(notify=True)      # log.level debug
    good = dict(d.config)
    # The bad file would also lower the log level: nothing of it may be applied.
    text = to_yaml({k: v for k, v in good.items() if k != "log"}) + \
        "\nlog:\n  level: warning\n  colour: yes\n"
    d.write_config(text=text)
    lines = text.splitlines()
    line = next(i for i, s in enumerate(lines, 1) if "colour" in s)
    col = lines[line - 1].index("colour") + 1
    n = d.notify.count()
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    pos = f"{d.config_path}:{line}:{col}"
    wait_until(lambda: any("reload" in s.lower() and pos in s
                           for s in d.log_since(mark).splitlines()),
               5, what=f"a log line with 'reload' and {pos}")
    assert d.alive()
    assert "configuration reloaded" not in d.log_since(mark)
    mark = d.log_mark()
    assert d.get("/healthz").status == 200
    assert d.unix_get("/healthz").status == 200
    d.wait_for_log(r"request .*route=/healthz status=200", since=mark)   # still debug
    # If it announced a reload to systemd, it must also say it is ready again.
    reloading = [i for i in range(n, d.notify.count()) if "RELOADING" in d.notify.messages[i]]
    if reloading:
        d.notify.wait_for("READY", "1", timeout=5, start=reloading[-1] + 1)


def test_sighup_restart_only_key_not_applied(daemon_factory):
    d = daemon_factory()
    old_port = d.port
    d.write_config({"listen": {"tcp": "127.0.0.1:1"}})
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_for_log(r"listen\.tcp", since=mark)        # says it needs a restart
    assert d.alive()
    assert d.get("/healthz").status == 200           # still on the old port
    assert d.port == old_port


def _refused(d):
    """True when a new TCP connection to the daemon is refused."""
    try:
        s = socket.create_connection(("127.0.0.1", d.port), timeout=0.5)
    except OSError:
        return True
    s.close()
    return False


def test_sigterm_drains_slow_request(daemon_factory, pg):
    # The watchdog pings every 100 ms from the loop: pings after STOPPING=1 show
    # the loop still running, with the request in flight.
    d = daemon_factory(notify=True, env={"WATCHDOG_USEC": "200000"})
    assert d.get("/readyz").status == 200
    locker = pg.connect(autocommit=False)
    watcher = pg.connect()
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
        fut = pool.submit(d.get, "/readyz", timeout=30)

        def blocked():
            with watcher.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                            " AND wait_event_type = 'Lock' AND datname = current_database()")
                return cur.fetchone()[0] > 0
        try:
            wait_until(blocked, 5, what="GET /readyz to wait on the locked schema_migrations")
        except AssertionError:
            pytest.fail("GET /readyz does not read schema_migrations per request, so this "
                        f"test cannot hold it in flight (done: {fut.done()})")
        assert not fut.done()

        n = d.notify.count()
        d.signal(signal.SIGTERM)
        i = d.notify.wait_for("STOPPING", "1", timeout=5, start=n)
        d.wait_for_log(r"SIGTERM: stopping; 1 request\(s\) in flight")
        wait_until(lambda: _refused(d), 3, what="the TCP listener to close after SIGTERM")
        with pytest.raises(OSError):
            d.unix_get("/healthz", timeout=1)
        # Four pings after STOPPING=1: more than 300 ms of loop, past the 200 ms
        # in which a daemon with nothing in flight exits.
        for _ in range(4):
            i = d.notify.wait_for("WATCHDOG", "1", timeout=3, start=i + 1)
        assert d.alive(), "exited with a request in flight"
        assert not fut.done()

        locker.rollback()      # releases the lock: the request completes
        r = fut.result(timeout=10)
        assert r.status == 200, r
        assert r.json()["status"] == "ready"
        assert d.wait(10) == 0
    finally:
        try:
            locker.rollback()
        except Exception:
            pass
        locker.close()
        watcher.close()
        pool.shutdown(wait=False)

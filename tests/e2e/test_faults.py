"""Faults the daemon must survive, each bounded in time (issue 11):

- PostgreSQL killed with SIGKILL under a feedback load, then started: every
  acknowledged feedback is stored exactly once (clients retry with the same
  Idempotency-Key), service is back within 2 s of PostgreSQL, no restart;
- PostgreSQL stopped during the catalog's full load at start, and during a
  records refresh: both finish once it is back;
- two daemons on one database: a therapist change through one is matched by
  the other within 1 s; feedback through one moves the records of the other
  within engine.records_refresh;
- SIGHUP and SIGTERM under load: the reload answers nothing 5xx, the drain
  answers everything in flight.
"""

import os
import re
import signal
import threading
import time

from conftest import wait_until
from episode_util import (a5, add_client, add_therapist, api_therapist, catalog_considered,
                          poor, rows, start_episode)
from match_util import intake


def backends(pm_pid):
    """The postmaster's children (backends, walwriter, ...)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pm_pid:
            kids.append(int(entry))
    return kids


def kill_postgres(pg):
    """SIGKILL the postmaster and every child at once: a crash, not a shutdown."""
    with open(os.path.join(pg.datadir, "postmaster.pid")) as f:
        pm = int(f.readline())
    victims = [pm] + backends(pm)
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def gone():
        for pid in victims:
            try:
                os.kill(pid, 0)
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        return False
            except (ProcessLookupError, OSError):
                pass
        return True
    wait_until(gone, 10, what="PostgreSQL's processes to die")
    # The dead postmaster may stay a zombie (a container's init that does not
    # reap): its pid still "exists", so a new postmaster would refuse the stale
    # lock file.  Every process of the cluster is dead: the file is stale.
    os.unlink(os.path.join(pg.datadir, "postmaster.pid"))
    for name in os.listdir(pg.sockdir):
        if name.startswith(".s.PGSQL.") and name.endswith(".lock"):
            os.unlink(os.path.join(pg.sockdir, name))


class FeedbackLoad:
    """Workers submit feedback session after session, each with its own key, and
    retry a failure with the same key until it is acknowledged."""

    def __init__(self, d, episodes):
        self.d = d
        self.episodes = episodes
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}          # key -> time acknowledged
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(ep,)) for ep in episodes]

    def run(self, ep):
        session = 0
        while not self.stop.is_set():
            session += 1
            key = f"load-{ep}-{session}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = self.d.post(f"/v1/episodes/{ep}/feedback", json_body=a5(session),
                                    headers={"Idempotency-Key": key}, timeout=5)
                    status = r.status
                except OSError:
                    status = None
                if status == 200:
                    with self.lock:
                        self.acked[key] = time.monotonic()
                    break
                if status not in (None, 503):
                    with self.lock:
                        self.errors.append((key, status, r.text[:200]))
                    return
                if time.monotonic() > deadline:
                    with self.lock:
                        self.errors.append((key, "no ack within 30 s"))
                    return
                time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(40)

    def count(self):
        with self.lock:
            return len(self.acked)


def test_postgres_sigkill_under_feedback_load(daemon_factory, pg):
    conn = pg.connect()
    # Acknowledged means committed: a SIGKILL loses commits that
    # synchronous_commit = off (the harness's speed setting) has not written
    # yet.  Set before the daemon connects.
    with conn.cursor() as cur:
        cur.execute("ALTER DATABASE alliance SET synchronous_commit = on")
    try:
        d = daemon_factory(config={"limits": {"max_sessions": 10000}})
        eps = [start_episode(d, add_client(conn), add_therapist(conn)).json()["id"]
               for _ in range(4)]
        with FeedbackLoad(d, eps) as load:
            wait_until(lambda: load.count() >= 20, 20, what="feedback acknowledged")
            conn.close()
            pid = d.pid
            kill_postgres(pg)
            acked_before = load.count()
            time.sleep(0.5)  # the outage: requests meet 503 and retry
            pg.start()
            up = time.monotonic()
            wait_until(lambda: load.count() > acked_before + 20, 20,
                       what="feedback acknowledged again")
        first_after = min(t for t in load.acked.values() if t > up)
        print(f"service back {first_after - up:.3f} s after PostgreSQL; "
              f"{len(load.acked)} feedback acknowledged")
        assert first_after - up < 2.0, f"service back {first_after - up:.2f} s after PostgreSQL"
        assert not load.errors, load.errors[:5]
        assert d.pid == pid and d.alive()
        conn = pg.connect()
        with conn.cursor() as cur:
            cur.execute("SELECT idempotency_key, count(*) FROM feedback"
                        " WHERE idempotency_key LIKE 'load-%%' GROUP BY 1")
            stored = dict(cur.fetchall())
        assert set(stored) == set(load.acked), (
            f"acknowledged but not stored: {sorted(set(load.acked) - set(stored))[:5]}, "
            f"stored but never acknowledged: {sorted(set(stored) - set(load.acked))[:5]}")
        assert set(stored.values()) == {1}
    finally:
        if conn.closed:
            conn = pg.connect()
        with conn.cursor() as cur:
            cur.execute("ALTER DATABASE alliance RESET synchronous_commit")
        conn.close()


def hold_table(pg, table):
    """A transaction that holds TABLE exclusively (the daemon's reads wait)."""
    holder = pg.connect(autocommit=False)
    with holder.cursor() as cur:
        cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    return holder


def daemon_waits_on_a_lock(pg):
    conn = pg.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                        " WHERE NOT l.granted AND a.application_name = 'allianced'")
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


def test_postgres_stopped_during_the_catalogs_full_load(daemon_factory, pg):
    conn = pg.connect()
    api_ids = [add_therapist(conn) for _ in range(3)]
    conn.close()
    holder = hold_table(pg, "therapists")
    d = daemon_factory(wait=False)
    try:
        wait_until(lambda: daemon_waits_on_a_lock(pg), 10, what="the full load to wait")
        pid = d.pid
        pg.stop("fast")  # ends the holder too
    finally:
        try:
            holder.close()
        except Exception:
            pass
    pg.start()
    wait_until(lambda: d.get("/readyz").status == 200, 10, interval=0.05,
               what="the catalog loaded after PostgreSQL came back")
    assert catalog_considered(d) == len(api_ids)
    assert d.pid == pid and d.alive()


def test_postgres_stopped_during_a_records_refresh(daemon_factory, pg):
    d = daemon_factory(config={"engine": {"records_refresh": 1}})
    t = api_therapist(d, "T-REFRESH")
    wait_until(lambda: catalog_considered(d) == 1, 10, what="the therapist in the catalog")
    # The periodic refresh reads the per-therapist records (sql/007).
    holder = hold_table(pg, "therapist_records")
    try:
        wait_until(lambda: daemon_waits_on_a_lock(pg), 10, what="a records refresh to wait")
        pg.stop("fast")
    finally:
        try:
            holder.close()
        except Exception:
            pass
    pg.start()
    wait_until(lambda: d.get("/readyz").status == 200, 10, interval=0.05, what="ready again")
    # Refreshes go on: a bad alliance in the database moves the record the
    # daemon matches with, within a few refresh periods.
    conn = pg.connect()
    eps = []
    for _ in range(6):
        c = add_client(conn)
        r = start_episode(d, c, t)
        assert r.status == 201, r.text
        eps.append(r.json()["id"])
    conn.close()
    before = record_of(d, t)
    for ep in eps:
        for s in (1, 2, 3):
            assert d.post(f"/v1/episodes/{ep}/feedback", json_body=poor(s)).status == 200
    wait_until(lambda: record_of(d, t) != before, 10, interval=0.2,
               what="the records refreshed after the outage")


def record_of(d, therapist_id):
    """The alliance record matching sees for the therapist (its reasons/score)."""
    r = d.post("/v1/match?limit=5", json_body=intake())
    assert r.status == 200, r.text
    for m in r.json()["matches"]:
        if m["therapist_id"] == therapist_id:
            return m["score"]
    return None


def test_two_daemons_on_one_database(daemon_factory, pg):
    a = daemon_factory(config={"engine": {"records_refresh": 2}})
    b = daemon_factory(config={"engine": {"records_refresh": 2}})
    t = api_therapist(a, "T-TWO", languages=["en"])
    t0 = time.monotonic()
    wait_until(lambda: record_of(b, t) is not None, 1.0, interval=0.02,
               what="the other daemon to match the new therapist")
    # A change through one: the other stops matching her within 1 s.
    r = a.request("PATCH", f"/v1/therapists/{t}", body=b'{"accepting_new": false}',
                  headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text
    wait_until(lambda: record_of(b, t) is None, 1.0, interval=0.02,
               what="the other daemon to see the change")
    r = a.request("PATCH", f"/v1/therapists/{t}", body=b'{"accepting_new": true}',
                  headers={"Content-Type": "application/json"})
    assert r.status == 200
    wait_until(lambda: record_of(b, t) is not None, 1.0, interval=0.02, what="back")
    assert time.monotonic() - t0 < 10
    # Feedback through one moves the records of the other within records_refresh.
    conn = pg.connect()
    eps = [start_episode(a, add_client(conn), t).json()["id"] for _ in range(6)]
    conn.close()
    before = record_of(b, t)
    for ep in eps:
        for s in (1, 2, 3):
            assert a.post(f"/v1/episodes/{ep}/feedback", json_body=poor(s)).status == 200
    sent = time.monotonic()
    wait_until(lambda: record_of(b, t) != before, 2 + 1.5, interval=0.1,
               what="the other daemon's records to move")
    assert time.monotonic() - sent < 3.5


class ReadLoad:
    """Workers that GET and match continuously; every answer's status kept."""

    def __init__(self, d, n=4):
        self.d = d
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses = []
        self.failures = []
        self.threads = [threading.Thread(target=self.run) for _ in range(n)]

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                r = self.d.post("/v1/match?limit=3", json_body=intake(), timeout=5)
                with self.lock:
                    self.statuses.append((t, r.status))
            except OSError as e:
                with self.lock:
                    self.failures.append((t, repr(e)))
                if self.stop.is_set():
                    return
                time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(10)


def test_sighup_under_load_answers_nothing_5xx(daemon_factory, db):
    d = daemon_factory()
    api_therapist(d, "T-HUP")
    with ReadLoad(d) as load:
        wait_until(lambda: len(load.statuses) > 20, 10, what="load")
        for i in range(3):
            mark = d.log_mark()
            d.write_config({"engine": {"weight_style": 1 + i}})
            d.signal(signal.SIGHUP)
            d.wait_for_log(r"reload", since=mark)
            n = len(load.statuses)
            wait_until(lambda: len(load.statuses) > n + 10, 10, what="answers after reload")
    bad = [s for _, s in load.statuses if s >= 500]
    assert not bad, f"{len(bad)} answers 5xx during reloads"
    assert not load.failures, load.failures[:3]


def test_sigterm_under_load_answers_everything_in_flight(daemon_factory, db):
    d = daemon_factory()
    t = add_therapist(db)
    eps = [start_episode(d, add_client(db), t).json()["id"] for _ in range(4)]
    results = []
    lock = threading.Lock()
    go = threading.Event()

    def worker(ep):
        go.wait()
        session = 0
        while True:
            session += 1
            try:
                r = d.post(f"/v1/episodes/{ep}/feedback", json_body=a5(session), timeout=10)
                with lock:
                    results.append(("answer", r.status))
            except (ConnectionRefusedError, ConnectionResetError):
                # The listener is closed: the drain has begun.  A connection the
                # kernel had queued but the daemon never accepted is reset when
                # the listener closes: refused, not lost (the log below proves
                # that every request the daemon took was answered).
                return
            except OSError as e:
                with lock:
                    results.append(("lost", repr(e)))
                return

    threads = [threading.Thread(target=worker, args=(ep,)) for ep in eps]
    for th in threads:
        th.start()
    go.set()
    wait_until(lambda: len(results) > 20, 10, what="load")
    d.signal(signal.SIGTERM)
    rc = d.wait(15)
    for th in threads:
        th.join(15)
    assert rc == 0
    lost = [x for x in results if x[0] == "lost"]
    assert not lost, f"requests in flight not answered by the drain: {lost[:3]}"
    log = d.log_text()
    assert "graceful stop timed out" not in log
    assert re.search(r"SIGTERM: stopping; \d+ request\(s\) in flight", log), log[-2000:]
    statuses = {s for k, s in results if k == "answer"}
    assert statuses <= {200, 503}, statuses

"""The soak (make soak, not make check): SOAK_SECONDS (default 600) of mixed
load on one daemon, whose resident memory and open descriptors must stay flat.

Load, on 6 threads: matching, feedback with idempotency keys (retries of the
same key included), GET alliance, the two reports (paged), therapist PATCHes
(a NOTIFY and a catalog reload each), client upserts, attendance; every answer
must be 2xx, 409 or 422 where the request asks for it.  Every 10 s the
daemon's VmRSS and open fds are sampled.  Flat means: after the warm-up (the
first fifth), no sample exceeds the warm-up's last by more than 10 % + 4 MiB
of RSS, or 4 descriptors.  The figures are printed as a table (see
tests/bench/README.md for a run).

Named soak_*.py so that the e2e suite does not collect it; `make soak` names it.
"""

import os
import random
import threading
import time

from episode_util import a5, add_client, api_therapist, attendance, start_episode
from match_util import intake

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def test_soak_mixed_load(daemon_factory, db):
    d = daemon_factory(config={"limits": {"max_sessions": 10000},
                               "engine": {"records_refresh": 5}, "log": {"level": "warning"}})
    ts = [api_therapist(d, f"T-S{i}") for i in range(20)]
    eps = [start_episode(d, add_client(db), ts[i % len(ts)]).json()["id"] for i in range(24)]
    stop = threading.Event()
    lock = threading.Lock()
    counts = {"requests": 0}
    bad = []

    def record(what, r, ok=(200, 201)):
        with lock:
            counts["requests"] += 1
            if r.status not in ok:
                bad.append((what, r.status, r.text[:200]))

    def matcher():
        while not stop.is_set():
            record("match", d.post("/v1/match?limit=5", json_body=intake()))

    def feeder(mine):
        sessions = {ep: 0 for ep in mine}
        while not stop.is_set():
            ep = random.choice(mine)
            sessions[ep] += 1
            key = f"soak-{ep}-{sessions[ep]}"
            record("feedback", d.post(f"/v1/episodes/{ep}/feedback", json_body=a5(
                sessions[ep]), headers={"Idempotency-Key": key}), ok=(200,))
            if sessions[ep] % 5 == 0:  # a client's retry: the same answer, stored once
                record("retry", d.post(f"/v1/episodes/{ep}/feedback", json_body=a5(
                    sessions[ep]), headers={"Idempotency-Key": key}), ok=(200,))
            if sessions[ep] % 7 == 0:
                record("attendance", attendance(d, ep, sessions[ep] + 1, "cancelled"),
                       ok=(200, 201))

    def reader():
        while not stop.is_set():
            ep = random.choice(eps)
            record("alliance", d.get(f"/v1/episodes/{ep}/alliance"))
            record("report", d.get("/v1/reports/alliance?limit=10"))
            record("at-risk", d.get("/v1/reports/at-risk?limit=10"))

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            t = random.choice(ts)
            r = d.request("PATCH", f"/v1/therapists/{t}",
                          body=f'{{"capacity": {30 + n % 5}}}'.encode(),
                          headers={"Content-Type": "application/json"})
            record("patch", r)
            record("client", d.post("/v1/clients", json_body=intake(f"C-SOAK-{n % 200}")))
            time.sleep(0.05)

    half = len(eps) // 2
    threads = [threading.Thread(target=f, args=a) for f, a in (
        (matcher, ()), (matcher, ()), (feeder, (eps[:half],)), (feeder, (eps[half:],)),
        (reader, ()), (writer, ()))]
    for th in threads:
        th.start()
    samples = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < SECONDS:
            time.sleep(10)
            rss, fds = sample(d.pid)
            samples.append((round(time.monotonic() - t0), rss, fds, counts["requests"]))
            print(f"t={samples[-1][0]:4d}s rss={rss} KiB fds={fds} "
                  f"requests={samples[-1][3]}", flush=True)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    warm = samples[max(0, len(samples) // 5 - 1)]
    print("\n| t (s) | VmRSS (KiB) | open fds | requests |\n|---|---|---|---|")
    shown = samples[::max(1, len(samples) // 12)]
    if shown[-1] != samples[-1]:
        shown.append(samples[-1])
    for t, rss, fds, n in shown:
        print(f"| {t} | {rss} | {fds} | {n} |")
    after = samples[len(samples) // 5:]
    assert not bad, f"{len(bad)} unexpected answers, first: {bad[:3]}"
    assert max(s[1] for s in after) <= warm[1] * 1.10 + 4096, "RSS grows"
    assert max(s[2] for s in after) <= warm[2] + 4, "open descriptors grow"
    assert d.alive()

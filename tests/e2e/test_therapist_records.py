"""Per-therapist records (sql/007_therapist_records.sql), overall and per
concern of the client's intake, kept by triggers in the same transaction as
every change they depend on, equal a full recompute from the history after
random sequences of changes: feedback (one row or several per statement),
corrections of feedback, episodes started, ended, moved to another therapist
or deleted, clients' intakes changed (also to malformed concerns), thresholds
and the outcome rule changed; some changes grouped in one transaction, some
rolled back; and two sessions writing the same therapist at once (issue 12).

The oracle is Python over the raw tables (episodes, feedback, clients), not
the SQL views the triggers share."""

import random
import threading

import psycopg2
import pytest

from test_episode_stats import oracle as episode_oracle
from therapist_util import rows

TAGS = ["anxiety", "depression", "trauma", "grief", "sleep"]
DEFAULTS = (70.0, 90.0, 62.5, 5.0)


def settings(db):
    return tuple(rows(db, "SELECT alliance5, srs, wai_sr, ors_reliable_change "
                          "FROM alliance_score_settings")[0])


def client_tags(prefs):
    """The distinct tags of clients.preferences->concerns[] as the records read them."""
    concerns = prefs.get("concerns") if isinstance(prefs, dict) else None
    if not isinstance(concerns, list):
        return set()
    out = set()
    for c in concerns:
        if isinstance(c, dict) and c.get("tag") is not None:
            t = c["tag"]
            out.add(t if isinstance(t, str) else str(t).lower())
    return out


def oracle(db):
    a5, srs, wai, rc = settings(db)
    eps = episode_oracle(db, {"alliance5": a5, "srs": srs, "wai_sr": wai})
    prefs = dict(rows(db, "SELECT id, preferences FROM clients"))
    per, pc = {}, {}
    for ep, tid, cid, status in rows(db, "SELECT id, therapist_id, client_id, status "
                                         "FROM episodes"):
        rated, ssum, ors_n, first, last = eps.get(ep, (0, 0.0, 0, None, None))
        a = ssum / rated if rated else None
        ch = last - first if ors_n else None
        ended = status == "ended" and ch is not None
        contrib = (1 if a is not None else 0, a or 0.0, 1 if ended else 0,
                   1 if ended and ch >= rc else 0)
        r = per.setdefault(tid, [0, 0, 0.0, 0, 0])
        r[0] += status == "active"
        for i in range(4):
            r[i + 1] += contrib[i]
        if a is None and not ended:
            continue
        for tag in client_tags(prefs[cid]):
            c = pc.setdefault((tid, tag), [0, 0.0, 0, 0])
            for i in range(4):
                c[i] += contrib[i]
    return per, pc


def assert_records_exact(db):
    want_per, want_pc = oracle(db)
    got_per = {tid: [cl, an, asum, on, ok] for tid, cl, an, asum, on, ok in rows(
        db, "SELECT therapist_id, caseload, a_n, a_sum, o_n, o_k FROM therapist_records")}
    got_pc = {(tid, tag): [an, asum, on, ok] for tid, tag, an, asum, on, ok in rows(
        db, "SELECT therapist_id, concern, a_n, a_sum, o_n, o_k "
            "FROM therapist_concern_records")}
    for tid in set(want_per) | set(got_per):
        w = want_per.get(tid, [0, 0, 0.0, 0, 0])
        g = got_per.get(tid, [0, 0, 0.0, 0, 0])
        assert (g[0], g[1], g[3], g[4]) == (w[0], w[1], w[3], w[4]), ("therapist", tid, g, w)
        assert abs(g[2] - w[2]) < 1e-6, ("therapist", tid, g, w)
    assert set(got_pc) == set(want_pc), (sorted(set(got_pc) ^ set(want_pc)))
    for k, w in want_pc.items():
        g = got_pc[k]
        assert (g[0], g[2], g[3]) == (w[0], w[2], w[3]), ("concern", k, g, w)
        assert abs(g[1] - w[1]) < 1e-6, ("concern", k, g, w)
    # the views the rebuild uses agree too
    full = {tid: (cl, an, on, ok) for tid, cl, an, on, ok in rows(
        db, "SELECT therapist_id, caseload, a_n, o_n, o_k FROM therapist_records_full")}
    for tid, w in want_per.items():
        assert full.get(tid, (0, 0, 0, 0)) == (w[0], w[1], w[3], w[4])


def random_prefs(rnd):
    shape = rnd.random()
    if shape < 0.08:
        return '{"concerns": "anxiety"}'  # not an array: no concern
    if shape < 0.14:
        return '{"concerns": [1, {"tag": null}, {"tag": "grief"}]}'
    tags = rnd.sample(TAGS, rnd.randint(0, 3))
    if tags and rnd.random() < 0.2:
        tags.append(tags[0])  # a tag twice counts once
    return '{"concerns": [%s]}' % ", ".join('{"tag": "%s", "priority": 1}' % t for t in tags)


class World:
    def __init__(self, db, rnd):
        self.db, self.rnd = db, rnd
        self.therapists = [r[0] for r in rows(
            db, "INSERT INTO therapists (external_ref, display_name) "
                "SELECT 'T-' || g, 'T' FROM generate_series(1, 4) g RETURNING id")]
        self.clients = []
        for i in range(10):
            self.clients.append(rows(
                db, "INSERT INTO clients (external_ref, preferences) VALUES (%s, %s) "
                    "RETURNING id", (f"C-{i}", random_prefs(rnd)))[0][0])
        self.session = 0
        for _ in range(12):
            self.start_episode()

    def q(self, sql, args=()):
        try:
            with self.db.cursor() as cur:
                cur.execute("SAVEPOINT op")
                cur.execute(sql, args)
                cur.execute("RELEASE SAVEPOINT op")
        except psycopg2.IntegrityError:
            # (one active episode per pair): the change is refused, nothing moves
            with self.db.cursor() as cur:
                cur.execute("ROLLBACK TO SAVEPOINT op")

    def episodes(self, status=None):
        return [r[0] for r in rows(self.db, "SELECT id FROM episodes" + (
            " WHERE status = %s" if status else ""), (status,) if status else ())]

    def start_episode(self):
        self.q("INSERT INTO episodes (client_id, therapist_id) VALUES (%s, %s)",
               (self.rnd.choice(self.clients), self.rnd.choice(self.therapists)))

    def feedback(self, ep):
        rnd = self.rnd
        self.session += 1
        instrument = rnd.choice(["alliance5", "srs", "wai_sr", "ors", "ors"])
        if instrument == "ors":
            self.q("INSERT INTO feedback (episode_id, session, instrument, items, occurred_at, "
                   "ors_total) VALUES (%s, %s, 'ors', '{}', now(), %s)",
                   (ep, self.session, round(rnd.uniform(0, 40), 1)))
        else:
            idx = rnd.choice([None, 0.0, 100.0, 70.0, rnd.uniform(0, 100)])
            self.q("INSERT INTO feedback (episode_id, session, instrument, items, "
                   "occurred_at, alliance_index, trust_signal) "
                   "VALUES (%s, %s, %s, '{}', now(), %s, 50)",
                   (ep, self.session, instrument, idx))

    def step(self):
        rnd, eps = self.rnd, self.episodes()
        op = rnd.random()
        if not eps or op < 0.08:
            self.start_episode()
        elif op < 0.50:
            self.feedback(rnd.choice(eps))
        elif op < 0.55:
            # several episodes' feedback in one statement
            self.session += 1
            pick = rnd.sample(eps, min(len(eps), 4))
            self.q("INSERT INTO feedback (episode_id, session, instrument, items, occurred_at, "
                   "ors_total) SELECT e, %s, 'ors', '{}', now(), 10 + 3 * random() * e "
                   "FROM unnest(%s::bigint[]) e", (self.session, pick))
        elif op < 0.63:
            active = self.episodes("active")
            if active:
                self.q("UPDATE episodes SET status = 'ended', ended_at = now(), "
                       "end_reason = 'completed' WHERE id = %s", (rnd.choice(active),))
        elif op < 0.72:
            self.q("UPDATE clients SET preferences = %s WHERE id = %s",
                   (random_prefs(rnd), rnd.choice(self.clients)))
        elif op < 0.77:
            self.q("UPDATE episodes SET therapist_id = %s WHERE id = %s",
                   (rnd.choice(self.therapists), rnd.choice(eps)))
        elif op < 0.80:
            self.q("UPDATE episodes SET client_id = %s WHERE id = %s AND referred_from IS NULL",
                   (rnd.choice(self.clients), rnd.choice(eps)))
        elif op < 0.88:
            fb = [r[0] for r in rows(self.db, "SELECT id FROM feedback")]
            if fb:
                if rnd.random() < 0.5:
                    self.q("DELETE FROM feedback WHERE id = %s", (rnd.choice(fb),))
                else:
                    self.q("UPDATE feedback SET alliance_index = CASE WHEN instrument = 'ors' "
                           "THEN NULL ELSE 55 END, ors_total = CASE WHEN instrument = 'ors' "
                           "THEN 31 END WHERE id = %s", (rnd.choice(fb),))
        elif op < 0.91:
            ep = rnd.choice(eps)
            self.q("DELETE FROM feedback WHERE episode_id = %s", (ep,))
            self.q("DELETE FROM episodes WHERE id = %s AND NOT EXISTS (SELECT 1 FROM episodes "
                   "x WHERE x.referred_from = %s)", (ep, ep))
        elif op < 0.94:
            self.q("SELECT alliance_records_settings_set(%s, %s, %s, %s)",
                   (rnd.choice([70, 60]), rnd.choice([90, 100]), rnd.choice([62.5, 50]),
                    rnd.choice([5, 3, 12])))
        else:
            # a therapist without episodes deleted (its rows go with it)
            self.q("DELETE FROM therapists t WHERE t.id = %s AND NOT EXISTS "
                   "(SELECT 1 FROM episodes e WHERE e.therapist_id = t.id)",
                   (rnd.choice(self.therapists),))


@pytest.fixture
def restore_settings(db):
    yield
    rows(db, "SELECT alliance_records_settings_set(%s, %s, %s, %s)", DEFAULTS)


def test_records_equal_a_full_recompute_after_random_changes(migrated, db, restore_settings):
    db.autocommit = False
    try:
        for seed in range(6):
            rnd = random.Random(seed)
            if seed:
                with db.cursor() as cur:
                    cur.execute("TRUNCATE feedback, episode_stats, episodes, clients, therapists, "
                                "therapist_records, therapist_concern_records "
                                "RESTART IDENTITY CASCADE")
                db.commit()
            world = World(db, rnd)
            db.commit()
            for _ in range(25):
                # a few changes per transaction; now and then one rolled back
                for _ in range(rnd.randint(1, 6)):
                    world.step()
                if rnd.random() < 0.1:
                    db.rollback()
                else:
                    db.commit()
                assert_records_exact(db)
                db.commit()
    finally:
        db.rollback()
        db.autocommit = True


def test_a_rebuild_equals_the_triggers(migrated, db, restore_settings):
    """The migration's fill (the rebuild) and the triggers agree row for row."""
    db.autocommit = False
    rnd = random.Random(11)
    world = World(db, rnd)
    for _ in range(120):
        world.step()
    db.commit()
    db.autocommit = True
    before = rows(db, "SELECT therapist_id, caseload, a_n, round(a_sum::numeric, 6), o_n, o_k "
                      "FROM therapist_records WHERE caseload > 0 OR a_n > 0 OR o_n > 0 "
                      "ORDER BY 1")
    before_pc = rows(db, "SELECT therapist_id, concern, a_n, round(a_sum::numeric, 6), o_n, o_k "
                         "FROM therapist_concern_records ORDER BY 1, 2")
    rows(db, "SELECT alliance_therapist_records_rebuild()::text")
    assert rows(db, "SELECT therapist_id, caseload, a_n, round(a_sum::numeric, 6), o_n, o_k "
                    "FROM therapist_records WHERE caseload > 0 OR a_n > 0 OR o_n > 0 "
                    "ORDER BY 1") == before
    assert rows(db, "SELECT therapist_id, concern, a_n, round(a_sum::numeric, 6), o_n, o_k "
                    "FROM therapist_concern_records ORDER BY 1, 2") == before_pc
    assert_records_exact(db)
    # the outcome rule alone changed: every record rebuilt with it
    rows(db, "SELECT alliance_records_settings_set(70, 90, 62.5, 5)")
    assert_records_exact(db)
    assert rows(db, "SELECT alliance_records_settings_set(70, 90, 62.5, 5)")[0][0] is False
    assert rows(db, "SELECT alliance_records_settings_set(70, 90, 62.5, 1)")[0][0] is True
    assert_records_exact(db)


def test_concurrent_writers_of_one_therapist_lose_nothing(migrated, db, pg, restore_settings):
    """Feedback from two sessions on episodes of the same therapist, while a
    third changes the intakes and ends episodes: the records stay exact."""
    rnd = random.Random(5)
    t = rows(db, "INSERT INTO therapists (external_ref, display_name) VALUES ('T', 'T') "
                 "RETURNING id")[0][0]
    eps = []
    for i in range(8):
        c = rows(db, "INSERT INTO clients (external_ref, preferences) VALUES (%s, %s) "
                     "RETURNING id", (f"C-{i}", random_prefs(rnd)))[0][0]
        eps.append(rows(db, "INSERT INTO episodes (client_id, therapist_id) VALUES (%s, %s) "
                            "RETURNING id", (c, t))[0][0])
    errors = []

    def writer(k):
        conn = pg.connect()
        r = random.Random(100 + k)
        try:
            for s in range(40):
                with conn.cursor() as cur:
                    ep = r.choice(eps)
                    if k == 2:
                        if r.random() < 0.3:
                            cur.execute("UPDATE episodes SET status = 'ended', ended_at = now(), "
                                        "end_reason = 'completed' WHERE id = %s "
                                        "AND status = 'active'", (ep,))
                        else:
                            cur.execute("UPDATE clients c SET preferences = %s FROM episodes e "
                                        "WHERE e.id = %s AND c.id = e.client_id",
                                        (random_prefs(r), ep))
                    elif s % 2:
                        cur.execute("INSERT INTO feedback (episode_id, session, instrument, items,"
                                    " occurred_at, ors_total) VALUES (%s, %s, 'ors', '{}', now(),"
                                    " %s)", (ep, 1 + 1000 * k + s, r.uniform(0, 40)))
                    else:
                        cur.execute("INSERT INTO feedback (episode_id, session, instrument, items,"
                                    " occurred_at, alliance_index, trust_signal) VALUES (%s, %s,"
                                    " 'srs', '{}', now(), %s, 50)", (ep, 1 + 1000 * k + s,
                                                                      r.uniform(0, 100)))
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert rows(db, "SELECT count(*) FROM feedback")[0][0] == 80
    assert_records_exact(db)

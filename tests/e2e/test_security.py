"""Authentication, scopes, peer credentials, audit trail, rate limits, root
(README "Security"), against the real daemon and PostgreSQL."""

import glob
import json
import os
import pwd
import re
import subprocess
import tempfile
import time

import psycopg2
import pytest

from cli_util import alliancectl_bin, as_json, ctl, ok  # noqa: F401 (fixtures)
from conftest import (HARNESS_TOKEN_NAME, REPO, daemon_env, http_request, make_token,
                      sanitizer_lines, to_yaml, wait_until)
from episode_util import a5, add_client, add_therapist, start_episode

JSON = {"Content-Type": "application/json"}
TEST_USER = "alliance-test"


def v1_routes():
    """(method, path, scope) of every /v1 route in the route tables."""
    out = []
    rx = re.compile(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(/v1/[^"]*)",\s*SCOPE_(\w+)')
    for f in sorted(glob.glob(os.path.join(REPO, "daemon/api/routes_*.c"))):
        with open(f) as fh:
            out += rx.findall(fh.read())
    assert len(out) >= 20, out
    return out


WRONG_SCOPE = {"INTAKE": "feedback", "FEEDBACK": "intake", "ADMIN": "intake"}


@pytest.fixture
def tokens(db):
    """Tokens of every scope; name this fixture before the daemon's, so that they are
    stored before it starts (its readiness waits for their first load)."""
    return {s: make_token(db, f"t-{s}", s) for s in ("intake", "feedback", "admin")}


def test_every_v1_route_refuses_no_token_bad_token_and_wrong_scope(tokens, daemon):
    for method, path, scope in v1_routes():
        p = path.replace("{id}", "1").replace("{name}", "intake")
        # A malformed body: a 401/403 proves the body was never parsed (else 400).
        body = b"{not json" if method in ("POST", "PUT", "PATCH") else None
        r = daemon.request(method, p, body=body, headers=JSON, auth=None)
        assert r.status == 401, (method, path, r)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), (method, path)
        assert r.content_type == "application/problem+json"
        r = daemon.request(method, p, body=body, headers=JSON, auth="alc_" + "0" * 64)
        assert r.status == 401, (method, path, r)
        r = daemon.request(method, p, body=body, headers=JSON, auth=tokens[WRONG_SCOPE[scope]])
        assert r.status == 403, (method, path, scope, r)
        # The right scope (or admin) gets past authentication: the malformed body is next.
        right = tokens[scope.lower()]
        if body is not None:
            for tok in (right, tokens["admin"]):
                r = daemon.request(method, p, body=body, headers=JSON, auth=tok)
                assert r.status == 400, (method, path, r)


def test_health_readiness_and_metrics_stay_open(daemon):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert daemon.get(path, auth=None).status == 200, path


def test_scopes_grant_their_routes(tokens, daemon, db):
    t = add_therapist(db)
    c = add_client(db)
    r = daemon.post("/v1/episodes", json_body={"client_id": c, "therapist_id": t},
                    auth=tokens["intake"])
    assert r.status == 201, r
    ep = r.json()["id"]
    r = daemon.post(f"/v1/episodes/{ep}/feedback", json_body=a5(1), auth=tokens["feedback"])
    assert r.status == 200, r
    assert daemon.get(f"/v1/episodes/{ep}/alliance", auth=tokens["admin"]).status == 200
    assert daemon.get("/v1/therapists", auth=tokens["admin"]).status == 200


def test_expired_token_is_refused(daemon, db):
    old = make_token(db, "old", "admin", expires_sql="now() + interval '1 second'")
    # Loaded while live; the daemon checks the expiry on every request.
    wait_until(lambda: daemon.get("/v1/therapists", auth=old).status == 200, 3,
               what="the new token to be loaded")
    time.sleep(1.1)
    r = daemon.get("/v1/therapists", auth=old)
    assert r.status == 401, r


def test_token_api_creates_lists_and_revokes_everywhere_within_a_second(daemon_factory):
    d1 = daemon_factory()
    d2 = daemon_factory()
    r = d1.post("/v1/tokens", json_body={"name": "intake-system", "scope": "intake",
                                         "expires_in_days": 90})
    assert r.status == 201, r
    created = r.json()
    tok = created["token"]
    assert re.fullmatch(r"alc_[0-9a-f]{64}", tok)
    assert created["expires_at"] is not None
    # The same name twice is a conflict while the first lives.
    assert d1.post("/v1/tokens", json_body={"name": "intake-system", "scope": "admin"}).status == 409
    wait_until(lambda: d2.get("/v1/clients/999999", auth=tok).status == 404, 2,
               what="the token to reach the second daemon")
    listed = d2.get("/v1/tokens").json()["tokens"]
    names = {t["name"] for t in listed}
    assert {"intake-system", HARNESS_TOKEN_NAME} <= names
    assert tok not in json.dumps(listed) and all("token" not in t for t in listed)

    r = d1.request("DELETE", f"/v1/tokens/{created['id']}")
    assert r.status == 200 and r.json()["revoked_at"] is not None, r
    t0 = time.monotonic()
    wait_until(lambda: d2.get("/v1/clients/999999", auth=tok).status == 401, 1.0, interval=0.01,
               what="the revocation to reach the second daemon")
    took = time.monotonic() - t0
    assert took < 1.0, took
    wait_until(lambda: d1.get("/v1/clients/999999", auth=tok).status == 401, 1.0,
               interval=0.01, what="the revocation to reach the first daemon")
    print(f"revocation reached the second daemon in {took * 1000:.0f} ms")


def test_last_used_is_written_in_batches(daemon, db):
    tok = make_token(db, "user", "admin")
    wait_until(lambda: daemon.get("/v1/therapists", auth=tok).status == 200, 3,
               what="the token to be loaded")
    for _ in range(5):
        assert daemon.get("/v1/therapists", auth=tok).status == 200

    def used():
        with db.cursor() as cur:
            cur.execute("SELECT last_used_at FROM api_tokens WHERE name = 'user'")
            return cur.fetchone()[0]
    assert wait_until(used, 8, interval=0.2, what="last_used_at")


def test_rate_limit_answers_429_with_retry_after(daemon_factory, db):
    other = make_token(db, "other", "admin")
    d = daemon_factory({"security": {"token_rate": 0.5, "token_burst": 3}})
    tok = make_token(db, "limited", "admin")
    wait_until(lambda: d.get("/v1/therapists", auth=tok).status == 200, 3,
               what="the token to be loaded")
    statuses = [d.get("/v1/therapists", auth=tok) for _ in range(3)]
    assert statuses[-1].status == 429, statuses
    r = statuses[-1]
    assert int(r.headers["Retry-After"]) >= 1
    assert r.content_type == "application/problem+json"
    # Another token has its own bucket; socket peers by credentials are not limited.
    assert d.get("/v1/therapists", auth=other).status == 200
    for _ in range(5):
        assert d.get("/v1/therapists", via="unix", auth=None).status == 200


# --------------------------------------------------------------------------
# UNIX socket peers

def _ensure_test_user():
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", TEST_USER], check=True)
        return pwd.getpwnam(TEST_USER)


PEER_SCRIPT = r"""
import http.client, socket, sys
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sys.argv[1])
out = []
for token in (None, sys.argv[2]):
    c = C("localhost")
    c.request("GET", "/v1/therapists", headers={"Authorization": "Bearer " + token} if token else {})
    out.append(str(c.getresponse().status))
print(" ".join(out))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another uid")
def test_socket_peers_root_is_admin_others_need_a_token(daemon_factory, db):
    _ensure_test_user()
    sockdir = tempfile.mkdtemp(prefix="al-peer-")
    try:
        os.chmod(sockdir, 0o755)
        sock = os.path.join(sockdir, "a.sock")
        d = daemon_factory({"listen": {"unix": sock, "unix_mode": "0666"}})
        # root, without a token: admin by its credentials.
        r = d.get("/v1/therapists", via="unix", auth=None)
        assert r.status == 200, r
        # Over TCP the same root process is nobody.
        assert d.get("/v1/therapists", auth=None).status == 401
        tok = make_token(db, "peer", "admin")
        wait_until(lambda: d.get("/v1/therapists", auth=tok).status == 200, 3,
                   what="the token to be loaded")
        p = subprocess.run(["runuser", "-u", TEST_USER, "--", "/usr/bin/python3", "-c",
                            PEER_SCRIPT, sock, tok], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["401", "200"], p.stdout
    finally:
        subprocess.run(["rm", "-rf", sockdir])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as other uids")
def test_socket_peer_with_the_daemons_own_uid_is_admin(alliance_bin, pg, clean_db, db):
    """The daemon runs as alliance-test: that uid is admin on the socket without a
    token, root too, and a third uid (nobody) is not."""
    _ensure_test_user()
    work = tempfile.mkdtemp(prefix="al-own-")
    proc = None
    log_path = os.path.join(work, "allianced.log")
    try:
        os.chmod(work, 0o777)
        sock = os.path.join(work, "a.sock")
        cfg = os.path.join(work, "allianced.yaml")
        # TCP to PostgreSQL: its socket folder is private to the postgres user.  No GSS:
        # libkrb5 would call its profile_init(), which the engine's profile_init()
        # shadows (a clash of exported names, reported with this test).
        url = (f"host=127.0.0.1 port={pg.port} dbname={pg.dbname} user={pg.user}"
               " gssencmode=disable")
        with open(cfg, "w") as f:
            f.write(to_yaml({"listen": {"tcp": "", "unix": sock, "unix_mode": "0666"},
                             "database": {"url": url, "pool_size": 2}}) + "\n")
        os.chmod(cfg, 0o644)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(["setpriv", f"--reuid={TEST_USER}", f"--regid={TEST_USER}",
                                     "--init-groups", "--", alliance_bin, "-c", cfg],
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=daemon_env(), cwd=work)

        def ready():
            assert proc.poll() is None, open(log_path).read()
            try:
                return http_request("GET", "/readyz", unix_path=sock, timeout=1).status == 200
            except OSError:
                return False
        wait_until(ready, 10, what="the daemon running as alliance-test")
        # root: admin by credentials.
        assert http_request("GET", "/v1/therapists", unix_path=sock).status == 200
        for user, want in ((TEST_USER, "200"), ("nobody", "401")):
            p = subprocess.run(["runuser", "-u", user, "--", "/usr/bin/python3", "-c",
                                PEER_SCRIPT, sock, "alc_" + "0" * 64],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            assert p.stdout.split()[0] == want, (user, p.stdout)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        text = open(log_path, errors="replace").read() if os.path.exists(log_path) else ""
        subprocess.run(["rm", "-rf", work])
    assert proc.returncode == 0, text
    assert not sanitizer_lines(text), text


# --------------------------------------------------------------------------
# root

def test_daemon_refuses_to_run_as_root(daemon_factory):
    if os.geteuid() != 0:
        pytest.skip("runs as root only")
    d = daemon_factory({"security": {"allow_root": None}}, start=False)
    d.start(wait=False)
    assert d.wait(10) == 1
    assert "refusing to run as root" in d.log_text()


# --------------------------------------------------------------------------
# audit

def audit_rows(db, request_id):
    with db.cursor() as cur:
        cur.execute("SELECT actor, action, client_id, episode_id, outcome, peer, correlation_id"
                    " FROM audit_log WHERE request_id = %s ORDER BY id", (request_id,))
        return cur.fetchall()


def test_every_client_data_route_writes_an_audit_row(daemon, db):
    t = add_therapist(db, languages=("en",))
    t2 = add_therapist(db, languages=("en",))
    checks = []

    def call(method, path, body=None, status=200, client=None, episode=None, **kw):
        r = daemon.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers={**JSON, "X-Request-Id": "corr-1"} if body is not None
                           else {"X-Request-Id": "corr-1"}, **kw)
        assert r.status == status, (path, r)
        checks.append((r.headers["X-Request-Id"], f"{method} ", client, episode, str(status)))
        return r

    r = call("POST", "/v1/clients", {"external_ref": "C-A1", "languages": ["en"]}, 201)
    cl = r.json()["id"]
    checks[-1] = checks[-1][:2] + (cl, None, "201")
    call("POST", "/v1/clients", {"external_ref": "C-A1", "languages": ["en"]}, 200, cl)
    call("GET", f"/v1/clients/{cl}", client=cl)
    call("GET", f"/v1/clients/{cl}/matches", client=cl)
    r = call("POST", "/v1/episodes", {"client_id": cl, "therapist_id": t}, 201, cl)
    ep = r.json()["id"]
    checks[-1] = checks[-1][:3] + (ep, "201")
    call("GET", f"/v1/episodes/{ep}", client=cl, episode=ep)
    call("POST", f"/v1/episodes/{ep}/feedback", a5(1), client=cl, episode=ep)
    call("POST", f"/v1/episodes/{ep}/attendance", {"session": 2, "status": "no_show"},
         client=cl, episode=ep)
    call("GET", f"/v1/episodes/{ep}/alliance", client=cl, episode=ep)
    call("POST", f"/v1/episodes/{ep}/referrals", {}, client=cl, episode=ep)
    call("GET", "/v1/reports/at-risk", client=cl, episode=ep)   # the one active episode
    call("POST", f"/v1/episodes/{ep}/end", {"reason": "completed"}, client=cl, episode=ep)
    # Refused requests are audited with their status.
    call("POST", f"/v1/episodes/{ep}/end", {"reason": "completed"}, 409, episode=ep)
    call("GET", "/v1/clients/999999", status=404, client=999999)
    call("GET", f"/v1/clients/{cl}", status=401, client=cl, auth=None)
    del t2

    for rid, method, client, episode, outcome in checks:
        rows = wait_until(lambda: audit_rows(db, rid), 3, what=f"the audit row of {rid}")
        assert len(rows) == 1, (rid, rows)
        actor, action, c, e, o, peer, corr = rows[0]
        assert action.startswith(method) and o == outcome, rows
        assert actor == ("anonymous" if outcome == "401" else f"token:{HARNESS_TOKEN_NAME}")
        if client is not None:
            assert c == client, rows
        if episode is not None:
            assert e == episode, rows
        assert peer.startswith("127.0.0.1:"), peer
        # The caller's X-Request-Id is a correlation field, never the request id.
        assert corr == "corr-1" and rid != "corr-1"

    # The admin report: one client's trail, paginated.
    r = daemon.get(f"/v1/reports/audit?client={cl}&limit=3")
    assert r.status == 200, r
    page = r.json()
    assert len(page["entries"]) == 3 and page["next"] is not None
    r2 = daemon.get(f"/v1/reports/audit?client={cl}&limit=3&after={page['next']}").json()
    assert r2["entries"][0]["id"] > page["entries"][-1]["id"]
    assert daemon.get("/v1/reports/audit?since=not-a-time").status == 422


def test_a_failed_write_leaves_no_success_row_and_successes_lose_none(daemon, db):
    with db.cursor() as cur:
        cur.execute("CREATE FUNCTION fail_clients() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$BEGIN RAISE EXCEPTION 'disk full'; END$$")
        cur.execute("CREATE TRIGGER fail_clients BEFORE INSERT ON clients"
                    " FOR EACH ROW EXECUTE FUNCTION fail_clients()")
    try:
        r = daemon.post("/v1/clients", json_body={"external_ref": "C-F1"})
        assert r.status == 500, r
        rows = wait_until(lambda: audit_rows(db, r.headers["X-Request-Id"]), 3,
                          what="the failure's audit row")
        assert [x[4] for x in rows] == ["500"], rows
    finally:
        with db.cursor() as cur:
            cur.execute("DROP TRIGGER fail_clients ON clients")
            cur.execute("DROP FUNCTION fail_clients()")
    ids = []
    for i in range(20):
        r = daemon.post("/v1/clients", json_body={"external_ref": f"C-S{i}"})
        assert r.status == 201, r
        ids.append(r.headers["X-Request-Id"])
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_log WHERE request_id = ANY(%s)"
                    " AND outcome = '201'", (ids,))
        assert cur.fetchone()[0] == 20


def test_runtime_role_appends_audit_rows_but_cannot_change_them(daemon_factory, pg, db):
    with db.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS alliance_app")
        cur.execute("CREATE ROLE alliance_app LOGIN IN ROLE alliance_runtime")
    try:
        # The daemon runs as the runtime role and still serves and audits.
        url = pg.conninfo.replace(f"user={pg.user}", "user=alliance_app")
        d = daemon_factory({"database": {"url": url}})
        t = add_therapist(db)
        c = add_client(db)
        r = start_episode(d, c, t)
        assert r.status == 201, r
        ep = r.json()["id"]
        assert d.post(f"/v1/episodes/{ep}/feedback", json_body=a5(1)).status == 200
        assert d.post("/v1/tokens", json_body={"name": "n", "scope": "intake"}).status == 201
        conn = psycopg2.connect(url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM audit_log WHERE episode_id = %s", (ep,))
                assert cur.fetchone()[0] >= 2
                for sql in ("UPDATE audit_log SET outcome = '200'", "DELETE FROM audit_log",
                            "TRUNCATE audit_log"):
                    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                        cur.execute(sql)
        finally:
            conn.close()
        # Even the owner cannot rewrite a row: the trigger refuses UPDATE and DELETE.
        with db.cursor() as cur:
            for sql in ("UPDATE audit_log SET outcome = '200'", "DELETE FROM audit_log"):
                with pytest.raises(psycopg2.Error, match="append-only"):
                    cur.execute(sql)
    finally:
        d_stop = [x for x in (locals().get("d"),) if x is not None]
        for x in d_stop:
            x.stop()
        with db.cursor() as cur:
            cur.execute("DROP OWNED BY alliance_app")
            cur.execute("DROP ROLE alliance_app")


# --------------------------------------------------------------------------
# the CLI

def test_cli_tokens_and_audit_report(daemon, db, ctl):
    # Over the UNIX socket as root: admin by peer credentials, no token.
    p = ctl("token", "create", "--name", "intake-system", "--scope", "intake", "--expires", "90d",
            daemon=daemon)
    tok = ok(p).strip()
    assert re.fullmatch(r"alc_[0-9a-f]{64}", tok) and "shown only now" in p.stderr
    wait_until(lambda: daemon.get("/v1/clients/999999", auth=tok).status == 404, 2,
               what="the token to work")
    out = ok(ctl("token", "list", daemon=daemon))
    assert "intake-system" in out and "intake" in out and tok not in out
    r = daemon.post("/v1/clients", json_body={"external_ref": "C-CLI"}, auth=tok)
    assert r.status == 201
    cl = r.json()["id"]
    rep = as_json(ctl("--json", "report", "audit", "--client", str(cl), daemon=daemon))
    assert [e["actor"] for e in rep["entries"]] == ["token:intake-system"]
    out = ok(ctl("report", "audit", "--actor", "intake-system", daemon=daemon))
    assert "POST /v1/clients" in out
    ok(ctl("token", "revoke", "intake-system", daemon=daemon))
    wait_until(lambda: daemon.get("/v1/clients/999999", auth=tok).status == 401, 1,
               what="the revocation")
    assert ctl("token", "revoke", "intake-system", daemon=daemon).returncode == 2

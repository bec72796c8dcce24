"""End-to-end harness for allianced: a real daemon on a real PostgreSQL.

Fixtures (every e2e test reuses them):

  pg_cluster   session: a throwaway PostgreSQL (initdb into a temporary folder,
               fsync off, a free port on 127.0.0.1, its socket in that folder).
               .dsn (psycopg2), .conninfo (libpq string for the daemon),
               .stop(mode), .start(), .running(), .connect(dbname), .createdb().
  pg           function: the same cluster, restarted after the test if the test
               stopped it (so an outage test cannot break the tests after it).
  alliance_bin session: path of the binary under test (skips when not built).
  migrated     session: `allianced --migrate` applied once.
  clean_db     function: truncates every data table (not schema_migrations).
  db           function: a psycopg2 connection (autocommit) on a clean database.
  run_allianced  function: run the binary once (--check-config, --migrate ...)
               and get a CompletedProcess; fails the test on a sanitizer report.
  daemon_factory function: daemon_factory(config=None, notify=False, env=None,
               start=True) -> Daemon; the config dict is merged over the defaults
               (None deletes a key). Every daemon is stopped at teardown and the
               test fails on a sanitizer report or assertion in its log.
  daemon       function: daemon_factory() with the defaults, started.

Authentication: clean_db stores the admin token HARNESS_TOKEN (name
"e2e-admin"); Daemon.request sends it as a bearer token unless the headers
carry an Authorization of their own or auth= says otherwise (auth=None sends
none, auth="alc_..." another token).  make_token(conn, name, scope) mints more.
The default config sets security.allow_root (the harness runs as root) and no
rate limit.

A Daemon: .url .port .unix_path .pid .config .config_path .log_path .notify
(a NotifyListener when notify=True: .messages, .wait_for(KEY, VALUE, start=i));
.start(wait=True) .alive() .signal(sig) .wait(timeout) -> rc .stop() -> rc;
.get/.post/.request(..., via="tcp"|"unix") -> Response (.status .headers .body
.text .json() .content_type); .unix_get/.unix_post; .raw(bytes) -> bytes;
.write_config(overrides | text=...); .log_text() .log_mark() .log_since(mark)
.wait_for_log(regex, since=mark) .request_lines(since, route).

The binary: $ALLIANCED, else build/san/allianced, else build/allianced.
"""

import hashlib
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What fails a test when it shows up in the daemon's output.
BAD_LOG = re.compile(
    r"ERROR: AddressSanitizer|SUMMARY: AddressSanitizer|runtime error:|LeakSanitizer|"
    r"SUMMARY: UndefinedBehaviorSanitizer|\bassert(ion)?\b",
    re.IGNORECASE)

SAN_ENV = {
    # Reports go to stderr (= the daemon log) and stop the process at once.
    "ASAN_OPTIONS": "abort_on_error=1:halt_on_error=1:detect_leaks=1:"
                    "print_stacktrace=1:disable_coredump=1:strict_string_checks=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:abort_on_error=1",
    "LSAN_OPTIONS": "print_suppressions=0",
}

# Inherited variables that would change the daemon's behaviour under test.
SCRUB_ENV = ("ALLIANCE_DATABASE_URL", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
             "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")

# Tables that keep their rows between tests.
KEEP_TABLES = {"schema_migrations", "alliance_score_settings"}  # the latter: one row, sql/002

# The harness's own admin token (README "Security"), stored by clean_db.
HARNESS_TOKEN = "alc_" + secrets.token_hex(32)
HARNESS_TOKEN_NAME = "e2e-admin"
DEFAULT_AUTH = object()   # Daemon.request: send HARNESS_TOKEN

READY_GRACE = 3.0  # seconds a fresh daemon gets to become ready
HEALTH_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# small helpers

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_dir(tmp_path):
    """A folder for UNIX sockets: tmp_path, unless its paths would exceed
    sun_path (108 bytes), then a short folder under /tmp removed at teardown."""
    if len(str(tmp_path)) + len("/allianced.sock") < 100:
        return str(tmp_path), None
    d = tempfile.mkdtemp(prefix="al-")
    return d, d


def _yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(str(v))


def to_yaml(obj, indent=0):
    """Block-style YAML for nested dicts of scalars and lists of scalars.
    Deterministic and free of the PyYAML dependency."""
    lines = []
    pad = "  " * indent
    for k, v in obj.items():
        if isinstance(v, dict):
            lines.append(f"{pad}{k}:")
            lines.append(to_yaml(v, indent + 1))
        elif isinstance(v, (list, tuple)) and any(isinstance(x, dict) for x in v):
            lines.append(f"{pad}{k}: " + json.dumps(v))  # JSON is YAML's flow style
        elif isinstance(v, (list, tuple)):
            lines.append(f"{pad}{k}: [" + ", ".join(_yaml_scalar(x) for x in v) + "]")
        else:
            lines.append(f"{pad}{k}: {_yaml_scalar(v)}")
    return "\n".join(line for line in lines if line != "")


def deep_merge(base, over):
    """A copy of BASE with OVER merged in; a None value deletes the key."""
    out = {}
    for k, v in base.items():
        out[k] = deep_merge(v, {}) if isinstance(v, dict) else v
    for k, v in (over or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def sanitizer_lines(text):
    return [line for line in text.splitlines() if BAD_LOG.search(line)]


def wait_until(pred, timeout, interval=0.02, what="condition"):
    """Poll PRED until it returns a true value (returned) or TIMEOUT passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# HTTP over TCP and over the UNIX socket (http.client: no retries, no pooling)

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers      # http.client.HTTPMessage: .get() is case-insensitive
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.content_type} {self.body[:200]!r}>"


def http_request(method, path, body=None, headers=None, port=None, unix_path=None,
                 timeout=10.0):
    if unix_path is not None:
        conn = UnixHTTPConnection(unix_path, timeout=timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            # The server answered early (e.g. 413) and closed while we were still
            # sending: its answer may be waiting in our receive buffer.
            if conn.sock is None:
                raise
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.headers, data)
    finally:
        conn.close()


# --------------------------------------------------------------------------
# sd_notify receiver

class NotifyListener:
    """Binds an AF_UNIX datagram socket and records every sd_notify message."""

    def __init__(self, path):
        self.path = path
        self.messages = []          # one dict {"raw": str, KEY: value ...} per datagram
        self._cond = threading.Condition()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(path)
        self._sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            text = data.decode("utf-8", "replace")
            msg = {"raw": text}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    msg[k] = v
            with self._cond:
                self.messages.append(msg)
                self._cond.notify_all()

    def wait_for(self, key, value=None, timeout=10.0, start=0):
        """The index of the first message at or after START carrying KEY
        (and VALUE when given); raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self.messages)):
                    m = self.messages[i]
                    if key in m and (value is None or m[key] == value):
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no sd_notify {key}{'=' + value if value else ''} within "
                        f"{timeout}s; got {[m['raw'] for m in self.messages]}")
                self._cond.wait(left)

    def count(self):
        with self._cond:
            return len(self.messages)

    def close(self):
        self._stop = True
        try:
            self._sock.close()
        except OSError:
            pass
        self._thread.join(1)
        try:
            os.unlink(self.path)
        except OSError:
            pass


# --------------------------------------------------------------------------
# PostgreSQL

def pg_bindir():
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        versions = sorted((d for d in os.listdir(base) if d.isdigit()), key=int)
        for v in reversed(versions):
            d = os.path.join(base, v, "bin")
            if os.path.exists(os.path.join(d, "initdb")):
                return d
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    pytest.exit("PostgreSQL server binaries not found (set PG_BINDIR)", returncode=3)


class PgCluster:
    """A throwaway cluster: data, socket and log in one temporary folder.
    PostgreSQL refuses to run as root, so as root it runs as the `postgres`
    system user (or $PG_RUN_USER) via runuser."""

    def __init__(self):
        self.bindir = pg_bindir()
        self.dir = tempfile.mkdtemp(prefix="alliance-pg-")
        self.datadir = os.path.join(self.dir, "data")
        self.sockdir = self.dir
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.user = "alliance"
        self.dbname = "alliance"
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = os.environ.get("PG_RUN_USER", "postgres")
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o700)

    # -- plumbing
    def _cmd(self, prog, *args):
        argv = [os.path.join(self.bindir, prog), *args]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        return argv

    def _run(self, prog, *args, check=True, timeout=60):
        p = subprocess.run(self._cmd(prog, *args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           cwd=self.dir if self.run_as else None)
        if check and p.returncode != 0:
            raise RuntimeError(f"{prog} {' '.join(args)} failed ({p.returncode}):\n"
                               f"{p.stdout}\n{self.log_tail()}")
        return p

    def log_tail(self, n=40):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # -- lifecycle
    def init(self):
        self._run("initdb", "-D", self.datadir, "-A", "trust", "--no-sync", "-U", self.user,
                  "-E", "UTF8", "--locale=C")
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write(f"""
# alliance e2e: fast and disposable
port = {self.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{self.sockdir}'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
""")
        self.start()
        self.createdb(self.dbname)

    def start(self):
        self._run("pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "60", "stop")

    def running(self):
        return self._run("pg_ctl", "-D", self.datadir, "status", check=False).returncode == 0

    def destroy(self):
        if os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "stop",
                      check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- connecting
    def conninfo_for(self, dbname):
        return f"host={self.sockdir} port={self.port} dbname={dbname} user={self.user}"

    @property
    def conninfo(self):
        """libpq connection string the daemon uses (via the UNIX socket)."""
        return self.conninfo_for(self.dbname)

    @property
    def dsn(self):
        """psycopg2 DSN for the tests themselves."""
        return self.conninfo_for(self.dbname)

    def connect(self, dbname=None, autocommit=True):
        import psycopg2
        conn = psycopg2.connect(self.conninfo_for(dbname or self.dbname), connect_timeout=5)
        conn.autocommit = autocommit
        return conn

    def createdb(self, name):
        conn = self.connect("postgres")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def dropdb(self, name):
        conn = self.connect("postgres")
        try:
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = PgCluster()
    try:
        cluster.init()
    except Exception:
        cluster.destroy()
        raise
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg(pg_cluster):
    yield pg_cluster
    # A test that stopped the server (outage test) must not break the next ones.
    if not pg_cluster.running():
        pg_cluster.start()


# --------------------------------------------------------------------------
# the binary

def find_binary():
    env = os.environ.get("ALLIANCED")
    if env:
        return os.path.abspath(env)
    for rel in ("build/san/allianced", "build/allianced"):
        p = os.path.join(REPO, rel)
        if os.access(p, os.X_OK):
            return p
    return None


def daemon_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SCRUB_ENV}
    for k, v in SAN_ENV.items():
        env.setdefault(k, v)
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def alliance_bin():
    path = find_binary()
    if path is None or not os.access(path, os.X_OK):
        pytest.skip("allianced is not built (run make, or set ALLIANCED)")
    return path


def _run_once(binary, args, env=None, timeout=60, cwd=None):
    p = subprocess.run([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace", env=daemon_env(env), timeout=timeout,
                       cwd=cwd or REPO)
    bad = sanitizer_lines(p.stdout + p.stderr)
    if bad:
        pytest.fail(f"allianced {' '.join(args)} reported:\n" + "\n".join(bad)
                    + f"\n--- stderr ---\n{p.stderr}", pytrace=False)
    return p


@pytest.fixture
def run_allianced(alliance_bin):
    """run_allianced(*args, env=None, timeout=60) -> CompletedProcess (text)."""
    def run(*args, env=None, timeout=60, cwd=None):
        return _run_once(alliance_bin, list(args), env=env, timeout=timeout, cwd=cwd)
    return run


@pytest.fixture(scope="session")
def migrated(alliance_bin, pg_cluster, tmp_path_factory):
    """Migrations applied once per session; returns the migrate CompletedProcess."""
    d = tmp_path_factory.mktemp("migrate")
    cfg = d / "migrate.yaml"
    cfg.write_text(to_yaml({"database": {"url": pg_cluster.conninfo}}) + "\n")
    p = _run_once(alliance_bin, ["--migrate", "-c", str(cfg)], timeout=120)
    if p.returncode != 0:
        pytest.fail(f"allianced --migrate failed ({p.returncode}):\n{p.stderr}", pytrace=False)
    return p


def _truncate_data_tables(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT quote_ident(tablename) FROM pg_tables "
                    "WHERE schemaname = 'public' ORDER BY tablename")
        names = [r[0] for r in cur.fetchall() if r[0].strip('"') not in KEEP_TABLES]
        if names:
            cur.execute("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY CASCADE")


def make_token(conn, name, scope, token=None, expires_sql=None):
    """Stores a token (its SHA-256 only, as the daemon does); returns its text."""
    token = token or "alc_" + secrets.token_hex(32)
    digest = hashlib.sha256(token.encode()).digest()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO api_tokens (name, token_hash, scope, expires_at) "
                    f"VALUES (%s, %s, %s, {expires_sql or 'NULL'})", (name, digest, scope))
    return token


def _store_harness_token(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('api_tokens') IS NOT NULL")
        if not cur.fetchone()[0]:
            return
    make_token(conn, HARNESS_TOKEN_NAME, "admin", HARNESS_TOKEN)


@pytest.fixture
def clean_db(pg):
    """Empties every data table before the test (tolerates a schema that does
    not exist yet: no tables, nothing to do)."""
    conn = pg.connect()
    try:
        _truncate_data_tables(conn)
        _store_harness_token(conn)
    finally:
        conn.close()
    return pg


@pytest.fixture
def db(clean_db):
    conn = clean_db.connect()
    yield conn
    conn.close()


# --------------------------------------------------------------------------
# the daemon

class DaemonStartError(AssertionError):
    pass


class Daemon:
    """One allianced process with its config and log in the test's folder."""

    def __init__(self, binary, workdir, sockdir, pg_cluster, config=None, notify=False,
                 env=None):
        self.binary = binary
        self.workdir = str(workdir)
        self.config_path = os.path.join(self.workdir, "allianced.yaml")
        self.log_path = os.path.join(self.workdir, "allianced.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.default_unix_path = os.path.join(sockdir, "allianced.sock")
        base = {
            "listen": {"tcp": f"127.0.0.1:{self.port}", "unix": self.default_unix_path,
                       "unix_mode": "0660"},
            "database": {"url": pg_cluster.conninfo if pg_cluster else "postgresql:///none",
                         "pool_size": 2, "connect_timeout": 2},
            "log": {"level": "debug"},
            # The harness runs as root; the refusal is tested with it removed.
            "security": {"allow_root": True, "token_rate": 0},
        }
        self.config = deep_merge(base, config or {})
        self.extra_env = dict(env or {})
        self.notify = NotifyListener(os.path.join(sockdir, "notify.sock")) if notify else None
        self.proc = None
        self._log = None
        self.expect_exit = False     # set when the test itself makes the daemon exit
        self.signals_sent = []
        self.write_config()

    # -- config
    @property
    def unix_path(self):
        return self.config.get("listen", {}).get("unix") or None

    @property
    def tcp_enabled(self):
        return bool(self.config.get("listen", {}).get("tcp"))

    def write_config(self, overrides=None, text=None):
        """Rewrite the config file: TEXT verbatim, else self.config merged with
        OVERRIDES (which then becomes self.config)."""
        if text is None:
            if overrides:
                self.config = deep_merge(self.config, overrides)
            text = to_yaml(self.config) + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)

    # -- process
    def start(self, wait=True, timeout=HEALTH_TIMEOUT):
        env = {}
        if self.notify:
            env["NOTIFY_SOCKET"] = self.notify.path
        env.update(self.extra_env)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.config_path], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=daemon_env(env), cwd=REPO)
        if wait:
            self.wait_healthy(timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DaemonStartError(f"allianced exited with {self.proc.returncode} during "
                                       f"start-up:\n{self.log_text()}")
            try:
                via = "tcp" if self.tcp_enabled else "unix"
                r = self.get("/healthz", via=via, timeout=1.0)
                if r.status == 200:
                    self._wait_ready(via)
                    return r
                last = r
            except OSError as e:
                last = e
            time.sleep(0.02)
        raise DaemonStartError(f"/healthz did not answer 200 within {timeout}s "
                               f"(last: {last!r}):\n{self.log_text()}")

    def _wait_ready(self, via, grace=READY_GRACE):
        """Alive is not ready: the pool connects and the catalog loads right after
        start.  Wait (briefly, without failing: some tests start with the database
        down on purpose) until /readyz says ready, so API tests don't meet a 503."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if self.get("/readyz", via=via, timeout=1.0).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def signal(self, sig):
        self.signals_sent.append(sig)
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL, signal.SIGQUIT):
            self.expect_exit = True
        os.kill(self.proc.pid, sig)

    def wait(self, timeout=10.0):
        """Wait for the process to exit; its exit code (negative = signal)."""
        self.expect_exit = True
        return self.proc.wait(timeout)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; SIGKILL after TIMEOUT. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError(f"allianced did not exit within {timeout}s of SIGTERM")
        return self.proc.returncode

    def close(self):
        if self._log:
            self._log.close()
            self._log = None
        if self.notify:
            self.notify.close()

    # -- log
    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_mark(self):
        """A position in the log; pass it as SINCE to wait_for_log."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, mark):
        with open(self.log_path, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace")

    def wait_for_log(self, pattern, timeout=5.0, since=0):
        """The first re.Match of PATTERN in the log after SINCE."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.log_since(since)), timeout,
                          what=f"log line /{pattern}/")

    def request_lines(self, since=0, route=None):
        lines = [line for line in self.log_since(since).splitlines()
                 if re.search(r"\brequest\b.*\bstatus=\d+", line)]
        if route:
            lines = [line for line in lines if f"route={route}" in line]
        return lines

    # -- HTTP
    def request(self, method, path, body=None, headers=None, via="tcp", timeout=10.0,
                auth=DEFAULT_AUTH):
        if isinstance(body, str):
            body = body.encode()
        headers = dict(headers or {})
        if not any(k.lower() == "authorization" for k in headers):
            token = HARNESS_TOKEN if auth is DEFAULT_AUTH else auth
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
        if via == "unix":
            return http_request(method, path, body, headers, unix_path=self.unix_path,
                                timeout=timeout)
        return http_request(method, path, body, headers, port=self.port, timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, body=None, content_type="application/json",
             headers=None, **kw):
        h = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
        if content_type is not None:
            h.setdefault("Content-Type", content_type)
        return self.request("POST", path, body=body, headers=h, **kw)

    def unix_get(self, path, **kw):
        return self.get(path, via="unix", **kw)

    def unix_post(self, path, **kw):
        return self.post(path, via="unix", **kw)

    def raw(self, data, via="tcp", timeout=5.0, read_all=True):
        """Send raw bytes on a new connection; returns what comes back until
        the server closes (or the timeout)."""
        if via == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(self.unix_path)
        else:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        chunks = []
        try:
            s.sendall(data)
            while True:
                try:
                    c = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not c:
                    break
                chunks.append(c)
                if not read_all:
                    break
        finally:
            s.close()
        return b"".join(chunks)


def pytest_configure(config):
    # Our own temporary root per run: concurrent runs (a developer and CI, or
    # two checkouts) then never clean up each other's /tmp/pytest-of-$USER dirs.
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="alliance-e2e-")
        config._alliance_basetemp = config.option.basetemp


def pytest_sessionfinish(session, exitstatus):
    d = getattr(session.config, "_alliance_basetemp", None)
    if d is None:
        return
    if exitstatus == 0:
        shutil.rmtree(d, ignore_errors=True)
    else:
        # Kept for a post-mortem: each test's config and allianced.log.
        session.config._alliance_kept = d


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    d = getattr(config, "_alliance_kept", None)
    if d:
        terminalreporter.write_line(f"daemon configs and logs kept in {d}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    # On failure, put each daemon's log into the report (shown with the failure).
    if rep.failed and rep.when in ("setup", "call"):
        for i, d in enumerate(getattr(item, "_alliance_daemons", [])):
            text = d.log_text()
            if len(text) > 60000:
                text = "[... cut ...]\n" + text[-60000:]
            rep.sections.append((f"allianced log #{i} ({d.log_path})", text))


@pytest.fixture
def daemon_factory(request, alliance_bin, pg, migrated, clean_db, tmp_path):
    daemons = []
    cleanup_dirs = []
    request.node._alliance_daemons = daemons

    def factory(config=None, notify=False, env=None, start=True, wait=True):
        n = len(daemons)
        workdir = tmp_path if n == 0 else tmp_path / f"daemon{n}"
        os.makedirs(workdir, exist_ok=True)
        sockdir, cleanup = short_dir(workdir)
        if cleanup:
            cleanup_dirs.append(cleanup)
        d = Daemon(alliance_bin, workdir, sockdir, pg, config=config, notify=notify, env=env)
        daemons.append(d)
        if start:
            d.start(wait=wait)
        return d

    yield factory

    problems = []
    for d in daemons:
        if d.proc is None:
            d.close()
            continue
        died = d.proc.poll() is not None and not d.expect_exit
        mine = []
        try:
            rc = d.stop()
            if died:
                mine.append(f"allianced (pid {d.pid}) died during the test with exit code {rc}")
            elif d.signals_sent and d.signals_sent[-1] == signal.SIGTERM and rc != 0:
                mine.append(f"allianced (pid {d.pid}) exited with {rc} after SIGTERM (want 0)")
        except AssertionError as e:
            mine.append(str(e))
        d.close()
        bad = sanitizer_lines(d.log_text())
        if bad:
            mine.append(f"sanitizer/assertion report in {d.log_path}:\n" + "\n".join(bad))
        rep = getattr(request.node, "rep_call", None)
        if mine and (rep is None or rep.passed):
            # Not shown with a failure yet: show it with the teardown error.
            print(f"--- allianced log ({d.log_path}) ---\n{d.log_text()}")
        problems += mine
    for c in cleanup_dirs:
        shutil.rmtree(c, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory()

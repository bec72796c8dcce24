"""alliancectl: the command table, --help, status, exit codes, connection
options (socket, --url, bearer token), --json and NO_COLOR, and the daemon
modes it runs (config check, migrate)."""

import http.server
import json
import os
import pty
import re
import select
import subprocess
import threading

import pytest

from cli_util import COMMANDS, alliancectl_bin, ctl, ctl_env, ok  # noqa: F401 (fixtures)
from conftest import REPO, free_port, to_yaml


def test_help_lists_every_command(ctl):
    out = ok(ctl("--help"))
    listed = [c for c in COMMANDS if re.search(rf"^  {re.escape(c)}\b", out, re.M)]
    assert listed == COMMANDS
    for code in ("0 ok", "1 usage", "2 refused", "3 daemon unreachable", "4 unauthorised"):
        assert code in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(ctl, command):
    p = ctl(*command.split(), "--help")
    out = ok(p)
    assert out.startswith(f"Usage: alliancectl {command}")
    assert "Exit codes" in out


def test_group_and_unknown_commands(ctl):
    p = ctl("therapist")
    assert p.returncode == 1
    assert "therapist import" in p.stderr and "therapist list" in p.stderr
    p = ctl("frobnicate")
    assert p.returncode == 1 and 'unknown command "frobnicate"' in p.stderr
    p = ctl("episode", "show", "not-a-number")
    assert p.returncode == 1 and "Usage: alliancectl episode show" in p.stderr
    assert ok(ctl("--version")).strip() == "alliancectl 0.1.0"
    commands = ok(ctl("--help")).split("Global options")[0]
    assert "token create" in commands and "token revoke" in commands
    assert "report audit" in commands


def test_status_ready(ctl, daemon):
    out = ok(ctl("status", daemon=daemon))
    assert re.search(r"^readiness\s+ready$", out, re.M)
    assert re.search(r"^database\s+up, schema version (\d+) of \1$", out, re.M)
    assert re.search(r"^catalog\s+0 therapists$", out, re.M)
    assert re.search(r"^uptime\s+0h 00m \d\ds$", out, re.M)
    j = json.loads(ok(ctl("status", "--json", daemon=daemon)))
    assert j["ready"]["status"] == "ready" and j["health"]["status"] == "ok"


def test_status_not_ready_exits_3(ctl, daemon, pg):
    pg.stop()
    try:
        def not_ready():
            p = ctl("status", daemon=daemon)
            return p if p.returncode == 3 else None
        p = None
        for _ in range(50):
            p = not_ready()
            if p:
                break
        assert p is not None and p.returncode == 3
        assert re.search(r"^readiness\s+not_ready$", p.stdout, re.M)
    finally:
        pg.start()


def test_unreachable_daemon_exits_3(ctl, tmp_path):
    p = ctl("therapist", "list", env={"ALLIANCE_SOCKET": str(tmp_path / "nobody.sock")})
    assert p.returncode == 3
    assert "unreachable" in p.stderr
    p = ctl("--url", f"http://127.0.0.1:{free_port()}", "status")
    assert p.returncode == 3 and "unreachable" in p.stderr


def test_socket_from_option_and_config(ctl, daemon, tmp_path):
    out = ok(ctl("-s", daemon.unix_path, "status", env={"ALLIANCE_SOCKET": "/nonexistent"}))
    assert "ready" in out
    # Neither -s nor $ALLIANCE_SOCKET: listen.unix of the -c FILE.
    p = ctl("-c", daemon.config_path, "status")
    assert p.returncode == 0, p.stderr
    p = ctl("-c", str(tmp_path / "missing.yaml"), "status")
    assert p.returncode == 1 and "missing.yaml" in p.stderr


def test_url_over_tcp(ctl, daemon):
    out = ok(ctl("--url", daemon.url, "status"))
    assert re.search(r"^readiness\s+ready$", out, re.M)


class _AuthServer(http.server.BaseHTTPRequestHandler):
    seen = []
    answer = 401

    def do_GET(self):
        _AuthServer.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"type": "urn:alliance:problem:%d" % _AuthServer.answer,
                           "status": _AuthServer.answer, "title": "no",
                           "detail": "a valid bearer token is needed"}).encode()
        self.send_response(_AuthServer.answer)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def auth_server():
    srv = http.server.HTTPServer(("127.0.0.1", 0), _AuthServer)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _AuthServer.seen = []
    yield srv
    srv.shutdown()
    srv.server_close()


def test_bearer_token_and_exit_4(ctl, auth_server, tmp_path):
    url = "http://127.0.0.1:%d" % auth_server.server_address[1]
    _AuthServer.answer = 401
    p = ctl("--url", url, "report", "alliance", env={"ALLIANCE_TOKEN": "s3cret-env"})
    assert p.returncode == 4
    assert "401: a valid bearer token is needed" in p.stderr
    tok = tmp_path / "token"
    tok.write_text("s3cret-file\n")
    _AuthServer.answer = 403
    p = ctl("--url", url, "--token-file", str(tok), "therapist", "list",
            env={"ALLIANCE_TOKEN": "s3cret-env"})
    assert p.returncode == 4
    assert _AuthServer.seen == ["Bearer s3cret-env", "Bearer s3cret-file"]
    # The token is never an argument: there is no such option.
    p = ctl("--token", "x", "status")
    assert p.returncode == 1


def test_json_is_the_daemons_json(ctl, daemon):
    ok(ctl("therapist", "add", "-", daemon=daemon,
           input='{"external_ref": "T-1", "display_name": "Ana Ruiz"}'))
    assert json.loads(ok(ctl("--json", "therapist", "list", daemon=daemon))) == {
        "therapists": [daemon.get("/v1/therapists/1").json()], "next": None}
    assert json.loads(ok(ctl("therapist", "show", "T-1", "--json", daemon=daemon))) == \
        daemon.get("/v1/therapists/1").json()
    j = json.loads(ok(ctl("report", "alliance", "--json", daemon=daemon)))
    assert j["therapists"][0]["external_ref"] == "T-1"


def _run_on_pty(binary, args, env):
    """Runs the CLI with stdout on a pseudo-terminal; (exit code, output)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([binary, *args], stdout=slave, stderr=subprocess.PIPE,
                         env=env, cwd=REPO)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 10)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(10), out.decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color(ctl, daemon, alliancectl_bin):
    ok(ctl("therapist", "add", "-", daemon=daemon,
           input='{"external_ref": "T-1", "display_name": "Ana Ruiz"}'))
    ok(ctl("client", "add", "-", daemon=daemon, input='{"external_ref": "C-1"}'))
    ok(ctl("episode", "start", "1", "T-1", daemon=daemon))
    rc, out = _run_on_pty(alliancectl_bin, ["status"], ctl_env(daemon))
    assert rc == 0 and "\x1b[32mready\x1b[0m" in out
    rc, out = _run_on_pty(alliancectl_bin, ["status"], ctl_env(daemon, {"NO_COLOR": "1"}))
    assert rc == 0 and "ready" in out and "\x1b[" not in out
    rc, out = _run_on_pty(alliancectl_bin, ["alliance", "1"], ctl_env(daemon, {"NO_COLOR": "1"}))
    assert rc == 0 and "forming" in out and "\x1b[" not in out
    assert "\x1b[" not in ok(ctl("status", daemon=daemon))   # a pipe: no colour


def test_config_check_runs_the_daemons_mode(ctl, daemon, tmp_path):
    out = ok(ctl("config", "check", "-c", daemon.config_path, daemon=daemon))
    assert f"{daemon.config_path}: ok" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(to_yaml({"database": {"pool_sise": 4}}) + "\n")
    p = ctl("config", "check", "-c", str(bad), daemon=daemon)
    assert p.returncode == 2
    assert re.search(r'bad\.yaml:2:\d+: unknown key "pool_sise"', p.stderr)
    p = ctl("config", "check", "-c", str(bad), daemon=daemon,
            env={"ALLIANCED": str(tmp_path / "no-such-binary")})
    assert p.returncode != 0


def test_migrate_runs_the_daemons_mode(ctl, daemon, pg, tmp_path):
    cfg = tmp_path / "migrate.yaml"
    cfg.write_text(to_yaml({"database": {"url": pg.conninfo}}) + "\n")
    p = ctl("migrate", "-c", str(cfg), daemon=daemon)
    assert p.returncode == 0, p.stderr
    assert re.search(r"migrations: 0 applied, schema at version \d+", p.stderr)
    cfg.write_text(to_yaml({"database": {"url": "host=/nonexistent dbname=x",
                                         "connect_timeout": 1}}) + "\n")
    p = ctl("migrate", "-c", str(cfg), daemon=daemon)
    assert p.returncode == 3


def test_bash_completion(tmp_path):
    script = os.path.join(REPO, "client", "alliancectl.bash-completion")

    def complete(*words):
        prog = (f"source {script}\n"
                f"COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                f"COMP_CWORD={len(words) - 1}; _alliancectl; echo \"${{COMPREPLY[*]}}\"\n")
        return subprocess.run(["bash", "-c", prog], stdout=subprocess.PIPE, text=True,
                              check=True).stdout.split()

    assert complete("alliancectl", "ther") == ["therapist"]
    assert complete("alliancectl", "therapist", "") == \
        ["list", "show", "add", "update", "set", "retire", "import"]
    assert complete("alliancectl", "--json", "therapist", "list", "--a") == \
        ["--active", "--accepting"]
    assert complete("alliancectl", "feedback", "add", "1", "--instrument", "") == \
        ["alliance5", "srs", "wai_sr", "ors"]
    top = complete("alliancectl", "")
    for c in {c.split()[0] for c in COMMANDS}:
        assert c in top


def test_make_install_ctl(tmp_path):
    p = subprocess.run(["make", "-s", "install-ctl", f"DESTDIR={tmp_path}", "PREFIX=/usr"],
                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    for rel in ("usr/share/man/man1/alliancectl.1", "usr/share/man/man8/allianced.8",
                "usr/share/man/man5/allianced.yaml.5",
                "usr/share/bash-completion/completions/alliancectl"):
        assert (tmp_path / rel).is_file(), rel


def test_links_no_daemon_code(alliancectl_bin):
    # The CLI shares no code with the daemon: no libpq, no libevent, none of
    # its symbols.
    libs = subprocess.run(["ldd", alliancectl_bin], stdout=subprocess.PIPE, text=True).stdout
    assert "libcurl" in libs and "libsmartcols" in libs and "libcsv" in libs
    assert "libpq" not in libs and "libevent" not in libs
    syms = subprocess.run(["nm", "--defined-only", alliancectl_bin], stdout=subprocess.PIPE,
                          text=True).stdout
    assert not re.search(r"\b(daemon_new|migrate_apply|config_load|alliance_write|"
                         r"catalog_sync_\w+)\b", syms)



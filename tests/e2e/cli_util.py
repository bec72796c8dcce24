"""Helpers and fixtures for the alliancectl e2e tests (tests/e2e/test_cli*.py).

The binary: $ALLIANCECTL, else alliancectl next to the allianced under test
($ALLIANCED: build/san/alliancectl under `make check`), else build/alliancectl.

Fixtures (import them into a test module):
  alliancectl_bin  session: the path (skips when not built).
  ctl              function: ctl(*args, daemon=None, env=None, input=None,
                   cwd=REPO) -> CompletedProcess (text). With a daemon, the
                   CLI talks to its UNIX socket (ALLIANCE_SOCKET).  Fails the
                   test on a sanitizer report from the CLI itself.
"""

import json
import os
import subprocess

import pytest

from conftest import REPO, SAN_ENV, find_binary, sanitizer_lines

# Every command of the table, in `alliancectl --help` order.
COMMANDS = [
    "status", "therapist list", "therapist show", "therapist add", "therapist update",
    "therapist set", "therapist retire", "therapist import", "colleague link",
    "colleague unlink", "colleague list", "client show", "client add", "match",
    "episode start", "episode end", "episode show", "feedback add", "attendance",
    "alliance", "referrals", "report alliance", "report at-risk", "report audit",
    "events list", "events replay", "webhook test",
    "token create", "token list", "token revoke", "config check",
    "migrate", "help", "version",
]

# The CLI's inherited environment must not change what a test sees.
SCRUB = ("ALLIANCE_SOCKET", "ALLIANCE_TOKEN", "NO_COLOR", "COLUMNS")


def find_ctl():
    env = os.environ.get("ALLIANCECTL")
    if env:
        return os.path.abspath(env)
    daemon = find_binary()
    if daemon:
        p = os.path.join(os.path.dirname(daemon), "alliancectl")
        if os.access(p, os.X_OK):
            return p
    p = os.path.join(REPO, "build", "alliancectl")
    return p if os.access(p, os.X_OK) else None


def ctl_env(daemon=None, extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    for k, v in SAN_ENV.items():
        env.setdefault(k, v)
    env["LANG"] = "C.UTF-8"
    if daemon is not None:
        env["ALLIANCE_SOCKET"] = daemon.unix_path
    if daemon is not None and "ALLIANCED" not in env:
        env["ALLIANCED"] = daemon.binary
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def alliancectl_bin():
    p = find_ctl()
    if p is None:
        pytest.skip("alliancectl is not built (run make, or set ALLIANCECTL)")
    return p


@pytest.fixture
def ctl(alliancectl_bin):
    def run(*args, daemon=None, env=None, input=None, cwd=REPO, timeout=60):
        p = subprocess.run([alliancectl_bin, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, errors="replace",
                           env=ctl_env(daemon, env), input=input, cwd=cwd, timeout=timeout)
        bad = sanitizer_lines(p.stderr)
        if bad:
            pytest.fail(f"alliancectl {' '.join(args)} reported:\n" + "\n".join(bad),
                        pytrace=False)
        return p
    return run


def ok(p):
    """Asserts exit 0 and returns stdout."""
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p.stdout


def as_json(p):
    return json.loads(ok(p))

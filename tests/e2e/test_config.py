"""Configuration: --check-config positions, start-up refusal, --version/--help."""

import os
import re

import pytest

from conftest import REPO, to_yaml


def position(text, needle, nth=0):
    """1-based (line, column) of the NTH occurrence of NEEDLE in TEXT."""
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx) + 1
    col = idx - (text.rfind("\n", 0, idx) + 1) + 1
    return line, col


def check(run_allianced, path):
    return run_allianced("--check-config", "-c", str(path))


GOOD = """\
# a valid configuration
listen:
  tcp: "127.0.0.1:7420"
  unix: ""
database:
  url: "host=/tmp port=5432 dbname=alliance"
  pool_size: 2
limits:
  max_body_bytes: 4096
log:
  level: info
"""


def test_valid_file_exit_0(run_allianced, tmp_path):
    f = tmp_path / "good.yaml"
    f.write_text(GOOD)
    p = check(run_allianced, f)
    assert p.returncode == 0, p.stderr


def test_empty_file_is_valid(run_allianced, tmp_path):
    # Every key is optional: an empty file means "all defaults".
    f = tmp_path / "empty.yaml"
    f.write_text("# nothing\n")
    p = check(run_allianced, f)
    assert p.returncode == 0, p.stderr


def test_shipped_example_config_valid(run_allianced):
    path = os.path.join(REPO, "config", "allianced.yaml")
    if not os.path.exists(path):
        pytest.skip("config/allianced.yaml not written yet")
    p = check(run_allianced, path)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("good,bad", [
    ("  max_body_bytes: 4096", "  max_body_bytez: 4096"),   # misspelt key
    ("log:", "logg:"),                                      # misspelt section
    ("  pool_size: 2", "  pool_sise: 2"),
])
def test_misspelt_key_position(run_allianced, tmp_path, good, bad):
    text = GOOD.replace(good, bad)
    assert text != GOOD
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    line, col = position(text, bad.strip().split(":")[0])
    p = check(run_allianced, f)
    assert p.returncode == 1, p.stderr
    assert f"{f}:{line}:{col}: " in p.stderr, \
        f"want {f}:{line}:{col}: in stderr, got:\n{p.stderr}"
    assert bad.strip().split(":")[0] in p.stderr


@pytest.mark.parametrize("good,bad,what", [
    ("  pool_size: 2", "  pool_size: many", "many"),              # wrong type
    ("  pool_size: 2", "  pool_size: 100000", "100000"),          # out of range
    ("  level: info", "  level: loud", "loud"),                   # not an allowed value
    ("  max_body_bytes: 4096", "  max_body_bytes: [1, 2]", "["),  # sequence for a scalar
])
def test_bad_value_position(run_allianced, tmp_path, good, bad, what):
    text = GOOD.replace(good, bad)
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    line, _ = position(text, what)
    p = check(run_allianced, f)
    assert p.returncode == 1, p.stderr
    assert re.search(rf"{re.escape(str(f))}:{line}:\d+: \S", p.stderr), p.stderr


def test_yaml_syntax_error_position(run_allianced, tmp_path):
    text = GOOD.replace('  tcp: "127.0.0.1:7420"', '  tcp: "127.0.0.1:7420')
    f = tmp_path / "broken.yaml"
    f.write_text(text)
    p = check(run_allianced, f)
    assert p.returncode == 1
    assert re.search(rf"{re.escape(str(f))}:\d+:\d+: \S", p.stderr), p.stderr


def test_missing_file(run_allianced, tmp_path):
    f = tmp_path / "absent.yaml"
    p = check(run_allianced, f)
    assert p.returncode == 1
    assert str(f) in p.stderr


def test_daemon_refuses_bad_config(daemon_factory):
    d = daemon_factory(start=False)
    text = to_yaml({k: v for k, v in d.config.items() if k != "log"}) + "\nlog:\n  levle: debug\n"
    d.write_config(text=text)
    line, col = position(text, "levle")
    d.start(wait=False)
    rc = d.wait(10)
    assert rc != 0
    log = d.log_text()
    assert f"{d.config_path}:{line}:{col}:" in log, log
    assert not os.path.exists(d.unix_path)


def test_version_and_help(run_allianced):
    p = run_allianced("--version")
    assert p.returncode == 0
    assert re.search(r"\d+\.\d+", p.stdout + p.stderr)
    p = run_allianced("--help")
    assert p.returncode == 0
    out = p.stdout + p.stderr
    for opt in ("--check-config", "--migrate", "-c"):
        assert opt in out


def test_unknown_option(run_allianced):
    p = run_allianced("--no-such-option")
    assert p.returncode != 0

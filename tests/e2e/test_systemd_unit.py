"""The systemd unit: it verifies, and its hardening stays at exposure 1.5 or lower."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANALYZE = shutil.which("systemd-analyze")

pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def unit_for_build(tmp_path):
    """The unit with @SBINDIR@/@SYSCONFDIR@ pointed at this checkout, as make install would."""
    binary = os.environ.get("ALLIANCED") or os.path.join(ROOT, "build", "allianced")
    sbindir = os.path.dirname(os.path.abspath(binary))
    text = open(os.path.join(ROOT, "systemd", "allianced.service")).read()
    text = text.replace("@SBINDIR@", sbindir).replace("@SYSCONFDIR@", os.path.join(ROOT, "config"))
    text = text.replace("@DATADIR@", ROOT).replace("@TCP_PORT@", "7420")
    text = text.replace(sbindir + "/allianced", os.path.abspath(binary))
    path = tmp_path / "allianced.service"
    path.write_text(text)
    return path


def test_unit_verifies(tmp_path):
    unit = unit_for_build(tmp_path)
    out = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True)
    problems = [l for l in (out.stdout + out.stderr).splitlines()
                if "allianced.service" in l]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr


def test_unit_exposure_at_most_1_5(tmp_path):
    unit = unit_for_build(tmp_path)
    out = subprocess.run([ANALYZE, "security", "--offline=true", str(unit)],
                         capture_output=True, text=True)
    m = re.search(r"Overall exposure level for allianced\.service: ([0-9.]+)", out.stdout)
    assert m, out.stdout + out.stderr
    assert float(m.group(1)) <= 1.5, out.stdout


def test_unit_is_notify_with_reload():
    text = open(os.path.join(ROOT, "systemd", "allianced.service")).read()
    assert "Type=notify" in text
    assert re.search(r"^ExecReload=.*kill -HUP \$MAINPID", text, re.M)
    assert re.search(r"^WatchdogSec=", text, re.M)


def test_unit_secrets_memory_and_ports():
    """database.url with a password comes as a credential, never Environment=;
    memory is capped; only the configured port may be bound."""
    text = open(os.path.join(ROOT, "systemd", "allianced.service")).read()
    assert re.search(r"^LoadCredential=database_url:@SYSCONFDIR@/database_url$", text, re.M)
    assert not re.search(r"^Environment=.*DATABASE", text, re.M)
    assert re.search(r"^MemoryMax=\d+[KMG]$", text, re.M)
    assert re.search(r"^SocketBindAllow=tcp:@TCP_PORT@$", text, re.M)
    assert re.search(r"^SocketBindDeny=any$", text, re.M)


def _install(destdir):
    p = subprocess.run(["make", "-s", "install", f"DESTDIR={destdir}", "PREFIX=/usr"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return next(destdir.rglob("allianced.service")).read_text()


def test_make_install_config_mode_and_port(tmp_path):
    """A fresh install: the config is 0640 (no one but its owner and group),
    and SocketBindAllow= names listen.tcp's port."""
    fresh = tmp_path / "fresh"
    text = _install(fresh)
    conf = fresh / "etc" / "alliance" / "allianced.yaml"
    assert conf.stat().st_mode & 0o777 == 0o640
    assert "SocketBindAllow=tcp:7420" in text
    assert "LoadCredential=database_url:/etc/alliance/database_url" in text
    # A clinic's config with another port: the unit follows it.
    mine = tmp_path / "mine"
    (mine / "etc" / "alliance").mkdir(parents=True)
    (mine / "etc" / "alliance" / "allianced.yaml").write_text('listen:\n  tcp: "0.0.0.0:7555"\n')
    assert "SocketBindAllow=tcp:7555" in _install(mine)

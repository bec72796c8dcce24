"""The README cannot drift: every shell block of README.md that calls curl runs,
in order, in one bash session against a fresh daemon holding the sample clinic
(what `make run` gives a new user), and every curl in it must succeed (2xx).
Ids come from earlier answers, as the README says."""

import os
import re
import subprocess

from conftest import HARNESS_TOKEN, REPO
from conftest import wait_until
from episode_util import catalog_considered, count

README = os.path.join(REPO, "README.md")
LOADER = os.path.join(REPO, "tests", "scripts", "load-sample.py")
CLINIC = os.path.join(REPO, "config", "sample-clinic.json")


def shell_blocks(text):
    """The ```sh blocks that call curl, in the order they appear."""
    return [b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "curl " in b]


def session_script(daemon):
    with open(README, encoding="utf-8") as f:
        blocks = shell_blocks(f.read())
    assert len(blocks) >= 5, "the README lost its curl examples"
    body = "\n".join(blocks)
    body = body.replace("localhost:7420", f"127.0.0.1:{daemon.port}")
    body = body.replace(".run/allianced.sock", daemon.unix_path)
    # make run's admin token file: here the harness's own admin token.
    token_file = os.path.join(daemon.workdir, "admin.token")
    with open(token_file, "w") as f:
        f.write(HARNESS_TOKEN + "\n")
    body = body.replace(".run/admin.token", token_file)
    # A failing curl (4xx/5xx, or no answer) stops the session with its answer shown.
    prelude = ('set -euo pipefail\n'
               'curl() { command curl --fail-with-body --show-error --max-time 10 "$@"; }\n'
               'trap \'echo "README line failed near: $BASH_COMMAND" >&2\' ERR\n')
    return prelude + body + '\necho; echo "IDS T=$T CL=$CL E=$E T2=$T2 E2=$E2"\n'


def load_sample_clinic(daemon, db, pg_cluster):
    subprocess.run(["/usr/bin/python3", LOADER, pg_cluster.conninfo, CLINIC], check=True,
                   timeout=60)
    # The loader writes the database directly: the catalog follows through
    # NOTIFY ("considered" counts retired therapists too).
    want = count(db, "therapists")
    wait_until(lambda: catalog_considered(daemon) == want, 10, interval=0.05,
               what=f"{want} therapists in the catalog")


def test_readme_session_runs_against_the_sample_clinic(daemon, db, pg_cluster, tmp_path):
    load_sample_clinic(daemon, db, pg_cluster)
    run = subprocess.run(["bash", "-c", session_script(daemon)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    ids = dict(kv.split("=") for kv in run.stdout.rsplit("IDS ", 1)[1].split())
    assert all(v.isdigit() for v in ids.values()), ids
    with db.cursor() as cur:
        cur.execute("SELECT active, display_name FROM therapists WHERE id = %s", (ids["T"],))
        assert cur.fetchone() == (False, "Lena Park")      # created, edited, retired
        cur.execute("SELECT status, end_reason FROM episodes WHERE id = %s", (ids["E"],))
        assert cur.fetchone() == ("ended", "referred")
        cur.execute("SELECT status, end_reason, referred_from FROM episodes WHERE id = %s",
                    (ids["E2"],))
        assert cur.fetchone() == ("ended", "completed", int(ids["E"]))
        cur.execute("SELECT external_ref FROM clients WHERE id = %s", (ids["CL"],))
        assert cur.fetchone() == ("C-88231",)
        cur.execute("SELECT count(*) FROM feedback WHERE episode_id = %s", (ids["E"],))
        assert cur.fetchone() == (1,)


def test_readme_session_fails_on_a_refused_request(daemon, db, pg_cluster, tmp_path):
    """The harness itself: a README line answered 4xx must fail the session."""
    load_sample_clinic(daemon, db, pg_cluster)
    script = session_script(daemon).replace('"display_name":"Lena Park"',
                                            '"display_name":"Lena Park","bogus":1', 1)
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert "422" in run.stderr + run.stdout

"""Unit tests that need a real PostgreSQL (tests/unit/test_catalog_sync.c):
the cmocka binary built beside the daemon under test, run against the
harness's migrated database.  Without the database it skips everything, so
`make unit` alone proves nothing about it; this is where it really runs."""

import os
import subprocess

import pytest

from conftest import find_binary


def unit_binary(name):
    path = os.path.join(os.path.dirname(find_binary()), "tests", name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: make check builds the unit tests first")
    return path


def test_catalog_sync_against_postgresql(migrated, clean_db, pg_cluster):
    run = subprocess.run([unit_binary("test_catalog_sync")], capture_output=True, text=True,
                         timeout=120,
                         env=dict(os.environ, ALLIANCE_TEST_DATABASE_URL=pg_cluster.conninfo))
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "[  PASSED  ] 3 test(s)." in out, out
    assert "SKIPPED" not in out, out


def test_db_pool_faults_against_postgresql(migrated, clean_db, pg_cluster):
    """tests/unit/test_db.c: a send refused after its PREPARE is reported, a
    statement cancelled during its PREPARE never runs, an abandoned statement
    is cancelled on the server."""
    run = subprocess.run([unit_binary("test_db")], capture_output=True, text=True,
                         timeout=120,
                         env=dict(os.environ, ALLIANCE_TEST_DATABASE_URL=pg_cluster.conninfo))
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "[  PASSED  ] 4 test(s)." in out, out
    assert "SKIPPED" not in out, out

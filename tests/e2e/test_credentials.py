"""database.url through systemd's LoadCredential= ($CREDENTIALS_DIRECTORY/
database_url), not the environment or the config file."""

import os


def test_credential_overrides_config_url(daemon_factory, pg_cluster, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "database_url").write_text(pg_cluster.conninfo + "\n")
    os.chmod(creds / "database_url", 0o400)
    d = daemon_factory(config={"database": {"url": "postgresql:///no_such_db?host=/nonexistent"}},
                       env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert d.get("/readyz").status == 200   # connected with the credential's URL


def test_empty_credential_means_config_url(daemon_factory, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "database_url").write_text("\n")   # the unit's SetCredential= default
    d = daemon_factory(env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert d.get("/readyz").status == 200

"""exclude_therapists naming a therapist that does not exist is a 422 (it would
exclude nobody while the client believes it honoured), on POST /v1/match and
POST /v1/clients; an inactive therapist may be excluded."""

from conftest import wait_until
from episode_util import api_therapist, catalog_considered, count
from match_util import intake


def test_unknown_excluded_therapist_is_422(daemon, db):
    t = api_therapist(daemon, "T-X1")
    off = api_therapist(daemon, "T-X2", active=False)
    wait_until(lambda: catalog_considered(daemon) == 2, 10, what="both in the catalog")
    body = intake("C-X1", exclude_therapists=[t, 999999, off, 4294967296])
    for path in ("/v1/match", "/v1/clients"):
        r = daemon.post(path, json_body=body)
        assert r.status == 422, (path, r.text)
        errs = r.json()["errors"]
        assert [e["field"] for e in errs] == ["exclude_therapists[1]", "exclude_therapists[3]"]
        assert errs[0]["message"] == "no therapist 999999"
    assert count(db, "clients") == 0
    ok = intake("C-X1", exclude_therapists=[t, off])
    assert daemon.post("/v1/match", json_body=ok).status == 200
    assert daemon.post("/v1/clients", json_body=ok).status == 201

"""GET /v1/reports/alliance is paged like the other lists (?limit=, ?after=,
"next"): the clinic means stay the clinic's on every page, and only the
page's active episodes are evaluated for its at_risk counts."""

from episode_util import add_client, add_therapist, attendance, start_episode


def test_alliance_report_pages(daemon, db):
    ts = [add_therapist(db) for _ in range(5)]
    # An at-risk episode (two no-shows: disengaging) for the fourth therapist.
    ep = start_episode(daemon, add_client(db), ts[3]).json()["id"]
    for s in (1, 2):
        assert attendance(daemon, ep, s, "no_show").status in (200, 201)
    whole = daemon.get("/v1/reports/alliance?limit=500").json()
    assert [t["therapist_id"] for t in whole["therapists"]] == ts
    assert whole["next"] is None

    seen, cursor, pages = [], None, 0
    while True:
        path = "/v1/reports/alliance?limit=2" + (f"&after={cursor}" if cursor else "")
        r = daemon.get(path)
        assert r.status == 200, r.text
        page = r.json()
        pages += 1
        assert len(page["therapists"]) <= 2
        assert page["clinic_mean"] == whole["clinic_mean"]
        seen += page["therapists"]
        cursor = page["next"]
        if cursor is None:
            break
        assert cursor == str(page["therapists"][-1]["therapist_id"])
    assert pages == 3
    assert seen == whole["therapists"]
    assert [t["at_risk"] for t in seen] == [0, 0, 0, 1, 0]
    # The default page is 50 therapists, like GET /v1/therapists.
    assert len(daemon.get("/v1/reports/alliance").json()["therapists"]) == 5


def test_alliance_report_bad_paging_is_422(daemon, db):
    for q in ("limit=0", "limit=501", "limit=x", "after=abc", "after=0", "after="):
        r = daemon.get(f"/v1/reports/alliance?{q}")
        assert r.status == 422, (q, r.text)
        assert r.content_type == "application/problem+json"

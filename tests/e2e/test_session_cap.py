"""limits.max_sessions caps the session number of feedback and attendance
(default 500): beyond it 422 naming "session", and nothing is stored.  The cap
bounds the rows one episode holds, which every alliance evaluation reads on
the event loop."""

import signal

from episode_util import a5, attendance, count, feedback, new_episode, problem_fields


def test_default_cap_is_500(daemon, db):
    ep = new_episode(daemon, db)[0]["id"]
    r = feedback(daemon, ep, a5(501))
    assert r.status == 422, r.text
    assert problem_fields(r) == ["session"]
    assert "500" in r.json()["errors"][0]["message"]
    r = attendance(daemon, ep, 501, "no_show")
    assert r.status == 422 and problem_fields(r) == ["session"]
    assert count(db, "feedback") == 0 and count(db, "attendance") == 0
    assert feedback(daemon, ep, a5(500)).status == 200
    assert attendance(daemon, ep, 499, "no_show").status in (200, 201)


def test_the_cap_is_configured_and_reloaded(daemon_factory, db):
    d = daemon_factory(config={"limits": {"max_sessions": 3}})
    ep = new_episode(d, db)[0]["id"]
    assert feedback(d, ep, a5(3)).status == 200
    r = feedback(d, ep, a5(4))
    assert r.status == 422 and problem_fields(r) == ["session"]
    d.write_config({"limits": {"max_sessions": 10}})
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_for_log(r"reload", since=mark)
    assert feedback(d, ep, a5(4)).status == 200
    assert count(db, "feedback") == 2

"""Dates on staff pages are the district's days, like the timeline's and the policy's."""
from __future__ import annotations

from datetime import date, datetime, timezone

from casemgr.views.formatting import longdate


def test_a_moment_is_shown_on_the_districts_day_not_the_servers(app, monkeypatch):
    # 02:00 UTC on 4 March is 21:00 on 3 March in a district in America/New_York
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "America/New_York")
    with app.app_context():
        assert longdate(datetime(2027, 3, 4, 2, 0, tzinfo=timezone.utc)) == "3 March 2027"
        assert longdate(datetime(2027, 3, 4, 15, 0, tzinfo=timezone.utc)) == "4 March 2027"


def test_a_day_is_shown_as_it_is(app):
    with app.app_context():
        assert longdate(date(2027, 3, 4)) == "4 March 2027"
        assert longdate(None) == ""

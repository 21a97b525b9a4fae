"""Notices: the principal sees how many notes and referral steps are new in the
navigation, opens the list, and the count is gone on the next page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import User
from casemgr.reads import notices
from tests.browser.conftest import assert_accessible, sign_in


def principal_with_news(app) -> int:
    """The demo principal, last here a year ago: every seeded note and referral step of
    the school they may read is new. Returns how many notices that makes."""
    with app.test_request_context():
        principal = db.session.scalar(sa.select(User).where(User.email == "principal@example.org"))
        principal.notices_seen_at = datetime.now(timezone.utc) - timedelta(days=365)
        db.session.commit()
        count = notices.notice_count(principal, today())
        db.session.rollback()
        return count


def test_the_principal_opens_the_new_notices_and_the_count_goes(page, live_server):
    count = principal_with_news(live_server.app)
    assert 0 < count <= notices.COUNT_SHOWN_UP_TO, "the seeded school has no notes or referrals for the principal"
    sign_in(page, "principal@example.org")
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name=f"Notices {count} new")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notices")
    expect(page.get_by_role("status")).to_contain_text(f"{count} new notice")
    expect(page.locator(".notice-item").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Notices", exact=True)).to_be_visible()
    page.goto("/notices")
    expect(page.get_by_role("status")).to_have_text("Nothing new.")
    assert_accessible(page)

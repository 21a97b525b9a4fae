"""Sessions in a real browser: a cookie saved before signing out is refused after, and
a caseload filter (htmx) after the session ended loads the sign-in page instead of
swapping it into the table, then comes back to the page after signing in."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr.models import User
from tests.browser.conftest import assert_accessible, sign_in


def test_a_cookie_saved_before_signing_out_is_refused_after(page, browser, live_server):
    sign_in(page, "teacher@example.org")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    saved = page.context.cookies()
    assert any(cookie["name"] == "casemgr_session" for cookie in saved)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    elsewhere = browser.new_context(base_url=live_server.url)
    try:
        elsewhere.add_cookies(saved)  # the cookie as it was before signing out
        replay = elsewhere.new_page()
        replay.goto("/")
        expect(replay).to_have_url(re.compile(r"/login"))
        expect(replay.get_by_role("heading", level=1)).to_have_text("Sign in")
    finally:
        elsewhere.close()


def test_an_ended_session_sends_an_htmx_filter_to_sign_in_and_back(page, live_server):
    sign_in(page, "counselor@example.org")
    page.goto("/caseload")
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    with live_server.app.app_context():  # the session ends elsewhere (sign out everywhere)
        from casemgr.extensions import db

        db.session.execute(sa.update(User).where(User.email == "counselor@example.org")
                           .values(session_generation=User.session_generation + 1))
        db.session.commit()
    page.get_by_label("Tier").select_option("3")  # an htmx request under the ended session
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)caseload"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.locator("#caseload-results").count() == 0
    assert_accessible(page)
    page.get_by_label("Email").fill("counselor@example.org")
    page.get_by_label("Password").fill("casemgr-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/caseload"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")


def test_the_account_page_lists_the_sign_in_and_signs_out_everywhere(page):
    sign_in(page, "worker@example.org")
    page.get_by_role("link", name=re.compile("your account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("table")).to_contain_text("127.0.0.1")
    expect(page.locator("table")).to_contain_text("Chrome")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)account"))

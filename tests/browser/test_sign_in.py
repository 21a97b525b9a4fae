"""A person signs in through a real browser."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in


def test_counselor_signs_in_and_sees_the_home_page(page):
    page.goto("/")
    expect(page).to_have_url("/login?next=%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)

    sign_in(page, "counselor@example.org")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(page.get_by_text("Counselor", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_wrong_password_shows_the_generic_message(page):
    sign_in(page, "counselor@example.org", password="wrong-password")
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
    assert_accessible(page)


def test_every_demo_role_reaches_its_home(page):
    for email, role_label in [
        ("admin@example.org", "District administrator"),
        ("principal@example.org", "Principal"),
        ("teacher@example.org", "Teacher"),
        ("partner@example.org", "Partner administrator"),
        ("worker@example.org", "Youth worker"),
        ("parent@example.org", "Parent or guardian"),
        ("student@example.org", "Student"),
        ("researcher@example.org", "Researcher"),
    ]:
        sign_in(page, email)
        # the header names the role on every page (family homes show child cards, not account facts)
        expect(page.locator(".site-user__role")).to_contain_text(role_label)
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_login_page_at_phone_width(phone_page):
    phone_page.goto("/login")
    expect(phone_page.get_by_role("button", name="Sign in")).to_be_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

"""A district admin sets up two-factor sign-in in a real browser, then signs in with a
code from the app and, another time, with a recovery code."""
from __future__ import annotations

import uuid

import pyotp
import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr import two_factor
from casemgr.extensions import db
from casemgr.models import Organization, User
from casemgr.models.enums import Role
from casemgr.passwords import hash_password
from tests.browser.conftest import assert_accessible, sign_in

PASSWORD = "quiet harbor lantern orchard"


def new_district_admin(app) -> str:
    """A district admin of the seeded district without a second factor (not the shared
    demo admin, whom the other browser tests sign in with one step)."""
    email = f"steward-{uuid.uuid4().hex[:8]}@example.org"
    with app.app_context():
        district = db.session.scalar(sa.select(Organization).where(Organization.kind == "district").order_by(Organization.id))
        db.session.add(User(email=email, full_name="Robin Castellanos", role=Role.DISTRICT_ADMIN.value,
                            organization_id=district.id, password_hash=hash_password(PASSWORD)))
        db.session.commit()
    return email


def next_code(app, email: str, secret: str) -> str:
    """The code the app shows for a time step not used yet (the one just used at
    enrolment may still be the current one)."""
    with app.app_context():
        last = db.session.scalar(sa.select(User.totp_last_counter).where(User.email == email))
    step = two_factor.current_step()
    return pyotp.TOTP(secret).generate_otp(step if last is None or last < step else last + 1)


def test_district_admin_enrols_then_signs_in_with_a_code_and_with_a_recovery_code(page, live_server):
    email = new_district_admin(live_server.app)
    sign_in(page, email, PASSWORD)
    # a district admin without a second factor reaches nothing but its set-up page
    expect(page).to_have_url("/account/two-factor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code to add your casemgr account to an authenticator app")).to_be_visible()
    assert_accessible(page)
    page.goto("/admin/agreements")
    expect(page).to_have_url("/account/two-factor")

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    page.get_by_role("link", name="I have saved my recovery codes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    page.get_by_role("button", name="Sign out").click()
    page.goto("/admin/agreements")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    assert_accessible(page)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code did not work.")).to_be_visible()
    page.get_by_label("Code").fill(next_code(live_server.app, email, secret))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url("/admin/agreements")  # back where they were going

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, email, PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(page.get_by_text("You have 9 recovery codes left.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, email, PASSWORD)
    page.get_by_label("Code").fill(codes[0])  # a recovery code works once
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code did not work.")).to_be_visible()


def test_demo_admin_home_says_how_to_try_two_factor_sign_in(page):
    sign_in(page, "admin@example.org")
    note = page.locator("#two-factor-demo")
    expect(note).to_contain_text("signs in with its password alone")
    expect(note.get_by_role("link", name="set up two-factor sign-in")).to_have_attribute("href", "/account/two-factor")


def test_sign_in_step_at_phone_width_in_spanish(phone_page, live_server):
    email = new_district_admin(live_server.app)
    with live_server.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.totp_secret, user.totp_enabled_at = pyotp.random_base32(), sa.func.now()
        db.session.commit()
    phone_page.goto("/login")
    phone_page.get_by_role("button", name="Español").click()
    phone_page.locator("#email").fill(email)
    phone_page.locator("#password").fill(PASSWORD)
    phone_page.locator("button[type=submit]").first.click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Verificación en dos pasos")
    expect(phone_page.get_by_role("button", name="Continuar")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)


def test_demo_admin_resets_a_colleagues_second_factor(page, live_server):
    email = new_district_admin(live_server.app)
    with live_server.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.totp_secret, user.totp_enabled_at = pyotp.random_base32(), sa.func.now()
        db.session.commit()
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Sign-in security").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in security")
    expect(page.get_by_label("Require two-factor sign-in for every staff role")).not_to_be_checked()
    assert_accessible(page)
    page.get_by_role("row", name=email).get_by_role("link", name="Reset").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset Robin Castellanos's two-factor sign-in?")
    assert_accessible(page)
    page.get_by_role("button", name="Reset two-factor sign-in").click()
    expect(page.get_by_text("Robin Castellanos's two-factor sign-in was reset")).to_be_visible()
    expect(page.get_by_role("row", name=email)).to_have_count(0)

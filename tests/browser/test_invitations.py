"""A district admin invites a counselor; the counselor opens the emailed link (read from
the test SMTP server), chooses a password and signs in."""
from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import first_link

PASSWORD = "meadow lantern copper whistle"


def _wait_for_mail(mailbox, address: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mailbox.to(address):
            return mailbox.last(address)
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address}")


def test_a_district_admin_invites_a_counselor_who_sets_a_password_and_signs_in(page, second_page, mailbox):
    email = f"new.counselor.{uuid.uuid4().hex[:6]}@example.org"
    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Staff accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff accounts")
    assert_accessible(page)

    page.get_by_role("link", name="Invite someone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite someone")
    assert_accessible(page)
    page.get_by_label("Name").fill("Nadia Newcomer")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option("counselor")
    organization = page.get_by_label("Organization")
    school = organization.locator("optgroup[label='Schools'] option").first.get_attribute("value")
    organization.select_option(school)
    page.get_by_label("Job title").fill("Grade 10 counselor")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to Nadia Newcomer at {email}")).to_be_visible()
    page.get_by_label("Status").select_option("invited")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row", name="Nadia Newcomer")).to_contain_text("Invited, no password yet")
    page.get_by_role("link", name="Manage Nadia Newcomer's account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Newcomer's account")
    expect(page.get_by_role("button", name="Send the invitation again")).to_be_visible()
    assert_accessible(page)

    link = first_link(_wait_for_mail(mailbox, email))
    invitee = second_page
    invitee.goto(urlsplit(link).path)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Choose your password")
    assert_accessible(invitee)
    invitee.get_by_label("New password").fill("password1234")
    invitee.get_by_label("The same password again").fill("password1234")
    invitee.get_by_role("button", name="Set password and sign in").click()
    expect(invitee.get_by_text("easy to guess")).to_be_visible()
    assert_accessible(invitee)
    invitee.get_by_label("New password").fill(PASSWORD)
    invitee.get_by_label("The same password again").fill(PASSWORD)
    invitee.get_by_role("button", name="Set password and sign in").click()
    expect(invitee.get_by_text("Your password is set and you are signed in.")).to_be_visible()
    expect(invitee.locator(".site-user__name")).to_have_text("Nadia Newcomer")

    invitee.get_by_role("button", name="Sign out").click()
    sign_in(invitee, email, PASSWORD)
    expect(invitee.locator(".site-user__role")).to_contain_text("Counselor")

    # the link worked once
    invitee.goto(urlsplit(link).path)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    assert_accessible(invitee)

    # the admin reads what happened
    page.goto("/admin/users")
    page.get_by_role("link", name="Account events").click()
    page.get_by_label("Account (name or email)").fill("Nadia")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row").filter(has_text="Invitation accepted")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="Invited")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="Signed in")).to_have_count(2)  # on accepting, and again
    assert_accessible(page)


def test_a_partner_admin_manages_their_staff(page):
    sign_in(page, "partner@example.org")
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("link", name="Invite a staff member")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Invite a staff member").click()
    expect(page.get_by_label("Role").locator("option")).to_have_text(["Choose…", "Partner administrator", "Youth worker"])
    assert_accessible(page)


def test_the_forgot_password_page_at_phone_width(phone_page):
    phone_page.goto("/login")
    phone_page.get_by_role("link", name="Forgot your password?").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    assert_accessible(phone_page)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_forgotten_password_is_reset_from_the_emailed_link(page, live_server, mailbox):
    import sqlalchemy as sa

    from casemgr.extensions import db
    from casemgr.models import Organization, User
    from casemgr.passwords import hash_password

    email = f"forgetful.{uuid.uuid4().hex[:6]}@example.org"
    with live_server.app.app_context():
        school = db.session.scalar(sa.select(Organization).where(Organization.kind == "school").limit(1))
        db.session.add(User(email=email, full_name="Fern Forgetful", role="teacher", organization_id=school.id,
                            password_hash=hash_password("an old password nobody remembers")))
        db.session.commit()
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)

    page.goto(urlsplit(first_link(_wait_for_mail(mailbox, email))).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert_accessible(page)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_text("Your password was changed")).to_be_visible()
    sign_in(page, email, PASSWORD)
    expect(page.locator(".site-user__name")).to_have_text("Fern Forgetful")


def test_the_partner_staff_pages_fit_a_phone(phone_page):
    sign_in(phone_page, "partner@example.org")
    for path in ("/partner/staff", "/partner/staff/new", "/partner/account-events"):
        phone_page.goto(path)
        expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390, path
    assert_accessible(phone_page)

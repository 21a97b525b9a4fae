"""Turning 18 on a phone (issue 6 item 8): a student whose 18th birthday is today sees
the banner, confirms one consent a parent signed by signing it themself, revokes the
other, and the banner is gone; at 375 px without sideways scrolling, axe-checked.

The student, their account and the parent's two consents are added to the served
demo district for this test, with a birthday from the clock."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Consent, DataSharingAgreement, Organization
from casemgr.models.enums import OrgKind
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_family import assert_fits, phone  # noqa: F401  (fixture)
from tests.factories import PASSWORD, create_consent, create_student, create_user


@pytest.fixture()
def turning_18(live_server):
    """(the student's email, name, the two partners' names), committed to the served database."""
    day = today()
    with live_server.app.app_context():
        school = db.session.scalar(sa.select(Organization).where(Organization.kind == OrgKind.SCHOOL,
                                                                 Organization.level == "high").limit(1))
        agreements = {a.organization_id: a for a in db.session.scalars(sa.select(DataSharingAgreement).where(
            DataSharingAgreement.district_id == school.district_id, policy.agreement_in_force(day)))}
        partners = {o.code: o for o in db.session.scalars(sa.select(Organization).where(
            Organization.code.in_(["NSY", "CBM"]), Organization.id.in_(list(agreements))))}
        first, second = partners["NSY"], partners["CBM"]
        tag = uuid.uuid4().hex[:8]
        student = create_student(school, first_name="Marisol", last_name="Turner", grade=12,
                                 birth_date=policy.latest_birth_date_of_age(day, 18),
                                 state_id=f"T18{tag}", local_id=f"T18{tag}")
        email = f"marisol.{tag}@example.test"
        create_user("student", student=student, full_name="Marisol Turner", email=email)
        for partner, categories in ((first, ["identity", "attendance"]), (second, ["identity", "college"])):
            ends = min(agreements[partner.id].ends_on, day + timedelta(days=120))
            create_consent(student, partner, categories, purpose=f"{partner.name} program", signer_name="Ines Turner",
                           signer_relationship="parent", signed_on=day - timedelta(days=100), expires_on=ends)
        db.session.commit()
        yield dict(email=email, student_id=student.id, confirm=first.name, revoke=second.name)


def test_the_student_confirms_one_consent_and_revokes_the_other_on_a_phone(phone, turning_18, live_server):  # noqa: F811
    sign_in(phone, turning_18["email"], PASSWORD)
    banner = phone.get_by_role("region", name="You are 18: the right to decide who sees your records is now yours.")
    expect(banner).to_contain_text("2 consents are waiting for your decision.")
    assert_fits(phone)
    assert_accessible(phone)

    banner.get_by_role("link", name="Review the consents your parent signed").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Consents your parent signed")
    assert_fits(phone)
    assert_accessible(phone)

    phone.get_by_role("article", name=turning_18["confirm"]).get_by_role("link", name="Confirm it myself").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text(turning_18["confirm"])
    expect(phone.get_by_role("region", name="The statement you sign")).to_contain_text("I, Marisol Turner, consent")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_label("I have read this statement and I agree to it.").check()
    phone.get_by_label("Your full name").fill("Marisol")  # not the account's full name
    phone.get_by_role("button", name="Sign and confirm").click()
    expect(phone.get_by_role("alert")).to_contain_text("Type your full name exactly as it appears on your account")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_label("I have read this statement and I agree to it.").check()
    phone.get_by_label("Your full name").fill("Marisol Turner")
    phone.get_by_role("button", name="Sign and confirm").click()
    expect(phone.get_by_role("status")).to_contain_text(f"You signed the consent for {turning_18['confirm']} yourself.")
    expect(phone.get_by_role("article")).to_have_count(1)
    assert_fits(phone)

    phone.get_by_role("article", name=turning_18["revoke"]).get_by_role("link", name="Revoke it").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Revoke the consent for {turning_18['revoke']}?")
    assert_fits(phone)
    assert_accessible(phone)
    phone.get_by_role("button", name="Yes, revoke it").click()
    expect(phone.get_by_role("status")).to_contain_text(f"The consent for {turning_18['revoke']} is revoked.")
    expect(phone.get_by_text("You have decided on every consent your parent signed.")).to_be_visible()
    assert_accessible(phone)

    phone.get_by_role("link", name="Back to your home page").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Welcome, Marisol Turner")
    expect(phone.get_by_text("You are 18")).to_have_count(0)
    assert_fits(phone)

    with live_server.app.app_context():
        consents = db.session.scalars(sa.select(Consent).where(Consent.student_id == turning_18["student_id"])
                                      .order_by(Consent.id)).all()
        assert [(c.signer_relationship, c.method, c.revocation is not None) for c in consents] == [
            ("parent", "paper", True), ("parent", "paper", True), ("eligible_student", "electronic", False)]
        assert consents[2].organization_id == consents[0].organization_id and consents[2].statement_text

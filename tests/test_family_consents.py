"""Consents online (issue 6 items 2 and 3): the family grants, revokes and answers the
referrals that wait for its consent, with an electronic signature (34 CFR 99.30)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casemgr import policy
from casemgr.models import Consent
from casemgr.models.enums import Category, Role
from casemgr.services import consents as consent_service
from tests.factories import (
    create_agreement,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)

TODAY = date.today()


@pytest.fixture()
def in_request(app, db):
    """The services speak the signer's language: they run inside a request."""
    with app.test_request_context():
        yield


@pytest.fixture()
def world(db):
    school = create_school(name="Central High")
    district = school.district
    partner = create_partner("Northside Youth")
    create_agreement(partner, district, [Category.IDENTITY, Category.ATTENDANCE, Category.GRADES],
                     purpose="After-school mentoring", starts_on=TODAY - timedelta(days=90),
                     ends_on=TODAY + timedelta(days=300))
    child = create_student(school, first_name="Lucia", last_name="Ortega", birth_date=date(TODAY.year - 14, 1, 1))
    parent = create_user(Role.PARENT, district, full_name="Rosa Ortega")
    create_guardian(child, user=parent)
    return dict(school=school, district=district, partner=partner, child=child, parent=parent)


def _sign(world, categories=(Category.ATTENDANCE,), typed=None, agreed=True, signer=None, expires_on=None,
          purpose="After-school mentoring", statement=None):
    signer = signer or world["parent"]
    student, partner = world["child"], world["partner"]
    expires_on = expires_on or consent_service.default_expiry(partner, student, TODAY)
    text = statement if statement is not None else consent_service.consent_statement(
        student, partner, categories, purpose, expires_on, signer)
    signature = consent_service.ElectronicSignature(typed if typed is not None else signer.full_name, agreed, text,
                                                    "203.0.113.7", "en")
    return consent_service.record_electronic_consent(student, partner, categories, purpose, expires_on, signer,
                                                     signature, TODAY)


def test_a_signed_consent_keeps_its_signature(db, world, in_request):
    consent = _sign(world, typed="  rosa   ORTEGA ")
    assert consent.method == "electronic" and consent.signer_user_id == world["parent"].id
    assert consent.signer_guardian_id is not None and consent.signer_relationship == "parent"
    assert consent.statement_text.startswith("I, Rosa Ortega, am a parent or guardian of Lucia Ortega")
    assert str(consent.signer_address) == "203.0.113.7" and consent.signed_at is not None
    assert consent.categories == ["attendance"]
    assert policy.organization_categories(world["partner"].id, world["child"], TODAY) == {
        Category.ATTENDANCE: f"consent:{consent.uuid}"}


@pytest.mark.parametrize("change, message", [
    (dict(typed="Rosa Ortiz"), "Type your full name"),
    (dict(agreed=False), "Tick the box"),
    (dict(categories=(Category.BEHAVIOR,)), "allows only these records"),
    (dict(categories=()), "at least one kind"),
    (dict(expires_on=TODAY - timedelta(days=1)), "Choose an end date"),
    (dict(expires_on=TODAY + timedelta(days=400)), "Choose an end date"),
    (dict(statement="I agree to everything."), "The statement changed"),
    (dict(purpose="  "), "Say what the records are for"),
])
def test_a_consent_breaking_a_rule_is_refused_and_nothing_is_written(db, world, in_request, change, message):
    with pytest.raises(consent_service.ConsentError, match=message):
        _sign(world, **change)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Consent)) == 0


def test_once_the_student_is_eligible_only_the_student_signs(db, world, in_request):
    child = world["child"]
    child.birth_date = date(TODAY.year - 18, 1, 1)
    student_user = create_user(Role.STUDENT, student=child, full_name="Lucia Ortega")
    with pytest.raises(consent_service.ConsentError, match="only Lucia can give or revoke consent"):
        _sign(world)
    consent = _sign(world, signer=student_user)
    assert consent.signer_relationship == "eligible_student" and consent.signer_guardian_id is None
    assert consent.statement_text.startswith("I, Lucia Ortega, consent to")
    with pytest.raises(consent_service.ConsentError):
        consent_service.revoke_family_consent(consent, child, world["parent"], TODAY)
    revocation = consent_service.revoke_family_consent(consent, child, student_user, TODAY)
    assert revocation.revoked_by_id == student_user.id
    assert policy.organization_categories(world["partner"].id, child, TODAY) == {}


def test_a_minor_student_does_not_sign(db, world, in_request):
    student_user = create_user(Role.STUDENT, student=world["child"], full_name="Lucia Ortega")
    with pytest.raises(consent_service.ConsentError, match="Until you are 18"):
        _sign(world, signer=student_user)

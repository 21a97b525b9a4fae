"""Turning 18 (issue 6 item 8): on the day the student becomes eligible, the rights pass
to them. The student's home asks them to confirm (by signing it themself) or revoke each
consent a parent signed; the parent's consent power and sight of the record end that
day, and the parent's home says the child now decides.

The dates come from the clock: the student is born 18 years before today (the birthday
is today) or 18 years before tomorrow (the birthday is tomorrow, so today is the day
before)."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.models import Consent, ConsentRevocation
from casemgr.models.enums import Category, Role, SignerRelationship
from casemgr.services import consents as consent_service
from casemgr.services.eligibility import REVOKED
from tests.factories import (
    create_agreement,
    create_consent,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout
from tests.test_translations import untranslated, visible_texts

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
BORN_18_TODAY = policy.latest_birth_date_of_age(TODAY, 18)
BORN_18_TOMORROW = policy.latest_birth_date_of_age(TODAY + timedelta(days=1), 18)
BANNER = "You are 18: the right to decide who sees your records is now yours."


class World:
    def __init__(self, db, birth_date=BORN_18_TODAY):
        self.school = create_school(name="Central High")
        self.district = self.school.district
        self.northside = create_partner("Northside Youth")
        self.eastside = create_partner("Eastside Tutoring")
        for partner in (self.northside, self.eastside):
            create_agreement(partner, self.district, ["identity", "attendance", "grades"], purpose="Mentoring",
                             starts_on=LONG_AGO, ends_on=LATER)
        self.child = create_student(self.school, first_name="Lucia", last_name="Ortega", birth_date=birth_date,
                                    grade=12)
        self.parent = create_user(Role.PARENT, self.district, full_name="Rosa Ortega")
        self.guardian = create_guardian(self.child, user=self.parent)
        self.student = create_user(Role.STUDENT, student=self.child, full_name="Lucia Ortega")
        self.counselor = create_user(Role.COUNSELOR, self.school)
        signed = dict(signer_name="Rosa Ortega", signer_relationship="parent", signer_guardian_id=self.guardian.id,
                      signed_on=LONG_AGO)
        self.north = create_consent(self.child, self.northside, ["identity", "attendance"],
                                    purpose="After-school mentoring", expires_on=TODAY + timedelta(days=100), **signed)
        self.east = create_consent(self.child, self.eastside, ["grades"], purpose="Tutoring",
                                   expires_on=TODAY + timedelta(days=90), **signed)
        # neither waits for the student: one was revoked, one has expired
        self.revoked = create_consent(self.child, self.eastside, ["attendance"], expires_on=LATER, **signed)
        db.session.add(ConsentRevocation(consent_id=self.revoked.id))
        self.expired = create_consent(self.child, self.northside, ["grades"], expires_on=TODAY - timedelta(days=1),
                                      **signed)
        db.session.flush()


@pytest.fixture()
def world(db):
    return World(db)


def _post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/")})


def _confirm_form(client, consent) -> dict:
    html = client.get(f"/family/parent-consents/{consent.uuid}/confirm").get_data(as_text=True)
    fields = dict(re.findall(r'<input id="(statement|locale)" name="\1" type="hidden" value="([^"]*)"', html))
    assert set(fields) == {"statement", "locale"}, html
    return {name: unescape(value) for name, value in fields.items()}


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --- the banner, and the day it appears ----------------------------------------------------


def test_the_banner_appears_on_the_18th_birthday(client, db, world):
    login(client, world.student)
    html = client.get("/").get_data(as_text=True)
    assert BANNER in html and "Please confirm or revoke each consent your parent signed." in html
    assert "2 consents are waiting for your decision." in html
    assert f"/family/children/{world.child.uuid}/parent-consents" in html
    page = client.get(f"/family/children/{world.child.uuid}/parent-consents").get_data(as_text=True)
    assert "Northside Youth" in page and "Eastside Tutoring" in page
    assert "basic details (name, school, grade) and attendance" in page and "After-school mentoring" in page
    assert page.count("Confirm it myself") == 2 and page.count("Revoke it") == 2
    for decided in (world.revoked, world.expired):
        assert str(decided.uuid) not in page


def test_no_banner_the_day_before(client, db):
    world = World(db, birth_date=BORN_18_TOMORROW)
    login(client, world.student)
    assert "You are 18" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/family/children/{world.child.uuid}/parent-consents").status_code == 404
    assert client.get(f"/family/parent-consents/{world.north.uuid}/confirm").status_code == 404
    assert _post(client, f"/family/parent-consents/{world.north.uuid}/revoke").status_code == 404
    assert world.north.revocation is None


def test_a_student_in_college_before_18_decides_too(client, db):
    world = World(db, birth_date=BORN_18_TOMORROW)
    world.child.postsecondary = True
    db.session.flush()
    login(client, world.student)
    html = client.get("/").get_data(as_text=True)
    assert "You are in college: the right to decide who sees your records is now yours." in html


def test_consents_the_student_signed_are_not_asked_about(client, db, world):
    for consent in (world.north, world.east):
        db.session.add(ConsentRevocation(consent_id=consent.id))
    create_consent(world.child, world.northside, ["identity"], signer_name="Lucia Ortega",
                   signer_relationship="eligible_student", signed_on=TODAY, expires_on=LATER)
    db.session.flush()
    login(client, world.student)
    assert "You are 18" not in client.get("/").get_data(as_text=True)
    page = client.get(f"/family/children/{world.child.uuid}/parent-consents").get_data(as_text=True)
    assert "You have decided on every consent your parent signed." in page


# --- confirm: the student signs it themself --------------------------------------------------


def test_confirming_signs_a_new_consent_and_revokes_the_parents(client, db, world):
    login(client, world.student)
    form = _confirm_form(client, world.north)
    assert form["locale"] == "en"
    assert form["statement"].startswith("I, Lucia Ortega, consent to ")
    crlf = form["statement"].replace("\n", "\r\n")  # as a browser sends a form's line breaks
    response = _post(client, f"/family/parent-consents/{world.north.uuid}/confirm",
                     {**form, "statement": crlf, "typed_name": "  lucia   ortega ", "agreed": "y"})
    assert response.status_code == 302
    own = db.session.scalar(sa.select(Consent).where(Consent.signer_user_id == world.student.id))
    assert own is not None
    assert (own.organization_id, own.categories, own.purpose, own.expires_on, own.signed_on) == (
        world.northside.id, ["identity", "attendance"], "After-school mentoring", world.north.expires_on, TODAY)
    assert own.signer_relationship == SignerRelationship.ELIGIBLE_STUDENT and own.method == "electronic"
    assert own.statement_text == form["statement"] and own.signed_at is not None and own.locale == "en"
    assert str(own.signer_address) == "127.0.0.1" and own.signer_name == "lucia ortega"
    db.session.refresh(world.north)
    revocation = world.north.revocation
    assert revocation is not None and revocation.revoked_by_id == world.student.id
    assert f"Replaced by the student's own consent {own.uuid}" in revocation.reason
    # Northside keeps seeing the same records, now under the student's own consent
    assert policy.organization_categories(world.northside.id, world.child, TODAY) == {
        Category.IDENTITY: f"consent:{own.uuid}", Category.ATTENDANCE: f"consent:{own.uuid}"}
    page = client.get(f"/family/children/{world.child.uuid}/parent-consents").get_data(as_text=True)
    assert "You signed the consent for Northside Youth yourself." in page
    assert "Northside Youth</h2>" not in page and "Eastside Tutoring" in page


@pytest.mark.parametrize("change, message", [
    ({"typed_name": "Rosa Ortega"}, "Type your full name exactly as it appears on your account: Lucia Ortega."),
    ({"agreed": ""}, "Tick the box to say that you have read and agree to the statement."),
    ({"statement": "I agree to everything."}, "The statement changed since it was shown."),
    ({"typed_name": ""}, "Type your full name to sign."),
])
def test_a_confirmation_that_is_not_a_valid_signature_changes_nothing(client, db, world, change, message):
    login(client, world.student)
    form = {**_confirm_form(client, world.north), "typed_name": "Lucia Ortega", "agreed": "y", **change}
    if not form["agreed"]:
        del form["agreed"]
    response = _post(client, f"/family/parent-consents/{world.north.uuid}/confirm", form)
    assert response.status_code == 400
    assert message in unescape(response.get_data(as_text=True))
    assert _count(db, Consent) == 4 and _count(db, ConsentRevocation) == 1


def test_the_agreement_no_longer_allowing_a_record_refuses_the_confirmation_with_a_reason(client, db, world):
    world.east.categories = ["grades"]
    for agreement in db.session.scalars(sa.select(policy.DataSharingAgreement).where(
            policy.DataSharingAgreement.organization_id == world.eastside.id)):
        agreement.categories = ["identity"]
    db.session.flush()
    login(client, world.student)
    form = {**_confirm_form(client, world.east), "typed_name": "Lucia Ortega", "agreed": "y"}
    response = _post(client, f"/family/parent-consents/{world.east.uuid}/confirm", form)
    assert response.status_code == 400 and "allows only these records" in unescape(response.get_data(as_text=True))
    assert _count(db, ConsentRevocation) == 1


# --- revoke ------------------------------------------------------------------------------------


def test_revoking_takes_one_confirmation(client, db, world):
    login(client, world.student)
    page = client.get(f"/family/parent-consents/{world.east.uuid}/revoke").get_data(as_text=True)
    assert "Revoke the consent for Eastside Tutoring?" in page and "Yes, revoke it" in page
    assert world.east.revocation is None
    response = _post(client, f"/family/parent-consents/{world.east.uuid}/revoke")
    assert response.status_code == 302
    db.session.refresh(world.east)
    assert world.east.revocation.reason == REVOKED and world.east.revocation.revoked_by_id == world.student.id
    assert policy.organization_categories(world.eastside.id, world.child, TODAY) == {}
    assert _count(db, Consent) == 4


def test_once_every_parent_consent_is_decided_the_banner_is_gone(client, db, world):
    login(client, world.student)
    form = {**_confirm_form(client, world.north), "typed_name": "Lucia Ortega", "agreed": "y"}
    assert _post(client, f"/family/parent-consents/{world.north.uuid}/confirm", form).status_code == 302
    assert "1 consent is waiting for your decision." in client.get("/").get_data(as_text=True)
    assert _post(client, f"/family/parent-consents/{world.east.uuid}/revoke").status_code == 302
    assert "You are 18" not in client.get("/").get_data(as_text=True)
    page = client.get(f"/family/children/{world.child.uuid}/parent-consents").get_data(as_text=True)
    assert "You have decided on every consent your parent signed." in page


def test_a_consent_already_decided_gets_a_message_and_no_change(client, db, world):
    login(client, world.student)
    assert _post(client, f"/family/parent-consents/{world.east.uuid}/revoke").status_code == 302
    revoked = "This consent has already been revoked."
    ended = "This consent is no longer in force: there is nothing to confirm or revoke."
    token = csrf_token(client, "/")
    for path, message in ((f"/family/parent-consents/{world.east.uuid}/revoke", revoked),
                          (f"/family/parent-consents/{world.east.uuid}/confirm", revoked),
                          (f"/family/parent-consents/{world.expired.uuid}/confirm", ended),
                          (f"/family/parent-consents/{world.expired.uuid}/revoke", ended)):
        response = client.post(path, data={"typed_name": "Lucia Ortega", "agreed": "y", "csrf_token": token})
        assert response.status_code == 302, path
        assert message in client.get(response.location).get_data(as_text=True), path
    assert _count(db, Consent) == 4 and _count(db, ConsentRevocation) == 2


# --- nobody else reaches these pages -------------------------------------------------------------


def test_only_the_student_reaches_the_pages(client, db, world):
    other = create_student(world.school, birth_date=BORN_18_TODAY)
    other_user = create_user(Role.STUDENT, student=other)
    other_consent = create_consent(other, world.northside, ["identity"], signed_on=LONG_AGO, expires_on=LATER)
    for user in (world.parent, world.counselor, other_user):
        login(client, user)
        assert client.get(f"/family/children/{world.child.uuid}/parent-consents").status_code == 404
        assert client.get(f"/family/parent-consents/{world.north.uuid}/confirm").status_code == 404
        assert _post(client, f"/family/parent-consents/{world.north.uuid}/confirm",
                     {"typed_name": user.full_name, "agreed": "y"}).status_code == 404
        assert _post(client, f"/family/parent-consents/{world.north.uuid}/revoke").status_code == 404
        logout(client)
    login(client, world.student)
    assert client.get(f"/family/parent-consents/{other_consent.uuid}/confirm").status_code == 404
    assert client.get(f"/family/parent-consents/{other_consent.uuid}/revoke").status_code == 404
    assert _count(db, ConsentRevocation) == 1 and _count(db, Consent) == 5


# --- the parent, from the birthday on ----------------------------------------------------------


def test_the_parents_power_and_sight_end_on_the_birthday(client, db, app):
    before = World(db, birth_date=BORN_18_TOMORROW)
    assert policy.may_sign_consents(before.parent, before.child, TODAY)
    assert policy.family_access(before.parent, before.child, TODAY) is not None
    born_today = World(db)
    parent, child = born_today.parent, born_today.child
    assert not policy.may_sign_consents(parent, child, TODAY)
    assert policy.family_access(parent, child, TODAY) is None
    # the day before the birthday, the same parent still had both
    assert policy.may_sign_consents(parent, child, TODAY - timedelta(days=1))
    assert policy.family_access(parent, child, TODAY - timedelta(days=1)) is not None


def test_a_paper_consent_a_parent_signs_on_the_birthday_is_refused(db, world):
    release = consent_service.PaperConsent(
        organization=world.northside, categories=[Category.IDENTITY], purpose="Mentoring", signer_name="Rosa Ortega",
        signer_relationship=SignerRelationship.PARENT, signer_guardian=world.guardian, signed_on=TODAY,
        expires_on=LATER - timedelta(days=10))
    with pytest.raises(consent_service.ConsentError, match="only the student can sign"):
        consent_service.check_paper_consent(world.child, release, TODAY)
    # signed the day before, while the right was the parent's, it can still be recorded
    consent_service.check_paper_consent(world.child, replace(release, signed_on=TODAY - timedelta(days=1)), TODAY)


def test_a_parents_forged_paper_release_after_the_birthday_is_refused(client, db, world):
    login(client, world.counselor)
    response = _post(client, f"/students/{world.child.uuid}/consents/new", {
        "organization": str(world.northside.uuid), "categories": ["identity"], "purpose": "Mentoring",
        "signer": f"guardian:{world.guardian.uuid}", "signed_on": TODAY.isoformat(),
        "expires_on": (TODAY + timedelta(days=60)).isoformat()})
    assert response.status_code == 400
    assert _count(db, Consent) == 4


def test_a_parents_online_grant_or_revoke_after_the_birthday_changes_nothing(app, db, world):
    with app.test_request_context():
        statement = consent_service.consent_statement(world.child, world.northside, ["identity"], "Mentoring",
                                                      TODAY + timedelta(days=60), world.parent)
        signature = consent_service.ElectronicSignature("Rosa Ortega", True, statement, "203.0.113.7", "en")
        with pytest.raises(consent_service.ConsentError, match="only Lucia can give or revoke consent"):
            consent_service.record_electronic_consent(world.child, world.northside, ["identity"], "Mentoring",
                                                      TODAY + timedelta(days=60), world.parent, signature, TODAY)
        with pytest.raises(consent_service.ConsentError, match="only Lucia can give or revoke consent"):
            consent_service.revoke_family_consent(world.north, world.child, world.parent, TODAY)
    assert _count(db, Consent) == 4 and _count(db, ConsentRevocation) == 1


def test_a_parents_forged_grant_or_revoke_on_the_consent_pages_after_the_birthday_changes_nothing(client, db, world):
    login(client, world.parent)
    expires_on = TODAY + timedelta(days=60)
    with client.application.test_request_context():
        statement = consent_service.consent_statement(world.child, world.northside, ["identity"], "Mentoring",
                                                      expires_on, world.parent)
    grant = _post(client, f"/family/children/{world.child.uuid}/consents/new", {
        "organization": str(world.northside.uuid), "categories": "identity", "purpose": "Mentoring",
        "expires_on": expires_on.isoformat(), "action": "sign", "statement": statement, "typed_name": "Rosa Ortega",
        "agreed": "y"})
    assert grant.status_code == 404
    assert _post(client, f"/family/consents/{world.north.uuid}/revoke").status_code == 404
    assert _count(db, Consent) == 4 and _count(db, ConsentRevocation) == 1
    # the consent page only tells the parent that the right has passed
    page = client.get(f"/family/children/{world.child.uuid}/consents").get_data(as_text=True)
    assert "now holds the right to decide" in page and "Northside Youth" not in page


def test_the_parents_home_says_the_child_now_decides(client, db, world):
    login(client, world.parent)
    html = client.get("/").get_data(as_text=True)
    assert ("Lucia Ortega is now 18 and holds the right to decide who sees their school records: only Lucia Ortega "
            "can give or revoke consent from now on") in html
    assert "There is no other record for you to see here." in html
    assert client.get(f"/family/children/{world.child.uuid}").status_code == 404
    spanish = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Lucia Ortega ya tiene 18 años" in spanish


def test_the_parents_home_names_no_child_of_another_family(client, db, world):
    stranger = create_student(world.school, first_name="Zed", last_name="Stranger", birth_date=BORN_18_TODAY)
    create_guardian(stranger)
    no_rights = create_student(world.school, first_name="Mateo", last_name="Norights", birth_date=BORN_18_TODAY)
    create_guardian(no_rights, user=world.parent, educational_rights=False)
    login(client, world.parent)
    html = client.get("/").get_data(as_text=True)
    assert "Zed" not in html and "Mateo" not in html and "Lucia Ortega is now 18" in html


# --- in Spanish ----------------------------------------------------------------------------------


def test_every_page_of_the_student_and_the_parent_is_in_spanish(client, db, world):
    login(client, world.student)
    for path in ("/", f"/family/children/{world.child.uuid}/parent-consents",
                 f"/family/parent-consents/{world.north.uuid}/confirm",
                 f"/family/parent-consents/{world.north.uuid}/revoke"):
        assert not untranslated(client, path), path
    spanish = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Usted tiene 18 años: ahora el derecho de decidir quién ve sus registros es suyo." in spanish
    token, form = csrf_token(client, "/"), _confirm_form(client, world.north)
    refused = {language: client.post(f"/family/parent-consents/{world.north.uuid}/confirm",
                                      data={**form, "typed_name": "Nadie", "csrf_token": token},
                                      headers={"Accept-Language": language}).get_data(as_text=True)
               for language in ("en", "es")}
    assert "No se firmó nada" in refused["es"] and "Escriba su nombre completo tal como aparece" in refused["es"]
    assert not visible_texts(refused["es"]) & visible_texts(refused["en"])
    logout(client)
    login(client, world.parent)
    assert not untranslated(client, "/")

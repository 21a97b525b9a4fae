"""Staff record paper consents, revoke them, and list each student's history."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import Consent, ConsentRevocation
from casemgr.models.enums import Role
from tests.factories import (
    add_to_roster,
    create_agreement,
    create_consent,
    create_guardian,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login, logout

TODAY = today()


def _world(db):
    school = create_school()
    student = create_student(school, birth_date=date(TODAY.year - 12, 1, 1), grade=7)
    guardian = create_guardian(student)
    partner = create_partner("Northside Youth")
    create_agreement(partner, school.district, categories=["identity", "attendance", "grades"],
                     starts_on=TODAY - timedelta(days=300), ends_on=TODAY + timedelta(days=300))
    return school, student, guardian, partner


def _form(partner, guardian, **overrides):
    data = {
        "organization": str(partner.uuid),
        "categories": ["identity", "attendance"],
        "purpose": "Attendance mentoring after school",
        "signer": f"guardian:{guardian.uuid}",
        "signed_on": TODAY.isoformat(),
        "expires_on": (TODAY + timedelta(days=200)).isoformat(),
    }
    data.update(overrides)
    return data


def _consents(db, student):
    return db.session.scalars(sa.select(Consent).where(Consent.student_id == student.id)).all()


def test_counselor_records_a_paper_consent(client, db):
    school, student, guardian, partner = _world(db)
    login(client, create_user(Role.COUNSELOR, school))
    path = f"/students/{student.uuid}/consents/new"
    data = _form(partner, guardian, csrf_token=csrf_token(client, path))
    response = client.post(path, data=data)
    assert response.status_code == 302
    [consent] = _consents(db, student)
    assert consent.categories == ["attendance", "identity"]
    assert consent.signer_name == guardian.full_name and consent.method == "paper"
    history = client.get(f"/students/{student.uuid}/consents").get_data(as_text=True)
    assert "Northside Youth" in history and "Active" in history


def test_expiry_defaults_to_the_end_of_the_school_year(client, db):
    school, student, guardian, partner = _world(db)
    login(client, create_user(Role.COUNSELOR, school))
    path = f"/students/{student.uuid}/consents/new"
    page = client.get(path).get_data(as_text=True)
    assert TODAY.isoformat() in page  # signed today by default
    data = _form(partner, guardian, expires_on="", csrf_token=csrf_token(client, path))
    assert client.post(path, data=data).status_code == 302
    [consent] = _consents(db, student)
    assert consent.expires_on.month == 6 and consent.expires_on >= TODAY


def test_categories_beyond_the_agreement_are_refused_and_nothing_is_written(client, db):
    school, student, guardian, partner = _world(db)
    login(client, create_user(Role.COUNSELOR, school))
    path = f"/students/{student.uuid}/consents/new"
    data = _form(partner, guardian, categories=["attendance", "behavior"], csrf_token=csrf_token(client, path))
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Northside Youth&#39;s data-sharing agreement does not include behavior." in response.get_data(as_text=True)
    assert _consents(db, student) == []


def test_bad_fields_are_explained(client, db):
    school, student, guardian, partner = _world(db)
    login(client, create_user(Role.COUNSELOR, school))
    path = f"/students/{student.uuid}/consents/new"
    data = _form(partner, guardian, categories=[], purpose="", signed_on="31/02/2026",
                 csrf_token=csrf_token(client, path))
    html = client.post(path, data=data).get_data(as_text=True)
    assert "Choose at least one kind of record." in html
    assert "Write the purpose stated on the release." in html
    assert "Enter the date it was signed (YYYY-MM-DD)." in html
    future = _form(partner, guardian, signed_on=(TODAY + timedelta(days=3)).isoformat(), csrf_token=csrf_token(client, path))
    assert "The signature date cannot be in the future." in client.post(path, data=future).get_data(as_text=True)
    assert _consents(db, student) == []


def test_guardian_without_rights_or_another_students_guardian_cannot_sign(client, db):
    school, student, guardian, partner = _world(db)
    other = create_guardian(create_student(school))
    no_rights = create_guardian(student, educational_rights=False)
    login(client, create_user(Role.COUNSELOR, school))
    path = f"/students/{student.uuid}/consents/new"
    for signer in (other, no_rights):
        data = _form(partner, guardian, signer=f"guardian:{signer.uuid}", csrf_token=csrf_token(client, path))
        assert client.post(path, data=data).status_code == 400
    assert _consents(db, student) == []


def test_eligible_student_signs_their_own_consent(client, db):
    school = create_school()
    student = create_student(school, birth_date=date(TODAY.year - 19, 1, 1), grade=12)
    guardian = create_guardian(student)
    partner = create_partner()
    create_agreement(partner, school.district, starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=300))
    login(client, create_user(Role.COUNSELOR, school))
    path = f"/students/{student.uuid}/consents/new"
    by_parent = _form(partner, guardian, csrf_token=csrf_token(client, path))
    assert client.post(path, data=by_parent).status_code == 400
    by_student = _form(partner, guardian, signer="student", csrf_token=csrf_token(client, path))
    assert client.post(path, data=by_student).status_code == 302
    [consent] = _consents(db, student)
    assert consent.signer_relationship == "eligible_student"


def test_revoking_adds_a_revocation_and_never_edits_the_consent(client, db):
    school, student, guardian, partner = _world(db)
    consent = create_consent(student, partner, signed_on=TODAY - timedelta(days=5), expires_on=TODAY + timedelta(days=90))
    login(client, create_user(Role.PRINCIPAL, school))
    path = f"/consents/{consent.uuid}/revoke"
    assert "Revoke the consent for Northside Youth?" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"reason": "Parent called", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    revocation = db.session.get(ConsentRevocation, consent.id)
    assert revocation.reason == "Parent called"
    again = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRevocation)) == 1


def test_only_school_officials_of_the_student_manage_consents(client, db):
    school, student, guardian, partner = _world(db)
    consent = create_consent(student, partner, signed_on=TODAY - timedelta(days=5), expires_on=TODAY + timedelta(days=90))
    add_to_roster(student, partner, added_on=TODAY - timedelta(days=5))
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY)
    for user in (create_user(Role.TEACHER, school), create_user(Role.COUNSELOR), worker):
        login(client, user)
        assert client.get(f"/students/{student.uuid}/consents/new").status_code == 404
        assert client.get(f"/consents/{consent.uuid}/revoke").status_code == 404
        logout(client)
    assert db.session.get(ConsentRevocation, consent.id) is None


def test_partner_staff_see_only_their_own_organizations_consents(client, db):
    school, student, guardian, partner = _world(db)
    other_partner = create_partner("Other Org")
    create_agreement(other_partner, school.district, starts_on=TODAY - timedelta(days=5), ends_on=TODAY + timedelta(days=50))
    create_consent(student, partner, signed_on=TODAY - timedelta(days=5), expires_on=TODAY + timedelta(days=90))
    create_consent(student, other_partner, signed_on=TODAY - timedelta(days=5), expires_on=TODAY + timedelta(days=90))
    add_to_roster(student, partner, added_on=TODAY - timedelta(days=5))
    login(client, create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY))
    html = client.get(f"/students/{student.uuid}/consents").get_data(as_text=True)
    assert "Northside Youth" in html and "Other Org" not in html
    assert "Record a paper consent" not in html

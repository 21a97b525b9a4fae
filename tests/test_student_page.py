"""The student record page: sections per category, shown or explained, and logged."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import ConsentRevocation, DisclosureEntry, DisciplineIncident
from casemgr.models.enums import Category, Role
from tests.factories import (
    add_to_roster,
    create_attendance,
    create_school_year,
    create_agreement,
    create_consent,
    create_indicator,
    create_partner,
    create_school,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login

TODAY = today()


def _attendance(db, student, statuses):
    create_school_year(student.district, 2026)
    create_attendance(student, [(date(2026, 9, 1 + offset), status) for offset, status in enumerate(statuses)])


def _log(db, student):
    return db.session.scalars(
        sa.select(DisclosureEntry).where(DisclosureEntry.student_id == student.id).order_by(DisclosureEntry.id)
    ).all()


def _consented_worker(school, student, agreed: list[str], consented: list[str]):
    """A compliant youth worker of Northside Youth, the student on its roster, under an
    agreement and a consent in force."""
    partner = create_partner("Northside Youth")
    create_agreement(partner, school.district, categories=agreed,
                     starts_on=date(TODAY.year - 1, 1, 1), ends_on=date(TODAY.year + 1, 12, 31))
    create_consent(student, partner, categories=consented,
                   signed_on=date(TODAY.year - 1, 1, 1), expires_on=date(TODAY.year + 1, 1, 1))
    add_to_roster(student, partner, added_on=date(TODAY.year - 1, 1, 1))
    return create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=date(TODAY.year - 1, 1, 1),
                       ferpa_trained_on=TODAY)


def test_counselor_sees_every_section_and_the_view_is_logged(client, db):
    school = create_school()
    student = create_student(school)
    _attendance(db, student, ["present", "unexcused", "excused"])
    counselor = create_user(Role.COUNSELOR, school)
    login(client, counselor)
    response = client.get(f"/students/{student.uuid}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert student.state_id in html
    assert "Absent 2 of 3 recorded school days" in html
    assert "Hidden." not in html
    [entry] = _log(db, student)
    assert entry.allowed and entry.action == "view" and len(entry.categories) == len(Category)
    assert entry.basis["attendance"] == "school_official"
    assert entry.user_id == counselor.id and entry.organization_id == school.id


def test_counselor_of_another_school_gets_404_and_a_denied_entry(client, db):
    student = create_student()
    login(client, create_user(Role.COUNSELOR))
    response = client.get(f"/students/{student.uuid}")
    assert response.status_code == 404
    assert student.last_name not in response.get_data(as_text=True)
    [entry] = _log(db, student)
    assert not entry.allowed and entry.action == "denied"


def test_unknown_student_is_the_same_404(client, db):
    login(client, create_user(Role.COUNSELOR))
    response = client.get("/students/6f1c1d7e-3a4b-4c5d-8e9f-0a1b2c3d4e5f")
    assert response.status_code == 404


def test_worker_sees_only_consented_categories_and_why_the_rest_are_hidden(client, db):
    school = create_school()
    student = create_student(school)
    _attendance(db, student, ["unexcused"])
    db.session.add(DisciplineIncident(student_id=student.id, school_id=school.id, incident_code="X1",
                                      occurred_on=date(2026, 9, 9), school_year=2026,
                                      incident_type="Fight-secret", action="out_of_school_suspension"))
    worker = _consented_worker(school, student, ["identity", "attendance", "grades"], ["identity", "attendance"])
    login(client, worker)
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Absent 1 of 1" in html
    assert "Fight-secret" not in html
    # one panel says what consent hides, once
    assert "To see grades and credits, Northside Youth needs an active consent from a parent." in html
    assert "Northside Youth's data-sharing agreement with the district does not include" in html
    assert "behavior" in html.split('id="consent-panel"')[1].split("</section>")[0]

    fragment = client.get(f"/students/{student.uuid}/sections/behavior", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Fight-secret" not in fragment.get_data(as_text=True)
    entries = _log(db, student)
    assert [e.allowed for e in entries] == [True, False]
    assert entries[0].categories == ["attendance", "identity"]


def test_a_worker_with_every_category_consented_has_their_notes_before_the_cards(client, db):
    """No consent panel to show: the timeline ("Write a note") still comes first for a
    worker, and after the cards for school staff."""
    school = create_school()
    student = create_student(school)
    _attendance(db, student, ["unexcused"])
    create_indicator(student, 2026, tier=2)
    # every category of a student at school: what they did after it is no part of the panel
    everything = ["identity", "attendance", "grades", "assessments", "behavior", "college", "notes", "services"]
    worker = _consented_worker(school, student, everything, everything)
    login(client, worker)
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert 'id="consent-panel"' not in html
    assert html.index('id="timeline"') < html.index('class="cards"')
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, create_user(Role.COUNSELOR, school))
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert html.index('class="cards"') < html.index('id="timeline"')


def test_revocation_hides_the_category_on_the_next_request(client, db):
    school = create_school()
    student = create_student(school)
    _attendance(db, student, ["unexcused"])
    partner = create_partner()
    create_agreement(partner, school.district, starts_on=date(TODAY.year - 1, 1, 1), ends_on=date(TODAY.year + 1, 1, 1))
    consent = create_consent(student, partner, signed_on=date(TODAY.year - 1, 1, 1), expires_on=date(TODAY.year + 1, 1, 1))
    add_to_roster(student, partner, added_on=date(TODAY.year - 1, 1, 1))
    worker = create_user(Role.YOUTH_WORKER, partner, confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY)
    login(client, worker)
    assert "Absent 1 of 1" in client.get(f"/students/{student.uuid}").get_data(as_text=True)
    db.session.add(ConsentRevocation(consent_id=consent.id))
    db.session.flush()
    html = client.get(f"/students/{student.uuid}").get_data(as_text=True)
    assert "Absent 1 of 1" not in html
    assert "Consent needed" in html and "Revoked on " in html


def test_who_can_see_this_record(client, db):
    school = create_school()
    student = create_student(school)
    partner = create_partner("Northside Youth")
    create_agreement(partner, school.district, categories=["identity", "attendance"],
                     starts_on=date(TODAY.year - 1, 1, 1), ends_on=date(TODAY.year + 1, 1, 1))
    create_consent(student, partner, signed_on=date(TODAY.year - 1, 1, 1), expires_on=date(TODAY.year + 1, 1, 1))
    add_to_roster(student, partner, added_on=date(TODAY.year - 1, 1, 1))
    worker = create_user(Role.YOUTH_WORKER, partner, full_name="Ana Ruiz", confidentiality_signed_on=TODAY, ferpa_trained_on=TODAY)
    blocked = create_user(Role.YOUTH_WORKER, partner, full_name="Blocked Worker")
    counselor = create_user(Role.COUNSELOR, school, full_name="Carla Counselor")
    create_user(Role.COUNSELOR, full_name="Elsewhere Counselor")
    login(client, counselor)
    assert "Who can see this record" in client.get(f"/students/{student.uuid}").get_data(as_text=True)
    html = client.get(f"/students/{student.uuid}/access").get_data(as_text=True)
    assert "Carla Counselor" in html and "Everything" in html
    assert "Ana Ruiz" in html and "Identity, Attendance" in html
    assert "Blocked Worker" not in html and "Elsewhere Counselor" not in html
    assert blocked and worker

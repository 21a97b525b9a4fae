"""The family portal (issue 6 items 1 and 4): homes, a child's plain-language record and
the plain-language disclosure log; each reachable only for the family's own children."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casemgr import indicators
from casemgr.clock import start_of, today
from casemgr.models import DisclosureEntry, Note, User
from casemgr.models.enums import Role
from tests.factories import (
    create_agreement,
    create_consent,
    create_guardian,
    create_partner,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login
from tests.test_indicators import AS_OF, _mark, _section, enrolled_student, school  # noqa: F401  (fixture)

TODAY = today()


def _note(db, student, author, audience, body):
    note = Note(student_id=student.id, author_id=author.id, organization_id=author.organization_id,
                audience=audience, topic="attendance", body=body)
    db.session.add(note)
    db.session.flush()
    return note


@pytest.fixture()
def family(db, school):  # noqa: F811
    """A parent with educational rights over one child, the same parent without rights
    over another, another family's child, and notes of every audience."""
    child = enrolled_student(db, school, absences=5, grade=10)
    child.first_name, child.last_name = "Lucia", "Ortega"
    _mark(db, child, _section(db, school, "math", local_id="m1"), failing=True)
    indicators.recompute(child.district_id, AS_OF)
    no_rights = create_student(school, first_name="Mateo", last_name="Ortega")
    stranger = create_student(school, first_name="Zed", last_name="Stranger")
    parent = create_user(Role.PARENT, school.district, full_name="Rosa Ortega")
    create_guardian(child, user=parent)
    create_guardian(no_rights, user=parent, educational_rights=False)
    create_guardian(stranger)
    counselor = create_user(Role.COUNSELOR, school, full_name="Dana Park")
    _note(db, child, counselor, "family", "FAMILYNOTE we met on Tuesday")
    _note(db, child, counselor, "shared", "SHAREDNOTE for staff")
    _note(db, child, counselor, "restricted", "RESTRICTEDNOTE health")
    _note(db, stranger, counselor, "family", "STRANGERNOTE")
    return dict(child=child, no_rights=no_rights, stranger=stranger, parent=parent, counselor=counselor)


def test_parent_home_shows_the_child_in_plain_language(client, db, family):
    login(client, family["parent"])
    html = client.get("/").get_data(as_text=True)
    assert "Lucia Ortega" in html and "Grade 10" in html
    assert "Missed 5 of 20 school days this year (75% attendance)." in html
    assert "1 course failed this year." in html
    assert "A few areas need attention this year." in html and "Tier 3" not in html
    assert "FAMILYNOTE" in html
    assert "SHAREDNOTE" not in html and "RESTRICTEDNOTE" not in html
    assert "Mateo" not in html and "Stranger" not in html and "STRANGERNOTE" not in html
    assert f"/family/children/{family['child'].uuid}/log" in html


def test_parent_home_and_record_are_logged_as_guardian_reads_and_the_log_page_is_not(client, db, family):
    login(client, family["parent"])
    child = family["child"]

    def entries():
        return db.session.scalars(sa.select(DisclosureEntry).where(DisclosureEntry.student_id == child.id,
                                                                   DisclosureEntry.user_id == family["parent"].id)).all()

    client.get("/")
    client.get(f"/family/children/{child.uuid}")
    assert len(entries()) == 2
    assert all(e.allowed and set(e.basis.values()) == {"guardian"} and "attendance" in e.categories for e in entries())
    client.get(f"/family/children/{child.uuid}/log")
    assert len(entries()) == 2


def test_record_page_shows_attendance_courses_and_family_notes_only(client, db, family):
    login(client, family["parent"])
    html = client.get(f"/family/children/{family['child'].uuid}").get_data(as_text=True)
    assert "Unexcused absence" in html and "5 days" in html
    assert "Math" in html and "not passing" in html
    assert "FAMILYNOTE" in html and "SHAREDNOTE" not in html and "RESTRICTEDNOTE" not in html


@pytest.mark.parametrize("who", ["no_rights", "stranger"])
def test_no_page_of_a_child_without_rights_or_of_another_family(client, db, family, who):
    login(client, family["parent"])
    student = family[who]
    assert client.get(f"/family/children/{student.uuid}").status_code == 404
    assert client.get(f"/family/children/{student.uuid}/log").status_code == 404
    assert client.get(f"/students/{student.uuid}").status_code == 404
    refused = db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry).where(
        DisclosureEntry.student_id == student.id, DisclosureEntry.allowed.is_(False)))
    assert refused == 3


def test_a_parent_sees_nothing_once_the_child_is_eligible(client, db, family):
    family["child"].birth_date = date(TODAY.year - 19, 1, 1)
    db.session.flush()
    login(client, family["parent"])
    html = client.get("/").get_data(as_text=True)
    # only told, by name, that the child now decides; nothing of the record
    assert "Lucia Ortega is now 18 and holds the right to decide" in html
    assert "child-card" not in html and "Missed" not in html and "FAMILYNOTE" not in html
    assert client.get(f"/family/children/{family['child'].uuid}").status_code == 404


def test_a_student_sees_their_own_record_only(client, db, family):
    student_user = create_user(Role.STUDENT, student=family["child"])
    login(client, student_user)
    html = client.get("/").get_data(as_text=True)
    assert "Here is your own school record." in html and "Lucia Ortega" in html and "FAMILYNOTE" in html
    assert client.get(f"/family/children/{family['child'].uuid}").status_code == 200
    assert client.get(f"/family/children/{family['child'].uuid}/log").status_code == 200
    assert client.get(f"/family/children/{family['stranger'].uuid}").status_code == 404
    assert client.get(f"/family/children/{family['stranger'].uuid}/log").status_code == 404


def test_staff_use_the_staff_pages_not_the_family_ones(client, db, family):
    login(client, family["counselor"])
    assert client.get(f"/students/{family['child'].uuid}").status_code == 200
    assert client.get(f"/family/children/{family['child'].uuid}").status_code == 404
    assert client.get(f"/family/children/{family['child'].uuid}/log").status_code == 404


def _entry(db, student, user, when, action="view", categories=(), basis=None, allowed=True, reason=None,
           organization_id=None):
    entry = DisclosureEntry(user_id=user.id, organization_id=organization_id or user.organization_id,
                            student_id=student.id, action=action, categories=list(categories), basis=basis or {},
                            allowed=allowed, reason=reason, occurred_at=when)
    db.session.add(entry)
    db.session.flush()
    return entry


@pytest.fixture()
def logged(db, family, school):  # noqa: F811
    child, counselor = family["child"], family["counselor"]
    northside = create_partner("Northside Youth")
    create_agreement(northside, school.district, categories=["identity", "attendance"])
    consent = create_consent(child, northside, ["identity", "attendance"], signed_on=date(2027, 1, 12))
    worker = create_user(Role.YOUTH_WORKER, northside, full_name="Ana Ruiz")
    at = start_of(date(2027, 3, 3)) + timedelta(hours=10)  # 10:00 where the district is
    _entry(db, child, worker, at, categories=["attendance"], basis={"attendance": f"consent:{consent.uuid}"})
    _entry(db, child, counselor, at - timedelta(days=30), categories=["attendance", "grades"],
           basis={"attendance": "school_official", "grades": "school_official"})
    _entry(db, child, worker, at - timedelta(days=1), action="denied", categories=["grades"], allowed=False,
           reason="no consent")
    _entry(db, child, counselor, at - timedelta(days=2), action="referral", categories=["attendance"],
           basis={"attendance": f"consent:{consent.uuid}"}, reason="referral sent", organization_id=northside.id)
    return dict(northside=northside, school=school, worker=worker)


def test_the_log_in_plain_language(client, db, family, logged):
    login(client, family["parent"])
    html = client.get(f"/family/children/{family['child'].uuid}/log").get_data(as_text=True)
    assert ("Northside Youth (Ana Ruiz, youth worker) viewed attendance on March 3, 2027, "
            "under the consent signed on January 12, 2027.") in html
    school = logged["school"].name
    assert f"{school} (Dana Park, counselor) viewed attendance and grades and credits on February 1, 2027, as school staff." in html
    assert "Northside Youth (Ana Ruiz, youth worker) asked to see grades and credits on March 2, 2027 and was refused." in html
    assert f"Northside Youth was sent a referral by {school} (Dana Park, counselor) on March 1, 2027." in html
    assert "Through it, Northside Youth may see attendance." in html
    assert "Refused" in html


def test_the_log_filters_by_organization_and_dates(client, db, family, logged):
    login(client, family["parent"])
    base = f"/family/children/{family['child'].uuid}/log"
    html = client.get(base).get_data(as_text=True)
    assert f'value="{logged["northside"].uuid}"' in html
    html = client.get(f"{base}?organization={logged['northside'].uuid}").get_data(as_text=True)
    assert "Dana Park, counselor) viewed" not in html and "Ana Ruiz" in html
    html = client.get(f"{base}?from=2027-03-02&to=2027-03-02").get_data(as_text=True)
    assert "was refused" in html and "viewed" not in html and "referral" not in html
    html = client.get(f"{base}?from=not-a-date").get_data(as_text=True)
    assert "Enter dates as year-month-day" in html
    # an organization that is not in this log (or no organization at all) filters nothing
    for key in (create_partner("Elsewhere Youth").uuid, "not-a-uuid"):
        html = client.get(f"{base}?organization={key}").get_data(as_text=True)
        assert "Dana Park, counselor) viewed" in html and "Ana Ruiz" in html


def test_the_log_is_paginated(client, db, family, logged):
    """Paged by lines: thirty days of views are thirty lines."""
    at = start_of(date(2026, 9, 1)) + timedelta(hours=12)
    for n in range(30):
        _entry(db, family["child"], family["counselor"], at + timedelta(days=n), categories=["identity"],
               basis={"identity": "school_official"})
    login(client, family["parent"])
    base = f"/family/children/{family['child'].uuid}/log"
    html = client.get(f"{base}?organization={logged['school'].uuid}").get_data(as_text=True)
    assert "Page 1 of 2" in html and "Older entries" in html
    assert f"organization={logged['school'].uuid}" in html.split("Older entries")[0].rsplit("href", 1)[1]
    html = client.get(f"{base}?organization={logged['school'].uuid}&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in html and "Newer entries" in html


# --- languages ---------------------------------------------------------------------


def test_spanish_by_the_browser(client, db, family):
    login(client, family["parent"])
    html = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Faltó 5 de 20 días de clase este año (75\xa0% de asistencia)." in html
    assert "Grado 10" in html
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_a_saved_choice_wins_over_the_browser_and_persists(client, db, family):
    from tests.helpers import csrf_token

    login(client, family["parent"])
    token = csrf_token(client, "/")
    response = client.post("/language", data={"language": "es", "next": "/", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert db.session.scalar(sa.select(User.locale).where(User.id == family["parent"].id)) == "es"
    client.delete_cookie("casemgr_language")
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in html and "Bienvenido/a" in html
    assert client.post("/language", data={"language": "fr", "csrf_token": token}).status_code == 400
    assert client.post("/language", data={"language": "en"}).status_code == 400  # no CSRF token
    assert client.post("/language", data={"language": "en", "next": "https://evil.example/", "csrf_token": token}
                       ).headers["Location"] == "/"


def test_a_signed_out_visitor_keeps_the_choice_in_a_cookie(client, db):
    from tests.helpers import csrf_token

    token = csrf_token(client, "/login")
    client.post("/language", data={"language": "es", "next": "/login", "csrf_token": token})
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="es">' in html and "Iniciar sesión" in html and "Correo electrónico" in html


def test_dates_in_the_log_follow_the_language(client, db, family, logged):
    login(client, family["parent"])
    html = client.get(f"/family/children/{family['child'].uuid}/log",
                      headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ("Northside Youth (Ana Ruiz, trabajador juvenil) vio la asistencia el 3 de marzo de 2027, "
            "con el consentimiento firmado el 12 de enero de 2027.") in html


def test_the_switch_returns_to_the_page_it_was_on(client, db, family):
    from tests.helpers import csrf_token

    login(client, family["parent"])
    token = csrf_token(client, "/")
    page = f"/family/children/{family['child'].uuid}/log?from=2027-01-01"
    response = client.post("/language", data={"language": "es", "csrf_token": token},
                           headers={"Referer": f"http://localhost{page}"})
    assert response.headers["Location"] == page
    response = client.post("/language", data={"language": "es", "csrf_token": token},
                           headers={"Referer": f"https://evil.example{page}"})
    assert response.headers["Location"] == "/"


def test_a_list_view_naming_the_child_among_others_is_in_the_familys_log(client, db, family):
    """A caseload page is one log row naming every student listed: the family's log finds
    it by the child in that list, and the log of a child not listed does not show it."""
    counselor = family["counselor"]
    others = [create_student(family["child"].school) for _ in range(3)]
    login(client, counselor)
    assert client.get("/caseload").status_code == 200
    listed = db.session.execute(sa.select(DisclosureEntry).where(
        DisclosureEntry.user_id == counselor.id, DisclosureEntry.student_ids.is_not(None))).scalar_one()
    assert family["child"].id in listed.student_ids and others[0].id in listed.student_ids
    assert listed.student_id is None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, family["parent"])
    html = client.get(f"/family/children/{family['child'].uuid}/log").get_data(as_text=True)
    school = family["child"].school.name
    assert f"{school} (Dana Park, counselor) viewed" in html and "as school staff." in html
    assert f'value="{family["child"].school.uuid}"' in html  # the list's organization is in the filter
    html = client.get(f"/family/children/{family['no_rights'].uuid}/log")
    assert html.status_code == 404

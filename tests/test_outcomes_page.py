"""The outcomes-by-program page (issue 17, item 4): who reads which programs, the plain
words that this is a comparison and not proof, suppression on the page and in the
export, and the district's dosage threshold."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.models import Organization, ReportLogEntry, ServiceContact, Student
from casemgr.models.enums import Role
from tests.factories import add_to_roster, create_agreement, create_consent, create_partner, create_user
from tests.helpers import csrf_token, login, logout
from tests.test_outcomes import Year

def _compliant():
    return dict(confidentiality_signed_on=today() - timedelta(days=30), ferpa_trained_on=today() - timedelta(days=30))


def two_programs(db) -> tuple[Year, object]:
    """One partner's tutoring that works (12 served at the first school, attendance up)
    and another partner's mentoring that does nothing; 15 peers at each school."""
    year = Year(db)
    year.serve(year.pupils(12, absent_before=4, absent_after=2))
    year.pupils(15, absent_before=4, absent_after=8)
    other = create_partner("Quiet Mentors")
    year.serve(year.pupils(12, school=1, absent_before=4, absent_after=8), service="mentoring", partner=other)
    year.pupils(15, school=1, absent_before=4, absent_after=8)
    year.rebuild()
    return year, other


def test_the_district_admin_reads_every_program_with_the_caveat(client, db):
    year, other = two_programs(db)
    admin = create_user(Role.DISTRICT_ADMIN, year.district)
    login(client, admin)
    response = client.get("/reports/programs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "A comparison, not proof." in html and "It is not proof that the program caused the difference" in html
    assert f"{year.partner.name}: tutoring" in html and "Quiet Mentors: mentoring" in html
    assert "+15.0 points</strong> against the comparison" in html  # 80% → 95% beside 80% → 80%
    assert "+0.0 points</strong> against the comparison" in html
    # a school's rows
    school = year.schools[0]
    html = client.get(f"/reports/programs?school={school.uuid}").get_data(as_text=True)
    assert school.name in html and "Quiet Mentors" not in html
    # a school of another district, or no school at all, answers 404
    assert client.get("/reports/programs?school=00000000-0000-4000-8000-000000000000").status_code == 404


def _program_row(html: str, program: str) -> str:
    row = html[html.index(program, html.index("<tbody>")):]
    return row[:row.index("</tr>")]


def test_a_partner_admin_reads_only_its_own_programs_and_never_a_small_group(client, db):
    year, other = two_programs(db)
    served = db.session.scalars(sa.select(ServiceContact.student_id).distinct().where(
        ServiceContact.organization_id == year.partner.id)).all()
    for student in db.session.scalars(sa.select(Student).where(Student.id.in_(served))):
        add_to_roster(student, year.partner)
        create_consent(student, year.partner, categories=["identity", "attendance", "grades", "behavior", "college"])
    # one more served student, on the roster, whose family gave no consent: the district's
    # figures count them, the partner's do not
    unconsented = year.serve(year.pupils(1, absent_before=4, absent_after=2))[0]
    add_to_roster(unconsented, year.partner)
    year.rebuild()
    create_agreement(year.partner, year.district, categories=["identity", "services"])
    partner_admin = create_user(Role.PARTNER_ADMIN, year.partner, **_compliant())
    login(client, partner_admin)
    html = client.get("/reports/programs").get_data(as_text=True)
    assert f"{year.partner.name}: tutoring" in html and "Quiet Mentors" not in html
    assert "All schools" not in html  # no school rows for a partner
    row = _program_row(html, f"{year.partner.name}: tutoring")
    assert "12 students, 120.0 hours" in row and "13 students" not in row  # the partner's version
    assert client.get(f"/reports/programs?school={year.schools[0].uuid}").status_code == 404
    # the district raises its minimum n above the partner's group: every figure is hidden,
    # though the district's version (13 served) would show
    db.session.get(Organization, year.district.id).report_minimum_n = 13
    db.session.flush()
    html = client.get("/reports/programs").get_data(as_text=True)
    row = _program_row(html, f"{year.partner.name}: tutoring")
    assert "12" not in row and "13" not in row and "95.0%" not in row and "—" in row
    logout(client)
    login(client, create_user(Role.DISTRICT_ADMIN, year.district))
    html = client.get("/reports/programs").get_data(as_text=True)
    assert "13 students, 130.0 hours" in _program_row(html, f"{year.partner.name}: tutoring")
    # a partner without an agreement in force reads nothing
    logout(client)
    login(client, create_user(Role.PARTNER_ADMIN, other, **_compliant()))
    html = client.get("/reports/programs").get_data(as_text=True)
    assert "You have no program outcomes to read" in html and "tutoring" not in html


def test_the_principal_reads_their_schools_rows(client, db):
    year, _ = two_programs(db)
    principal = create_user(Role.PRINCIPAL, year.schools[1])
    login(client, principal)
    html = client.get("/reports/programs").get_data(as_text=True)
    assert "Quiet Mentors: mentoring" in html and f"{year.partner.name}: tutoring" not in html
    assert client.get(f"/reports/programs?school={year.schools[0].uuid}").status_code == 404


def test_others_cannot_reach_the_page(client, db):
    year, _ = two_programs(db)
    for role, org in ((Role.COUNSELOR, year.schools[0]), (Role.TEACHER, year.schools[0]),
                      (Role.YOUTH_WORKER, year.partner)):
        login(client, create_user(role, org, **(_compliant() if role is Role.YOUTH_WORKER else {})))
        assert client.get("/reports/programs").status_code == 403
        assert client.get("/reports/programs/export.csv").status_code == 403
        logout(client)


def test_the_export_holds_the_protected_figures_and_is_logged(client, db):
    year, _ = two_programs(db)
    admin = create_user(Role.DISTRICT_ADMIN, year.district)
    login(client, admin)
    response = client.get("/reports/programs/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, lines = rows[0], rows[1:3]
    header[0] = header[0].lstrip('\ufeff')  # the byte order mark that tells Excel the file is UTF-8
    assert header[0] == "Program" and header[1] == "Students served"
    tutoring = next(line for line in lines if line[0].endswith("tutoring"))
    assert tutoring[1] == "12" and tutoring[7] == "95.0%" and tutoring[10] == "15.0" and tutoring[11] == "0.0"
    assert "not proof" in rows[-1][0]
    assert client.get("/reports/programs/export.xlsx").status_code == 200
    assert client.get("/reports/programs/export.pdf").status_code == 404
    logged = db.session.scalars(sa.select(ReportLogEntry).where(ReportLogEntry.user_id == admin.id)).all()
    assert {e.filename for e in logged} == {"outcomes-by-program-2026.csv", "outcomes-by-program-2026.xlsx"}


def test_the_district_sets_the_dosage_threshold_and_the_outcomes_are_counted_again(client, db):
    year, _ = two_programs(db)
    admin = create_user(Role.DISTRICT_ADMIN, year.district)
    login(client, admin)
    token = csrf_token(client, "/reports/programs")
    response = client.post("/reports/programs/threshold", data={"csrf_token": token, "served_min_hours": "20"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, year.district.id).served_min_hours == 20
    html = client.get("/reports/programs").get_data(as_text=True)
    assert "No program outcomes yet" in html  # ten hours each: nobody is served at twenty
    bad = client.post("/reports/programs/threshold", data={"csrf_token": token, "served_min_hours": "0"})
    assert bad.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, year.district.id).served_min_hours == 20
    logout(client)
    principal = create_user(Role.PRINCIPAL, year.schools[0])
    login(client, principal)
    assert client.post("/reports/programs/threshold", data={"csrf_token": csrf_token(client, "/"),
                                                            "served_min_hours": "5"}).status_code == 403


def test_a_number_in_an_exported_file_is_never_taken_for_a_formula_nor_quoted():
    from casemgr.views.spreadsheets import safe_cell

    assert safe_cell(-3.2) == "-3.2" and safe_cell(15) == "15"
    assert safe_cell("-3.2") == "'-3.2" and safe_cell("=1+1") == "'=1+1"


def test_the_annual_report_gives_each_programs_reach_and_comparison_in_both_languages(client, db):
    from casemgr.reads import annual_report

    year, other = two_programs(db)
    small = create_partner("Tiny Tutors")
    year.serve(year.pupils(3, absent_before=4, absent_after=2), partner=small)
    year.rebuild()
    programs = {(p["organization"], p["service"]): p for p in annual_report.programs(year.district.id, 2026, 10)["programs"]}
    tutoring = programs[(year.partner.name, "tutoring")]
    assert (tutoring["contacted"], tutoring["served"], tutoring["hours"]) == (12, 12, 120.0)
    # Tiny Tutors' three students (up 15 points) are peers not served by the first program
    # now: its comparison rose 2.5 points (3 of 18 peers), so it leads by 12.5
    assert tutoring["outcome"]["difference"] == 12.5 and tutoring["outcome"]["served_n"] == 12
    assert programs[("Quiet Mentors", "mentoring")]["outcome"]["difference"] == 0.0
    tiny = programs[("Tiny Tutors", "tutoring")]
    assert tiny["contacted"] is None and tiny["hours"] is None and tiny["outcome"] is None  # 3 students: hidden
    content = {"district": year.district.name, "year": 2026, "baseline": 2025, "minimum_n": 10, "margin": 2,
               "sections": [], **annual_report.programs(year.district.id, 2026, 10)}
    from flask import render_template
    from flask_babel import force_locale

    with client.application.test_request_context():
        english = render_template("annual/_body.html", content=content)
        with force_locale("es"):
            spanish = render_template("annual/_body.html", content=content)
    assert "Partner programs" in english and "comparison, not proof" in english
    assert f"{year.partner.name}: tutoring" in english and "+12.5 points" in english
    assert "Programas de los socios" in spanish and f"{year.partner.name}: tutoría" in spanish
    assert "Tiny Tutors: tutoring" in english and english.count("*") >= 3


def test_odd_query_strings_get_the_page_not_an_error(client, db):
    year, _ = two_programs(db)
    login(client, create_user(Role.DISTRICT_ADMIN, year.district))
    for query in ("fmt=x", "endpoint=x", "_scheme=https", "_external=1", "year=abc", "year=1999"):
        assert client.get(f"/reports/programs?{query}").status_code == 200, query
    assert client.get("/reports/programs?district=not-a-uuid").status_code == 404

"""The caseload: visible students only, live filters, search, sort, pages, fixed query count."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from casemgr.models import DisclosureEntry, Flag, SchoolYear, StudentIndicator
from casemgr.models.enums import Role
from tests.factories import create_school, create_student, create_user
from tests.helpers import login

TODAY = date.today()
YEAR = TODAY.year if TODAY.month >= 8 else TODAY.year - 1


def with_indicator(db, student, tier=1, rate="0.9800", chronic=False, failures=0, **fields):
    db.session.add(StudentIndicator(
        student_id=student.id, school_year=YEAR, as_of=TODAY, settings_id=_settings(db, student.district_id),
        days_enrolled=50, days_absent=int((1 - Decimal(rate)) * 50), attendance_rate=Decimal(rate),
        attendance_band="on_track", chronic_absence=chronic, severe_absence=False, course_failures=failures,
        core_failure=False, suspensions=0, off_track_count=tier - 1, tier=tier,
        sort_last_name=student.last_name, sort_first_name=student.first_name, **fields,
    ))
    db.session.flush()
    return student


def _settings(db, district_id):
    from casemgr.indicators import current_settings

    return current_settings(district_id).id


@pytest.fixture()
def school(db):
    school = create_school(name="Riverside High")
    db.session.add(SchoolYear(district_id=school.district_id, year=YEAR, starts_on=date(YEAR, 8, 15), ends_on=date(YEAR + 1, 6, 15)))
    db.session.flush()
    return school


def page(client, query="", **headers):
    response = client.get(f"/caseload{query}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_counselor_sees_only_the_students_of_their_school(client, db, school):
    mine = with_indicator(db, create_student(school, last_name="Mineview"), tier=3)
    other = create_student(create_school(school.district), last_name="Otherschool")
    elsewhere = create_student(create_school(), last_name="Otherdistrict")
    login(client, create_user(Role.COUNSELOR, school))
    html = page(client)
    assert "Mineview" in html and "Tier 3" in html
    assert other.last_name not in html and elsewhere.last_name not in html
    assert "1 student." in html
    logged = db.session.scalars(sa.select(DisclosureEntry.student_id)).all()
    assert logged == [mine.id]


def test_filters_search_and_sort(client, db, school):
    a = with_indicator(db, create_student(school, last_name="Alvarez", grade=9), tier=3, rate="0.7000", chronic=True)
    b = with_indicator(db, create_student(school, last_name="Baker", grade=10), tier=2, rate="0.9200", failures=2)
    c = with_indicator(db, create_student(school, last_name="Chen", grade=10, local_id="L-777"), tier=1, rate="0.9900")
    create_student(school, last_name="Doe", grade=11)  # no indicators yet
    login(client, create_user(Role.COUNSELOR, school))
    assert "Alvarez" in page(client, "?tier=3") and "Baker" not in page(client, "?tier=3")
    grade10 = page(client, "?grade=10")
    assert "Baker" in grade10 and "Chen" in grade10 and "Alvarez" not in grade10
    chronic = page(client, "?indicator=chronic")
    assert "Alvarez" in chronic and "Baker" not in chronic
    assert "Baker" in page(client, "?indicator=failures") and "Chen" not in page(client, "?indicator=failures")
    assert "Chen" in page(client, "?q=che") and "Baker" not in page(client, "?q=che")
    assert "Chen" in page(client, "?q=L-777")
    assert "Alvarez" not in page(client, "?q=%25")  # a wildcard is searched as text
    by_attendance = page(client, "?sort=attendance&dir=asc")
    assert by_attendance.index("Alvarez") < by_attendance.index("Baker") < by_attendance.index("Chen")
    by_tier = page(client)  # default: tier, highest first; students without indicators last
    assert by_tier.index("Alvarez") < by_tier.index("Baker") < by_tier.index("Chen") < by_tier.index("Doe")
    assert a and b and c


def test_bad_filters_are_ignored_with_a_message(client, db, school):
    with_indicator(db, create_student(school, last_name="Alvarez"))
    login(client, create_user(Role.COUNSELOR, school))
    html = page(client, "?tier=9&grade=x&indicator=shoe&sort=evil&dir=sideways&page=-3&school=nope")
    assert "Alvarez" in html
    assert "Ignored an unknown tier." in html and "Ignored a grade that is not a number." in html
    assert "Unknown indicator filter" in html


def test_pages_and_htmx_fragments(client, db, school):
    for n in range(55):
        with_indicator(db, create_student(school, last_name=f"Student{n:02d}", first_name="Pat"))
    login(client, create_user(Role.COUNSELOR, school))
    first = page(client, "?sort=name&dir=asc")
    assert "55 students, page 1 of 2." in first and "Student49" in first and "Student50" not in first
    second = page(client, "?sort=name&dir=asc&page=2")
    assert "Student50" in second and "Student49" not in second
    fragment = page(client, "?sort=name&dir=asc&page=2", **{"HX-Request": "true"})
    assert "<html" not in fragment and fragment.strip().startswith('<div id="caseload-results">')
    assert 'hx-push-url="true"' in first


def test_district_admin_sees_every_school_and_filters_by_school(client, db, school):
    admin = create_user(Role.DISTRICT_ADMIN, school.district)
    other_school = create_school(school.district, name="Riverside Middle")
    with_indicator(db, create_student(school, last_name="Highschooler"))
    with_indicator(db, create_student(other_school, last_name="Middleschooler"))
    login(client, admin)
    html = page(client)
    assert "Highschooler" in html and "Middleschooler" in html
    only = page(client, f"?school={other_school.uuid}")
    assert "Middleschooler" in only and "Highschooler" not in only


@pytest.mark.parametrize("role", [Role.TEACHER, Role.YOUTH_WORKER, Role.PARTNER_ADMIN, Role.PARENT, Role.STUDENT, Role.RESEARCHER])
def test_other_roles_have_no_caseload(client, db, role):
    login(client, create_user(role))
    assert client.get("/caseload").status_code == 403


def test_the_query_count_is_fixed_whatever_the_page_size_or_sort(app, client, db, school):
    counselor = create_user(Role.COUNSELOR, school)
    login(client, counselor)
    counts = []

    def count(*args, **kwargs):
        counts[-1] += 1

    for students, query in ((1, ""), (60, "?sort=attendance"), (60, "?sort=name&page=2&tier=1")):
        while db.session.scalar(sa.select(sa.func.count()).select_from(StudentIndicator)) < students:
            student = with_indicator(db, create_student(school))
            db.session.add(Flag(student_id=student.id, need="tutoring", raised_by_id=counselor.id))
            db.session.flush()
        counts.append(0)
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            page(client, query)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(set(counts)) == 1, counts
    assert counts[0] <= 10, counts

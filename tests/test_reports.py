"""Reports: figures about groups of students for district administrators (by school)
and principals (by grade), small groups not shown, read from the reports database
(CASEMGR_REPORTS_DATABASE_URL) when one is configured."""
from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from casemgr.clock import today
from casemgr.extensions import db as _db
from casemgr.models import DisclosureEntry, SchoolYear, Student, StudentIndicator
from casemgr.models.enums import Role
from casemgr.reads import reports
from tests.conftest import RequestIsolatedClient, create_database, drop_database, make_app
from tests.factories import create_district, create_school, create_student, create_user
from tests.helpers import login
from tests.test_caseload import YEAR, with_indicator


def _school_year(district) -> None:
    _db.session.add(SchoolYear(district_id=district.id, year=YEAR, starts_on=date(YEAR, 8, 15),
                               ends_on=date(YEAR + 1, 6, 15)))
    _db.session.flush()


def _students(school, count: int, chronic: int, failing: int, grade: int = 9) -> list[Student]:
    made = []
    for n in range(count):
        student = create_student(school, grade=grade, last_name=f"Reportee{school.id}x{n}")
        with_indicator(_db, student, chronic=n < chronic, failures=1 if n < failing else 0)
        made.append(student)
    return made


def _cells(html: str) -> dict[str, list[str]]:
    """{row header: [its cells' text]} of the report's table."""
    rows = {}
    for header, cells in re.findall(r'<th scope="row">([^<]*)</th>(.*?)</tr>', html, re.S):
        rows[header.strip()] = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
    return rows


def _page(client) -> str:
    response = client.get("/reports")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture()
def district(db):
    district = create_district("Report District")
    _school_year(district)
    return district


def test_a_district_admin_sees_each_school_and_small_schools_are_not_shown(client, db, district):
    north = create_school(district, name="North High")
    south = create_school(district, name="South High")
    tiny = create_school(district, name="Tiny Academy")
    _students(north, 12, chronic=3, failing=5)
    _students(south, 20, chronic=0, failing=20, grade=10)
    _students(tiny, reports.MIN_CELL - 1, chronic=2, failing=1)
    other = create_school(name="Elsewhere High")  # another district: not counted
    _students(other, 15, chronic=15, failing=0)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    html = _page(client)

    assert _cells(html) == {
        "North High": ["12", "3 (25.0%)", "5 (41.7%)"],
        "South High": ["20", "0 (0.0%)", "20 (100.0%)"],
        "Tiny Academy": [f"Not shown: fewer than {reports.MIN_CELL} students"],
    }
    assert "Elsewhere High" not in html and "Reportee" not in html


def test_the_figures_match_an_independent_count(client, db, district):
    school = create_school(district, name="Count High")
    students = _students(school, 30, chronic=7, failing=11)
    for student in students[:4]:  # chronic and failing together
        db.session.execute(sa.update(StudentIndicator).where(StudentIndicator.student_id == student.id)
                           .values(chronic_absence=True, course_failures=2))
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    rows = db.session.execute(sa.select(StudentIndicator.chronic_absence, StudentIndicator.course_failures)
                              .join(Student).where(Student.school_id == school.id)).all()
    chronic = sum(1 for r in rows if r.chronic_absence)
    failing = sum(1 for r in rows if r.course_failures)
    assert _cells(_page(client))["Count High"] == [
        str(len(rows)), f"{chronic} ({100 * chronic / len(rows):.1f}%)", f"{failing} ({100 * failing / len(rows):.1f}%)"]


def test_a_principal_sees_their_school_by_grade_only(client, db, district):
    school = create_school(district, name="Principal High")
    _students(school, 10, chronic=1, failing=0, grade=9)
    _students(school, 11, chronic=11, failing=2, grade=12)
    _students(school, 3, chronic=0, failing=0, grade=11)
    _students(create_school(district, name="Neighbour High"), 40, chronic=40, failing=40, grade=9)
    login(client, create_user(Role.PRINCIPAL, school))
    html = _page(client)
    assert _cells(html) == {
        "Grade 9": ["10", "1 (10.0%)", "0 (0.0%)"],
        "Grade 11": [f"Not shown: fewer than {reports.MIN_CELL} students"],
        "Grade 12": ["11", "11 (100.0%)", "2 (18.2%)"],
    }
    assert "Neighbour High" not in html


def test_reports_name_nobody_and_write_no_disclosure(client, db, district):
    school = create_school(district, name="Quiet High")
    students = _students(school, 12, chronic=2, failing=2)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry))
    html = _page(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry)) == before
    for student in students:
        assert student.last_name not in html and student.state_id not in html and str(student.uuid) not in html


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.TEACHER, Role.YOUTH_WORKER, Role.PARENT, Role.RESEARCHER])
def test_other_roles_are_refused(client, db, role):
    login(client, create_user(role))
    assert client.get("/reports").status_code == 403


def test_before_the_first_school_year_the_page_says_so(client, db):
    login(client, create_user(Role.DISTRICT_ADMIN))
    assert "There is no school year yet" in _page(client)


# --- the reports database ---------------------------------------------------------------


@pytest.fixture()
def primary_and_replica(pg_server_url, smtp_server):
    """A database of its own with committed data, and a copy of it (CREATE DATABASE …
    TEMPLATE), standing for a read replica of the same data."""
    name = f"casemgr_reports_{uuid.uuid4().hex[:8]}"
    primary_url = create_database(pg_server_url, name)
    replica_url = None
    try:
        app = make_app(primary_url, MAIL_URL=smtp_server.url)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            district = create_district("Replica District")
            _school_year(district)
            school = create_school(district, name="Replica High")
            _students(school, 15, chronic=5, failing=2)
            principal = create_user(Role.PRINCIPAL, school)
            _db.session.commit()
            email = principal.email
            _db.session.remove()
            _db.engine.dispose()
        admin = sa.create_engine(pg_server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}_replica" TEMPLATE "{name}"'))
        admin.dispose()
        replica_url = pg_server_url.set(database=f"{name}_replica")
        yield primary_url, replica_url, email
    finally:
        drop_database(pg_server_url, name)
        if replica_url is not None:
            drop_database(pg_server_url, f"{name}_replica")


def _report_of(app, email: str) -> dict:
    app.test_client_class = RequestIsolatedClient
    client = app.test_client()
    with app.app_context():
        from casemgr.models import User

        user = _db.session.scalar(sa.select(User).where(User.email == email))
        assert login(client, user).status_code == 302
        _db.session.remove()
    cells = _cells(_page(client))
    with app.app_context():
        _db.session.remove()
        for engine in _db.engines.values():
            engine.dispose()
    return cells


def test_report_pages_read_the_reports_database_when_it_is_set(primary_and_replica, smtp_server):
    primary_url, replica_url, email = primary_and_replica
    url = replica_url.render_as_string(hide_password=False)
    on_primary = make_app(primary_url, MAIL_URL=smtp_server.url)
    on_replica = make_app(primary_url, MAIL_URL=smtp_server.url, REPORTS_DATABASE_URI=url)
    expected = {"Grade 9": ["15", "5 (33.3%)", "2 (13.3%)"]}
    assert _report_of(on_primary, email) == _report_of(on_replica, email) == expected

    # the replica falls behind: the page shows the replica's figures, not the primary's
    replica = sa.create_engine(replica_url, isolation_level="AUTOCOMMIT")
    with replica.connect() as conn:
        conn.execute(sa.text("UPDATE student_indicators SET chronic_absence = true"))
    replica.dispose()
    assert _report_of(on_replica, email) == {"Grade 9": ["15", "15 (100.0%)", "2 (13.3%)"]}
    assert _report_of(on_primary, email) == expected

    # and nothing can write through the reports connection
    with on_replica.app_context():
        with reports.replica().connect() as conn, pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.execute(sa.text("UPDATE student_indicators SET chronic_absence = false"))
        for engine in _db.engines.values():
            engine.dispose()


def test_the_reports_database_url_is_read_from_the_environment():
    from casemgr.config import Config, ConfigError

    settings = Config.from_environ({"CASEMGR_REPORTS_DATABASE_URL": "postgres://reader@replica.internal/casemgr"})
    assert settings["REPORTS_DATABASE_URI"] == "postgresql+psycopg://reader@replica.internal/casemgr"
    with pytest.raises(ConfigError, match="CASEMGR_REPORTS_DATABASE_URL"):
        Config.from_environ({"CASEMGR_REPORTS_DATABASE_URL": "mysql://reader@replica.internal/casemgr"})

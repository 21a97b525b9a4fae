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

from casemgr.extensions import db as _db
from casemgr.models import DisclosureEntry, SchoolEnrollment, StoredCube, SchoolYear, Student
from casemgr.models.enums import Role
from casemgr.reads import report_cube, report_figures
from tests.conftest import RequestIsolatedClient, create_database, drop_database, make_app
from tests.factories import create_agreement, create_district, create_indicator, create_research_org, create_school, create_student, create_user
from tests.helpers import login, logout
from tests.test_caseload import YEAR, with_indicator


def _school_year(district) -> None:
    _db.session.add(SchoolYear(district_id=district.id, year=YEAR, starts_on=date(YEAR, 8, 15),
                               ends_on=date(YEAR + 1, 6, 15)))
    _db.session.flush()


def _students(school, count: int, chronic: int, failing: int, grade: int = 9) -> list[Student]:
    made = []
    for n in range(count):
        student = create_student(school, grade=grade, last_name=f"Reportee{school.id}x{n}")
        _enrol(student, YEAR, grade)
        with_indicator(_db, student, chronic=n < chronic, failures=1 if n < failing else 0)
        made.append(student)
    return made


def _enrol(student, year: int, grade: int) -> None:
    _db.session.add(SchoolEnrollment(student_id=student.id, school_id=student.school_id, school_year=year,
                                     entry_date=date(year, 8, 20), grade=grade))


def _cells(html: str) -> dict[str, list[str]]:
    """{row header: [its cells' text]} of the report's table."""
    table = html[html.index('<table class="table report__table">'):]
    table = table[:table.index("</table>")]
    rows = {}
    for header, cells in re.findall(r'<th scope="row">([^<]*)</th>(.*?)</tr>', table, re.S):
        rows[header.strip()] = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
    return rows


def _page(client, query: str = "") -> str:
    response = client.get(f"/reports{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture()
def district(db):
    district = create_district("Report District")
    _school_year(district)
    return district


def test_a_district_admin_sees_each_school_and_small_ones_are_not_shown(client, db, district):
    north = create_school(district, name="North High")
    south = create_school(district, name="South High")
    tiny = create_school(district, name="Tiny Academy")
    _students(north, 12, chronic=3, failing=5)
    _students(south, 20, chronic=0, failing=20, grade=10)
    _students(tiny, 9, chronic=2, failing=1)
    other = create_school(name="Elsewhere High")  # another district: not counted
    _students(other, 15, chronic=15, failing=0)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    cells = _cells(_page(client, "?measure=chronic_absence&by=school"))
    # Tiny Academy is hidden; with the total shown, one more school must be hidden too,
    # or the total less the others would give Tiny Academy's figures
    assert cells["Tiny Academy"] == ["*", "*", "*"]
    true = {"North High": ["12", "3", "25.0%"], "South High": ["20", "—", "≤ 5%"], "All students": ["41", "5", "12.2%"]}
    hidden = [name for name in true if cells[name] == ["*", "*", "*"]]
    assert hidden and all(cells[name] == figures for name, figures in true.items() if name not in hidden)
    html = _page(client)
    assert "Elsewhere High" not in html and "Reportee" not in html


def test_a_principal_sees_their_school_by_grade_only(client, db, district):
    school = create_school(district, name="Principal High")
    _students(school, 10, chronic=1, failing=0, grade=9)
    _students(school, 11, chronic=11, failing=2, grade=12)
    _students(school, 3, chronic=0, failing=0, grade=11)
    _students(create_school(district, name="Neighbour High"), 40, chronic=40, failing=40, grade=9)
    login(client, create_user(Role.PRINCIPAL, school))
    html = _page(client)
    cells = _cells(html)
    assert set(cells) == {"Grade 9", "Grade 11", "Grade 12", "All students"} and "Neighbour High" not in html
    assert cells["Grade 11"] == ["*", "*", "*"]
    # 1 of 10 and 11 of 11: coded, numbers hidden
    true = {"Grade 9": ["10", "—", "≤ 10%"], "Grade 12": ["11", "—", "≥ 90%"],
            "All students": ["24", "12", "50.0%"]}
    hidden = [name for name in true if cells[name] == ["*", "*", "*"]]
    assert hidden and all(cells[name] == figures for name, figures in true.items() if name not in hidden)
    # the school breakdown is not theirs to pick
    assert "That breakdown does not exist here" in _page(client, "?by=school")


def test_reports_name_nobody_and_write_no_disclosure(client, db, district):
    school = create_school(district, name="Quiet High")
    students = _students(school, 12, chronic=2, failing=2)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry))
    for role, org in ((Role.DISTRICT_ADMIN, district), (Role.RESEARCHER, _research_org(district))):
        login(client, create_user(role, org))
        for query in ("", "?by=grade", "?by=gender&across=school", "?view=trend&by=low_income"):
            html = _page(client, query)
            for student in students:
                assert student.last_name not in html and student.state_id not in html and str(student.uuid) not in html
                assert student.local_id not in html
        logout(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry)) == before


def _research_org(district):
    """A research partner with a written agreement in force with the district."""
    org = create_research_org()
    create_agreement(org, district, categories=["attendance", "grades"], starts_on=date(YEAR, 8, 1),
                     ends_on=date(YEAR + 5, 7, 31))
    return org


def test_a_researcher_sees_their_partner_districts_aggregates(client, db, district):
    school = create_school(district, name="Study High")
    _students(school, 15, chronic=5, failing=2)
    login(client, create_user(Role.RESEARCHER, _research_org(district)))
    assert _cells(_page(client))["Study High"] == ["15", "5", "33.3%"]
    logout(client)
    login(client, create_user(Role.RESEARCHER, create_research_org()))
    assert "not linked to a district" in _page(client)


@pytest.mark.parametrize("role", [Role.COUNSELOR, Role.TEACHER, Role.YOUTH_WORKER, Role.PARENT])
def test_other_roles_are_refused(client, db, role):
    login(client, create_user(role))
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/export.csv").status_code == 403


def test_before_the_first_school_year_the_page_says_so(client, db):
    login(client, create_user(Role.DISTRICT_ADMIN))
    assert "no school year with figures yet" in _page(client)


@pytest.mark.parametrize("query, message", [
    ("?measure=attendance_of_cats", "That measure does not exist"),
    ("?by=shoe_size", "That breakdown does not exist here"),
    ("?year=soon", "That school year is not a year"),
    ("?year=1999", "There are no figures for that school year"),
])
def test_a_bad_choice_says_so_and_shows_the_default(client, db, district, query, message):
    _students(create_school(district, name="Default High"), 12, chronic=3, failing=0)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    html = _page(client, query)
    assert message in html and _cells(html)["Default High"] == ["12", "3", "25.0%"]


def test_exports_hold_what_the_page_shows_and_are_logged(client, db, district):
    from openpyxl import load_workbook
    import hashlib
    import io

    from casemgr.models import ReportLogEntry

    _students(create_school(district, name="Export High"), 12, chronic=3, failing=0, grade=9)
    _students(create_school(district, name="Small High"), 4, chronic=3, failing=0, grade=10)
    admin = create_user(Role.DISTRICT_ADMIN, district)
    login(client, admin)
    shown = _cells(_page(client, "?by=grade"))
    response = client.get("/reports/export.csv?by=grade")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    lines = [line.split(",") for line in response.get_data(as_text=True).lstrip("\ufeff").splitlines()]
    assert lines[0][0] == "Grade"
    assert {row[0]: row[1:] for row in lines[1:] if len(row) == 4} == shown
    assert "not shown" in lines[-1][0]
    book = load_workbook(io.BytesIO(client.get("/reports/export.xlsx?by=grade").data))
    sheet = [[c.value for c in row] for row in book.active.iter_rows()]
    assert {row[0]: row[1:4] for row in sheet[1:] if row[1] is not None} == shown
    entries = db.session.scalars(sa.select(ReportLogEntry).where(ReportLogEntry.user_id == admin.id)
                                 .order_by(ReportLogEntry.id)).all()
    assert [e.filename.rsplit(".", 1)[1] for e in entries] == ["csv", "xlsx"]
    assert entries[0].file_sha256 == hashlib.sha256(response.data).hexdigest()
    assert entries[0].parameters["by"] == "grade"


def test_the_trend_shows_every_stored_year(client, db, district):
    school = create_school(district, name="Trend High")
    students = _students(school, 12, chronic=3, failing=0)
    _db.session.add(SchoolYear(district_id=district.id, year=YEAR - 1, starts_on=date(YEAR - 1, 8, 15),
                               ends_on=date(YEAR, 6, 15)))
    for n, student in enumerate(students):
        _enrol(student, YEAR - 1, 8)
        create_indicator(student, YEAR - 1, chronic_absence=n < 6)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    cells = _cells(_page(client, "?view=trend&by=school"))
    assert cells["Trend High"] == ["50.0% of 12", "25.0% of 12"]


def test_a_recompute_replaces_the_stored_figures(client, db, district):
    from casemgr.models import StoredCube

    _students(create_school(district, name="Fresh High"), 12, chronic=3, failing=0)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    _page(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredCube)
                             .where(StoredCube.district_id == district.id)) > 0
    from casemgr.indicators import recompute_district

    recompute_district(district.id, date(YEAR, 10, 1))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredCube)
                             .where(StoredCube.district_id == district.id)) == 0


def _stored_measures(district, minimum: int) -> list[str]:
    return sorted(_db.session.scalars(sa.select(StoredCube.measure).where(
        StoredCube.district_id == district.id, StoredCube.school_year == YEAR, StoredCube.month == 0,
        StoredCube.minimum_n == minimum)))


def test_a_recompute_of_today_stores_the_figures_for_their_next_reader(client, db, district):
    from casemgr import indicators

    _students(create_school(district, name="Warm High"), 12, chronic=3, failing=0)
    assert _stored_measures(district, 10) == []
    indicators.recompute(district.id)
    assert _stored_measures(district, 10) == sorted(report_cube.MEASURES)
    # what is stored is what counting afresh gives
    stored = report_figures.year_figures(district.id, YEAR, 10)
    db.session.execute(sa.delete(StoredCube).where(StoredCube.district_id == district.id))
    assert report_figures.year_figures(district.id, YEAR, 10) == stored


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
    expected = {"Grade 9": ["15", "5", "33.3%"], "All students": ["15", "5", "33.3%"]}
    assert _report_of(on_primary, email) == _report_of(on_replica, email) == expected

    # the replica falls behind: the page shows the replica's figures, not the primary's
    replica = sa.create_engine(replica_url, isolation_level="AUTOCOMMIT")
    with replica.connect() as conn:
        conn.execute(sa.text("UPDATE student_indicators SET chronic_absence = true"))
    replica.dispose()
    # figures are stored once counted; the primary recomputes (its stored figures go), the
    # replica has not caught up: the replica's figures are shown but not stored
    with on_primary.app_context():
        _db.session.execute(sa.delete(StoredCube))
        _db.session.execute(sa.update(SchoolYear).values(indicators_computed_at=sa.func.now()))
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    assert _report_of(on_replica, email) == {"Grade 9": ["15", "—", "≥ 90%"], "All students": ["15", "—", "≥ 90%"]}
    assert _report_of(on_primary, email) == expected

    # and nothing can write through the reports connection
    with on_replica.app_context():
        with report_cube.replica().connect() as conn, pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.execute(sa.text("UPDATE student_indicators SET chronic_absence = false"))
        for engine in _db.engines.values():
            engine.dispose()


def test_the_reports_database_url_is_read_from_the_environment():
    from casemgr.config import Config, ConfigError

    settings = Config.from_environ({"CASEMGR_REPORTS_DATABASE_URL": "postgres://reader@replica.internal/casemgr"})
    assert settings["REPORTS_DATABASE_URI"] == "postgresql+psycopg://reader@replica.internal/casemgr"
    with pytest.raises(ConfigError, match="CASEMGR_REPORTS_DATABASE_URL"):
        Config.from_environ({"CASEMGR_REPORTS_DATABASE_URL": "mysql://reader@replica.internal/casemgr"})


def test_the_district_admin_sets_the_minimum_n_and_reports_follow(client, db, district):
    from tests.helpers import csrf_token

    school = create_school(district, name="Setting High")
    _students(school, 12, chronic=3, failing=0)
    admin = create_user(Role.DISTRICT_ADMIN, district)
    login(client, admin)
    assert _cells(_page(client))["Setting High"] == ["12", "3", "25.0%"]
    for bad in ("4", "101", "ten", ""):
        response = client.post("/reports/minimum-n", data={"minimum_n": bad, "csrf_token": csrf_token(client, "/reports")})
        assert response.status_code == 302
        assert district.report_minimum_n == 10
    response = client.post("/reports/minimum-n", data={"minimum_n": "15", "csrf_token": csrf_token(client, "/reports")},
                           follow_redirects=True)
    assert "no figure about fewer than 15 students" in response.get_data(as_text=True)
    _db.session.refresh(district)
    assert district.report_minimum_n == 15
    assert _stored_measures(district, 15) == sorted(report_cube.MEASURES)  # counted for it at once
    assert _cells(_page(client))["Setting High"] == ["*", "*", "*"]
    logout(client)
    login(client, create_user(Role.PRINCIPAL, school))
    token = csrf_token(client, "/reports")
    assert client.post("/reports/minimum-n", data={"minimum_n": "5", "csrf_token": token}).status_code == 403


def test_the_report_log_is_searchable_by_the_district_admin(client, db, district):
    _students(create_school(district, name="Logged High"), 12, chronic=3, failing=0)
    principal = create_user(Role.PRINCIPAL, create_school(district, name="Other High"), full_name="Pat Principal")
    login(client, principal)
    assert client.get("/reports/export.csv?by=grade").status_code == 200
    logout(client)
    elsewhere = create_district("Elsewhere District")
    login(client, create_user(Role.DISTRICT_ADMIN, elsewhere))
    assert "Pat Principal" not in client.get("/reports/log").get_data(as_text=True)
    logout(client)
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    html = client.get("/reports/log?who=pat").get_data(as_text=True)
    assert "Pat Principal" in html and "report-chronic_absence" in html and re.search(r"<code class=\"hash\">[0-9a-f]{64}", html)
    assert "Pat Principal" not in client.get("/reports/log?who=nobody").get_data(as_text=True)
    assert client.get("/reports/log?start=yesterday").status_code == 400


def test_this_school_year_month_by_month(client, db, district):
    from casemgr.indicators import current_settings
    from casemgr.models import IndicatorMonth

    students = _students(create_school(district, name="Month High"), 12, chronic=6, failing=0)
    settings = current_settings(district.id).id
    for end, chronic in ((date(YEAR, 9, 30), 0), (date(YEAR, 10, 31), 3)):
        for n, student in enumerate(students):
            _db.session.add(IndicatorMonth(
                student_id=student.id, school_year=YEAR, month_end=end, settings_id=settings, days_enrolled=20,
                chronic_absence=n < chronic, severe_absence=False, course_failures=0, core_failure=False,
                suspensions=0, tier=1))
    _db.session.flush()
    login(client, create_user(Role.DISTRICT_ADMIN, district))
    html = _page(client, "?view=months&by=school")
    assert "end of September" in html and "end of October" in html
    cells = _cells(html)
    assert cells["Month High"][:2] == ["≤ 10% of 12", "25.0% of 12"] and cells["Month High"][2] in ("50.0% of 12",)
    assert "That view does not exist" in _page(client, "?view=decades")

"""Two districts of one partnership (issue 16, item 3; SPEC §2): each keeps its own record
of a student, linked by state ID, and nothing crosses between them.

The first tests hold one student's two records (a student who moved between districts)
against each path that looks a student up by state ID: the students import, a partner's
roster add, the caseload's and the disclosure log's searches, the caseload assignment.

The walk then signs in, on the seeded partnership, as each key person of each district
(the demo logins of Lakeview; the key staff, partner staff and family of Riverside) and
reads every page they can reach: every page without arguments, the exports, searches for
the other district's students by name and state ID, and every page about one of the
other district's students or their casework by its UUID (refused: 403 or 404). No
response may name the other district's students, or give their state IDs, local IDs or
UUIDs; for a student who moved, nothing of the other district's record (its local ID,
its UUID, its schools, where their earlier stays were) either.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote, quote_plus

import pytest
import sqlalchemy as sa
from flask import url_for
from markupsafe import escape

from casemgr import importers
from casemgr.clock import today
from casemgr.extensions import db as _db
from casemgr.models import RosterEntry, Student, User
from casemgr.models.enums import Category, Role
from casemgr.reads import caseload, disclosure_search
from casemgr.seed.generator import DEMO_LOGINS, DEMO_PASSWORD
from casemgr.services import caseloads, roster
from tests.conftest import RequestIsolatedClient
from tests.factories import (
    TOTP_SECRET,
    create_agreement,
    create_district,
    create_partner,
    create_school,
    create_school_year,
    create_student,
    create_user,
)
from tests.helpers import csrf_token, login
from tests.test_disclosure_walk import LOG_READERS as PAGE_LOG_READERS
from tests.test_disclosure_walk import _text
from tests.test_seed import seeded_database

TODAY = today()
LONG_AGO = TODAY - timedelta(days=200)
LATER = TODAY + timedelta(days=200)
BORN = date(2011, 3, 9)


# --- one student, a record in each district ------------------------------------------------------


@dataclass
class Moved:
    """A student who moved from the hill district to the lake district: a record in each."""

    lake: object
    hill: object
    lake_school: object
    hill_school: object
    before: Student  # the hill district's record
    now: Student  # the lake district's


def moved_student(**hill_fields) -> Moved:
    lake, hill = create_district("Lake District"), create_district("Hill District")
    lake_school, hill_school = create_school(lake, "high", "Lake High"), create_school(hill, "high", "Hill High")
    before = create_student(hill_school, first_name="Rosa", last_name="Mover", local_id="H-77", birth_date=BORN,
                            **hill_fields)
    now = create_student(lake_school, state_id=before.state_id, first_name="Rosa", last_name="Mover", local_id="L-12",
                         birth_date=BORN)
    return Moved(lake, hill, lake_school, hill_school, before, now)


def test_a_district_imports_a_student_who_moved_in_from_another_district(db):
    """The second district's import makes a record of its own with the same state ID (it
    was refused before: "belongs to a student of another district"); the first district's
    record, and its stays, are not touched, and each district's later imports update its
    own record only."""
    lake, hill = create_district("Lake District"), create_district("Hill District")
    lake_school, hill_school = create_school(lake, "high", "Lake High"), create_school(hill, "high", "Hill High")
    year = TODAY.year if TODAY.month >= 8 else TODAY.year - 1
    for district in (lake, hill):
        create_school_year(district, year)
    before = create_student(hill_school, first_name="Rosa", last_name="Mover", local_id="H-77", birth_date=BORN,
                            grade=9)
    raw = ("state_id,local_id,school_code,first_name,last_name,birth_date,grade,entry_date\n"
           f"{before.state_id},L-12,{lake_school.code},Rosa,Mover,{BORN},10,{date(year, 8, 20)}\n").encode()
    outcome = importers.import_file("students", raw, "students.csv", lake)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    records = db.session.scalars(sa.select(Student).where(Student.state_id == before.state_id)
                                 .order_by(Student.id)).all()
    assert [(s.district_id, s.school_id, s.local_id, s.grade) for s in records] == [
        (hill.id, hill_school.id, "H-77", 9), (lake.id, lake_school.id, "L-12", 10)]
    stays = db.session.execute(sa.text("SELECT student_id, school_id FROM school_enrollments WHERE student_id = ANY(:ids)"),
                               {"ids": [s.id for s in records]}).all()
    assert [tuple(stay) for stay in stays] == [(records[1].id, lake_school.id)]
    # the hill district's import of the same state ID updates its own record only
    again = ("state_id,local_id,school_code,first_name,last_name,birth_date,grade\n"
             f"{before.state_id},H-77,{hill_school.code},Rosa,Mover-Ruiz,{BORN},9\n").encode()
    assert importers.import_file("students", again, "students.csv", hill).ok
    db.session.expire_all()
    assert [s.last_name for s in records] == ["Mover-Ruiz", "Mover"]


def test_a_partner_adds_the_record_of_a_district_it_shares_data_with(db):
    """A roster add by state ID and birth date finds the record of a district the partner
    has an agreement in force with, whichever record is newer; with agreements with both,
    the record of the district the student is at now."""
    m = moved_student()
    lake_partner, both_partner = create_partner("Lake Mentors"), create_partner("Valley Tutors")
    create_agreement(lake_partner, m.lake, starts_on=LONG_AGO, ends_on=LATER)
    for district in (m.lake, m.hill):
        create_agreement(both_partner, district, starts_on=LONG_AGO, ends_on=LATER)
    hill_partner = create_partner("Hill Youth")
    create_agreement(hill_partner, m.hill, starts_on=LONG_AGO, ends_on=LATER)
    m.before.left_on = TODAY - timedelta(days=120)  # left the hill district's schools four months ago
    _db.session.flush()

    def add(partner) -> RosterEntry | None:
        admin = create_user(Role.PARTNER_ADMIN, partner)
        return roster.add_by_state_id(partner, m.now.state_id, BORN, None, admin, TODAY)

    assert add(lake_partner).student_id == m.now.id
    assert add(both_partner).student_id == m.now.id  # the hill record has left: the lake one is current
    assert add(hill_partner).student_id == m.before.id  # the only record it may be given
    nobody = create_partner("No Agreement")
    assert add(nobody) is None


def test_a_districts_searches_find_only_its_own_record(db):
    """The caseload's search, the disclosure log's search and the caseload assignment of
    one district, by the moved student's state ID or name, find that district's record."""
    m = moved_student()
    for district, school, record, other in ((m.lake, m.lake_school, m.now, m.before),
                                            (m.hill, m.hill_school, m.before, m.now)):
        admin = create_user(Role.DISTRICT_ADMIN, district)
        for text in (record.state_id, "Rosa Mover"):
            page = caseload.load_caseload(admin, caseload.CaseloadQuery(q=text), TODAY)
            assert [row.student.id for row in page.rows] == [record.id], text
            found = _db.session.scalars(disclosure_search.student_matches(district.id, text)).all()
            assert found == [record.id], text
        counselor = create_user(Role.COUNSELOR, school)
        principal = create_user(Role.PRINCIPAL, school)
        assigned = caseloads.assign_students(principal, school, counselor, record.state_id)
        assert [s.id for s in assigned] == [record.id] and other.id not in {s.id for s in assigned}


# --- the seeded partnership: nobody in one district sees the other's students -------------------


STUDENTS, SEED = 150, 5  # and Riverside's 50


@pytest.fixture(scope="module")
def seeded_app(pg_server_url):
    """The partnership seeded as of today (the app's day), its district admins given a
    second factor (the demo login signs in without one)."""
    with seeded_database(pg_server_url, STUDENTS, SEED, TODAY) as app:
        app.test_client_class = RequestIsolatedClient
        with app.app_context():
            _db.session.execute(sa.update(User).where(User.role == "district_admin", User.demo_login.is_(False))
                                .values(totp_secret=TOTP_SECRET, totp_enabled_at=sa.func.now()))
            _db.session.commit()
        yield app


@dataclass
class District:
    """What the pages of a district may show, and what of it the other district's people
    must never see."""

    code: str
    id: int
    students: list = field(default_factory=list)  # every record: id, uuid, state_id, local_id, names
    moved: set[str] = field(default_factory=set)  # state IDs with a record in the other district too
    schools: set[str] = field(default_factory=set)  # school names
    people: set[str] = field(default_factory=set)  # anyone's name its pages may show
    accounts: set[str] = field(default_factory=set)  # the names of its people with an account
    records: dict[str, list[str]] = field(default_factory=dict)  # the UUIDs of its casework, by kind

    def names(self, student) -> set[str]:
        return {f"{student.first_name} {student.last_name}",
                f"{student.preferred_name or student.first_name} {student.last_name}"}

    def hidden_from(self, viewer: District, log: bool = False) -> set[str]:
        """Everything of this district that no one of `viewer` may see: its students'
        UUIDs and local IDs, their state IDs and names (a student who moved shares them
        with the viewer's own record), and its schools' names (as far as the viewer's own
        people and schools do not bear the same names). The viewer's disclosure `log`
        names whoever tried to see the viewer's students, of whatever district, with
        their organization, and is searched by any organization of the partnership:
        there, the names of this district's people with an account and of its schools are
        no student's record."""
        tokens = set() if log else set(self.schools - viewer.schools)
        for student in self.students:
            tokens |= {str(student.uuid), student.local_id}
            if student.state_id not in self.moved:
                tokens.add(student.state_id)
                for name in self.names(student) - viewer.people - (self.accounts if log else set()):
                    tokens |= {name, str(escape(name))}
        return tokens


def _district(session, code: str) -> District:
    district_id = session.scalar(sa.text("SELECT id FROM organizations WHERE code = :code"), {"code": code})
    d = District(code, district_id)
    params = {"d": district_id}
    d.students = session.execute(sa.text("""
        SELECT s.id, s.uuid, s.state_id, s.local_id, s.first_name, s.preferred_name, s.last_name, s.birth_date,
               s.left_on, s.grade, EXISTS (SELECT 1 FROM students o WHERE o.state_id = s.state_id
                                           AND o.district_id <> s.district_id) AS moved
        FROM students s WHERE s.district_id = :d ORDER BY s.id"""), params).all()
    d.moved = {s.state_id for s in d.students if s.moved}
    d.schools = set(session.scalars(sa.text("SELECT name FROM organizations WHERE district_id = :d"), params))
    d.people = {name for s in d.students for name in d.names(s)} | set(session.scalars(sa.text("""
        SELECT first_name || ' ' || last_name FROM guardians WHERE district_id = :d
        UNION SELECT u.full_name FROM users u JOIN organizations o ON o.id = u.organization_id
        WHERE o.id = :d OR o.district_id = :d
           OR o.id IN (SELECT organization_id FROM data_sharing_agreements WHERE district_id = :d)"""), params))
    d.accounts = set(session.scalars(sa.text("""
        SELECT u.full_name FROM users u JOIN organizations o ON o.id = u.organization_id
        WHERE o.id = :d OR o.district_id = :d"""), params))
    for kind, query in (
        ("referral_id", "SELECT r.uuid FROM referrals r JOIN students s ON s.id = r.student_id WHERE s.district_id = :d"),
        ("flag_id", "SELECT f.uuid FROM flags f JOIN students s ON s.id = f.student_id WHERE s.district_id = :d"),
        ("plan_id", "SELECT p.uuid FROM support_plans p JOIN students s ON s.id = p.student_id WHERE s.district_id = :d"),
        ("note_id", "SELECT n.uuid FROM notes n JOIN students s ON s.id = n.student_id WHERE s.district_id = :d"),
        ("consent_id", "SELECT c.uuid FROM consents c JOIN students s ON s.id = c.student_id WHERE s.district_id = :d"),
        ("request_id",
         "SELECT a.uuid FROM amendment_requests a JOIN students s ON s.id = a.student_id WHERE s.district_id = :d"),
        ("organization_id", "SELECT uuid FROM organizations WHERE district_id = :d"),
    ):
        d.records[kind] = [str(u) for u in session.scalars(sa.text(query + " ORDER BY 1 LIMIT 4"), params)]
    return d


@pytest.fixture(scope="module")
def partnership(seeded_app) -> dict[str, District]:
    with seeded_app.app_context():
        districts = {code: _district(_db.session, code) for code in ("LVUSD", "RCSD")}
        _db.session.remove()
    lakeview, riverside = districts.values()
    assert lakeview.moved == riverside.moved and len(lakeview.moved) >= 3
    return districts


def _sample(district: District) -> list:
    """The students whose pages the other district's people try: the key family and the
    senior (the district's first students), a few others, a past graduate and every
    record of a student who moved."""
    current = [s for s in district.students if s.left_on is None and not s.moved]
    graduates = [s for s in district.students if s.left_on is not None and not s.moved]
    return current[:3] + current[10:40:10] + graduates[:1] + [s for s in district.students if s.moved]


def _search_terms(district: District) -> list[str]:
    sample = [s for s in _sample(district) if not s.moved]
    names = [f"{s.first_name} {s.last_name}" for s in sample[:4]]
    return names + [s.state_id for s in sample[:4]] + [s.local_id for s in sample[:2]] + sorted(district.moved)


LOG_READERS = PAGE_LOG_READERS | {"admin.disclosures_csv"}
STUDENT_ARGUMENTS = {"student_id", "referral_id", "flag_id", "plan_id", "note_id", "consent_id", "request_id"}
SEARCHES = (("caseload.index", "q"), ("caseload.print_view", "q"), ("admin.disclosures", "student"),
            ("admin.disclosures_csv", "student"))


def _walk(app, viewer: District, other: District, who: str):
    """(method, url, data, the statuses allowed or None for any, the text searched for) of
    every request the walk makes."""
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if "GET" in rule.methods and not rule.arguments:
                yield "GET", url_for(rule.endpoint), None, None, None
        for endpoint in ("caseload.export", "reports.export"):
            for fmt in ("csv", "xlsx"):
                yield "GET", url_for(endpoint, fmt=fmt), None, None, None
        for term in _search_terms(other):
            for endpoint, parameter in SEARCHES:
                yield "GET", url_for(endpoint, **{parameter: term}), None, None, term
            yield "GET", url_for("caseload.export", fmt="csv", q=term), None, None, term
        # every page about one of the other district's students or their casework: refused
        fillers = dict(other.records, student_id=[str(s.uuid) for s in _sample(other)], category=list(Category))
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if "GET" not in rule.methods or not rule.arguments & STUDENT_ARGUMENTS or not rule.arguments <= set(fillers):
                continue
            if "category" in rule.arguments:
                choices = [{"student_id": s, "category": c} for s in fillers["student_id"] for c in Category]
            else:
                longest = max(len(fillers[a]) for a in rule.arguments)
                choices = [{a: fillers[a][n % len(fillers[a])] for a in rule.arguments if fillers[a]}
                           for n in range(longest)]
            for values in choices:
                if set(values) == rule.arguments:
                    yield "GET", url_for(rule.endpoint, **values), None, {403, 404}, None
        # the viewer's own record of each student who moved, as far as the viewer may see it
        for student in (s for s in viewer.students if s.moved):
            yield "GET", url_for("students.show", student_id=student.uuid), None, None, None
            yield "GET", url_for("casework.timeline", student_id=student.uuid), None, None, None
            for category in Category:
                yield "GET", url_for("students.section", student_id=student.uuid, category=category), None, None, None
        # a partner's roster add by the other district's students' state IDs and birth dates
        if who == "partner_admin":
            for student in _sample(other):
                data = {"state_id": student.state_id, "birth_date": student.birth_date.isoformat()}
                yield "POST", url_for("roster.index"), data, None, student.state_id


def _accounts() -> list[tuple[str, str]]:
    """(district, role) of each key person: Lakeview's demo logins, Riverside's key accounts."""
    lakeview = [("LVUSD", role) for _, role in DEMO_LOGINS]
    riverside = [("RCSD", role) for role in ("district_admin", "principal", "counselor", "teacher", "partner_admin",
                                             "youth_worker", "parent", "student")]
    return lakeview + riverside


def _signed_in(app, code: str, role: str):
    """A client signed in as the district's key person in `role`: the demo login, or the
    first account of that role at the district, its schools or its lead partner."""
    if code == "LVUSD":
        where = "u.email = :email"
        params = {"email": next(email for email, r in DEMO_LOGINS if r == role)}
    else:
        where = """u.role = :role AND (o.code = 'RCSD' OR o.code LIKE 'RCSD-%' OR o.code = 'RYA')"""
        params = {"role": role}
    user = _db.session.scalar(sa.select(User).from_statement(sa.text(
        f"SELECT u.* FROM users u JOIN organizations o ON o.id = u.organization_id WHERE {where} ORDER BY u.id LIMIT 1"
    ).bindparams(**params)))
    client = app.test_client()
    response = login(client, user, DEMO_PASSWORD)
    assert response.status_code == 302 and "/login" not in response.headers["Location"], (code, role)
    return client, user.id


def _leaks(text: str, tokens: set[str], searched: str | None) -> list[str]:
    """The tokens `text` holds as whole words (a name inside a longer name does not
    count), but for the text searched for, which the page repeats in its form."""
    if searched:
        for form in {searched, str(escape(searched)), quote(searched), quote_plus(searched)}:
            text = text.replace(form, "")
    found = [t for t in tokens if t in text]
    return sorted(t for t in found if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", text))


@pytest.mark.parametrize(("code", "role"), _accounts(), ids=lambda v: v)
def test_nobody_in_one_district_sees_the_other_districts_students(seeded_app, partnership, code, role):
    viewer = partnership[code]
    other = partnership["RCSD" if code == "LVUSD" else "LVUSD"]
    hidden, hidden_in_log = other.hidden_from(viewer), other.hidden_from(viewer, log=True)
    adapter = seeded_app.url_map.bind("localhost")
    with seeded_app.app_context():
        client, user_id = _signed_in(seeded_app, code, role)
        token = csrf_token(client, "/")
        problems, pages = [], 0
        for method, url, data, allowed, searched in _walk(seeded_app, viewer, other, role):
            if method == "POST":
                response = client.post(url, data={**data, "csrf_token": token})
            else:
                response = client.get(url)
            pages += 1
            if allowed is not None and response.status_code not in allowed:
                problems.append(f"{method} {url}: {response.status_code}, not one of {sorted(allowed)}")
            endpoint = adapter.match(url.split("?")[0], method=method)[0]
            leaked = _leaks(_text(response), hidden_in_log if endpoint in LOG_READERS else hidden, searched)
            if leaked:
                problems.append(f"{method} {url}: {response.status_code} shows {leaked[:5]}")
        added = _db.session.scalar(sa.select(sa.func.count()).select_from(RosterEntry).join(Student)
                                   .where(Student.district_id == other.id, RosterEntry.added_by_id == user_id))
        _db.session.remove()
    assert pages > 100
    assert not problems, f"{code} {role}:\n" + "\n".join(problems)
    assert added == 0


def test_the_lead_partner_adds_a_student_who_moved_by_its_districts_record(seeded_app, partnership):
    """Northside Youth, under agreement with Lakeview only, adds a student who moved from
    Riverside by state ID and birth date: Lakeview's record goes on its roster."""
    lakeview = partnership["LVUSD"]
    student = next(s for s in lakeview.students if s.moved)
    with seeded_app.app_context():
        client, _ = _signed_in(seeded_app, "LVUSD", "partner_admin")
        response = client.post(url_for_roster(seeded_app), data={
            "state_id": student.state_id, "birth_date": student.birth_date.isoformat(),
            "csrf_token": csrf_token(client, "/partner/roster")})
        assert response.status_code in (302, 400)  # added, or already on the roster
        partner = _db.session.scalar(sa.select(User.organization_id).where(User.email == "partner@example.org"))
        entries = _db.session.scalars(sa.select(RosterEntry.student_id).join(Student).where(
            RosterEntry.organization_id == partner, Student.state_id == student.state_id)).all()
        _db.session.remove()
    assert entries == [student.id]


def url_for_roster(app) -> str:
    with app.test_request_context():
        return url_for("roster.index")

"""The mock-district generator: what the districts hold (the demo district and the
partnership's second district, and the students who moved between them), how realistic
it is, and that the same seed always gives the same districts.

Most tests read one partnership seeded once into a database of its own; the tests that
seed again use the rolled-back `db` fixture or reset that database.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from casemgr.extensions import db as _db
from casemgr.models.enums import ROLE_ORG_KIND, FafsaState, NoteAudience, ReferralStatus, Role
from casemgr.passwords import verify_password
from casemgr.seed import generator
from tests.conftest import create_database, drop_database, make_app

AS_OF = date(2026, 11, 20)
STUDENTS = 200
SEED = 7
CONSENT_STATES = {"active", "expiring", "expired", "revoked", "none"}

# Natural keys only: ids and UUIDs are not part of what must repeat.
DIGEST_QUERIES = (
    """SELECT s.state_id, s.local_id, s.first_name, s.middle_name, s.last_name, s.preferred_name, s.birth_date,
              s.grade, s.gender, s.ethnicity, s.low_income, s.english_learner, s.disability, o.code
       FROM students s JOIN organizations o ON o.id = s.school_id ORDER BY s.state_id""",
    """SELECT s.state_id, a.status, count(*) FROM attendance_days a JOIN students s ON s.id = a.student_id
       GROUP BY 1, 2 ORDER BY 1, 2""",
    """SELECT s.state_id, x.local_id, m.term, m.mark FROM course_marks m JOIN students s ON s.id = m.student_id
       JOIN sections x ON x.id = m.section_id ORDER BY 1, 2, 3""",
    """SELECT s.state_id, o.code, c.categories, c.signer_name, c.signed_on, c.expires_on, c.method
       FROM consents c JOIN students s ON s.id = c.student_id JOIN organizations o ON o.id = c.organization_id
       ORDER BY 1, 2, 5""",
    """SELECT s.state_id, u.email, n.audience, n.topic, n.body, n.created_at FROM notes n
       JOIN students s ON s.id = n.student_id JOIN users u ON u.id = n.author_id ORDER BY 6, 1, 5""",
    "SELECT u.email, u.role, u.full_name, o.code FROM users u JOIN organizations o ON o.id = u.organization_id ORDER BY 1",
    "SELECT local_id, first_name, last_name, preferred_language, email FROM guardians ORDER BY 1",
)


def district_digest(session) -> str:
    digest = hashlib.sha256()
    for query in DIGEST_QUERIES:
        for row in session.execute(sa.text(query)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@contextmanager
def seeded_database(pg_server_url, students: int, seed: int, as_of: date) -> Iterator:
    """An app on a database of its own, seeded once (for a module's tests)."""
    name = f"casemgr_seed_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server_url, name)
    app = make_app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        app.config["SEED_SUMMARY"] = generator.generate(students, seed, as_of)
        app.config["SEED_DIGEST"] = district_digest(_db.session)
        _db.session.remove()
    yield app
    with app.app_context():
        _db.engine.dispose()
    drop_database(pg_server_url, name)


@pytest.fixture(scope="module")
def seeded_app(pg_server_url):
    with seeded_database(pg_server_url, STUDENTS, SEED, AS_OF) as app:
        yield app


@pytest.fixture()
def session(seeded_app):
    with seeded_app.app_context():
        yield _db.session
        _db.session.rollback()


def rows(session, query: str, **params) -> list[sa.Row]:
    return session.execute(sa.text(query), params).all()


def scalar(session, query: str, **params):
    return session.execute(sa.text(query), params).scalar_one()


def demo_user(session, email: str) -> sa.Row:
    return rows(session, "SELECT * FROM users WHERE email = :email", email=email)[0]


# --- what the district holds ------------------------------------------------------------


def test_summary_matches_the_database(seeded_app, session):
    summary = seeded_app.config["SEED_SUMMARY"]
    lakeview, riverside = summary.districts
    assert (lakeview.code, lakeview.students, riverside.code, riverside.students) == (
        "LVUSD", STUDENTS, "RCSD", generator.second_district_size(STUDENTS))
    # the summary counts this school year's students and days (the leavers have left)
    assert summary.students == scalar(session, "SELECT count(*) FROM students WHERE left_on IS NULL")
    assert summary.attendance_days == scalar(session, """
        SELECT count(*) FROM attendance_days WHERE day >= (SELECT max(starts_on) FROM school_years)""") > 0
    described = summary.describe()
    assert described.startswith("Lakeview Unified School District (LVUSD): 200 students, ")
    assert "; Riverside County School District (RCSD): 50 students, " in described
    assert "attendance days" in described
    assert described.endswith(f"; {summary.movers} students moved from RCSD to LVUSD over the summer")
    # the leavers: past graduates, and the second district's records of the students who moved
    assert summary.past_graduates + summary.movers == scalar(
        session, "SELECT count(*) FROM students WHERE left_on IS NOT NULL")
    assert summary.past_graduates > 0 and summary.movers >= 3


def test_schools_of_every_level_and_partners_with_both_agreements(session):
    levels = dict(rows(session, "SELECT level, count(*) FROM organizations WHERE kind = 'school' GROUP BY level"))
    assert set(levels) == {"elementary", "middle", "high"}
    assert scalar(session, "SELECT count(*) FROM organizations WHERE kind = 'research'") == 1
    partners = rows(session, """
        SELECT o.name,
               (SELECT count(*) FROM data_sharing_agreements d WHERE d.organization_id = o.id),
               (SELECT count(*) FROM service_agreements a JOIN service_agreement_schools x ON x.agreement_id = a.id
                WHERE a.organization_id = o.id)
        FROM organizations o WHERE o.kind = 'partner'""")
    assert len(partners) >= 4
    assert all(agreements >= 1 and service_schools >= 1 for _, agreements, service_schools in partners)


def test_one_agreement_has_ended_and_northside_is_active(session):
    ended = scalar(session, "SELECT count(*) FROM data_sharing_agreements WHERE ended_on <= :day", day=AS_OF)
    assert ended == 1
    assert scalar(session, """
        SELECT count(*) FROM data_sharing_agreements d JOIN organizations o ON o.id = d.organization_id
        WHERE o.name = 'Northside Youth' AND d.starts_on <= :day AND :day <= d.ends_on AND d.ended_on IS NULL""",
        day=AS_OF) == 1


def test_every_agreement_gives_its_purpose_in_spanish(session):
    """Families who read Spanish read each agreement's purpose in Spanish (issue 14)."""
    missing = scalar(session, "SELECT count(*) FROM data_sharing_agreements WHERE NOT purpose_translations ? 'es'")
    assert missing == 0
    northside = scalar(session, """SELECT a.purpose_translations ->> 'es' FROM data_sharing_agreements a
                                   JOIN organizations o ON o.id = a.organization_id WHERE o.code = 'NSY'""")
    assert northside.startswith("Mentoría después de clases")


def test_consents_stay_within_the_partners_agreement(session):
    assert scalar(session, """
        SELECT count(*) FROM consents c WHERE NOT EXISTS (
            SELECT 1 FROM data_sharing_agreements d
            WHERE d.organization_id = c.organization_id AND c.categories <@ d.categories)""") == 0


def test_every_role_has_users(session):
    roles = {role for (role,) in rows(session, "SELECT DISTINCT role FROM users")}
    assert roles == {role.value for role in Role}


def test_demo_logins_have_their_roles_organizations_and_password(session):
    hashes = set()
    for email, role in generator.DEMO_LOGINS:
        user = demo_user(session, email)
        kind = scalar(session, "SELECT kind FROM organizations WHERE id = :id", id=user.organization_id)
        assert (user.role, kind) == (role, ROLE_ORG_KIND[Role(role)].value), email
        assert verify_password(user.password_hash, generator.DEMO_PASSWORD), email
        hashes.add(user.password_hash)
    assert len(hashes) == 1, "the demo password is hashed once"
    assert [role for _, role in generator.DEMO_LOGINS] == [r.value for r in Role]


def test_only_the_demo_logins_keep_one_step_sign_in(session):
    flagged = {email for (email,) in rows(session, "SELECT email FROM users WHERE demo_login")}
    assert flagged == {email for email, _ in generator.DEMO_LOGINS}


def test_demo_school_staff_work_at_the_high_school(session):
    schools = {
        scalar(session, "SELECT o.level || ':' || o.id FROM users u JOIN organizations o ON o.id = u.organization_id "
                        "WHERE u.email = :email", email=email)
        for email in ("principal@example.org", "counselor@example.org", "teacher@example.org")
    }
    assert len(schools) == 1 and schools.pop().startswith("high:")
    taught = scalar(session, """
        SELECT count(DISTINCT e.student_id) FROM sections x JOIN section_enrollments e ON e.section_id = x.id
        JOIN users u ON u.id = x.teacher_id WHERE u.email = 'teacher@example.org'""")
    assert taught > 0


def test_worker_is_compliant_and_some_partner_staff_are_not(session):
    worker = demo_user(session, "worker@example.org")
    year_ago = AS_OF - timedelta(days=365)
    assert year_ago <= worker.confidentiality_signed_on <= AS_OF
    assert year_ago <= worker.ferpa_trained_on <= AS_OF
    assert scalar(session, "SELECT o.name FROM organizations o WHERE o.id = :id", id=worker.organization_id) == (
        "Northside Youth"
    )
    lapsed = scalar(session, """
        SELECT count(*) FROM users WHERE role IN ('youth_worker', 'partner_admin')
        AND (confidentiality_signed_on IS NULL OR ferpa_trained_on IS NULL OR ferpa_trained_on < :year_ago)""",
        year_ago=year_ago)
    assert 1 <= lapsed <= 3


# --- the partnership's second district and the students who moved between them ----------------


def district_ids(session) -> dict[str, int]:
    return dict(rows(session, "SELECT code, id FROM organizations WHERE kind = 'district'"))


def test_a_second_smaller_district_with_schools_staff_and_partners_of_its_own(session):
    districts = district_ids(session)
    assert set(districts) == {"LVUSD", "RCSD"}
    riverside = districts["RCSD"]
    levels = {level for (level,) in rows(session, "SELECT level FROM organizations WHERE district_id = :d", d=riverside)}
    assert levels == {"elementary", "middle", "high"}
    # its own staff in every school role and a district admin, at its own domain, none a demo login
    staff = rows(session, """
        SELECT u.role, u.email, u.demo_login FROM users u JOIN organizations o ON o.id = u.organization_id
        WHERE o.id = :d OR o.district_id = :d""", d=riverside)
    assert {role for role, _, _ in staff} >= {"district_admin", "principal", "counselor", "teacher", "parent", "student"}
    assert all(email.endswith("@rcsd.example.org") and not demo for _, email, demo in staff)
    # its own partners, each with a data-sharing and a service agreement with it only (one
    # also with last year's), with staff at their own domains; and the partnership's
    # research organization under an agreement of its own
    partners = rows(session, """
        SELECT o.code, array_agg(DISTINCT a.district_id), count(DISTINCT a.id),
               (SELECT count(*) FROM service_agreements s JOIN service_agreement_schools x ON x.agreement_id = s.id
                WHERE s.organization_id = o.id AND s.district_id = :d),
               (SELECT count(*) FROM users u WHERE u.organization_id = o.id AND u.email LIKE '%%@' || lower(o.code) || '.example.org')
        FROM organizations o JOIN data_sharing_agreements a ON a.organization_id = o.id
        WHERE o.kind = 'partner' AND o.id IN (SELECT organization_id FROM data_sharing_agreements WHERE district_id = :d)
        GROUP BY o.id, o.code""".replace("%%", "%"), d=riverside)
    assert {code for code, *_ in partners} == {"RYA", "VCP", "RFN"}
    assert all(sharing == [riverside] and services >= 1 and people >= 2 for _, sharing, _, services, people in partners)
    assert sorted(agreements for _, _, agreements, _, _ in partners) == [1, 1, 2]
    assert scalar(session, """
        SELECT count(*) FROM data_sharing_agreements a JOIN organizations o ON o.id = a.organization_id
        WHERE o.code = 'MERC' AND a.district_id = :d""", d=riverside) == 1
    assert scalar(session, "SELECT count(*) FROM research_projects WHERE district_id = :d", d=riverside) == 0
    # a fifth of the students, rosters and consents with its partners, casework, thresholds,
    # its earlier years and every year's indicators
    assert scalar(session, "SELECT count(*) FROM students WHERE district_id = :d AND left_on IS NULL",
                  d=riverside) == generator.second_district_size(STUDENTS)
    assert scalar(session, """
        SELECT count(*) FROM consents c JOIN students s ON s.id = c.student_id
        JOIN data_sharing_agreements a ON a.organization_id = c.organization_id AND a.district_id = s.district_id
        WHERE s.district_id = :d""", d=riverside) > 0
    for table in ("notes", "flags", "referrals", "roster_entries"):
        assert scalar(session, f"SELECT count(*) FROM {table} t JOIN students s ON s.id = t.student_id "
                               "WHERE s.district_id = :d", d=riverside) > 0, table
    assert scalar(session, "SELECT count(*) FROM threshold_settings WHERE district_id = :d", d=riverside) == 1
    years = [year for (year,) in rows(session, "SELECT year FROM school_years WHERE district_id = :d ORDER BY year",
                                      d=riverside)]
    assert years == [AS_OF.year - 3, AS_OF.year - 2, AS_OF.year - 1, AS_OF.year]
    assert {year for (year,) in rows(session, """
        SELECT DISTINCT i.school_year FROM student_indicators i JOIN students s ON s.id = i.student_id
        WHERE s.district_id = :d""", d=riverside)} == set(years)


def test_nothing_of_a_district_points_into_the_other(session):
    """Every row about a student lies in the student's district: their schools, stays,
    sections, guardians, the consents' and rosters' partners' agreements, the staff who
    wrote about them."""
    assert scalar(session, """
        SELECT count(*) FROM school_enrollments e JOIN students s ON s.id = e.student_id
        JOIN organizations o ON o.id = e.school_id WHERE o.district_id <> s.district_id""") == 0
    assert scalar(session, """
        SELECT count(*) FROM section_enrollments e JOIN students s ON s.id = e.student_id
        JOIN sections x ON x.id = e.section_id JOIN organizations o ON o.id = x.school_id
        WHERE o.district_id <> s.district_id""") == 0
    assert scalar(session, """
        SELECT count(*) FROM guardian_links l JOIN students s ON s.id = l.student_id
        JOIN guardians g ON g.id = l.guardian_id WHERE g.district_id <> s.district_id""") == 0
    assert scalar(session, """
        SELECT count(*) FROM roster_entries r JOIN students s ON s.id = r.student_id WHERE NOT EXISTS (
            SELECT 1 FROM data_sharing_agreements a
            WHERE a.organization_id = r.organization_id AND a.district_id = s.district_id)""") == 0
    assert scalar(session, """
        SELECT count(*) FROM notes n JOIN students s ON s.id = n.student_id JOIN users u ON u.id = n.author_id
        JOIN organizations o ON o.id = u.organization_id
        WHERE coalesce(o.district_id, o.id) <> s.district_id AND o.kind IN ('district', 'school')""") == 0


def test_state_ids_are_shared_only_by_the_students_who_moved(seeded_app, session):
    shared = rows(session, """
        SELECT state_id, array_agg(o.code ORDER BY o.code) FROM students s JOIN organizations o ON o.id = s.district_id
        GROUP BY state_id HAVING count(*) > 1""")
    assert len(shared) == seeded_app.config["SEED_SUMMARY"].movers >= 3
    assert all(codes == ["LVUSD", "RCSD"] for _, codes in shared)
    # no two records anywhere share a local ID, so that a page's local ID names one record
    assert scalar(session, "SELECT count(*) - count(DISTINCT local_id) FROM students") == 0


def test_each_mover_has_a_record_in_each_district_with_the_stays_of_their_years_there(session):
    """A student who moved from Riverside to Lakeview over the summer: Lakeview's record
    has this year's stay only; Riverside's, the same person a grade lower last year, has
    the earlier years' stays (each year they were in kindergarten or above) with their
    attendance, and the day they left, the last day of last school year."""
    movers = rows(session, """
        SELECT a.id AS here, b.id AS there, a.grade, b.grade AS grade_there, b.left_on, a.left_on AS still,
               (a.first_name, a.middle_name, a.last_name, a.preferred_name, a.birth_date, a.gender, a.ethnicity,
                a.low_income, a.english_learner, a.disability, a.home_language)
               IS NOT DISTINCT FROM (b.first_name, b.middle_name, b.last_name, b.preferred_name, b.birth_date, b.gender, b.ethnicity,
                  b.low_income, b.english_learner, b.disability, b.home_language) AS same_person,
               a.local_id <> b.local_id AS own_local_ids
        FROM students a JOIN students b ON b.state_id = a.state_id
        WHERE a.district_id = (SELECT id FROM organizations WHERE code = 'LVUSD')
          AND b.district_id = (SELECT id FROM organizations WHERE code = 'RCSD')""")
    assert len(movers) >= 3
    last_year_ends = scalar(session, "SELECT ends_on FROM school_years WHERE year = :year LIMIT 1",
                            year=AS_OF.year - 1)

    def stays(student_id):
        return dict(rows(session, "SELECT school_year, grade FROM school_enrollments WHERE student_id = :id",
                         id=student_id))

    for mover in movers:
        assert mover.same_person and mover.own_local_ids and mover.still is None
        assert (mover.grade_there, mover.left_on) == (mover.grade - 1, last_year_ends)
        assert stays(mover.here) == {AS_OF.year: mover.grade}
        assert stays(mover.there) == {AS_OF.year - back: mover.grade - back for back in (1, 2, 3)
                                      if mover.grade - back >= 0}
        attended = {year for (year,) in rows(session, """
            SELECT y.year FROM attendance_years a JOIN school_years y ON y.id = a.school_year_id
            WHERE a.student_id = :id""", id=mover.there)}
        assert attended == set(stays(mover.there))
        assert scalar(session, "SELECT count(*) FROM guardian_links WHERE student_id = :id", id=mover.here) >= 1


# --- realistic distributions ----------------------------------------------------------------


ABSENCE_RATES = """
    SELECT student_id, count(*) AS enrolled,
           count(*) FILTER (WHERE status IN ('excused', 'unexcused', 'suspended')) AS absent
    FROM attendance_days WHERE day >= (SELECT max(starts_on) FROM school_years) GROUP BY student_id
"""


def test_chronic_absence_share_is_realistic(session):
    chronic, severe, counted = rows(session, f"""
        SELECT count(*) FILTER (WHERE absent >= 0.1 * enrolled), count(*) FILTER (WHERE absent >= 0.2 * enrolled),
               count(*)
        FROM ({ABSENCE_RATES}) r WHERE enrolled >= 10""")[0]
    assert 0.08 <= chronic / counted <= 0.25
    assert 0 < severe / counted <= 0.08


def test_attendance_covers_every_instructional_day_of_each_enrollment(session):
    # each school year's: an earlier year's stays at school end on its last day
    assert scalar(session, """
        SELECT count(*) FROM school_enrollments e JOIN school_years y ON y.year = e.school_year
        WHERE (SELECT count(*) FROM calendar_days c
               WHERE c.school_id = e.school_id AND c.instructional AND c.day BETWEEN e.entry_date
                 AND least(coalesce(e.exit_date, :day), :day))
           <> (SELECT count(*) FROM attendance_days a WHERE a.student_id = e.student_id
                 AND a.day BETWEEN y.starts_on AND y.ends_on)""", day=AS_OF) == 0
    assert scalar(session, "SELECT max(day) FROM attendance_days") <= AS_OF
    assert scalar(session, """
        SELECT count(*) FROM attendance_days a
        LEFT JOIN school_enrollments e ON e.student_id = a.student_id AND a.day >= e.entry_date
         AND (e.exit_date IS NULL OR a.day <= e.exit_date)
        LEFT JOIN calendar_days c ON c.school_id = e.school_id AND c.day = a.day AND c.instructional
        WHERE c.day IS NULL""") == 0


def test_school_year_and_calendar(session):
    starts_on, ends_on, year = rows(session, "SELECT starts_on, ends_on, year FROM school_years ORDER BY year DESC")[0]
    assert (year, starts_on.month, ends_on.month, ends_on.year) == (2026, 8, 6, 2027)
    assert 14 <= starts_on.day <= 31 and 8 <= ends_on.day <= 20
    assert scalar(session, "SELECT count(*) FROM calendar_days WHERE NOT instructional") > 0
    assert scalar(session, "SELECT count(*) FROM calendar_days WHERE extract(isodow FROM day) > 5") == 0


def test_course_failures_for_some_secondary_students(session):
    failing, marked = rows(session, """
        SELECT count(DISTINCT student_id) FILTER (WHERE failing), count(DISTINCT student_id) FROM course_marks
        WHERE school_year = 2026""")[0]
    assert 0.05 <= failing / marked <= 0.18
    assert {term for (term,) in rows(session, "SELECT DISTINCT term FROM course_marks WHERE school_year = 2026")} == {
        "Q1"}
    assert {subject for (subject,) in rows(session, """
        SELECT DISTINCT x.subject FROM sections x JOIN organizations o ON o.id = x.school_id
        WHERE o.level = 'high'""")} == {"english", "math", "science", "social_studies", "other"}


def test_fafsa_for_every_senior_in_every_state(session):
    seniors = scalar(session, "SELECT count(*) FROM students WHERE grade = 12 AND left_on IS NULL")
    assert seniors == scalar(session, "SELECT count(*) FROM fafsa_records f JOIN students s ON s.id = f.student_id "
                                      "WHERE s.grade = 12 AND f.school_year = 2026")
    states = {state for (state,) in rows(session, "SELECT DISTINCT status FROM fafsa_records")}
    assert states == {state.value for state in FafsaState}


def test_suspensions_match_suspended_days(session):
    suspended, secondary = rows(session, """
        SELECT count(DISTINCT d.student_id), (SELECT count(*) FROM students WHERE grade >= 6 AND left_on IS NULL)
        FROM discipline_incidents d WHERE d.action = 'out_of_school_suspension' AND d.school_year = 2026""")[0]
    assert 0 < suspended / secondary <= 0.08
    assert scalar(session, """
        SELECT count(DISTINCT a.student_id) FROM attendance_days a WHERE a.status = 'suspended' AND NOT EXISTS (
            SELECT 1 FROM discipline_incidents d
            WHERE d.student_id = a.student_id AND d.action = 'out_of_school_suspension')""") == 0


def test_credit_records_mostly_on_track(session):
    standing = rows(session, """
        SELECT s.grade, count(c.*), sum(c.credits_earned) FROM students s JOIN credit_records c ON c.student_id = s.id
        WHERE s.left_on IS NULL GROUP BY s.id, s.grade""")
    assert {grade for grade, _, _ in standing} == {10, 11, 12}
    assert all(years == grade - 9 for grade, years, _ in standing)
    on_track = sum(earned >= 5 * years for _, years, earned in standing)
    assert 0.7 <= on_track / len(standing) < 1


def test_assessments_from_last_spring_for_tested_grades(session):
    tested = rows(session, """
        SELECT DISTINCT s.grade, a.test_code, a.school_year FROM assessments a JOIN students s ON s.id = a.student_id
        WHERE s.left_on IS NULL AND a.school_year = (SELECT max(school_year) FROM assessments)""")
    assert {grade for grade, _, _ in tested} == {4, 5, 6, 7, 8, 9, 12}
    assert {(code, year) for _, code, year in tested} == {("STATE-ELA", 2025), ("STATE-MATH", 2025)}
    levels = {level for (level,) in rows(session, "SELECT DISTINCT performance_level FROM assessments")}
    assert levels == {1, 2, 3, 4}


def test_guardians_and_languages(session):
    per_student = rows(session, """
        SELECT count(*) FILTER (WHERE educational_rights), count(*) FROM guardian_links GROUP BY student_id""")
    current = scalar(session, "SELECT count(*) FROM students WHERE left_on IS NULL")  # both districts'
    assert len(per_student) == current
    assert all(with_rights >= 1 for with_rights, _ in per_student)
    assert sum(1 <= total <= 2 for _, total in per_student) / current >= 0.9
    assert scalar(session, "SELECT count(*) FROM guardian_links WHERE NOT educational_rights") > 0
    spanish = scalar(session, "SELECT avg((preferred_language = 'es')::int) FROM guardians")
    assert 0.15 <= spanish <= 0.45


# --- rosters, consents and the demo family ------------------------------------------------------


def consent_states(session, organization: str, as_of: date = AS_OF) -> dict[int, str]:
    """Each roster student's consent state for `organization` on `as_of`, from the rows."""
    consents = rows(session, """
        SELECT r.student_id, c.expires_on, c.signed_on, v.consent_id IS NOT NULL AS revoked
        FROM roster_entries r JOIN organizations o ON o.id = r.organization_id
        LEFT JOIN consents c ON c.student_id = r.student_id AND c.organization_id = r.organization_id
        LEFT JOIN consent_revocations v ON v.consent_id = c.id
        WHERE o.name = :name AND r.removed_on IS NULL""", name=organization)
    rank = ["none", "expired", "revoked", "expiring", "active"]
    states: dict[int, str] = {}
    for student_id, expires_on, signed_on, revoked in consents:
        if expires_on is None:
            state = "none"
        elif revoked:
            state = "revoked"
        elif expires_on < as_of:
            state = "expired"
        else:
            assert signed_on <= as_of
            state = "expiring" if expires_on <= as_of + timedelta(days=30) else "active"
        states[student_id] = max(states.get(student_id, "none"), state, key=rank.index)
    return states


def test_worker_roster_holds_every_consent_state(session):
    assert set(consent_states(session, "Northside Youth").values()) == CONSENT_STATES


def test_consents_are_signed_by_someone_entitled(session):
    signers = rows(session, """
        SELECT c.signer_relationship, l.educational_rights, c.signed_on, s.birth_date
        FROM consents c JOIN students s ON s.id = c.student_id
        LEFT JOIN guardian_links l ON l.guardian_id = c.signer_guardian_id AND l.student_id = c.student_id""")
    assert signers
    for relationship, rights, signed_on, born in signers:
        if relationship == "eligible_student":
            assert signed_on >= date(born.year + 18, born.month, min(born.day, 28))
        else:
            assert relationship in ("parent", "guardian") and rights is True


def level_of_younger(children) -> str:
    return next(level for _, level in children if level != "high")


def test_parent_has_two_children_with_rights_at_different_levels(session):
    parent = demo_user(session, "parent@example.org")
    children = rows(session, """
        SELECT s.id, o.level FROM guardians g JOIN guardian_links l ON l.guardian_id = g.id
        JOIN students s ON s.id = l.student_id JOIN organizations o ON o.id = s.school_id
        WHERE g.user_id = :user AND l.educational_rights""", user=parent.id)
    levels = {level for _, level in children}
    assert len(children) >= 2 and "high" in levels and levels & {"middle", "elementary"}
    states = consent_states(session, "Northside Youth")
    assert all(child in states for child, _ in children)
    # the high-school child's consent ends within 30 days (the home's reminder); the
    # younger child has none, and a referral of theirs waits for the family's consent
    assert {level: states[child] for child, level in children} == {"high": "expiring", level_of_younger(children): "none"}
    waiting = rows(session, "SELECT student_id FROM referrals WHERE status = 'awaiting_consent'")
    assert any(child in {s for (s,) in waiting} for child, level in children if level != "high")


def test_demo_student_is_an_eligible_senior_with_fafsa(session):
    student_user = demo_user(session, "student@example.org")
    grade, born, level, fafsa = rows(session, """
        SELECT s.grade, s.birth_date, o.level, f.status FROM students s JOIN organizations o ON o.id = s.school_id
        JOIN fafsa_records f ON f.student_id = s.id WHERE s.id = :id""", id=student_user.student_id)[0]
    assert (grade, level) == (12, "high") and fafsa
    assert AS_OF >= date(born.year + 18, born.month, min(born.day, 28))
    assert student_user.student_id in consent_states(session, "Northside Youth")


def test_notes_flags_and_referrals(session):
    audiences = {a for (a,) in rows(session, "SELECT DISTINCT audience FROM notes")}
    assert audiences == {a.value for a in NoteAudience}
    authors = {r for (r,) in rows(session, "SELECT DISTINCT u.role FROM notes n JOIN users u ON u.id = n.author_id")}
    assert authors == {"counselor", "youth_worker"}
    assert scalar(session, "SELECT count(*) FROM notes WHERE amends_id IS NOT NULL") >= 1
    statuses = {s for (s,) in rows(session, "SELECT DISTINCT status FROM referrals")}
    assert statuses == {s.value for s in ReferralStatus}
    assert scalar(session, """
        SELECT count(*) FROM referrals r WHERE r.status <> (
            SELECT e.status FROM referral_events e WHERE e.referral_id = r.id ORDER BY e.created_at DESC, e.id DESC
            LIMIT 1)""") == 0
    assert scalar(session, "SELECT count(*) FROM flags") > 0
    assert scalar(session, "SELECT count(*) FROM threshold_settings WHERE version = 1") == scalar(
        session, "SELECT count(*) FROM organizations WHERE kind = 'district'") == 2


# --- determinism and refusals ------------------------------------------------------------------


def test_refuses_sizes_out_of_range():
    for size in (49, 100_001):
        with pytest.raises(generator.SeedError):
            generator.generate(size, SEED, AS_OF)


def test_refuses_a_database_that_holds_data(session):
    assert not generator.database_is_empty()
    with pytest.raises(generator.SeedError):
        generator.generate(STUDENTS, SEED, AS_OF)


def test_a_different_seed_gives_a_different_district(seeded_app, db):
    generator.generate(STUDENTS, SEED + 1, AS_OF)
    assert district_digest(db.session) != seeded_app.config["SEED_DIGEST"]


def test_seeds_before_the_school_year_starts(db):
    summary = generator.generate(50, SEED, date(2026, 8, 10))
    assert [d.students for d in summary.districts] == [50, 50] and summary.attendance_days == 0
    assert scalar(db.session, "SELECT count(*) FROM users WHERE email LIKE '%@example.org'") == 9


def test_seeds_at_the_end_of_the_year(db):
    as_of = date(2027, 6, 1)
    generator.generate(50, SEED, as_of)
    terms = {term for (term,) in rows(db.session, "SELECT DISTINCT term FROM course_marks WHERE school_year = 2026")}
    assert terms == {"Q1", "Q2", "S1", "Q3"}
    assert set(consent_states(db.session, "Northside Youth", as_of).values()) == CONSENT_STATES


def test_the_same_seed_gives_the_same_district_after_reset(seeded_app):
    with seeded_app.app_context():
        generator.reset_database()
        assert generator.database_is_empty()
        generator.generate(STUDENTS, SEED, AS_OF)
        assert district_digest(_db.session) == seeded_app.config["SEED_DIGEST"]


def test_demo_student_has_a_consent_a_parent_signed_before_they_turned_18(session):
    """What the senior's home asks them to confirm or revoke."""
    student_user = demo_user(session, "student@example.org")
    signed = rows(session, """
        SELECT c.signer_relationship, c.signed_on, s.birth_date FROM consents c JOIN students s ON s.id = c.student_id
        LEFT JOIN consent_revocations v ON v.consent_id = c.id
        WHERE c.student_id = :id AND v.consent_id IS NULL AND c.signed_on <= :day AND c.expires_on >= :day""",
                  id=student_user.student_id, day=AS_OF)
    assert signed
    for relationship, signed_on, born in signed:
        assert relationship in ("parent", "guardian")
        assert signed_on < date(born.year + 18, born.month, min(born.day, 28))


def test_tier_history_holds_the_earlier_recomputes_and_real_changes(session):
    first, last = rows(session, "SELECT min(since), max(since) FROM tier_history WHERE school_year = 2026")[0]
    assert (first, last) == (AS_OF - timedelta(weeks=8), AS_OF)
    # every stored tier is the history's newest row of its school year
    assert scalar(session, """
        SELECT count(*) FROM student_indicators si
        WHERE si.tier IS DISTINCT FROM (SELECT h.tier FROM tier_history h WHERE h.student_id = si.student_id
                                        AND h.school_year = si.school_year ORDER BY h.since DESC LIMIT 1)""") == 0
    # some students rose a tier in the last four weeks: the homes have work to show
    rose = scalar(session, """
        WITH change AS (
            SELECT si.tier AS tier_now, (SELECT h.tier FROM tier_history h WHERE h.student_id = si.student_id
                                    AND h.since <= :day ORDER BY h.since DESC LIMIT 1) AS tier_then
            FROM student_indicators si WHERE si.school_year = 2026)
        SELECT count(*) FROM change WHERE tier_now > tier_then""", day=AS_OF - timedelta(weeks=4))
    assert rose > 0


def test_the_seeded_studys_extract_resists_an_outsider(session):
    """Issue 16's re-identification test on the seeded district: join the extract to what
    an outsider could know of a student (school, grade, gender, ethnicity, year of birth,
    in a school year): no combination in the file, and no student's record read across
    their years, matches fewer than k students (the district's minimum n)."""
    from collections import defaultdict

    from casemgr.models import ResearchProject
    from casemgr.reads import report_figures, research_extract

    project = session.scalar(sa.select(ResearchProject))
    k = report_figures.minimum_n(project.district_id)
    extract = research_extract.build(project, k)
    rows = extract.result.rows
    assert rows and {"school", "grade", "gender", "ethnicity", "birth_year"} <= set(extract.columns)
    known = ("school", "grade", "gender", "ethnicity", "birth_year")
    combinations, records = defaultdict(set), defaultdict(list)
    for row in rows:
        combinations[(row["school_year"], *(row[c] for c in known))].add(row["pseudonym"])
        records[row["pseudonym"]].append((row["school_year"], *(repr(row[c]) for c in known)))
    assert all(len(students) >= k for students in combinations.values())
    sharing = defaultdict(int)
    for record in records.values():
        sharing[tuple(sorted(record))] += 1
    assert all(count >= k for count in sharing.values())
    from casemgr.models import Student

    identifiers = {str(value) for row in session.execute(sa.select(Student.state_id, Student.local_id, Student.uuid))
                   for value in row}
    assert not identifiers & {str(value) for row in rows for value in row.values()}


def test_the_seeded_study_follows_a_student_who_moved_under_one_pseudonym(session):
    """Issue 16 item 3: the study covers both districts; a student who moved from
    Riverside to Lakeview has earlier years only in Riverside's record and this year only
    in Lakeview's, and the extract gives both the one pseudonym of their state ID."""
    from collections import defaultdict

    from casemgr.deidentify import pseudonym
    from casemgr.models import ResearchProject
    from casemgr.reads import research_extract

    project = session.scalar(sa.select(ResearchProject))
    assert len(project.covered_district_ids) == 2
    movers = [state_id for (state_id,) in rows(session, """
        SELECT state_id FROM students GROUP BY state_id HAVING count(DISTINCT district_id) = 2""")]
    assert movers
    extract = research_extract.build(project, research_extract.k_of(project))
    years = defaultdict(set)
    for row in extract.result.rows:
        years[row["pseudonym"]].add(row["school_year"])
    followed = [state_id for state_id in movers
                if {AS_OF.year, AS_OF.year - 1} <= years[pseudonym(project.pseudonym_secret, state_id)]]
    # the current year comes from Lakeview's record alone, the earlier years from Riverside's
    assert followed, "no mover's two districts are linked in the extract"
    assert len({pseudonym(project.pseudonym_secret, s) for s in movers}) == len(movers)
    pseudonyms_by_record = {pseudonym(project.pseudonym_secret, state_id) for (state_id,) in rows(
        session, "SELECT DISTINCT state_id FROM students")}
    assert set(years) <= pseudonyms_by_record and len(set(years)) < len(rows(session, "SELECT id FROM students"))


def test_the_example_detail_report_fits_the_demo_district(session):
    """seed/examples/studenttracker.csv names three of the demo district's graduates."""
    from pathlib import Path

    from casemgr import importers
    from casemgr.models import Organization

    example = Path(__file__).resolve().parent.parent / "seed" / "examples" / "studenttracker.csv"
    lakeview = session.scalar(sa.select(Organization).where(Organization.code == "LVUSD"))
    outcome = importers.import_file("studenttracker", example.read_bytes(), example.name, lakeview, dry_run=True)
    assert outcome.ok, [e.describe() for e in outcome.errors]
    assert outcome.batch.rows_read == 5

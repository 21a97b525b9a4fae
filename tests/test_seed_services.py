"""The services the mock partnership delivered (issue 17): each partner's program groups
drawn from its roster, a school year of contacts that keep to the roster, the service
agreement and the school calendar, and the two programs the outcomes by program are
tested against: one whose students attend more after they start, one that changes nothing.

One partnership seeded once into a database of its own, large enough for each of the two
programs to serve some thirty students for ten hours or more (a partner's roster holds a
twenty-fifth of the students it could serve, and at least twenty).
"""
from __future__ import annotations

import hashlib
from datetime import date

import pytest

from casemgr.seed import services
from tests.test_seed import rows, scalar, seeded_database
from tests.test_seed import session as session  # noqa: F401 (the fixture, on this module's district)

AS_OF = date(2026, 11, 20)
STUDENTS = 3000
SEED = 7
SERVED_MINUTES = 600  # the districts' default dosage threshold: ten hours


@pytest.fixture(scope="module")
def seeded_app(pg_server_url):
    with seeded_database(pg_server_url, STUDENTS, SEED, AS_OF) as app:
        yield app


# the roster entry that holds a contact's student on the contact's day
ON_ROSTER = """
    EXISTS (SELECT 1 FROM roster_entries r WHERE r.organization_id = c.organization_id AND r.student_id = c.student_id
            AND r.added_on <= c.contact_on AND (r.removed_on IS NULL OR c.contact_on < r.removed_on))"""


def test_each_partner_runs_groups_of_its_own_active_roster(session):
    assert scalar(session, """
        SELECT count(*) FROM service_agreements a
        WHERE NOT EXISTS (SELECT 1 FROM program_groups g WHERE g.organization_id = a.organization_id)""") == 0
    groups = rows(session, """
        SELECT g.id, g.name, g.weekdays, g.session_minutes, u.role, u.organization_id = g.organization_id,
               g.service = ANY(a.services), (SELECT count(*) FROM program_group_members m WHERE m.group_id = g.id)
        FROM program_groups g JOIN users u ON u.id = g.leader_id
        JOIN service_agreements a ON a.organization_id = g.organization_id""")
    assert len(groups) >= 20
    for _, name, weekdays, minutes, role, own_worker, offered, members in groups:
        assert 1 <= len(weekdays) <= 3 and set(weekdays) <= {0, 1, 2, 3, 4}, name
        assert 60 <= minutes <= 120 and role == "youth_worker" and own_worker and offered, name
        assert members <= 20, name
    assert sum(8 <= g[-1] <= 20 for g in groups) >= 0.8 * len(groups)
    # members come from the organization's roster, and only its active entries
    assert scalar(session, """
        SELECT count(*) FROM program_group_members m JOIN program_groups g ON g.id = m.group_id
        WHERE NOT EXISTS (SELECT 1 FROM roster_entries r WHERE r.organization_id = g.organization_id
                          AND r.student_id = m.student_id AND r.removed_on IS NULL)""") == 0
    names = {name for _, name, *_ in groups}
    assert any(name.startswith(("Monday ", "Tuesday ", "Wednesday ", "Thursday ")) for name in names)


def test_every_contact_keeps_to_the_roster_the_agreement_and_the_school_calendar(session):
    assert scalar(session, "SELECT count(*) FROM service_contacts") > 2000
    assert scalar(session, f"""
        SELECT count(*) FROM service_contacts c
        JOIN students s ON s.id = c.student_id
        JOIN users u ON u.id = c.recorded_by_id
        WHERE NOT {ON_ROSTER}
           OR NOT EXISTS (SELECT 1 FROM service_agreements a WHERE a.organization_id = c.organization_id
                          AND a.district_id = s.district_id AND c.service = ANY(a.services)
                          AND c.contact_on BETWEEN a.starts_on AND coalesce(a.ended_on, a.ends_on))
           OR NOT EXISTS (SELECT 1 FROM calendar_days k WHERE k.school_id = s.school_id AND k.day = c.contact_on
                          AND k.instructional)
           OR c.contact_on > :as_of
           OR NOT c.minutes BETWEEN 1 AND 720
           OR u.role <> 'youth_worker' OR u.organization_id <> c.organization_id
           OR c.source <> 'app'""", as_of=AS_OF) == 0
    # a partner whose data-sharing agreement the district ended delivers nothing after it
    assert scalar(session, """
        SELECT count(*) FROM service_contacts c JOIN data_sharing_agreements d
          ON d.organization_id = c.organization_id AND d.ended_on IS NOT NULL
        WHERE c.contact_on >= d.ended_on""") == 0
    # one to one: 20 to 60 minutes, always attended
    assert rows(session, """
        SELECT min(minutes), max(minutes), bool_and(attended), bool_and(group_id IS NULL) FROM service_contacts
        WHERE mode = 'individual'""")[0] == (20, 60, True, True)


def test_a_group_session_records_every_member_present_or_absent(session):
    # the sessions: on the group's weekdays, for its members, at its length, by its leader
    assert scalar(session, """
        SELECT count(*) FROM service_contacts c JOIN program_groups g ON g.id = c.group_id
        WHERE c.mode <> 'group' OR c.organization_id <> g.organization_id OR c.service <> g.service
           OR c.minutes <> g.session_minutes OR c.recorded_by_id <> g.leader_id
           OR NOT (extract(isodow FROM c.contact_on)::int - 1) = ANY(g.weekdays)
           OR NOT EXISTS (SELECT 1 FROM program_group_members m WHERE m.group_id = g.id
                          AND m.student_id = c.student_id AND m.created_at::date <= c.contact_on)""") == 0
    # every member who had joined by a session's day has a row of it
    assert scalar(session, """
        SELECT count(*) FROM (SELECT DISTINCT group_id, contact_on FROM service_contacts WHERE group_id IS NOT NULL) s
        JOIN program_group_members m ON m.group_id = s.group_id AND m.created_at::date <= s.contact_on
        WHERE NOT EXISTS (SELECT 1 FROM service_contacts c WHERE c.group_id = s.group_id
                          AND c.contact_on = s.contact_on AND c.student_id = m.student_id)""") == 0
    present, absent_outside_groups = rows(session, """
        SELECT avg(attended::int) FILTER (WHERE group_id IS NOT NULL),
               count(*) FILTER (WHERE NOT attended AND group_id IS NULL) FROM service_contacts""")[0]
    assert 0.7 <= present <= 0.9 and absent_outside_groups == 0


def test_dosage_and_start_days_vary_in_both_districts(session):
    per_district = rows(session, """
        SELECT s.district_id, count(*) FILTER (WHERE hours >= 10), count(*) FILTER (WHERE hours < 10),
               count(*) FILTER (WHERE first_on >= y.starts_on + 21), count(*)
        FROM (SELECT student_id, sum(minutes) FILTER (WHERE attended) / 60.0 AS hours, min(contact_on) AS first_on
              FROM service_contacts GROUP BY student_id) c
        JOIN students s ON s.id = c.student_id
        JOIN school_years y ON y.district_id = s.district_id AND y.year = 2026
        GROUP BY s.district_id""")
    assert len(per_district) == 2
    for _, above, below, late, students in per_district:
        assert above > 0 and below > 0
        assert late >= 0.3 * students  # many start after the first weeks


def served(session, program: tuple[str, str]) -> list:
    """The program's students with ten hours or more: (id, first attended contact, hours)."""
    code, service = program
    return rows(session, """
        SELECT c.student_id, min(c.contact_on), sum(c.minutes) / 60.0 FROM service_contacts c
        JOIN organizations o ON o.id = c.organization_id
        WHERE o.code = :code AND c.service = :service AND c.attended
        GROUP BY c.student_id HAVING sum(c.minutes) >= :minutes""", code=code, service=service, minutes=SERVED_MINUTES)


def test_the_two_programs_of_the_demo_district_serve_enough_students_most_at_risk(session):
    for code, service in (services.EFFECTIVE_PROGRAM, services.NO_EFFECT_PROGRAM):
        district, offered = rows(session, """
            SELECT d.code, :service = ANY(a.services) FROM service_agreements a
            JOIN organizations o ON o.id = a.organization_id JOIN organizations d ON d.id = a.district_id
            WHERE o.code = :code""", code=code, service=service)[0]
        assert (district, offered) == ("LVUSD", True)
        assert len(served(session, (code, service))) >= 30
    # the effective program's students are served by no other program of its partner (whose
    # outcomes would show its effect), nor by the no-effect program
    code, service = services.EFFECTIVE_PROGRAM
    assert scalar(session, """
        WITH effective AS (
            SELECT DISTINCT c.student_id, c.organization_id FROM service_contacts c
            JOIN organizations o ON o.id = c.organization_id WHERE o.code = :code AND c.service = :service)
        SELECT count(*) FROM service_contacts c JOIN effective e ON e.student_id = c.student_id
        JOIN organizations o ON o.id = c.organization_id
        WHERE (c.organization_id = e.organization_id AND c.service <> :service)
           OR (o.code = :other_code AND c.service = :other_service)""", code=code, service=service,
                  other_code=services.NO_EFFECT_PROGRAM[0], other_service=services.NO_EFFECT_PROGRAM[1]) == 0
    # as real programs do, they take in the students most at risk: tier 2 and 3 are over-represented
    for program in (services.EFFECTIVE_PROGRAM, services.NO_EFFECT_PROGRAM):
        ids = [row[0] for row in served(session, program)]
        share_served, share_all = rows(session, """
            SELECT avg((tier > 1)::int) FILTER (WHERE student_id = ANY(:ids)), avg((tier > 1)::int)
            FROM student_indicators WHERE school_year = 2026""", ids=ids)[0]
        assert float(share_served) > 1.5 * float(share_all), program


# Each served student's attendance rate before their first contact and from it on, beside
# the same two rates of the students of their school and grade the program never served
# (split on the same day), averaged over the served students.
CHANGE = """
WITH program AS (
    SELECT c.student_id, min(c.contact_on) FILTER (WHERE c.attended) AS first_on,
           coalesce(sum(c.minutes) FILTER (WHERE c.attended), 0) AS minutes
    FROM service_contacts c JOIN organizations o ON o.id = c.organization_id
    WHERE o.code = :code AND c.service = :service GROUP BY c.student_id
), years AS (
    SELECT s.id AS student_id, s.school_id, s.grade, a.first_day, a.present | a.tardy AS attended,
           a.present | a.tardy | a.excused | a.unexcused | a.suspended AS recorded
    FROM attendance_years a JOIN school_years y ON y.id = a.school_year_id AND y.year = 2026
    JOIN students s ON s.id = a.student_id AND s.left_on IS NULL
), served AS (
    SELECT y.student_id, y.school_id, y.grade, p.first_on - y.first_day AS start
    FROM program p JOIN years y ON y.student_id = p.student_id WHERE p.minutes >= :minutes
), split AS (
    SELECT v.student_id AS served_id, y.student_id = v.student_id AS is_served,
           bit_count(substring(y.attended FROM 1 FOR v.start))::numeric
               / nullif(bit_count(substring(y.recorded FROM 1 FOR v.start)), 0) AS before,
           bit_count(substring(y.attended FROM v.start + 1))::numeric
               / nullif(bit_count(substring(y.recorded FROM v.start + 1)), 0) AS after,
           bit_count(substring(y.recorded FROM 1 FOR v.start)) AS days_before,
           bit_count(substring(y.recorded FROM v.start + 1)) AS days_after
    FROM served v JOIN years y ON y.school_id = v.school_id AND y.grade = v.grade
    WHERE y.student_id = v.student_id OR y.student_id NOT IN (SELECT student_id FROM program)
), each AS (
    SELECT served_id, is_served, avg(before) AS before, avg(after) AS after FROM split
    WHERE days_before >= 5 AND days_after >= 5 GROUP BY served_id, is_served
)
SELECT count(*) FILTER (WHERE is_served),
       avg(before) FILTER (WHERE is_served), avg(after) FILTER (WHERE is_served),
       avg(before) FILTER (WHERE NOT is_served), avg(after) FILTER (WHERE NOT is_served)
FROM each WHERE served_id IN (SELECT served_id FROM each WHERE is_served)
            AND served_id IN (SELECT served_id FROM each WHERE NOT is_served)
"""


def change_beside_comparison(session, program: tuple[str, str]) -> tuple[int, float, float]:
    """(served students counted, their change in attendance rate, their comparison's)."""
    code, service = program
    n, served_before, served_after, comparison_before, comparison_after = rows(
        session, CHANGE, code=code, service=service, minutes=SERVED_MINUTES)[0]
    return n, float(served_after - served_before), float(comparison_after - comparison_before)


def test_the_effective_programs_students_attend_more_after_they_start(session):
    n, served_change, comparison_change = change_beside_comparison(session, services.EFFECTIVE_PROGRAM)
    assert n >= 25
    assert served_change - comparison_change >= 0.02  # two points of attendance rate, or more
    assert abs(comparison_change) < 0.01  # the comparison students' attendance stays as it was
    # the stored indicators were computed from the improved attendance
    ids = [row[0] for row in served(session, services.EFFECTIVE_PROGRAM)]
    assert scalar(session, """
        SELECT count(*) FROM student_indicators i
        JOIN attendance_years a ON a.student_id = i.student_id
        JOIN school_years y ON y.id = a.school_year_id AND y.year = i.school_year
        WHERE i.school_year = 2026 AND i.student_id = ANY(:ids)
          AND i.days_absent <> bit_count(a.excused | a.unexcused | a.suspended)""", ids=ids) == 0


def test_the_no_effect_programs_students_attend_as_their_comparison_does(session):
    effective = change_beside_comparison(session, services.EFFECTIVE_PROGRAM)
    n, served_change, comparison_change = change_beside_comparison(session, services.NO_EFFECT_PROGRAM)
    assert n >= 25
    assert abs(served_change - comparison_change) < 0.015
    assert served_change - comparison_change < (effective[1] - effective[2]) / 3


def test_the_outcomes_by_program_find_the_effect_of_the_one_and_not_the_other(session):
    """The report's own matching (school, grade and tier in the start week) and its
    protection, on the seeded year: the effective program's served students gain clearly
    more attendance than their comparison, the other program's gain no more than theirs."""
    import sqlalchemy as sa

    from casemgr import outcomes
    from casemgr.models import Organization

    district_id = session.scalar(sa.select(Organization.id).where(Organization.code == "LVUSD"))
    assert outcomes.rebuild(district_id, AS_OF) > 0
    shown = {(f.organization_id, f.service): f for f in outcomes.protected(district_id, 2026)}
    codes = dict(session.execute(sa.select(Organization.code, Organization.id)).all())

    def difference(program: tuple[str, str]) -> tuple[int, float]:
        figures = shown[(codes[program[0]], program[1])]
        served, comparison = figures.attendance_change("served"), figures.attendance_change("comparison")
        assert served is not None and comparison is not None, "the comparison is hidden"
        return figures.served_n, float(served - comparison) * 100

    effective_n, effective = difference(services.EFFECTIVE_PROGRAM)
    none_n, no_effect = difference(services.NO_EFFECT_PROGRAM)
    assert effective_n >= 25 and none_n >= 25
    assert effective >= 2.0  # points of attendance rate beyond the comparison's change
    assert abs(no_effect) < 1.5 and abs(no_effect) < effective / 3


# --- the same seed gives the same services -------------------------------------------------------

DIGEST_QUERIES = (
    """SELECT o.code, g.name, g.service, g.weekdays, g.starts_at, g.session_minutes, u.email, g.archived_on
       FROM program_groups g JOIN organizations o ON o.id = g.organization_id JOIN users u ON u.id = g.leader_id
       ORDER BY 1, 2""",
    """SELECT g.name, s.state_id, s.district_id, m.created_at FROM program_group_members m
       JOIN program_groups g ON g.id = m.group_id JOIN students s ON s.id = m.student_id ORDER BY 1, 2, 3""",
    """SELECT o.code, s.state_id, s.district_id, c.service, c.contact_on, c.minutes, c.mode, c.attended, g.name,
              u.email, c.created_at
       FROM service_contacts c JOIN organizations o ON o.id = c.organization_id
       JOIN students s ON s.id = c.student_id JOIN users u ON u.id = c.recorded_by_id
       LEFT JOIN program_groups g ON g.id = c.group_id ORDER BY 1, 2, 3, 4, 5, 9""",
    """SELECT s.state_id, s.district_id, a.present, a.excused, a.unexcused FROM attendance_years a
       JOIN students s ON s.id = a.student_id ORDER BY 1, 2, a.first_day""",
)


def services_digest(app) -> str:
    from casemgr.extensions import db

    digest = hashlib.sha256()
    with app.app_context():
        for query in DIGEST_QUERIES:
            for row in rows(db.session, query):
                digest.update(repr(tuple(row)).encode())
        db.session.remove()
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_groups_contacts_and_effect(pg_server_url):
    digests = []
    for _ in range(2):
        with seeded_database(pg_server_url, 60, SEED, AS_OF) as app:
            digests.append(services_digest(app))
    with seeded_database(pg_server_url, 60, SEED + 1, AS_OF) as app:
        other = services_digest(app)
    assert digests[0] == digests[1] != other

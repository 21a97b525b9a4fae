"""Outcomes by program (issue 17, item 4): how the students a program served fared after
service began, beside students like them whom it did not serve. This is a comparison,
not proof that the program caused the difference: the students a program takes on may
differ from their peers in ways no record shows (a family that sought help, a counselor
who saw a need), and the figures say only what happened to each group.

A program is a partner organization's service. In a district's school year:

- Served: attended contacts of the program that year (up to the as-of day) totalling at
  least the district's `served_min_hours` hours. Service began on the day of the first
  attended contact; the matching and the measures use the Monday of that week (the
  *start week*), so that the served students of a week share one group of peers and the
  strata stay few. Both sides are measured from that Monday, so a served student's "after"
  may hold up to four school days before the first contact.
- Matched: the students of the district enrolled at the same school, in the same grade,
  at some time in the start week (school_enrollments of the year; a served student who
  changed school that week is placed at the stay begun last), with the same tier on its
  Monday, who had no attended contact of the program that year and were never on the
  organization's roster that school year. A partner chooses who is on its roster and whose
  contacts it logs; keeping every student it has rostered out of the comparison means it
  cannot move a student into or out of its comparison group, and so cannot learn that
  student's figures by comparing the page before and after. The tier on a day is the
  newest of the year's tier history on or before it; a day before the year's first
  recompute takes the first tier recorded that year (last year's tier was computed from
  last year's records), and a student with no history that year the year's stored tier.
  A served student with no match (or with no stay or tier in the start week) is left out
  of both sides and counted as unmatched.
- The served side of a measure is the mean over the matched served students who have it;
  the comparison side is the average, over the same served students, of the mean of each
  one's matched students (both sides weighted alike); its n is the number of distinct
  matched students counted.

Measures, from the start week's Monday to the as-of day (or the year's end, if it ended):
(a) attendance rate after minus before, counted as the indicators count it (days enrolled
from the stays and the school's instructional days, absent days from the attendance bits,
at most the days enrolled): "before" is the year's days before that Monday, or, with fewer
than the district's minimum enrolled days by then, the prior school year's stored rate
(itself of at least that many days); without either, the student is left out of this
measure; (b) courses with a failing mark recorded from that Monday on, per student, and
the share with any (failing marks are recorded at the end of terms, so both sides count
the same terms); (c) the tier on the as-of day (read as the tier on a day, above) minus
the tier then, and the shares improved (a lower tier) and worsened.

The rebuild runs in five steps, each into a temporary table that the next one plans with,
and one INSERT … SELECT: about 4 s for a district of 50,000 students, once per recompute;
the page reads the stored rows (a few milliseconds) and protects them in Python.

Two versions of each program's figures are stored, for two audiences:

- district: every served student, as above; what the district's own readers see.
- partner: only the served students who, on the as-of day, are on the organization's
  roster and have a consent in force naming the organization that covers attendance;
  what the organization's own administrators see, and of it only the attendance measure
  (`PARTNER_MEASURES`: failures and tiers are made of grades, behavior and college, which
  such a consent may not cover). A partner decides who is served, so a version counting
  every served student would let it work out one student's change by pushing that
  student over the hours threshold between two rebuilds; this way its figures are only
  ever about records it may already read one by one. The comparison side is computed the
  same way, from the strata of the students counted.

`rebuild` stores the figures (`ProgramOutcome`) per audience, program and school (the
school of the served students in their start week) and for all schools, after each
recompute of the indicators; `protected` reads one audience's with every figure of
fewer than the minimum n hidden.
`reach` counts a program's reach (served, contacted, sessions, hours) from the contacts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.indicators import current_settings, school_year_for
from casemgr.models import Organization, ProgramOutcome
from casemgr.models.enums import Category
from casemgr.suppression import Cell, coded, coding_bound

# the audiences of the stored rows (ProgramOutcome.audience); a partner's rows count the
# served students whose consent lets the partner see their attendance, and show only the
# attendance measure (failures and tiers are made of categories the consent may not cover)
DISTRICT, PARTNER = "district", "partner"
AUDIENCES = (DISTRICT, PARTNER)
PARTNER_CATEGORIES = [str(Category.ATTENDANCE)]
PARTNER_MEASURES = ("attendance",)

# The rebuild's steps, each written to a temporary table whose statistics the next one
# plans with (the sizes of the strata are known only once counted).
# 1. every student's attended contacts of each program in the year; the served, with
#    their start week and their stay that week (the latest begun), and whether the partner
#    may count them (`visible`): on the organization's roster on the as-of day
#    (`policy.on_roster`), with a consent naming it in force that day (`policy.
#    consent_in_force`: signed, not expired, not revoked) covering attendance
CONTACTS_SQL = """
SELECT sc.organization_id, sc.service, sc.student_id, sum(sc.minutes) AS minutes, min(sc.contact_on) AS first_on
FROM service_contacts sc
JOIN students st ON st.id = sc.student_id AND st.district_id = :district_id
WHERE sc.attended AND sc.contact_on BETWEEN :year_start AND :end_day
GROUP BY sc.organization_id, sc.service, sc.student_id
"""
SERVED_SQL = """
WITH served AS (
    SELECT *, date_trunc('week', first_on)::date AS week FROM outcome_contacts WHERE minutes >= :min_minutes
),
readable AS (
    SELECT DISTINCT re.organization_id, re.student_id
    FROM roster_entries re
    JOIN consents cn ON cn.student_id = re.student_id AND cn.organization_id = re.organization_id
    WHERE re.organization_id IN (SELECT organization_id FROM served)
      AND re.added_on <= :as_of AND (re.removed_on IS NULL OR re.removed_on > :as_of)
      AND cn.signed_on <= :as_of AND cn.expires_on >= :as_of
      AND cn.categories @> CAST(:partner_categories AS text[])
      AND NOT EXISTS (SELECT 1 FROM consent_revocations cr WHERE cr.consent_id = cn.id)
)
SELECT c.organization_id, c.service, c.student_id, c.minutes, c.week, ss.school_id, ss.grade,
       rd.student_id IS NOT NULL AS visible
FROM served c
LEFT JOIN readable rd ON rd.organization_id = c.organization_id AND rd.student_id = c.student_id
LEFT JOIN LATERAL (
    SELECT se.school_id, se.grade FROM school_enrollments se
    WHERE se.student_id = c.student_id AND se.school_year = :year
      AND se.entry_date <= LEAST(c.week + 6, :end_day) AND (se.exit_date IS NULL OR se.exit_date >= c.week)
    ORDER BY se.entry_date DESC, se.id DESC LIMIT 1) ss ON true
"""
# each student's tier through the year as spans of days: the tier history's rows, the
# first from the start of time; a student with none, the year's stored tier throughout
TIER_SPANS = """
    SELECT h.student_id, h.tier,
           CASE WHEN row_number() OVER w = 1 THEN '-infinity'::date ELSE h.since END AS valid_from,
           coalesce(lead(h.since) OVER w, 'infinity'::date) AS valid_to
    FROM tier_history h JOIN pupils p ON p.student_id = h.student_id
    WHERE h.school_year = :year
    WINDOW w AS (PARTITION BY h.student_id ORDER BY h.since)
    UNION ALL
    SELECT si.student_id, si.tier, '-infinity'::date, 'infinity'::date
    FROM student_indicators si JOIN pupils p ON p.student_id = si.student_id
    WHERE si.school_year = :year
      AND NOT EXISTS (SELECT 1 FROM tier_history h WHERE h.student_id = si.student_id AND h.school_year = :year)
"""
# 2. the students at the served students' schools (the district's) and grades in their
#    start weeks, with their tier on its Monday; those of the strata (week, school, grade,
#    tier) a served student is in
MEMBERS_SQL = """
WITH places AS (SELECT DISTINCT week, school_id, grade FROM outcome_served WHERE school_id IS NOT NULL),
candidates AS (
    SELECT DISTINCT p.week, p.school_id, p.grade, se.student_id
    FROM places p
    JOIN school_enrollments se
      ON se.school_id = p.school_id AND se.grade = p.grade AND se.school_year = :year
     AND se.entry_date <= LEAST(p.week + 6, :end_day) AND (se.exit_date IS NULL OR se.exit_date >= p.week)
),
pupils AS (SELECT DISTINCT student_id FROM candidates),
tier_spans AS (""" + TIER_SPANS + """),
tiered AS (
    SELECT c.*, th.tier
    FROM candidates c
    JOIN tier_spans th ON th.student_id = c.student_id
     AND th.valid_from <= GREATEST(c.week, :year_start) AND GREATEST(c.week, :year_start) < th.valid_to
),
strata AS (
    SELECT DISTINCT t.week, t.school_id, t.grade, t.tier
    FROM tiered t
    JOIN outcome_served s ON s.week = t.week AND s.student_id = t.student_id AND s.school_id = t.school_id
     AND s.grade = t.grade
)
SELECT t.* FROM tiered t JOIN strata USING (week, school_id, grade, tier)
"""
# 3. each of them measured from their week's Monday: days enrolled as the indicators count
#    them (the school's instructional days within the stays, one bit a day of the year),
#    absent days from the attendance bits, failing marks, the tier then and now
MEASURED_SQL = """
WITH pupils AS (SELECT DISTINCT student_id FROM outcome_members),
weeks AS (SELECT DISTINCT week, student_id, tier AS tier_then, GREATEST(week, :year_start) AS split
          FROM outcome_members),
school_days AS (
    SELECT cd.school_id, bit_or(set_bit(repeat('0', :length)::varbit, cd.day - :year_start, 1)) AS days
    FROM calendar_days cd
    JOIN organizations o ON o.id = cd.school_id AND o.district_id = :district_id
    WHERE cd.instructional AND cd.day BETWEEN :year_start AND :year_end
    GROUP BY cd.school_id
),
enrolled_days AS (
    SELECT se.student_id,
           bit_or(sd.days & (repeat('0', w.a) || repeat('1', w.b - w.a + 1) || repeat('0', :length - w.b - 1))::varbit)
               AS days
    FROM pupils p
    JOIN school_enrollments se ON se.student_id = p.student_id
    JOIN school_days sd ON sd.school_id = se.school_id
    CROSS JOIN LATERAL (SELECT GREATEST(se.entry_date, :year_start) - :year_start AS a,
                               LEAST(coalesce(se.exit_date, :year_end), :year_end) - :year_start AS b) w
    WHERE w.a <= w.b
    GROUP BY se.student_id
),
tier_spans AS (""" + TIER_SPANS + """),
failures AS (
    SELECT wk.week, wk.student_id, count(DISTINCT cm.section_id) AS n
    FROM weeks wk
    JOIN course_marks cm ON cm.student_id = wk.student_id AND cm.school_year = :year AND cm.failing
     AND cm.recorded_on BETWEEN wk.split AND :end_day
    GROUP BY wk.week, wk.student_id
),
days AS (
    SELECT p.student_id, e.days AS enrolled, a.first_day, a.excused | a.unexcused | a.suspended AS absent,
           coalesce(bit_count(substring(e.days FROM 1 FOR :end_day - :year_start + 1)), 0) AS enrolled_to_end,
           coalesce(bit_count(substring(a.excused | a.unexcused | a.suspended
                                        FROM 1 FOR GREATEST(:end_day - a.first_day + 1, 0))), 0) AS absent_to_end
    FROM pupils p
    LEFT JOIN enrolled_days e ON e.student_id = p.student_id
    LEFT JOIN attendance_years a ON a.student_id = p.student_id AND a.school_year_id = :year_id
),
split_days AS (
    SELECT wk.week, wk.student_id, d.enrolled_to_end, d.absent_to_end,
           coalesce(bit_count(substring(d.enrolled FROM 1 FOR wk.split - :year_start)), 0) AS days_before,
           coalesce(bit_count(substring(d.absent FROM 1 FOR GREATEST(wk.split - d.first_day, 0))), 0) AS absent_before
    FROM weeks wk JOIN days d ON d.student_id = wk.student_id
),
counted AS (
    SELECT wk.week, wk.student_id, sd.days_before, sd.absent_before,
           sd.enrolled_to_end - sd.days_before AS days_after, sd.absent_to_end - sd.absent_before AS absent_after,
           coalesce(f.n, 0) AS failures,
           wk.tier_then, tn.tier AS tier_now,
           pr.attendance_rate AS prior_rate
    FROM weeks wk
    JOIN split_days sd ON sd.week = wk.week AND sd.student_id = wk.student_id
    LEFT JOIN failures f ON f.week = wk.week AND f.student_id = wk.student_id
    LEFT JOIN tier_spans tn ON tn.student_id = wk.student_id AND tn.valid_from <= :end_day AND :end_day < tn.valid_to
    LEFT JOIN student_indicators pr
      ON pr.student_id = wk.student_id AND pr.school_year = :year - 1 AND pr.days_enrolled >= :min_days
)
SELECT r.*, r.rate_before IS NOT NULL AND r.rate_after IS NOT NULL AS has_rates, r.tier_now IS NOT NULL AS has_tiers
FROM (
    SELECT c.week, c.student_id, c.tier_then, c.tier_now, c.failures,
           CASE WHEN c.days_before >= :min_days
                THEN (c.days_before - LEAST(c.absent_before, c.days_before))::numeric / c.days_before
                ELSE c.prior_rate END AS rate_before,
           CASE WHEN c.days_after > 0
                THEN (c.days_after - LEAST(c.absent_after, c.days_after))::numeric / c.days_after END AS rate_after
    FROM counted c) r
"""
# 4. the served students with their stratum (week, school, grade, tier); each one's pool:
#    the members of their stratum the program did not serve, who were never on the
#    organization's roster in the school year. The pool of a stratum is the same for both
#    audiences; a stratum counts for the partner when a served student it may count is in
#    it (`any_visible`, and the same per measure)
SERVED_PLACED = """
WITH served_placed AS (
    SELECT s.organization_id, s.service, s.student_id, s.minutes, s.week, s.school_id, s.grade, r.tier_then AS tier,
           r.rate_before, r.rate_after, r.has_rates, r.failures, r.tier_now, r.has_tiers, s.visible
    FROM outcome_served s
    LEFT JOIN outcome_measured r ON r.week = s.week AND r.student_id = s.student_id
)"""
POOL_SQL = SERVED_PLACED + """,
strata AS (
    SELECT organization_id, service, week, school_id, grade, tier,
           bool_or(has_rates) AS any_rates, bool_or(has_tiers) AS any_tiers, bool_or(visible) AS any_visible,
           bool_or(has_rates AND visible) AS any_visible_rates, bool_or(has_tiers AND visible) AS any_visible_tiers
    FROM served_placed WHERE tier IS NOT NULL
    GROUP BY organization_id, service, week, school_id, grade, tier
)
SELECT st.organization_id, st.service, st.week, st.school_id, st.grade, st.tier, st.any_rates, st.any_tiers,
       st.any_visible, st.any_visible_rates, st.any_visible_tiers,
       r.student_id, r.rate_before, r.rate_after, r.has_rates, r.failures, r.tier_now, r.has_tiers
FROM strata st
JOIN outcome_members m ON m.week = st.week AND m.school_id = st.school_id AND m.grade = st.grade AND m.tier = st.tier
JOIN outcome_measured r ON r.week = m.week AND r.student_id = m.student_id
WHERE NOT EXISTS (SELECT 1 FROM outcome_contacts c WHERE c.student_id = m.student_id
                  AND c.organization_id = st.organization_id AND c.service = st.service)
  AND NOT EXISTS (SELECT 1 FROM roster_entries re WHERE re.student_id = m.student_id
                  AND re.organization_id = st.organization_id
                  AND re.added_on <= :year_end AND (re.removed_on IS NULL OR re.removed_on > :year_start))
"""
# 5. the means of each pool, each served student scored beside theirs, and the rows per
#    audience, program and school and per audience and program: each served student and
#    each pool's student once for each audience that counts them
OUTCOMES_SQL = SERVED_PLACED + """,
audiences AS (SELECT * FROM (VALUES ('district'), ('partner')) a (audience)),
pool AS (SELECT * FROM outcome_pool),
pool_means AS (
    SELECT organization_id, service, week, school_id, grade, tier,
           count(*) FILTER (WHERE has_rates) AS rates_n,
           avg(rate_before) FILTER (WHERE has_rates) AS rate_before,
           avg(rate_after) FILTER (WHERE has_rates) AS rate_after,
           avg(failures) AS failures,
           avg((failures > 0)::int) AS failing,
           count(*) FILTER (WHERE has_tiers) AS tiers_n,
           avg(tier_now - tier) FILTER (WHERE has_tiers) AS tier_change,
           avg((tier_now < tier)::int) FILTER (WHERE has_tiers) AS improved,
           avg((tier_now > tier)::int) FILTER (WHERE has_tiers) AS worsened
    FROM pool
    GROUP BY organization_id, service, week, school_id, grade, tier
),
scored AS (
    SELECT a.audience, sp.*, pm.organization_id IS NOT NULL AS matched,
           sp.has_rates AND pm.rates_n > 0 AS rates_in, sp.has_tiers AND pm.tiers_n > 0 AS tiers_in,
           pm.rate_before AS pool_before, pm.rate_after AS pool_after, pm.failures AS pool_failures,
           pm.failing AS pool_failing, pm.tier_change AS pool_tier_change, pm.improved AS pool_improved,
           pm.worsened AS pool_worsened
    FROM served_placed sp
    CROSS JOIN audiences a
    LEFT JOIN pool_means pm
      ON pm.organization_id = sp.organization_id AND pm.service = sp.service AND pm.week = sp.week
     AND pm.school_id = sp.school_id AND pm.grade = sp.grade AND pm.tier = sp.tier
    WHERE a.audience = 'district' OR sp.visible
),
served_rows AS (
    SELECT audience, organization_id, service, school_id, GROUPING(school_id) AS all_schools,
           count(*) AS served_n, count(*) FILTER (WHERE matched) AS matched_n,
           round(sum(minutes) / 60.0, 1) AS served_hours,
           count(*) FILTER (WHERE rates_in) AS attendance_n,
           round(avg(rate_before) FILTER (WHERE rates_in), 4) AS attendance_before_served,
           round(avg(rate_after) FILTER (WHERE rates_in), 4) AS attendance_after_served,
           round(avg(pool_before) FILTER (WHERE rates_in), 4) AS attendance_before_comparison,
           round(avg(pool_after) FILTER (WHERE rates_in), 4) AS attendance_after_comparison,
           count(*) FILTER (WHERE matched) AS failures_n,
           round(avg(failures) FILTER (WHERE matched), 3) AS failures_served,
           round(avg(pool_failures) FILTER (WHERE matched), 3) AS failures_comparison,
           round(avg((failures > 0)::int) FILTER (WHERE matched), 4) AS failing_share_served,
           round(avg(pool_failing) FILTER (WHERE matched), 4) AS failing_share_comparison,
           count(*) FILTER (WHERE tiers_in) AS tier_n,
           round(avg(tier_now - tier) FILTER (WHERE tiers_in), 3) AS tier_change_served,
           round(avg(pool_tier_change) FILTER (WHERE tiers_in), 3) AS tier_change_comparison,
           round(avg((tier_now < tier)::int) FILTER (WHERE tiers_in), 4) AS tier_improved_served,
           round(avg(pool_improved) FILTER (WHERE tiers_in), 4) AS tier_improved_comparison,
           round(avg((tier_now > tier)::int) FILTER (WHERE tiers_in), 4) AS tier_worsened_served,
           round(avg(pool_worsened) FILTER (WHERE tiers_in), 4) AS tier_worsened_comparison
    FROM scored
    GROUP BY GROUPING SETS ((audience, organization_id, service, school_id), (audience, organization_id, service))
),
comparison_rows AS (
    SELECT a.audience, p.organization_id, p.service, p.school_id, GROUPING(p.school_id) AS all_schools,
           count(DISTINCT p.student_id) AS comparison_n,
           count(DISTINCT p.student_id) FILTER (WHERE p.has_rates AND CASE a.audience WHEN 'district' THEN p.any_rates
                                                                     ELSE p.any_visible_rates END)
               AS attendance_comparison_n,
           count(DISTINCT p.student_id) FILTER (WHERE p.has_tiers AND CASE a.audience WHEN 'district' THEN p.any_tiers
                                                                     ELSE p.any_visible_tiers END)
               AS tier_comparison_n
    FROM pool p
    CROSS JOIN audiences a
    WHERE a.audience = 'district' OR p.any_visible
    GROUP BY GROUPING SETS ((a.audience, p.organization_id, p.service, p.school_id),
                            (a.audience, p.organization_id, p.service))
)
INSERT INTO program_outcomes (
    audience, district_id, school_year, organization_id, service, school_id, as_of, served_min_hours,
    served_n, matched_n, unmatched_n, comparison_n, served_hours,
    attendance_n, attendance_comparison_n, attendance_before_served, attendance_after_served,
    attendance_before_comparison, attendance_after_comparison,
    failures_n, failures_comparison_n, failures_served, failures_comparison,
    failing_share_served, failing_share_comparison,
    tier_n, tier_comparison_n, tier_change_served, tier_change_comparison,
    tier_improved_served, tier_improved_comparison, tier_worsened_served, tier_worsened_comparison)
SELECT s.audience, :district_id, :year, s.organization_id, s.service, s.school_id, :as_of, :min_hours,
       s.served_n, s.matched_n, s.served_n - s.matched_n, coalesce(c.comparison_n, 0), s.served_hours,
       s.attendance_n, coalesce(c.attendance_comparison_n, 0), s.attendance_before_served, s.attendance_after_served,
       s.attendance_before_comparison, s.attendance_after_comparison,
       s.failures_n, coalesce(c.comparison_n, 0), s.failures_served, s.failures_comparison,
       s.failing_share_served, s.failing_share_comparison,
       s.tier_n, coalesce(c.tier_comparison_n, 0), s.tier_change_served, s.tier_change_comparison,
       s.tier_improved_served, s.tier_improved_comparison, s.tier_worsened_served, s.tier_worsened_comparison
FROM served_rows s
LEFT JOIN comparison_rows c
  ON c.audience = s.audience AND c.organization_id = s.organization_id AND c.service = s.service
 AND c.all_schools = s.all_schools
 AND c.school_id IS NOT DISTINCT FROM s.school_id
WHERE s.all_schools = 1 OR s.school_id IS NOT NULL
"""
# each step's table, and the columns of an index the next steps look it up by
STEPS = (("outcome_contacts", CONTACTS_SQL, "student_id, organization_id, service"),
         ("outcome_served", SERVED_SQL, None), ("outcome_members", MEMBERS_SQL, None),
         ("outcome_measured", MEASURED_SQL, "student_id, week"), ("outcome_pool", POOL_SQL, None))


def rebuild(district_id: int, as_of: date) -> int:
    """Replace the district's outcomes by program for the school year under way on `as_of`
    (or the last begun): five steps into temporary tables and one INSERT … SELECT, set-based
    throughout; returns the rows written (for each audience, a row per program and school,
    and per program for all schools). The caller commits."""
    year = school_year_for(district_id, as_of)
    if year is None:
        return 0
    settings = current_settings(district_id)
    session = db.session
    # one rebuild of a district at a time (a recompute and a change of threshold), until commit
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("program outcomes"), district_id)))
    min_hours = session.scalar(sa.select(Organization.served_min_hours).where(Organization.id == district_id))
    session.execute(sa.delete(ProgramOutcome).where(ProgramOutcome.district_id == district_id,
                                                    ProgramOutcome.school_year == year.year))
    params = {
        "district_id": district_id, "year": year.year, "year_id": year.id, "year_start": year.starts_on,
        "year_end": year.ends_on, "length": (year.ends_on - year.starts_on).days + 1,
        "end_day": min(as_of, year.ends_on), "as_of": as_of, "min_hours": min_hours, "min_minutes": 60 * min_hours,
        "min_days": settings.min_enrolled_days, "partner_categories": PARTNER_CATEGORIES,
    }
    for table, select, index in STEPS:
        session.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
        session.execute(sa.text(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {select}"), params)
        if index:
            session.execute(sa.text(f"CREATE INDEX ON {table} ({index})"))
        session.execute(sa.text(f"ANALYZE {table}"))
    written = session.execute(sa.text(OUTCOMES_SQL), params).rowcount
    for table, *_ in STEPS:
        session.execute(sa.text(f"DROP TABLE {table}"))
    return written


def read(district_id: int, year: int, organization_id: int | None = None,
         school_id: int | None = None, audience: str = DISTRICT) -> list[ProgramOutcome]:
    """The stored outcomes of the district's school year for one audience ("district", or
    "partner" for a partner's own administrators), unprotected, by organization name and
    service: of one school, or (school_id None) of all schools. Show them only through
    `protect`."""
    return list(db.session.scalars(_query(district_id, year, organization_id, audience)
                                   .where(ProgramOutcome.school_id.is_(None) if school_id is None
                                          else ProgramOutcome.school_id == school_id)))


def _query(district_id: int, year: int, organization_id: int | None, audience: str) -> sa.Select:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    query = (sa.select(ProgramOutcome)
             .join(Organization, Organization.id == ProgramOutcome.organization_id)
             .where(ProgramOutcome.district_id == district_id, ProgramOutcome.school_year == year,
                    ProgramOutcome.audience == audience)
             .order_by(Organization.name, ProgramOutcome.service, ProgramOutcome.school_id.nulls_first()))
    if organization_id is not None:
        query = query.where(ProgramOutcome.organization_id == organization_id)
    return query


# --- what may be shown ---------------------------------------------------------------

MEASURES: dict[str, dict[str, tuple[str, ...]]] = {
    # each measure's n's, means, and shares of students (top and bottom coded)
    "attendance": {"n": ("attendance_n", "attendance_comparison_n"),
                   "means": ("attendance_before_served", "attendance_after_served",
                             "attendance_before_comparison", "attendance_after_comparison"),
                   "shares": ()},
    "failures": {"n": ("failures_n", "failures_comparison_n"),
                 "means": ("failures_served", "failures_comparison"),
                 "shares": ("failing_share_served", "failing_share_comparison")},
    "tier": {"n": ("tier_n", "tier_comparison_n"),
             "means": ("tier_change_served", "tier_change_comparison"),
             "shares": ("tier_improved_served", "tier_improved_comparison",
                        "tier_worsened_served", "tier_worsened_comparison")},
}
COUNTS = ("served_n", "matched_n", "unmatched_n", "comparison_n", "served_hours")
FIGURES = COUNTS + tuple(name for m in MEASURES.values() for part in m.values() for name in part)
MEASURE_NS = tuple(name for m in MEASURES.values() for name in m["n"])
# the figures protected together across a program's school rows: the counts whose
# remainder must not be small (the first marks the family hidden), and what they hide
FAMILIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("served_n",), FIGURES),
    (("matched_n", "unmatched_n"), ("matched_n", "unmatched_n")),
    (("comparison_n",), ("comparison_n",)),
    *((m["n"], m["n"] + m["means"] + m["shares"]) for m in MEASURES.values()),
)


@dataclass(frozen=True)
class OutcomeFigures:
    """What may be shown of one stored row: `figures` holds every figure by its column's
    name, None where hidden; a share near 0% or 100% is in `coded` as ("at_most" or
    "at_least", bound in percent) instead. `hidden` names the figures hidden."""

    organization_id: int
    service: str
    school_id: int | None
    school_year: int
    as_of: date
    served_min_hours: int
    computed_at: datetime
    figures: dict[str, int | Decimal | None]
    coded: dict[str, tuple[str, int]] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    organization_name: str = ""  # filled by `protected`

    def __getattr__(self, name: str):  # a figure by its column's name: figures.served_n
        figures = self.__dict__.get("figures", {})
        if name in figures:
            return figures[name]
        raise AttributeError(name)

    def shown(self, measure: str) -> bool:
        """Whether any of the measure's means or shares is shown (exactly or coded)."""
        spec = MEASURES[measure]
        return not set(spec["means"] + spec["shares"]) <= self.hidden

    def attendance_change(self, side: str) -> Decimal | None:
        """After minus before, of "served" or "comparison"."""
        before, after = self.figures[f"attendance_before_{side}"], self.figures[f"attendance_after_{side}"]
        return None if before is None or after is None else after - before


def protect(rows: list[ProgramOutcome], minimum_n: int) -> list[OutcomeFigures]:
    """The figures of `rows` that may be shown to a district's readers (SPEC §6):

    - a row whose served n is 1 to minimum n - 1 shows nothing;
    - matched and unmatched n are hidden together when either is that small (each gives
      the other from the served n), and then the measures' n's too (the failures' n is the
      matched n); a small comparison n is hidden;
    - a measure (its n's, both sides' means and shares) shows only when its served n, its
      comparison n, the row's matched n and comparison n all reach the minimum n: no mean
      of fewer students is shown;
    - a share of students near 0% or 100% is top or bottom coded as the reports code
      rates (`casemgr.suppression`), with the mean of the same side hidden (a mean of 0
      failures says every student had none); so is a mean attendance of exactly 0% or 100%;
    - complementary: a program's all-schools row, less its shown school rows, must not
      leave a group of 1 to minimum n - 1 students (served, or comparison) behind, or the
      hidden school rows could be worked out by subtraction: the smallest shown school
      rows are hidden too until it does not; what the all-schools row hides, every school
      row hides. Served students placed at no school in their start week count in the
      all-schools row only, and are protected the same way.

    Pass every row of each program shown (the all-schools row and all its school rows),
    whatever part of them a page shows. Pages show school rows only to readers who may see
    every school's figures (district admins, principals)."""
    raw = [{name: getattr(row, name) for name in FIGURES} for row in rows]
    shown = [_Shown(values, minimum_n) for values in raw]
    programs: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        programs[(row.audience, row.district_id, row.school_year, row.organization_id, row.service)].append(i)
    for indexes in programs.values():
        total = next((i for i in indexes if rows[i].school_id is None), None)
        schools = sorted((i for i in indexes if rows[i].school_id is not None), key=lambda i: rows[i].school_id)
        if total is None or not schools:
            continue
        for counts, hides in FAMILIES:
            if counts[0] in shown[total].hidden:
                hidden = [True] * len(schools)
            else:
                hidden = _complement(raw[total], [raw[i] for i in schools],
                                     [counts[0] in shown[i].hidden for i in schools], counts, minimum_n)
            for i, hide in zip(schools, hidden, strict=True):
                if hide:
                    shown[i].hide(hides)
    for figures in shown:
        if "matched_n" in figures.hidden:
            figures.hide(MEASURE_NS)
    return [OutcomeFigures(organization_id=row.organization_id, service=row.service, school_id=row.school_id,
                           school_year=row.school_year, as_of=row.as_of, served_min_hours=row.served_min_hours,
                           computed_at=row.computed_at, figures=f.values, coded=f.coded, hidden=frozenset(f.hidden))
            for row, f in zip(rows, shown, strict=True)]


def protected(district_id: int, year: int, organization_id: int | None = None, school_id: int | None = None,
              minimum_n: int | None = None, audience: str = DISTRICT) -> list[OutcomeFigures]:
    """What a page shows of the district's year: the protected rows of one audience
    ("partner" for a partner's own administrators: only the served students they may read
    one by one), of one school or (school_id None) of all schools, each program's figures
    protected together."""
    from casemgr.reads.report_figures import minimum_n as district_minimum_n

    found = db.session.execute(_query(district_id, year, organization_id, audience)
                               .add_columns(Organization.name)).all()
    shown = protect([row for row, _ in found], minimum_n or district_minimum_n(district_id))
    if audience == PARTNER:
        shown = [_only(f, PARTNER_MEASURES) for f in shown]
    return [replace(f, organization_name=name) for f, (_, name) in zip(shown, found, strict=True)
            if f.school_id == school_id]


def _only(figures: OutcomeFigures, measures: tuple[str, ...]) -> OutcomeFigures:
    """The figures with every measure but `measures` hidden."""
    names = {name for key, spec in MEASURES.items() if key not in measures for part in spec.values() for name in part}
    return replace(figures, figures={k: None if k in names else v for k, v in figures.figures.items()},
                   coded={k: v for k, v in figures.coded.items() if k not in names},
                   hidden=figures.hidden | names)


class _Shown:
    """One row's figures while they are protected: each row's own rules first."""

    def __init__(self, values: dict, minimum_n: int):
        self.values, self.hidden, self.coded = dict(values), set(), {}

        def small(n: int) -> bool:
            return 0 < n < minimum_n

        if small(values["served_n"]):
            self.hide(FIGURES)
            return
        if small(values["matched_n"]) or small(values["unmatched_n"]):
            self.hide(("matched_n", "unmatched_n"))
        if small(values["comparison_n"]):
            self.hide(("comparison_n",))
        for spec in MEASURES.values():
            ns = [values[name] for name in spec["n"]]
            if min(ns + [values["matched_n"], values["comparison_n"]]) < minimum_n:
                self.hide(spec["n"] + spec["means"] + spec["shares"])
            else:
                self.code(spec, ns)

    def hide(self, names) -> None:
        for name in names:
            self.values[name] = None
            self.hidden.add(name)
            self.coded.pop(name, None)

    def code(self, spec: dict, ns: list[int]) -> None:
        """Top and bottom coding of a shown measure's shares, and of a mean attendance rate
        of exactly 0% or 100%; the means of the side of a coded share are hidden."""
        coding: dict[str, tuple[str, int]] = {}
        for name in spec["shares"] or spec["means"]:
            value, n = self.values[name], ns[0] if name.endswith("_served") else ns[1]
            if value is None:
                continue
            if spec["shares"]:
                how = coded(Cell(n=n, k=round(value * n)))
            else:  # a mean rate: only everyone present, or everyone absent, says something of each
                how = "at_least" if value == 1 else "at_most" if value == 0 else None
            if how:
                bound = coding_bound(n)
                coding[name] = (how, bound if how == "at_most" else 100 - bound)
        sides = {name.rsplit("_", 1)[1] for name in coding}
        self.hide(m for m in spec["means"] if spec["shares"] and m.rsplit("_", 1)[1] in sides)
        for name, how in coding.items():
            self.values[name] = None
            self.coded[name] = how


def _complement(total: dict, schools: list[dict], hidden: list[bool], counts: tuple[str, ...],
                minimum_n: int) -> list[bool]:
    """Which school rows hide a family of figures so that the all-schools row less the
    shown ones leaves, for each count, nothing or at least minimum n students."""
    hidden = list(hidden)
    while True:
        left = {c: total[c] - sum(s[c] for s, h in zip(schools, hidden) if not h) for c in counts}
        if not any(0 < left[c] < minimum_n for c in counts):
            return hidden
        shown = [i for i, h in enumerate(hidden) if not h and schools[i][counts[0]] > 0]
        if not shown:
            return hidden
        hidden[min(shown, key=lambda i: schools[i][counts[0]])] = True


# --- reach ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """A program's reach in a school year: students served (attended hours at least the
    district's threshold), students with any attended contact, sessions (a group's
    meeting on a day counts once, each individual contact once) and attended hours."""

    organization_id: int
    organization_name: str
    service: str
    served: int | None
    contacted: int | None
    sessions: int | None
    hours: Decimal | None


# one pass over the year's attended contacts: the minutes of each student, and the
# contacts of each group meeting (a group and a day) or of each day's individual contacts
REACH_SQL = sa.text("""
WITH parts AS (
    SELECT sc.organization_id, sc.service, sc.group_id, GROUPING(sc.student_id) AS by_session,
           sum(sc.minutes) AS minutes, count(*) AS contacts
    FROM service_contacts sc
    JOIN school_years y ON y.district_id = :district_id AND y.year = :year
     AND sc.contact_on BETWEEN y.starts_on AND y.ends_on
    JOIN students st ON st.id = sc.student_id AND st.district_id = :district_id
    WHERE sc.attended AND (CAST(:organization_id AS integer) IS NULL OR sc.organization_id = :organization_id)
    GROUP BY GROUPING SETS ((sc.organization_id, sc.service, sc.student_id),
                            (sc.organization_id, sc.service, sc.group_id, sc.contact_on))
),
programs AS (
    SELECT organization_id, service,
           count(*) FILTER (WHERE by_session = 0 AND minutes >= :min_minutes) AS served,
           count(*) FILTER (WHERE by_session = 0) AS contacted,
           sum(CASE WHEN group_id IS NULL THEN contacts ELSE 1 END) FILTER (WHERE by_session = 1)::bigint AS sessions,
           round(sum(minutes) FILTER (WHERE by_session = 0) / 60.0, 1) AS hours
    FROM parts GROUP BY organization_id, service
)
SELECT p.organization_id, o.name, p.service, p.served, p.contacted, p.sessions, p.hours
FROM programs p JOIN organizations o ON o.id = p.organization_id
ORDER BY o.name, p.service
""")


def reach(district_id: int, year: int, organization_id: int | None = None) -> list[Reach]:
    """Each program's reach in the district's school year (the whole year), from its
    contacts, in one statement; by organization name and service. Unprotected: publish
    it through `protect_reach`."""
    min_hours = db.session.scalar(sa.select(Organization.served_min_hours).where(Organization.id == district_id))
    rows = db.session.execute(REACH_SQL, {"district_id": district_id, "year": year, "organization_id": organization_id,
                                          "min_minutes": 60 * (min_hours or 10)})
    return [Reach(*row) for row in rows]


def protect_reach(rows: list[Reach], minimum_n: int) -> list[Reach]:
    """Reach as it may be published: a count of 1 to minimum n - 1 students is hidden, and
    with it the sessions and hours of a program with so few students contacted; the served
    count is hidden too when the students contacted but not served are that few."""
    def small(n: int | None) -> bool:
        return n is not None and 0 < n < minimum_n

    shown = []
    for r in rows:
        if small(r.contacted):
            r = replace(r, contacted=None, sessions=None, hours=None, served=None)
        elif small(r.served) or small(r.contacted - r.served):
            r = replace(r, served=None)
        shown.append(r)
    return shown


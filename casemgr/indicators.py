"""Risk indicators and tiers, computed set-based in SQL for all students at once (SPEC §5).

One INSERT … SELECT per district and school year computes every student's row of
`student_indicators` from the imported records, using the district's newest threshold
settings; each row keeps its "as of" date and the settings it used.

The students of a school year are those enrolled in it, in the grade of their (last)
stay that year, and, while they have no stay in a later year, those with none that year
(a student imported without an entry date); a student who left the district's schools
before the year began has none of its rows.

Definitions (defaults in ThresholdSettings):
- days enrolled: instructional calendar days of the student's school within each
  enrollment's entry and exit dates, up to the as-of date;
- days absent: excused, unexcused and out-of-school-suspension days up to the as-of
  date (bits counted in the student's attendance_years row); the attendance rate is
  (enrolled - absent) / enrolled;
- chronic absence: absent ≥ 10% of enrolled days once enrolled ≥ 10 days; severe ≥ 20%;
- course failures: sections with a failing term or final mark this year; a failing mark
  in English or math is flagged;
- 9th grade on track (grade 9): at most 1 failing semester or final mark in a core
  subject, and on course for ≥ 5 credits (credits earned in final marks plus the credits
  of sections in progress without a failing mark);
- credits on track (grades 10–12): credits earned (past years and this year's final
  marks) ≥ the schedule for the end of the previous grade (of this grade once the
  school year is over);
- behavior: one or more suspensions (in or out of school, or expulsion) this year;
- FAFSA (grade 12): off track if not complete by the district's date;
- tier: 3 if severe chronic absence or two or more indicators off track; 2 if one; else 1.
"""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import g, has_request_context

from casemgr import postsecondary
from casemgr.clock import today as default_today
from casemgr.extensions import db
from casemgr.models import IndicatorMonth, Organization, SchoolYear, StoredCube, Student, ThresholdSettings
from casemgr.models.enums import OrgKind


@dataclass(frozen=True)
class RecomputeResult:
    district_id: int
    students: int
    school_year: int
    as_of: date
    settings_version: int


# Days enrolled and days absent up to :as_of in the school year (:year_id, :year_start,
# :year_end) of the students in the relation `pupils` (an `id` column): shared by the
# recompute and the attendance rate on an earlier day (reads/changes.py).
ENROLLED_DAYS = """
    SELECT se.student_id, count(DISTINCT cd.day) AS days
    FROM school_enrollments se
    JOIN pupils p ON p.id = se.student_id
    JOIN calendar_days cd
      ON cd.school_id = se.school_id AND cd.instructional
     AND cd.day >= se.entry_date AND cd.day <= LEAST(COALESCE(se.exit_date, :as_of), :as_of)
     AND cd.day BETWEEN :year_start AND :year_end
    GROUP BY se.student_id
"""
ABSENT_DAYS = """
    SELECT a.student_id,
           bit_count(substring(a.excused | a.unexcused | a.suspended
                               FROM 1 FOR GREATEST(LEAST(:as_of, :year_end) - a.first_day + 1, 0))) AS days
    FROM attendance_years a
    JOIN pupils p ON p.id = a.student_id
    WHERE a.school_year_id = :year_id
"""

# Every indicator of the students of a school year (`pupils`) as of :as_of, as the
# relation `counted`; written to the year's indicators (RECOMPUTE_SQL) or, as of a month's
# end, to the month's (MONTH_SQL).
INDICATORS_CTE = """
WITH year_grades AS (
    SELECT DISTINCT ON (se.student_id) se.student_id, se.grade
    FROM school_enrollments se WHERE se.school_year = :year
    ORDER BY se.student_id, se.entry_date DESC
),
later AS (
    SELECT DISTINCT se.student_id FROM school_enrollments se WHERE se.school_year > :year
),
pupils AS (
    SELECT s.id, coalesce(yg.grade, s.grade) AS grade, s.last_name, s.first_name
    FROM students s
    LEFT JOIN year_grades yg ON yg.student_id = s.id
    WHERE s.district_id = :district_id
      AND (s.left_on IS NULL OR s.left_on >= :year_start)
      AND (yg.student_id IS NOT NULL OR s.id NOT IN (SELECT student_id FROM later))
),
enrolled AS ({ENROLLED_DAYS}),
absent AS ({ABSENT_DAYS}),
marks AS (
    SELECT cm.student_id,
           count(DISTINCT cm.section_id) FILTER (WHERE cm.failing) AS failures,
           coalesce(bool_or(cm.failing AND s.subject IN ('english', 'math')), false) AS core_failure,
           count(*) FILTER (WHERE cm.failing AND cm.term IN ('S1', 'S2', 'FINAL')
                            AND s.subject IN ('english', 'math', 'science', 'social_studies')) AS core_semester_fs,
           coalesce(sum(cm.credits_earned) FILTER (WHERE cm.term = 'FINAL'), 0) AS final_credits
    FROM course_marks cm
    JOIN pupils p ON p.id = cm.student_id
    JOIN sections s ON s.id = cm.section_id
    WHERE cm.school_year = :year AND cm.recorded_on <= :as_of
    GROUP BY cm.student_id
),
projected AS (
    SELECT e.student_id,
           sum(CASE WHEN fin.credits_earned IS NOT NULL THEN fin.credits_earned
                    WHEN failed.section_id IS NOT NULL THEN 0
                    ELSE s.credits END) AS credits
    FROM section_enrollments e
    JOIN pupils p ON p.id = e.student_id AND p.grade = 9
    JOIN sections s ON s.id = e.section_id AND s.school_year = :year
    LEFT JOIN course_marks fin
      ON fin.student_id = e.student_id AND fin.section_id = e.section_id AND fin.term = 'FINAL'
     AND fin.recorded_on <= :as_of
    LEFT JOIN (SELECT DISTINCT student_id, section_id FROM course_marks
               WHERE failing AND school_year = :year AND recorded_on <= :as_of) failed
      ON failed.student_id = e.student_id AND failed.section_id = e.section_id
    WHERE e.exit_date IS NULL OR e.exit_date >= :as_of OR fin.credits_earned IS NOT NULL
    GROUP BY e.student_id
),
prior AS (
    SELECT cr.student_id, sum(cr.credits_earned) AS credits
    FROM credit_records cr JOIN pupils p ON p.id = cr.student_id
    WHERE cr.school_year < :year
    GROUP BY cr.student_id
),
suspended AS (
    SELECT d.student_id, count(*) AS n
    FROM discipline_incidents d JOIN pupils p ON p.id = d.student_id
    WHERE d.school_year = :year AND d.occurred_on <= :as_of
      AND d.action IN ('in_school_suspension', 'out_of_school_suspension', 'expulsion')
    GROUP BY d.student_id
),
base AS (
    SELECT p.id AS student_id, p.grade, p.last_name, p.first_name,
           coalesce(en.days, 0) AS days_enrolled,
           LEAST(coalesce(ab.days, 0), coalesce(en.days, 0)) AS days_absent,
           coalesce(m.failures, 0) AS failures,
           coalesce(m.core_failure, false) AS core_failure,
           coalesce(m.core_semester_fs, 0) AS core_semester_fs,
           coalesce(pr.credits, 0) + coalesce(m.final_credits, 0) AS credits_earned,
           pj.credits AS projected_credits,
           coalesce(su.n, 0) AS suspensions,
           f.status AS fafsa_status
    FROM pupils p
    LEFT JOIN enrolled en ON en.student_id = p.id
    LEFT JOIN absent ab ON ab.student_id = p.id
    LEFT JOIN marks m ON m.student_id = p.id
    LEFT JOIN projected pj ON pj.student_id = p.id
    LEFT JOIN prior pr ON pr.student_id = p.id
    LEFT JOIN suspended su ON su.student_id = p.id
    LEFT JOIN fafsa_records f ON f.student_id = p.id AND f.school_year = :year
),
measured AS (
    SELECT b.*,
           CASE WHEN b.days_enrolled > 0
                THEN round((b.days_enrolled - b.days_absent)::numeric / b.days_enrolled, 4) END AS rate,
           b.days_enrolled >= :min_days AND b.days_absent >= :chronic * b.days_enrolled AS chronic,
           b.days_enrolled >= :min_days AND b.days_absent >= :severe * b.days_enrolled AS severe,
           CASE WHEN b.grade = 9 THEN b.core_semester_fs <= :ninth_max_fs
                                  AND coalesce(b.projected_credits, 0) >= :ninth_min_credits END AS ninth_on_track,
           CASE b.grade WHEN 10 THEN :credits_9 WHEN 11 THEN :credits_10 WHEN 12 THEN :credits_11 END AS expected_before,
           CASE b.grade WHEN 9 THEN :credits_9 WHEN 10 THEN :credits_10 WHEN 11 THEN :credits_11
                        WHEN 12 THEN :credits_12 END AS expected_after,
           CASE WHEN b.grade = 12 THEN :as_of >= :fafsa_deadline AND coalesce(b.fafsa_status, '') <> 'complete' END
               AS fafsa_off
    FROM base b
),
judged AS (
    SELECT m.*,
           CASE WHEN m.grade BETWEEN 10 AND 12 OR (m.grade = 9 AND :year_over)
                THEN CASE WHEN :year_over THEN m.expected_after ELSE m.expected_before END END AS credits_expected
    FROM measured m
),
counted AS (
    SELECT j.*,
           CASE WHEN j.credits_expected IS NOT NULL THEN j.credits_earned >= j.credits_expected END AS credits_ok,
           (j.chronic::int + (j.failures > 0)::int + (coalesce(j.ninth_on_track, true) = false)::int
            + (j.credits_expected IS NOT NULL AND j.credits_earned < j.credits_expected)::int
            + (j.suspensions > 0)::int + coalesce(j.fafsa_off, false)::int) AS off_track
    FROM judged j
)
""".replace("{ENROLLED_DAYS}", ENROLLED_DAYS).replace("{ABSENT_DAYS}", ABSENT_DAYS)

TIER_OF_COUNTED = "CASE WHEN c.severe OR c.off_track >= 2 THEN 3 WHEN c.off_track = 1 THEN 2 ELSE 1 END"

RECOMPUTE_SQL = sa.text(INDICATORS_CTE + """
INSERT INTO student_indicators (
    student_id, school_year, as_of, settings_id, days_enrolled, days_absent, attendance_rate,
    attendance_band, chronic_absence, severe_absence, course_failures, core_failure,
    ninth_grade_on_track, credits_earned, credits_expected, credits_on_track, suspensions,
    fafsa_status, fafsa_off_track, off_track_count, tier, sort_last_name, sort_first_name)
SELECT c.student_id, :year, :as_of, :settings_id, c.days_enrolled, c.days_absent, c.rate,
       CASE WHEN c.rate IS NULL THEN NULL
            WHEN c.rate >= :watch_below THEN 'on_track'
            WHEN c.rate >= :at_risk_below THEN 'watch'
            WHEN c.rate >= :critical_below THEN 'at_risk'
            ELSE 'critical' END,
       c.chronic, c.severe, c.failures, c.core_failure, c.ninth_on_track,
       CASE WHEN c.grade >= 9 THEN c.credits_earned END, c.credits_expected, c.credits_ok, c.suspensions,
       CASE WHEN c.grade = 12 THEN coalesce(c.fafsa_status, 'not_started') END, c.fafsa_off,
       c.off_track,
       {TIER},
       c.last_name, c.first_name
FROM counted c
ON CONFLICT (student_id, school_year) DO UPDATE SET
    as_of = excluded.as_of, settings_id = excluded.settings_id, computed_at = now(),
    days_enrolled = excluded.days_enrolled, days_absent = excluded.days_absent,
    attendance_rate = excluded.attendance_rate, attendance_band = excluded.attendance_band,
    chronic_absence = excluded.chronic_absence, severe_absence = excluded.severe_absence,
    course_failures = excluded.course_failures, core_failure = excluded.core_failure,
    ninth_grade_on_track = excluded.ninth_grade_on_track, credits_earned = excluded.credits_earned,
    credits_expected = excluded.credits_expected, credits_on_track = excluded.credits_on_track,
    suspensions = excluded.suspensions, fafsa_status = excluded.fafsa_status,
    fafsa_off_track = excluded.fafsa_off_track, off_track_count = excluded.off_track_count,
    tier = excluded.tier, sort_last_name = excluded.sort_last_name, sort_first_name = excluded.sort_first_name
""".replace("{TIER}", TIER_OF_COUNTED))

# the indicators as of a month's end within the current school year, for the reports'
# trend month by month (issue 15): the same computation, kept per month
MONTH_SQL = sa.text(INDICATORS_CTE + """
INSERT INTO indicator_months (
    student_id, school_year, month_end, settings_id, days_enrolled, chronic_absence, severe_absence,
    course_failures, core_failure, ninth_grade_on_track, credits_on_track, suspensions, fafsa_status, tier)
SELECT c.student_id, :year, :as_of, :settings_id, c.days_enrolled, c.chronic, c.severe, c.failures,
       c.core_failure, c.ninth_on_track, c.credits_ok, c.suspensions,
       CASE WHEN c.grade = 12 THEN coalesce(c.fafsa_status, 'not_started') END, {TIER}
FROM counted c
""".replace("{TIER}", TIER_OF_COUNTED))



# after the indicators: a history row for each student whose tier differs from the one
# recorded last on or before the as-of date (a second recompute on the same day corrects
# that day's row)
TIER_HISTORY_SQL = sa.text(
    """
INSERT INTO tier_history (student_id, school_year, since, tier)
SELECT si.student_id, si.school_year, :as_of, si.tier
FROM student_indicators si
JOIN students s ON s.id = si.student_id AND s.district_id = :district_id
WHERE si.school_year = :year
  AND si.tier IS DISTINCT FROM (
      SELECT h.tier FROM tier_history h
      WHERE h.student_id = si.student_id AND h.school_year = si.school_year AND h.since <= :as_of
      ORDER BY h.since DESC LIMIT 1)
ON CONFLICT (student_id, school_year, since) DO UPDATE SET tier = excluded.tier
"""
)


def current_settings(district_id: int) -> ThresholdSettings:
    """The district's newest threshold settings; version 1 (the defaults) when none."""
    settings = db.session.scalar(
        sa.select(ThresholdSettings)
        .where(ThresholdSettings.district_id == district_id)
        .order_by(ThresholdSettings.version.desc())
        .limit(1)
    )
    if settings is None:
        settings = ThresholdSettings(district_id=district_id, version=1)
        db.session.add(settings)
        db.session.flush()
    return settings


def school_year_for(district_id: int, as_of: date) -> SchoolYear | None:
    """The school year in progress on `as_of`, else the last one that began before it
    (read once per request)."""
    key = ("school_year_for", district_id, as_of)
    cache = g.setdefault("indicator_cache", {}) if has_request_context() else {}
    if key not in cache:
        # a day between a year already read and the day it was read for is in that year
        # (the caseload's change column asks for a day some weeks before today)
        known = (year for (name, *of), year in cache.items() if name == "school_year_for" and year is not None
                 and of[0] == district_id and year.starts_on <= as_of <= of[1])
        cache[key] = next(known, None) or _load_school_year(district_id, as_of)
    return cache[key]


def _load_school_year(district_id: int, as_of: date) -> SchoolYear | None:
    return db.session.scalar(_school_year_query(district_id, as_of))


def school_year_number(district_id: int, as_of: date) -> sa.ScalarSelect[int]:
    """The year (`SchoolYear.year`) of `school_year_for` as an expression, for a statement
    that would otherwise read it first (NULL without one)."""
    return _school_year_query(district_id, as_of).with_only_columns(SchoolYear.year).scalar_subquery()


def _school_year_query(district_id: int, as_of: date) -> sa.Select:
    return (
        sa.select(SchoolYear)
        .where(SchoolYear.district_id == district_id, SchoolYear.starts_on <= as_of)
        .order_by(SchoolYear.starts_on.desc())
        .limit(1)
    )


def recompute_district(district_id: int, as_of: date) -> RecomputeResult | None:
    year = school_year_for(district_id, as_of)
    if year is None:
        return None
    settings = current_settings(district_id)
    params = _parameters(district_id, year, settings, as_of)
    result = db.session.execute(RECOMPUTE_SQL, params)
    db.session.execute(TIER_HISTORY_SQL, {"district_id": district_id, "year": year.year, "as_of": as_of})
    # the reports' stored figures of the year were counted from the indicators just replaced
    db.session.execute(sa.delete(StoredCube).where(StoredCube.district_id == district_id,
                                                   StoredCube.school_year == year.year, StoredCube.month == 0))
    db.session.execute(sa.update(SchoolYear).where(SchoolYear.id == year.id).values(indicators_computed_at=sa.func.now()))
    # who graduated when may have changed with the records imported: the graduates'
    # postsecondary measures follow
    postsecondary.derive(district_id)
    return RecomputeResult(district_id, result.rowcount, year.year, as_of, settings.version)


def month_ends(year: SchoolYear, before: date) -> list[date]:
    """The last day of each month of the school year that ended before `before`."""
    ends, first = [], year.starts_on.replace(day=1)
    while True:
        end = first.replace(day=monthrange(first.year, first.month)[1])
        if end >= before or end > year.ends_on:
            return ends
        ends.append(end)
        first = end + timedelta(days=1)


def recompute_months(district_id: int, as_of: date) -> list[date]:
    """The indicators as of each ended month of the current school year (`IndicatorMonth`),
    one statement per month: the months not yet computed with the district's current
    settings, and the last ended one (records arrive late). Returns the months written."""
    year = school_year_for(district_id, as_of)
    if year is None:
        return []
    settings = current_settings(district_id)
    in_district = sa.select(Student.id).where(Student.district_id == district_id)
    current = set(db.session.scalars(
        sa.select(IndicatorMonth.month_end).distinct()
        .where(IndicatorMonth.school_year == year.year, IndicatorMonth.settings_id == settings.id,
               IndicatorMonth.student_id.in_(in_district))))
    ends = month_ends(year, as_of)
    due = [end for end in ends if end not in current or end == ends[-1]]
    for end in due:
        db.session.execute(sa.delete(IndicatorMonth).where(
            IndicatorMonth.school_year == year.year, IndicatorMonth.month_end == end,
            IndicatorMonth.student_id.in_(in_district)))
        db.session.execute(MONTH_SQL, _parameters(district_id, year, settings, end))
        db.session.execute(sa.delete(StoredCube).where(StoredCube.district_id == district_id,
                                                       StoredCube.school_year == year.year,
                                                       StoredCube.month == end.month))
    return due


def _parameters(district_id: int, year: SchoolYear, settings: ThresholdSettings, as_of: date) -> dict:
    return {
        "district_id": district_id,
        "as_of": as_of,
        "year": year.year,
        "year_id": year.id,
        "year_start": year.starts_on,
        "year_end": year.ends_on,
        "year_over": as_of >= year.ends_on,
        "settings_id": settings.id,
        "min_days": settings.min_enrolled_days,
        "chronic": settings.chronic_absence_rate,
        "severe": settings.severe_absence_rate,
        "watch_below": settings.band_watch_below,
        "at_risk_below": settings.band_at_risk_below,
        "critical_below": settings.band_critical_below,
        "ninth_max_fs": settings.ninth_grade_max_core_failures,
        "ninth_min_credits": settings.ninth_grade_min_credits,
        "credits_9": settings.credits_grade9,
        "credits_10": settings.credits_grade10,
        "credits_11": settings.credits_grade11,
        "credits_12": settings.credits_grade12,
        "fafsa_deadline": fafsa_deadline(year, settings),
    }


def fafsa_deadline(year: SchoolYear, settings: ThresholdSettings) -> date:
    """The district's FAFSA date (default 1 March) in the spring of the school year."""
    spring, month = year.year + 1, settings.fafsa_deadline_month
    return date(spring, month, min(settings.fafsa_deadline_day, monthrange(spring, month)[1]))


def recompute(district_id: int | None = None, as_of: date | None = None) -> list[RecomputeResult]:
    """Recompute every student's indicators (of one district, or of all) and commit."""
    as_of = as_of or default_today()
    districts = [district_id] if district_id is not None else list(
        db.session.scalars(sa.select(Organization.id).where(Organization.kind == OrgKind.DISTRICT).order_by(Organization.id))
    )
    results = [r for d in districts if (r := recompute_district(d, as_of)) is not None]
    present = as_of == default_today()
    if present:  # the ended months of this school year too
        for result in results:
            recompute_months(result.district_id, as_of)
    # every row was rewritten: fresh statistics keep the caseload's plans right
    db.session.execute(sa.text("ANALYZE student_indicators"))
    db.session.execute(sa.text("ANALYZE tier_history"))
    db.session.commit()
    if present:  # the reports' figures, counted again now rather than by their next reader
        from casemgr import outcomes
        from casemgr.reads import report_figures

        for result in results:
            report_figures.warm(result.district_id)
            outcomes.rebuild(result.district_id, as_of)  # the outcomes by program, of the records just counted
        db.session.commit()
    return results

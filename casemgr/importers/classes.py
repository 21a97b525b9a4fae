"""Kinds `calendar`, `sections` and `section_enrollments`."""
from __future__ import annotations

from casemgr.importers.base import Column, Context, Kind
from casemgr.importers.lookups import unknown_school, unknown_school_year, unknown_section, unknown_student, upsert
from casemgr.models.enums import Subject

SECTION_TERMS = ("year", "S1", "S2", "Q1", "Q2", "Q3", "Q4")

CALENDAR_COLUMNS = [
    Column("school_code", max_length=32),
    Column("date", "date"),
    Column("instructional", "bool", required=False),
]


def calendar_checks(ctx: Context) -> list[str]:
    return [
        unknown_school(),
        """SELECT row_no, 'date', format('%%s is not between 1990 and five years from now', date) FROM import_typed
           WHERE date NOT BETWEEN '1990-01-01' AND %(today)s::date + 1826""",
    ]


def merge_calendar(ctx: Context) -> None:
    # a school year starts on 1 August; days outside the district's known years extend or create them
    ctx.cur.execute("""
        INSERT INTO school_years (district_id, year, starts_on, ends_on)
        SELECT %(district)s, y, min(date), max(date) FROM (
            SELECT date, (extract(year FROM date) - CASE WHEN extract(month FROM date) >= 8 THEN 0 ELSE 1 END)::int AS y
            FROM import_typed t WHERE NOT EXISTS (
                SELECT 1 FROM school_years s WHERE s.district_id = %(district)s AND t.date BETWEEN s.starts_on AND s.ends_on)
        ) d GROUP BY y HAVING min(date) < max(date)
        ON CONFLICT (district_id, year) DO UPDATE SET
            starts_on = LEAST(school_years.starts_on, EXCLUDED.starts_on),
            ends_on = GREATEST(school_years.ends_on, EXCLUDED.ends_on)""", {"district": ctx.district_id})
    upsert(ctx, "calendar_days", ["school_id", "day", "school_year", "instructional"], """
        SELECT o.id, t.date, y.year, coalesce(t.instructional, true)
        FROM import_typed t
        JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s
        JOIN school_years y ON y.district_id = %(district)s AND t.date BETWEEN y.starts_on AND y.ends_on""",
           ["school_id", "day"])


def calendar_year_check(ctx: Context) -> list[str]:
    return calendar_checks(ctx) + [
        """SELECT t.row_no, 'date', format('%%s is the only day of its school year in the file; add the year''s other days', t.date)
           FROM import_typed t WHERE NOT EXISTS (
               SELECT 1 FROM school_years s WHERE s.district_id = %(district)s AND t.date BETWEEN s.starts_on AND s.ends_on)
             AND NOT EXISTS (SELECT 1 FROM import_typed o WHERE o.date <> t.date
               AND extract(year FROM o.date - interval '7 months') = extract(year FROM t.date - interval '7 months'))""",
    ]


CALENDAR = Kind(
    "calendar", "School calendar", CALENDAR_COLUMNS, ["school_code", "date"], calendar_year_check, merge_calendar,
    description="One row per school day of each school; non-instructional days (holidays) count as no enrolled day.",
)

SECTION_COLUMNS = [
    Column("school_code", max_length=32),
    Column("school_year", "int", low=1990, high=2100),
    Column("section_id", max_length=40),
    Column("course_code", max_length=40),
    Column("course_title", max_length=200),
    Column("subject", "enum", values=tuple(Subject)),
    Column("term", "enum", required=False, values=SECTION_TERMS),
    Column("credits", "decimal", required=False, low=0, high=10),
    Column("teacher_email", required=False, max_length=254),
]


def section_checks(ctx: Context) -> list[str]:
    return [
        unknown_school(),
        unknown_school_year(),
        """SELECT t.row_no, 'teacher_email', format('no teacher of this school has the email %%s', t.teacher_email)
           FROM import_typed t JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s
           LEFT JOIN users u ON u.email = lower(t.teacher_email) AND u.role = 'teacher' AND u.organization_id = o.id
           WHERE t.teacher_email IS NOT NULL AND u.id IS NULL""",
    ]


def merge_sections(ctx: Context) -> None:
    upsert(ctx, "sections", ["school_id", "school_year", "local_id", "course_code", "course_title", "subject", "term",
                             "credits", "teacher_id"], """
        SELECT o.id, t.school_year, t.section_id, t.course_code, t.course_title, t.subject, coalesce(t.term, 'year'),
               coalesce(t.credits, 1.00), u.id
        FROM import_typed t JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s
        LEFT JOIN users u ON u.email = lower(t.teacher_email) AND u.role = 'teacher' AND u.organization_id = o.id""",
           ["school_id", "school_year", "local_id"])


SECTIONS = Kind(
    "sections", "Class sections", SECTION_COLUMNS, ["school_code", "school_year", "section_id"], section_checks,
    merge_sections, description="One row per class section; the teacher of record is matched by email.",
)

ENROLLMENT_COLUMNS = [
    Column("school_code", max_length=32),
    Column("school_year", "int", low=1990, high=2100),
    Column("section_id", max_length=40),
    Column("state_id", max_length=32),
    Column("entry_date", "date"),
    Column("exit_date", "date", required=False),
]


def enrollment_checks(ctx: Context) -> list[str]:
    return [
        unknown_school(), unknown_student(), unknown_section(),
        """SELECT row_no, 'exit_date', 'the exit date is before the entry date' FROM import_typed WHERE exit_date < entry_date""",
        """SELECT t.row_no, 'entry_date', format('%%s is outside school year %%s', t.entry_date, t.school_year)
           FROM import_typed t JOIN school_years y ON y.district_id = %(district)s AND y.year = t.school_year
           WHERE t.entry_date NOT BETWEEN y.starts_on AND y.ends_on""",
    ]


def merge_enrollments(ctx: Context) -> None:
    upsert(ctx, "section_enrollments", ["section_id", "student_id", "entry_date", "exit_date"], """
        SELECT c.id, s.id, t.entry_date, t.exit_date
        FROM import_typed t
        JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s
        JOIN sections c ON c.school_id = o.id AND c.school_year = t.school_year AND c.local_id = t.section_id
        JOIN students s ON s.state_id = t.state_id AND s.district_id = %(district)s""", ["section_id", "student_id"])


SECTION_ENROLLMENTS = Kind(
    "section_enrollments", "Section enrollments", ENROLLMENT_COLUMNS,
    ["school_code", "school_year", "section_id", "state_id"], enrollment_checks, merge_enrollments,
    description="One row per student in a section; the teacher of record then sees the student.",
)

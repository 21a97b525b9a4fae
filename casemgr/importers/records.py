"""Kinds `marks`, `credits`, `assessments`, `fafsa` and `discipline`."""
from __future__ import annotations

from casemgr.importers.base import Column, Context, Kind
from casemgr.importers.lookups import (
    in_future, outside_school_year, unknown_school, unknown_school_year, unknown_section, unknown_student, upsert,
)
from casemgr.models.enums import DisciplineAction, FafsaState

STUDENT = "JOIN students s ON s.state_id = t.state_id AND s.district_id = %(district)s"
SCHOOL = "JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s"
YEAR_OF = "JOIN school_years y ON y.district_id = %(district)s AND t.{0} BETWEEN y.starts_on AND y.ends_on"
CREDITS_CHECK = """SELECT row_no, 'credits_earned', format('%%s credits earned is more than the %%s attempted', credits_earned, credits_attempted)
    FROM import_typed WHERE credits_earned > credits_attempted"""
# a mark fails when the file says so, or (left blank) when it is F, E, U, NC or a number below 60
FAILING = """coalesce(t.failing, upper(t.mark) IN ('F', 'E', 'U', 'NC', 'FAIL')
    OR (t.mark ~ '^\\d{1,3}(\\.\\d+)?$' AND t.mark::numeric < 60))"""

MARK_COLUMNS = [
    Column("state_id", max_length=32),
    Column("school_code", max_length=32),
    Column("school_year", "int", low=1990, high=2100),
    Column("section_id", max_length=40),
    Column("term", "enum", values=("Q1", "Q2", "Q3", "Q4", "S1", "S2", "FINAL")),
    Column("mark", max_length=8),
    Column("failing", "bool", required=False),
    Column("credits_attempted", "decimal", required=False, low=0, high=10),
    Column("credits_earned", "decimal", required=False, low=0, high=10),
    Column("recorded_on", "date"),
]


def mark_checks(ctx: Context) -> list[str]:
    return [unknown_student(), unknown_school(), unknown_section(), in_future("recorded_on"), CREDITS_CHECK]


def merge_marks(ctx: Context) -> None:
    upsert(ctx, "course_marks", ["student_id", "section_id", "term", "school_year", "mark", "failing",
                                 "credits_attempted", "credits_earned", "recorded_on"], f"""
        SELECT s.id, c.id, t.term, t.school_year, t.mark, {FAILING}, coalesce(t.credits_attempted, 0),
               coalesce(t.credits_earned, 0), t.recorded_on
        FROM import_typed t {STUDENT} {SCHOOL}
        JOIN sections c ON c.school_id = o.id AND c.school_year = t.school_year AND c.local_id = t.section_id""",
           ["student_id", "section_id", "term"])


MARKS = Kind(
    "marks", "Course marks and credits", MARK_COLUMNS, ["state_id", "school_code", "school_year", "section_id", "term"],
    mark_checks, merge_marks, description="Term and final marks; final marks carry the credits earned.",
)

CREDIT_COLUMNS = [
    Column("state_id", max_length=32),
    Column("school_year", "int", low=1990, high=2100),
    Column("grade", "int", low=6, high=12),
    Column("credits_attempted", "decimal", low=0, high=100),
    Column("credits_earned", "decimal", low=0, high=100),
]


def credit_checks(ctx: Context) -> list[str]:
    return [unknown_student(), CREDITS_CHECK]


def merge_credits(ctx: Context) -> None:
    upsert(ctx, "credit_records", ["student_id", "school_year", "grade", "credits_attempted", "credits_earned"], f"""
        SELECT s.id, t.school_year, t.grade, t.credits_attempted, t.credits_earned FROM import_typed t {STUDENT}""",
           ["student_id", "school_year"])


CREDITS = Kind(
    "credits", "Prior-year credits", CREDIT_COLUMNS, ["state_id", "school_year"], credit_checks, merge_credits,
    description="The transcript summary of past school years: credits attempted and earned per year.",
)

ASSESSMENT_COLUMNS = [
    Column("state_id", max_length=32),
    Column("test_code", max_length=40),
    Column("administered_on", "date"),
    Column("subject", max_length=40),
    Column("scale_score", "int", required=False, low=0, high=100000),
    Column("performance_level", "int", required=False, low=1, high=4),
]


def assessment_checks(ctx: Context) -> list[str]:
    return [unknown_student(), in_future("administered_on"), outside_school_year("administered_on")]


def merge_assessments(ctx: Context) -> None:
    upsert(ctx, "assessments", ["student_id", "test_code", "administered_on", "school_year", "subject", "scale_score",
                                "performance_level"], f"""
        SELECT s.id, t.test_code, t.administered_on, y.year, t.subject, t.scale_score, t.performance_level
        FROM import_typed t {STUDENT} {YEAR_OF.format("administered_on")}""", ["student_id", "test_code", "administered_on"])


ASSESSMENTS = Kind(
    "assessments", "Assessments", ASSESSMENT_COLUMNS, ["state_id", "test_code", "administered_on"], assessment_checks,
    merge_assessments, feeds_indicators=False, description="Test scores and performance levels (1–4).",
)

FAFSA_COLUMNS = [
    Column("state_id", max_length=32),
    Column("school_year", "int", low=1990, high=2100),
    Column("status", "enum", values=tuple(FafsaState)),
    Column("status_date", "date"),
]


def fafsa_checks(ctx: Context) -> list[str]:
    return [unknown_student(), unknown_school_year(), in_future("status_date")]


def merge_fafsa(ctx: Context) -> None:
    upsert(ctx, "fafsa_records", ["student_id", "school_year", "status", "status_on"], f"""
        SELECT s.id, t.school_year, t.status, t.status_date FROM import_typed t {STUDENT}""", ["student_id", "school_year"])


FAFSA = Kind(
    "fafsa", "FAFSA status", FAFSA_COLUMNS, ["state_id", "school_year"], fafsa_checks, merge_fafsa,
    description="A senior's FAFSA status for a school year.",
)

DISCIPLINE_COLUMNS = [
    Column("school_code", max_length=32),
    Column("incident_code", max_length=40),
    Column("state_id", max_length=32),
    Column("occurred_on", "date"),
    Column("incident_type", max_length=60),
    Column("action", "enum", values=tuple(DisciplineAction)),
    Column("days", "decimal", required=False, low=0, high=365),
    Column("description", required=False, max_length=2000),
]


def discipline_checks(ctx: Context) -> list[str]:
    return [unknown_school(), unknown_student(), in_future("occurred_on"), outside_school_year("occurred_on")]


def merge_discipline(ctx: Context) -> None:
    upsert(ctx, "discipline_incidents", ["student_id", "school_id", "incident_code", "occurred_on", "school_year",
                                         "incident_type", "action", "days", "description"], f"""
        SELECT s.id, o.id, t.incident_code, t.occurred_on, y.year, t.incident_type, t.action, coalesce(t.days, 0), t.description
        FROM import_typed t {STUDENT} {SCHOOL} {YEAR_OF.format("occurred_on")}""", ["school_id", "incident_code", "student_id"])


DISCIPLINE = Kind(
    "discipline", "Discipline incidents", DISCIPLINE_COLUMNS, ["school_code", "incident_code", "state_id"],
    discipline_checks, merge_discipline, description="Incidents and the action taken; suspensions feed the behavior indicator.",
)

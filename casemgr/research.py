"""What a research project may receive (issue 16): the fixed catalogue of casemgr's
fields and indicators a district admin approves variables from, one row per student and
school year. The quasi-identifiers are those an outsider could know of a student (their
school, grade, subgroups and year of birth): a de-identified file generalizes them until
every combination covers enough students."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    key: str
    label: str
    quasi_identifier: bool = False  # known to outsiders: generalized in a de-identified file


VARIABLES: dict[str, Variable] = {v.key: v for v in (
    Variable("school", "School", quasi_identifier=True),
    Variable("grade", "Grade", quasi_identifier=True),
    Variable("gender", "Gender", quasi_identifier=True),
    Variable("ethnicity", "Race and ethnicity", quasi_identifier=True),
    Variable("low_income", "Low income", quasi_identifier=True),
    Variable("english_learner", "English learner", quasi_identifier=True),
    Variable("disability", "Disability", quasi_identifier=True),
    Variable("birth_year", "Year of birth", quasi_identifier=True),
    Variable("days_enrolled", "Days enrolled"),
    Variable("attendance_rate", "Attendance rate"),
    Variable("chronic_absence", "Chronically absent (10% or more of enrolled days missed)"),
    Variable("severe_absence", "Severely chronically absent (20% or more)"),
    Variable("course_failures", "Courses failed"),
    Variable("core_failure", "Failing English or math"),
    Variable("ninth_grade_on_track", "9th grade on track"),
    Variable("credits_on_track", "On track in credits"),
    Variable("fafsa_status", "FAFSA status (seniors)"),
    Variable("suspensions", "Suspensions"),
    Variable("tier", "Tier of support"),
)}


def labels(keys) -> list[str]:
    """The labels of `keys`, in the catalogue's order."""
    return [v.label for key, v in VARIABLES.items() if key in set(keys)]

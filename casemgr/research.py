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
    # a graduate's postsecondary outcomes, on the row of their senior year (the Clearinghouse)
    Variable("enrolled_fall", "Graduates: enrolled in college the fall after graduating"),
    Variable("enrolled_within_year", "Graduates: enrolled in college within a year"),
    Variable("persisted", "Graduates: enrolled again the second fall"),
    Variable("completed_degree", "Graduates: completed a college degree"),
)}
# a graduate's four postsecondary measures (`casemgr.postsecondary`), named as stored
POSTSECONDARY = ("enrolled_fall", "enrolled_within_year", "persisted", "completed_degree")


def labels(keys) -> list[str]:
    """The labels of `keys`, in the catalogue's order."""
    return [v.label for key, v in VARIABLES.items() if key in set(keys)]


def _family_labels() -> dict[str, object]:
    from flask_babel import lazy_gettext as _l

    return {
        "school": _l("School"), "grade": _l("Grade"), "gender": _l("Gender"),
        "ethnicity": _l("Race and ethnicity"), "low_income": _l("Whether the family has a low income"),
        "english_learner": _l("Whether the student is learning English"),
        "disability": _l("Whether the student has a disability"), "birth_year": _l("Year of birth (not the date)"),
        "days_enrolled": _l("Days enrolled"), "attendance_rate": _l("Share of school days attended"),
        "chronic_absence": _l("Whether the student missed one school day in ten or more"),
        "severe_absence": _l("Whether the student missed one school day in five or more"),
        "course_failures": _l("Number of courses failed"),
        "core_failure": _l("Whether the student is failing English or math"),
        "ninth_grade_on_track": _l("Whether a 9th grader is on track to graduate"),
        "credits_on_track": _l("Whether the student has the credits expected by now"),
        "fafsa_status": _l("Whether a senior completed the college financial aid form (FAFSA)"),
        "suspensions": _l("Number of suspensions"), "tier": _l("How much extra support the school gives"),
        "enrolled_fall": _l("For graduates: whether they started college the fall after graduating"),
        "enrolled_within_year": _l("For graduates: whether they started college within a year"),
        "persisted": _l("For graduates: whether they were still in college the second fall"),
        "completed_degree": _l("For graduates: whether they earned a college degree"),
    }


def family_labels(keys) -> list:
    """What a project receives, in the words the family page uses (both languages)."""
    words = _family_labels()
    return [words[key] for key in VARIABLES if key in set(keys)]

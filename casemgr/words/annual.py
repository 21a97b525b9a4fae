"""The words of the annual partnership report, in the reader's language (English or
Spanish): its content is data (`casemgr.reads.annual_report`), worded when shown."""
from __future__ import annotations

from flask_babel import format_decimal, gettext, lazy_gettext as _l

MEASURE_TITLES = {
    "chronic_absence": _l("Chronic absence (10% or more of school days missed)"),
    "severe_absence": _l("Severe chronic absence (20% or more missed)"),
    "course_failure": _l("Failing at least one course"),
    "core_failure": _l("Failing English or math"),
    "ninth_grade_on_track": _l("9th graders on track"),
    "credits_on_track": _l("On track in credits"),
    "fafsa_complete": _l("Seniors with a complete FAFSA"),
    "suspended": _l("Suspended at least once"),
    "tier_2": _l("Needing targeted support (tier 2)"),
    "tier_3": _l("Needing intensive support (tier 3)"),
    "enrolled_fall": _l("Graduates in college the fall after graduating"),
    "enrolled_within_year": _l("Graduates in college within a year"),
    "persisted": _l("Graduates still in college the second fall"),
    "completed_degree": _l("Graduates who earned a college degree"),
}
SUBGROUP_TITLES = {
    "low_income": _l("Family income"),
    "english_learner": _l("English learners"),
    "disability": _l("Students with disabilities"),
    "gender": _l("Gender"),
    "ethnicity": _l("Race and ethnicity"),
}
YES_NO = {
    "low_income": (_l("Low income"), _l("Not low income")),
    "english_learner": (_l("English learners"), _l("Not English learners")),
    "disability": (_l("With a disability"), _l("Without a disability")),
}
VALUES = {
    "female": _l("Female"), "male": _l("Male"), "nonbinary": _l("Nonbinary"),
    "Hispanic or Latino": _l("Hispanic or Latino"), "White": _l("White"),
    "Black or African American": _l("Black or African American"), "Asian": _l("Asian"),
    "Two or more races": _l("Two or more races"),
    "American Indian or Alaska Native": _l("American Indian or Alaska Native"),
    "Native Hawaiian or Pacific Islander": _l("Native Hawaiian or Pacific Islander"),
}
SERVICES = {
    "attendance_support": _l("attendance support"), "tutoring": _l("tutoring"), "mentoring": _l("mentoring"),
    "college_application": _l("college applications"), "fafsa_help": _l("FAFSA help"),
    "family_support": _l("family support"), "other": _l("other services"),
}
DIRECTIONS = {"better": _l("Better"), "worse": _l("Worse"), "same": _l("No change")}


def measure_title(key: str) -> str:
    return str(MEASURE_TITLES[key])


def subgroup_title(dim: str) -> str:
    return str(SUBGROUP_TITLES[dim])


def group_words(label: dict) -> str:
    dim, value = label["dim"], label["value"]
    if not dim:
        return gettext("All students")
    if value is None:
        return gettext("Not recorded")
    if dim in YES_NO:
        return str(YES_NO[dim][0 if value else 1])
    return str(VALUES.get(value, value))


def figure_words(figure: dict) -> str:
    """"25.3% of 120" ("25,3 % de 120"), a coded range, or * where not shown."""
    if figure["n"] is None:
        return "*"
    if figure["coded"] == "at_most":
        return gettext("≤ %(bound)s%% of %(n)s", bound=figure["bound"], n=figure["n"])
    if figure["coded"] == "at_least":
        return gettext("≥ %(bound)s%% of %(n)s", bound=figure["bound"], n=figure["n"])
    if not figure["n"]:
        return "–"
    rate = format_decimal(round(100 * figure["k"] / figure["n"], 1), format="0.0")
    return gettext("%(rate)s%% of %(n)s", rate=rate, n=format_decimal(figure["n"]))


def points_words(points: float | None) -> str:
    if points is None:
        return "—"
    return gettext("%(points)s points", points=format_decimal(points, format="+0.0;-0.0"))


def direction_words(direction: str | None) -> str:
    return str(DIRECTIONS[direction]) if direction else "—"


def program_words(line: dict) -> str:
    """"Northside Youth: tutoring" ("Northside Youth: tutoría")."""
    return f"{line['organization']}: {SERVICES.get(line['service'], line['service'])}"


def count_words(value: int | float | None) -> str:
    return "*" if value is None else format_decimal(value)


def register(app) -> None:
    for function in (measure_title, subgroup_title, group_words, figure_words, points_words, direction_words,
                     program_words, count_words):
        app.add_template_global(function, f"annual_{function.__name__}")

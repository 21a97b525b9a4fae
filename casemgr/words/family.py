"""The words of the family pages, in the reader's language: categories, roles, grades,
attendance and FAFSA states, services, consent states, and lists ("attendance, grades
and notes")."""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel.lists import format_list as babel_format_list
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from casemgr.models.enums import AttendanceStatus, Category, Role, Service

CATEGORY_WORDS = {
    Category.IDENTITY: _l("basic details (name, school, grade)"),
    Category.ATTENDANCE: _l("attendance"),
    Category.GRADES: _l("grades and credits"),
    Category.ASSESSMENTS: _l("test scores"),
    Category.BEHAVIOR: _l("behavior records"),
    Category.COLLEGE: _l("college and FAFSA"),
    Category.NOTES: _l("notes"),
    Category.SERVICES: _l("services and programs"),
    Category.POSTSECONDARY: _l("college enrollment after high school"),
}
ROLE_WORDS = {
    Role.DISTRICT_ADMIN: _l("district administrator"),
    Role.PRINCIPAL: _l("principal"),
    Role.COUNSELOR: _l("counselor"),
    Role.TEACHER: _l("teacher"),
    Role.PARTNER_ADMIN: _l("program administrator"),
    Role.YOUTH_WORKER: _l("youth worker"),
    Role.PARENT: _l("parent or guardian"),
    Role.STUDENT: _l("student"),
    Role.RESEARCHER: _l("researcher"),
}
ATTENDANCE_WORDS = {
    AttendanceStatus.PRESENT: _l("Present"),
    AttendanceStatus.TARDY: _l("Late"),
    AttendanceStatus.EXCUSED: _l("Excused absence"),
    AttendanceStatus.UNEXCUSED: _l("Unexcused absence"),
    AttendanceStatus.SUSPENDED: _l("Out-of-school suspension"),
}
FAFSA_WORDS = {
    "not_started": _l("not started"),
    "submitted": _l("submitted"),
    "incomplete": _l("incomplete (something is missing)"),
    "complete": _l("complete"),
}
SERVICE_WORDS = {
    Service.ATTENDANCE_SUPPORT: _l("help with coming to school every day"),
    Service.TUTORING: _l("tutoring"),
    Service.MENTORING: _l("mentoring"),
    Service.COLLEGE_APPLICATION: _l("help applying to college"),
    Service.FAFSA_HELP: _l("help with the FAFSA (the federal student aid form)"),
    Service.FAMILY_SUPPORT: _l("support for the family"),
    Service.OTHER: _l("other support"),
}
def categories_words(categories: Iterable[str]) -> str:
    """"attendance, grades and credits and notes" in the reader's language, in the
    order of SPEC §3."""
    locale = get_locale()
    return _categories_words(str(locale), frozenset(Category(c) for c in categories))


@lru_cache(maxsize=1024)
def _categories_words(locale: str, chosen: frozenset[Category]) -> str:
    """A family's log says the same few lists on every line: each is worded once per
    language (the translations are loaded once, at start)."""
    return babel_format_list([str(CATEGORY_WORDS[c]) for c in Category if c in chosen], locale=locale)


def role_words(role: str) -> str:
    return str(ROLE_WORDS[Role(role)])


def grade_words(grade: int) -> str:
    if grade == -1:
        return gettext("Pre-kindergarten")
    if grade == 0:
        return gettext("Kindergarten")
    return gettext("Grade %(grade)s", grade=grade)


def attendance_words(status: str) -> str:
    return str(ATTENDANCE_WORDS[AttendanceStatus(status)])


def service_words(service: str) -> str:
    return str(SERVICE_WORDS[Service(service)])



"""Template filters and globals: dates, numbers and labels in words."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, url_for
from flask_babel import format_date, format_datetime, format_decimal

from casemgr.models.enums import AttendanceStatus, Category
from casemgr.reads.indicator_cards import tier_sentence
from casemgr.words import annual as annual_words
from casemgr.words.consent_states import consent_words, consent_words_of
from casemgr.words.family import (
    attendance_words,
    categories_words,
    grade_words,
    role_words,
    service_words,
)

CATEGORY_LABELS = {
    Category.IDENTITY: "Identity",
    Category.ATTENDANCE: "Attendance",
    Category.GRADES: "Grades and credits",
    Category.ASSESSMENTS: "Assessments",
    Category.BEHAVIOR: "Behavior",
    Category.COLLEGE: "College and FAFSA",
    Category.NOTES: "Notes",
    Category.SERVICES: "Services",
    Category.POSTSECONDARY: "After high school",
}
ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: "Present",
    AttendanceStatus.TARDY: "Late",
    AttendanceStatus.EXCUSED: "Excused absence",
    AttendanceStatus.UNEXCUSED: "Unexcused absence",
    AttendanceStatus.SUSPENDED: "Out-of-school suspension",
}
BASIS_LABELS = {
    "school_official": "school official",
    "teacher_of_record": "teacher of record",
    "guardian": "parent or guardian",
    "self": "your own record",
}


def _in_district(moment: datetime) -> datetime:
    """A moment as the district's clock reads it (its days are the district's days)."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def datetime_filter(value: datetime | None) -> str:
    if value is None:
        return ""
    local = _in_district(value)
    return f"{local.day} {local:%B %Y, %H:%M}"


def service_label(service: str) -> str:
    return service.replace("_", " ").capitalize()


def longdate(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = _in_district(value)
    return f"{value.day} {value:%B %Y}"


def number(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal | float) and value == int(value):
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value.normalize())


def category_label(category: str) -> str:
    return CATEGORY_LABELS[Category(category)]


def attendance_label(status: str) -> str:
    return ATTENDANCE_LABELS[AttendanceStatus(status)]


def basis_label(basis: str | None) -> str:
    if basis and basis.startswith("consent:"):
        return "a family's consent to your organization"
    return BASIS_LABELS.get(basis or "", basis or "")


BAND_LABELS = {"on_track": "on track", "watch": "watch", "at_risk": "at risk", "critical": "critical"}


def band_label(band: str | None) -> str:
    return BAND_LABELS.get(band or "", "")


def grade_label(grade: int) -> str:
    return {-1: "Pre-K", 0: "Kindergarten"}.get(grade, f"Grade {grade}")


def local_date(value: date | datetime | None, style: str = "long") -> str:
    """A date in the reader's language ("March 3, 2027", "3 de marzo de 2027"); a
    datetime is first moved to the district's time zone."""
    return "" if value is None else format_date(value, style)


def local_datetime(value: datetime | None) -> str:
    """A moment in the reader's language, on the district's clock ("Dec 6, 2026, 1:05 PM")."""
    return "" if value is None else format_datetime(value, "medium")


_ANY_UUID = uuid.UUID(int=0)


def student_url(student_uuid: uuid.UUID) -> str:
    """url_for('students.show', student_id=...), for lists of many students: the route is
    built once per request and each row adds its id, instead of a URL build per row."""
    prefix = g.get("student_url_prefix")
    if prefix is None:
        prefix = g.student_url_prefix = url_for("students.show", student_id=_ANY_UUID).removesuffix(str(_ANY_UUID))
    return f"{prefix}{student_uuid}"


def init_app(app: Flask) -> None:
    app.add_template_global(student_url)
    annual_words.register(app)
    app.add_template_filter(local_date)
    app.add_template_filter(local_datetime)
    app.add_template_filter(format_decimal, "local_number")
    app.add_template_global(grade_words)
    app.add_template_global(attendance_words)
    app.add_template_global(role_words)
    app.add_template_global(categories_words)
    app.add_template_global(service_words)
    app.add_template_global(consent_words)
    app.add_template_global(consent_words_of)
    app.add_template_filter(longdate)
    app.add_template_filter(number)
    app.add_template_global(category_label)
    app.add_template_global(attendance_label)
    app.add_template_global(basis_label)
    app.add_template_global(band_label)
    app.add_template_global(tier_sentence)
    app.add_template_global(grade_label)
    app.add_template_filter(category_label, "category_label_filter")
    app.add_template_filter(service_label, "service_label_filter")
    app.add_template_filter(basis_label, "basis_label_filter")
    app.add_template_filter(datetime_filter, "datetime")

"""A child's record in plain language for the family pages (issue 6 item 1): the
stored indicators and attendance in words, and the notes meant for the family.

Nothing here decides access: callers pass a `StudentAccess` the policy has granted,
and each piece is shown only when its category is visible."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import format_date, format_decimal, format_percent, gettext, ngettext
from sqlalchemy.orm import joinedload

from casemgr import attendance, policy
from casemgr.extensions import db
from casemgr.models import CourseMark, Note, Section, Student, StudentIndicator, User
from casemgr.models.enums import ABSENT_STATUSES, AttendanceStatus, Category
from casemgr.reads.indicator_cards import TIER_CATEGORIES, current_indicator
from casemgr.words.family import FAFSA_WORDS

HOME_NOTES = 3
RECENT_MISSED_DAYS = 10
# what a child's card and record page show, for the disclosure log
SHOWN = (Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.COLLEGE, Category.NOTES)


@dataclass
class ChildSummary:
    access: policy.StudentAccess
    indicator: StudentIndicator | None
    tier_words: str | None = None
    facts: list[str] = field(default_factory=list)
    as_of: str | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def student(self) -> Student:
        return self.access.student

    @property
    def shown(self) -> dict[Category, str]:
        return {c: self.access.visible[c] for c in SHOWN if c in self.access.visible}


def children(user: User) -> list[Student]:
    """The user's children (or, for a student, themself), filtered in SQL."""
    return list(
        db.session.scalars(
            sa.select(Student)
            .options(joinedload(Student.school))
            .where(policy.family_children(user))
            .order_by(Student.last_name, Student.first_name, Student.id)
        )
    )


def tier_words(tier: int) -> str:
    """The tier in family words: never "tier 3", never alarming."""
    if tier == 1:
        return gettext("On track this year: no warning signs so far.")
    if tier == 2:
        return gettext("One area needs some attention this year.")
    return gettext("A few areas need attention this year. The school can plan support with you.")


def attendance_fact(row: StudentIndicator) -> str:
    if not row.days_enrolled:
        return gettext("No school days recorded yet this year.")
    return ngettext(
        "Missed %(absent)s of %(num)s school day this year (%(rate)s attendance).",
        "Missed %(absent)s of %(num)s school days this year (%(rate)s attendance).",
        row.days_enrolled,
        absent=format_decimal(row.days_absent),
        rate=format_percent(row.attendance_rate or 0),
    )


def summary_facts(access: policy.StudentAccess, row: StudentIndicator) -> list[str]:
    facts = []
    if access.can_see(Category.ATTENDANCE):
        facts.append(attendance_fact(row))
    if access.can_see(Category.GRADES):
        if row.course_failures:
            facts.append(ngettext("%(num)s course failed this year.", "%(num)s courses failed this year.",
                                  row.course_failures))
        else:
            facts.append(gettext("No failed courses this year."))
        if row.credits_expected is not None and row.credits_earned is not None:
            facts.append(gettext("%(earned)s credits earned; %(expected)s expected by the end of this grade.",
                                 earned=format_decimal(row.credits_earned), expected=format_decimal(row.credits_expected)))
    if access.can_see(Category.BEHAVIOR) and row.suspensions:
        facts.append(ngettext("%(num)s suspension this year.", "%(num)s suspensions this year.", row.suspensions))
    if access.can_see(Category.COLLEGE) and access.student.grade == 12:
        status = FAFSA_WORDS.get(row.fafsa_status or "not_started")
        facts.append(gettext("FAFSA (the federal student aid form): %(status)s.", status=status))
    return facts


def family_notes(access: policy.StudentAccess, limit: int | None = None) -> list[Note]:
    """The notes the family may read (the policy's note rule: family audience only)."""
    if not access.can_see(Category.NOTES):
        return []
    query = (
        sa.select(Note)
        .options(joinedload(Note.author), joinedload(Note.organization))
        .where(Note.student_id == access.student.id, policy.note_text_readable(access.user))
        .order_by(Note.created_at.desc(), Note.id.desc())
    )
    return list(db.session.scalars(query.limit(limit) if limit else query))


def summarize(access: policy.StudentAccess, notes: int | None = HOME_NOTES) -> ChildSummary:
    row = current_indicator(access.student, access.today)
    summary = ChildSummary(access, row, notes=family_notes(access, notes))
    if row is not None:
        if TIER_CATEGORIES <= access.visible.keys():
            summary.tier_words = tier_words(row.tier)
        summary.facts = summary_facts(access, row)
        summary.as_of = format_date(row.as_of, "long")
    return summary


@dataclass
class AttendanceDetail:
    counts: list[tuple[str, int]]  # (status, days), every status
    missed: list[tuple[date, str]]  # the latest days not present


def attendance_detail(access: policy.StudentAccess) -> AttendanceDetail | None:
    if not access.can_see(Category.ATTENDANCE):
        return None
    counts = attendance.counts_of(access.student.id)
    missed = attendance.days_of(access.student.id, [str(s) for s in ABSENT_STATUSES] + [str(AttendanceStatus.TARDY)],
                                limit=RECENT_MISSED_DAYS)
    return AttendanceDetail([(str(s), counts.get(str(s), 0)) for s in AttendanceStatus], missed)


def this_year_marks(access: policy.StudentAccess) -> list[tuple[CourseMark, Section]]:
    """The course marks of the school year of the stored indicators (or the latest)."""
    if not access.can_see(Category.GRADES):
        return []
    latest = sa.select(sa.func.max(CourseMark.school_year)).where(CourseMark.student_id == access.student.id)
    return list(
        db.session.execute(
            sa.select(CourseMark, Section)
            .join(Section, Section.id == CourseMark.section_id)
            .where(CourseMark.student_id == access.student.id, CourseMark.school_year == latest.scalar_subquery())
            .order_by(Section.course_title, CourseMark.term)
        ).all()
    )

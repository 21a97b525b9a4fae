"""The indicator cards of the student page: the stored indicators in words, and the
month-by-month attendance behind the chart (SPEC §5, §6)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from casemgr import attendance
from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import Student, StudentIndicator
from casemgr.models.enums import Category
from casemgr.policy import StudentAccess

TIER_CATEGORIES = frozenset({Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.COLLEGE})

# Absent days are read from the stored bit strings (bit i is first_day + i), so the
# query touches one attendance row per student and school year rather than a row per
# day. The student page's card reads one student; the partners' progress page a page of them.
MONTHLY_SQL = sa.text(
    f"""
SELECT se.student_id,
       date_trunc('month', cd.day)::date AS month,
       count(DISTINCT cd.day) AS enrolled,
       count(DISTINCT cd.day) FILTER (WHERE get_bit(ay.absent, cd.day - ay.first_day) = 1) AS absent
FROM school_enrollments se
JOIN calendar_days cd
  ON cd.school_id = se.school_id AND cd.instructional
 AND cd.day >= se.entry_date AND cd.day <= LEAST(COALESCE(se.exit_date, :as_of), :as_of)
 AND cd.day BETWEEN :year_start AND :year_end
LEFT JOIN (SELECT student_id, first_day, {attendance.ABSENT} AS absent
           FROM attendance_years WHERE student_id = ANY(CAST(:ids AS integer[]))) ay
  ON ay.student_id = se.student_id AND cd.day >= ay.first_day AND cd.day < ay.first_day + length(ay.absent)
WHERE se.student_id = ANY(CAST(:ids AS integer[]))
GROUP BY 1, 2
ORDER BY 1, 2
"""
)


@dataclass(frozen=True)
class Month:
    month: date
    enrolled: int
    absent: int

    @property
    def rate(self) -> float:
        return (self.enrolled - self.absent) / self.enrolled if self.enrolled else 0.0


# A month with fewer school days than this (the first days of the year, December's
# break) is drawn, outlined, but too short to compare: 4 days out of 4 is not a "best".
MIN_DAYS_TO_COMPARE = 10
CHART_HEIGHT = 100  # the bars' height at 100%, in the chart's units
THRESHOLD = 90  # chronic absence starts below a 90% attendance rate


@dataclass(frozen=True)
class AttendanceChart:
    """The monthly bars on a scale from `floor` to 100%: the floor is a round ten at
    least 5 points below the lowest month, and never above 80%, so 82% and 88% read as
    different and the 90% line always shows; the axis is labelled with it."""

    months: list[Month]
    min_days = MIN_DAYS_TO_COMPARE

    @property
    def floor(self) -> int:
        lowest = min((100 * m.rate for m in self.months), default=100.0)
        return max(0, min(THRESHOLD - 10, int((lowest - 5) // 10 * 10)))

    @property
    def ticks(self) -> list[int]:
        return [self.floor, THRESHOLD, 100]

    def height(self, rate: float) -> float:
        return round(max(0.0, 100 * rate - self.floor) / (100 - self.floor) * CHART_HEIGHT, 1)

    @property
    def short(self) -> list[Month]:
        return [m for m in self.months if m.enrolled < MIN_DAYS_TO_COMPARE]

    @property
    def best(self) -> Month | None:
        """The month with the best rate among those long enough to compare, if two are."""
        full = [m for m in self.months if m.enrolled >= MIN_DAYS_TO_COMPARE]
        return max(full, key=lambda m: (m.rate, m.enrolled)) if len(full) >= 2 else None


@dataclass
class Cards:
    indicator: StudentIndicator | None
    show_tier: bool
    show_attendance: bool
    show_grades: bool
    show_college: bool
    months: list[Month] = field(default_factory=list)

    @property
    def chart(self) -> AttendanceChart:
        return AttendanceChart(self.months)

    @property
    def any(self) -> bool:
        return self.indicator is not None and (
            self.show_tier or self.show_attendance or self.show_grades or self.show_college
        )


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def tier_reasons(row: StudentIndicator) -> list[str]:
    """Why the student is in their tier, in words."""
    reasons = []
    missed = percent(row.days_absent, row.days_enrolled)
    if row.severe_absence:
        reasons.append(f"severe chronic absence, {missed}% of days missed")
    elif row.chronic_absence:
        reasons.append(f"chronic absence, {missed}% of days missed")
    if row.course_failures:
        failures = f"{row.course_failures} course failure{'s' if row.course_failures != 1 else ''}"
        reasons.append(failures + (" (English or math)" if row.core_failure else ""))
    if row.ninth_grade_on_track is False:
        reasons.append("off track in 9th grade")
    if row.credits_on_track is False:
        reasons.append(f"behind on credits ({_number(row.credits_earned)} of {_number(row.credits_expected)})")
    if row.suspensions:
        reasons.append(f"{row.suspensions} suspension{'s' if row.suspensions != 1 else ''} this year")
    if row.fafsa_off_track:
        reasons.append(f"FAFSA not complete ({(row.fafsa_status or 'not_started').replace('_', ' ')})")
    return reasons


def tier_sentence(row: StudentIndicator) -> str:
    reasons = tier_reasons(row)
    return f"Tier {row.tier}: " + ("; ".join(reasons) if reasons else "on track")


def _number(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if value == int(value) else str(value.normalize())


def current_indicator(student: Student, today: date) -> StudentIndicator | None:
    """The student's indicators for the school year of `today`, if computed."""
    year = school_year_for(student.district_id, today)
    return db.session.get(StudentIndicator, (student.id, year.year)) if year is not None else None


def load_cards(access: StudentAccess) -> Cards:
    student = access.student
    year = school_year_for(student.district_id, access.today)
    indicator = db.session.get(StudentIndicator, (student.id, year.year)) if year is not None else None
    cards = Cards(
        indicator=indicator,
        show_tier=TIER_CATEGORIES <= access.visible.keys(),
        show_attendance=access.can_see(Category.ATTENDANCE),
        show_grades=access.can_see(Category.GRADES),
        show_college=access.can_see(Category.COLLEGE) and student.grade == 12,
    )
    if indicator is not None and cards.show_attendance:
        rows = db.session.execute(
            MONTHLY_SQL,
            {"ids": [student.id], "as_of": indicator.as_of, "year_start": year.starts_on, "year_end": year.ends_on},
        ).all()
        cards.months = [Month(month, enrolled, absent) for _, month, enrolled, absent in rows]
    return cards

"""The outcomes-by-program page (issue 17, item 4): the protected figures of
`casemgr.outcomes` for one reader's scope, in words, as a chart and as a table to export.

Nothing here decides access (`policy.outcome_scopes` does) or what may be shown
(`outcomes.protect` does); a hidden figure is shown as "—", a coded share as "≤ 5%".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from casemgr import outcomes
from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import Organization, ProgramOutcome
from casemgr.models.enums import Service
from casemgr.policy import OutcomeScope
from casemgr.reads.report_figures import minimum_n as district_minimum_n
from casemgr.services.casework import SERVICE_LABELS

HIDDEN = "—"
CAVEAT = ("This compares the students a program served with students who were alike when service began (the same "
          "school, grade and tier) but were not served by it. It is not proof that the program caused the difference: "
          "the students a program takes on may differ in ways no record shows.")
HEADER = [
    "Program", "Students served", "Hours given", "Matched", "No match", "Comparison students",
    "Attendance before, served", "Attendance after, served", "Attendance before, comparison",
    "Attendance after, comparison", "Change in attendance, served (points)",
    "Change in attendance, comparison (points)", "Failing courses per student since, served",
    "Failing courses per student since, comparison", "Share failing a course since, served",
    "Share failing a course since, comparison", "Tier change, served", "Tier change, comparison",
    "Share moved to a lower (better) tier, served", "Share moved to a lower (better) tier, comparison",
]


def program_name(organization: str, service: str) -> str:
    """"Northside Youth: tutoring", as the staff's pages name services."""
    return f"{organization}: {SERVICE_LABELS[Service(service)].lower()}"


def percent(value: Decimal | float | None) -> str:
    return HIDDEN if value is None else f"{float(value) * 100:.1f}%"


def points(value: Decimal | float | None) -> float | str:
    """A change of rate in percentage points, for a file: a number, or "—" when hidden."""
    return HIDDEN if value is None else round(float(value) * 100, 1)


def mean(value: Decimal | None) -> float | str:
    return HIDDEN if value is None else round(float(value), 2)


@dataclass(frozen=True)
class ProgramLine:
    """One program's protected figures, with its name."""

    organization: str
    service: str
    figures: outcomes.OutcomeFigures

    @property
    def name(self) -> str:
        return program_name(self.organization, self.service)

    def share(self, name: str) -> str:
        coded = self.figures.coded.get(name)
        if coded:
            return f"{'≤' if coded[0] == 'at_most' else '≥'} {coded[1]}%"
        return percent(self.figures.figures.get(name))

    def count(self, name: str) -> str:
        value = self.figures.figures.get(name)
        return HIDDEN if value is None else f"{value:,}"

    def number(self, name: str) -> int | Decimal | str:
        value = self.figures.figures.get(name)
        return HIDDEN if value is None else value

    @property
    def difference(self) -> float | None:
        """The served students' change less their comparison's, in points."""
        served, comparison = self.figures.attendance_change("served"), self.figures.attendance_change("comparison")
        return None if served is None or comparison is None else round(float(served - comparison) * 100, 1)

    def cells(self) -> list[object]:
        """The row of the exported table: numbers as numbers, a hidden figure as "—"."""
        f = self.figures
        return [
            self.name, self.number("served_n"), self.number("served_hours"), self.number("matched_n"),
            self.number("unmatched_n"), self.number("comparison_n"),
            self.share("attendance_before_served"), self.share("attendance_after_served"),
            self.share("attendance_before_comparison"), self.share("attendance_after_comparison"),
            points(f.attendance_change("served")), points(f.attendance_change("comparison")),
            mean(f.figures.get("failures_served")), mean(f.figures.get("failures_comparison")),
            self.share("failing_share_served"), self.share("failing_share_comparison"),
            mean(f.figures.get("tier_change_served")), mean(f.figures.get("tier_change_comparison")),
            self.share("tier_improved_served"), self.share("tier_improved_comparison"),
        ]


@dataclass(frozen=True)
class Bar:
    label: str
    side: str  # "served" or "comparison"
    y: int
    x: float  # the bar's left edge
    width: float
    words: str


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    bars: list[Bar]
    zero: float
    width: int
    height: int


@dataclass(frozen=True)
class OutcomePage:
    scope: OutcomeScope
    district: str
    school: str | None
    year: int | None
    lines: list[ProgramLine]
    minimum_n: int
    served_min_hours: int
    as_of: date | None
    computed_at: datetime | None
    years: list[int]

    def table(self) -> tuple[list[str], list[list[object]]]:
        return HEADER, [line.cells() for line in self.lines]

    def title(self) -> str:
        where = f", {self.school}" if self.school else ""
        return f"Outcomes by program, {self.district}{where}, school year {self.year}–{(self.year or 0) + 1}"

    def footnote(self) -> str:
        return (f"{CAVEAT} Served: at least {self.served_min_hours} hours of the program this school year. "
                f"No figure about fewer than {self.minimum_n} students is shown. As of {self.as_of}.")

    def chart(self) -> Chart | None:
        """The change in attendance rate of each program's served students beside their
        comparison's, as bars either side of zero."""
        shown = [(line, line.figures.attendance_change("served"), line.figures.attendance_change("comparison"))
                 for line in self.lines]
        shown = [(line, float(a) * 100, float(b) * 100) for line, a, b in shown if a is not None and b is not None]
        if not shown:
            return None
        largest = max(max(abs(a), abs(b)) for _, a, b in shown) or 1.0
        zero, half, bars, y = 420.0, 160.0, [], 10
        for line, served, comparison in shown:
            for side, value in (("served", served), ("comparison", comparison)):
                width = abs(value) / largest * half
                bars.append(Bar(line.name if side == "served" else "comparison", side, y,
                                zero if value >= 0 else zero - width, width, f"{value:+.1f} points"))
                y += 26
            y += 10
        return Chart(title=f"Change in attendance rate since service began, {self.year}–{(self.year or 0) + 1}",
                     description="; ".join(f"{line.name}: served {a:+.1f} points, comparison {b:+.1f} points"
                                           for line, a, b in shown),
                     bars=bars, zero=zero, width=680, height=y + 10)


def load(scope: OutcomeScope, today: date, year: int | None = None, school_id: int | None = None) -> OutcomePage:
    """The page of `scope`: `school_id` chooses a school's rows where the scope may read
    them (a principal always reads their own)."""
    district = db.session.get(Organization, scope.district_id)
    if scope.school_id is not None:
        school_id = scope.school_id
    elif not scope.by_school:
        school_id = None
    years = list(db.session.scalars(
        sa.select(ProgramOutcome.school_year).distinct().where(ProgramOutcome.district_id == scope.district_id)
        .order_by(ProgramOutcome.school_year.desc())))
    current = school_year_for(scope.district_id, today)
    if year not in years:
        year = current.year if current is not None and current.year in years else (years[0] if years else None)
    minimum = district_minimum_n(scope.district_id)
    lines: list[ProgramLine] = []
    as_of = computed_at = None
    if year is not None:
        shown = outcomes.protected(scope.district_id, year, scope.organization_id, school_id, minimum,
                                   audience="partner" if scope.organization_id is not None else "district")
        names = dict(db.session.execute(sa.select(Organization.id, Organization.name).where(
            Organization.id.in_({f.organization_id for f in shown} or {0}))).all())
        lines = sorted((ProgramLine(names[f.organization_id], f.service, f) for f in shown),
                       key=lambda line: (line.organization, line.service))
        if shown:
            as_of, computed_at = max(f.as_of for f in shown), max(f.computed_at for f in shown)
    school = db.session.get(Organization, school_id).name if school_id is not None else None
    # the threshold the figures were counted with (a year counted before a change keeps its own)
    min_hours = lines[0].figures.served_min_hours if lines else district.served_min_hours
    return OutcomePage(scope=scope, district=district.name, school=school, year=year, lines=lines, minimum_n=minimum,
                       served_min_hours=min_hours, as_of=as_of, computed_at=computed_at, years=years)

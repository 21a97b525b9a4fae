"""The report pages (SPEC §6, issue 15): a measure of a school year broken down by school,
grade or subgroup, or crossed school by subgroup, or its trend across the stored years,
for district administrators (their district), principals (their school) and researchers
(their district's aggregates). Every figure is read from the year's protected cube
(`casemgr.reads.report_figures`): what one page hides, no other page shows.

Report queries are aggregates over every student of a scope: on a busy district they
are the heaviest reads casemgr makes, so they read from the reports database when one
is configured (CASEMGR_REPORTS_DATABASE_URL, a read replica, every transaction
read-only) and from the main database otherwise. They read no student's record and
show none, so they write no disclosure log row.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.indicators import school_year_for
from casemgr.models import Organization, SchoolYear, Student, StudentIndicator, User
from casemgr.models.enums import Role
from casemgr.policy import active_agreements
from casemgr.reads import report_cube, report_figures
from casemgr.suppression import Figure, Key

REPORTERS = frozenset({Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.RESEARCHER})

BREAKDOWN_TITLES = {
    "": "No breakdown",
    "school": "School",
    "grade": "Grade",
    "gender": "Gender",
    "ethnicity": "Race and ethnicity",
    "low_income": "Low income",
    "english_learner": "English learner",
    "disability": "Disability",
}
YES_NO = {
    "low_income": ("Low income", "Not low income"),
    "english_learner": ("English learner", "Not an English learner"),
    "disability": ("With a disability", "Without a disability"),
}
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class Scope:
    district_id: int
    school_id: int | None = None  # a principal's school; None: the whole district

    def key(self, *pairs: tuple[str, Hashable]) -> Key:
        """The cube key of a group within the scope."""
        return ((("school", self.school_id),) if self.school_id else ()) + pairs


def scope_of(user: User, today: date) -> Scope | None:
    """The figures a reporter may see: a district admin's district, a principal's school,
    a researcher's district: the one their organization has a data-sharing agreement in
    force with (the first, when several); None for anyone else, or without one."""
    org = user.organization
    if org is None or user.role_enum not in REPORTERS:
        return None
    if user.role_enum is Role.PRINCIPAL:
        return Scope(org.district_id, org.id) if org.district_id else None
    if user.role_enum is Role.RESEARCHER:
        districts = sorted(a.district_id for a in active_agreements(org.id, today))
        return Scope(districts[0]) if districts else None
    return Scope(org.district_id or org.id)


@dataclass(frozen=True)
class Choice:
    """What the reader picked, as the query string carries it."""

    measure: str = "chronic_absence"
    by: str = "school"  # a breakdown, or "" for the total alone
    across: bool = False  # the breakdown crossed with the school (district scope)
    year: int | None = None  # None: the latest year
    view: str = ""  # "": one year; "trend": the stored years side by side; "months": this year month by month

    @property
    def trend(self) -> bool:
        """Figures side by side over time (the years, or this year's months)."""
        return self.view in ("trend", "months")

    @classmethod
    def read(cls, args: Mapping[str, str], scope: Scope) -> tuple[Choice, list[str]]:
        """The choice from request arguments, with what was wrong with them (each bad
        value replaced by its default)."""
        problems = []
        measure = args.get("measure", cls.measure)
        if measure not in report_cube.MEASURES:
            problems.append("That measure does not exist: showing chronic absence.")
            measure = cls.measure
        default_by = "grade" if scope.school_id else cls.by
        by = args.get("by", default_by)
        if by not in BREAKDOWN_TITLES or (by == "school" and scope.school_id):
            problems.append("That breakdown does not exist here: showing the default.")
            by = default_by
        across = args.get("across") == "school" and not scope.school_id and by not in ("", "school")
        year = None
        if args.get("year"):
            try:
                year = int(args["year"])
            except ValueError:
                problems.append("That school year is not a year: showing the latest.")
        view = args.get("view", "")
        if view not in ("", "trend", "months"):
            problems.append("That view does not exist: showing one school year.")
            view = ""
        return cls(measure, by, across and not view, year, view), problems

    def args(self, **changes) -> dict[str, str]:
        """The query string of this choice with `changes`: the address of a report."""
        values = {"measure": self.measure, "by": self.by, "across": "school" if self.across else None,
                  "year": self.year, "view": self.view or None}
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Group:
    key: Key
    label: str
    figure: Figure


@dataclass
class Report:
    scope: Scope
    choice: Choice
    measure: report_cube.Measure
    years: list[SchoolYear]  # every year with figures, oldest first
    year: SchoolYear | None
    minimum_n: int
    total: Group | None = None
    groups: list[Group] = field(default_factory=list)  # one year, by the breakdown
    # crossed: rows (schools) x columns (breakdown values), with the margins
    rows: list[tuple[str, Hashable]] = field(default_factory=list)
    columns: list[tuple[str, Hashable]] = field(default_factory=list)
    cells: dict[tuple[Hashable, Hashable], Figure] = field(default_factory=dict)
    row_totals: list[Group] = field(default_factory=list)  # each school's margin
    # trend: each group's figure in each period (the years, or this year's months)
    periods: list[str] = field(default_factory=list)
    series: list[tuple[str, list[Figure]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def stored_years(district_id: int) -> list[SchoolYear]:
    """The district's school years with indicators, oldest first."""
    with_figures = sa.exists().where(StudentIndicator.school_year == SchoolYear.year,
                                     StudentIndicator.student_id == Student.id, Student.district_id == district_id)
    return list(db.session.scalars(sa.select(SchoolYear).where(SchoolYear.district_id == district_id, with_figures)
                                   .order_by(SchoolYear.year)))


def build(user: User, args: Mapping[str, str], today: date) -> Report | None:
    """The report a reader asked for; None when they may see none."""
    scope = scope_of(user, today)
    if scope is None:
        return None
    choice, problems = Choice.read(args, scope)
    years = stored_years(scope.district_id)
    minimum = report_figures.minimum_n(scope.district_id)
    measure = report_cube.MEASURES[choice.measure]
    current = school_year_for(scope.district_id, today)
    year = next((y for y in years if y.year == choice.year), None)
    if choice.year is not None and year is None:
        problems.append("There are no figures for that school year: showing the latest.")
    year = year or next((y for y in reversed(years) if current is None or y.year <= current.year), None)
    report = Report(scope, choice, measure, years, year, minimum, problems=problems)
    if year is None:
        return report
    names = school_names(scope.district_id)
    parts = _parts(scope, choice)

    def figures(school_year: int, month_end: date | None = None) -> dict[Key, Figure]:
        return report_figures.measure_figures(scope.district_id, school_year, measure.key, minimum, month_end, parts)

    if choice.view == "months":
        ends = month_ends_stored(scope.district_id, year.year)
        cubes = [*(figures(year.year, end) for end in ends), figures(year.year)]
        latest = "to date" if current is not None and current.year == year.year else "at the year's end"
        report.periods = [*(f"end of {end:%B}" for end in ends), latest]
    elif choice.trend:
        cubes = [figures(y.year) for y in years]
        report.periods = [year_label(y) for y in years]
    if choice.trend:
        keys = [(), *(((choice.by, v),) for v in _values(choice.by, cubes, scope))] if choice.by else [()]
        report.series = [(_series_label(key, choice.by, names), [cube.get(scope.key(*key), _ABSENT) for cube in cubes])
                         for key in keys]
        return report
    cube = figures(year.year)
    report.total = Group(scope.key(), "All students", cube.get(scope.key(), _ABSENT))
    if not choice.by:
        return report
    values = _values(choice.by, [cube], scope)
    if choice.across:
        report.rows = [("school", s) for s in _values("school", [cube], scope)]
        report.columns = [(choice.by, v) for v in values]
        report.cells = {(r[1], c[1]): cube.get((r, c), _ABSENT) for r in report.rows for c in report.columns}
        report.groups = [Group(((choice.by, v),), group_label(choice.by, v, names), cube.get(((choice.by, v),), _ABSENT))
                         for v in values]
        report.row_totals = [Group((row,), group_label("school", row[1], names), cube.get((row,), _ABSENT))
                             for row in report.rows]
        return report
    report.groups = [Group(scope.key((choice.by, v)), group_label(choice.by, v, names),
                           cube.get(scope.key((choice.by, v)), _ABSENT)) for v in values]
    return report


_ABSENT = Figure(n=0, k=0)  # a group with no student that year


def _parts(scope: Scope, choice: Choice) -> list[tuple[str, ...]]:
    """The groupings a report shows: the scope's total and the breakdown's groups in it,
    and for a breakdown across the schools, the schools' totals and cells too."""
    within = (("school",) if scope.school_id else ())
    parts = [within, *([(*within, choice.by)] if choice.by else [])]
    if choice.across:
        parts += [("school",), ("school", choice.by)]
    return list(dict.fromkeys(parts))


def _series_label(key: Key, by: str, names: Mapping[int, str]) -> str:
    return "All students" if not key else group_label(by, key[0][1], names)


def _values(by: str, cubes: list[Mapping[Key, Figure]], scope: Scope) -> list[Hashable]:
    """The breakdown's values found in the cubes within the scope, in display order."""
    found = set()
    for cube in cubes:
        for key in cube:
            pairs = dict(key)
            if by in pairs and len(key) == (2 if scope.school_id else 1) and (
                    not scope.school_id or pairs.get("school") == scope.school_id):
                found.add(pairs[by])
    return sorted(found, key=lambda v: (v is None, str(type(v)), v if v is not None else 0))


def school_names(district_id: int) -> dict[int, str]:
    return dict(db.session.execute(sa.select(Organization.id, Organization.name)
                                   .where(Organization.district_id == district_id)).all())


def group_label(by: str, value: Hashable, names: Mapping[int, str]) -> str:
    if value is None:
        return NOT_RECORDED
    if by == "school":
        return names.get(value, "A school no longer in the district")
    if by == "grade":
        return {-1: "Pre-K", 0: "Kindergarten"}.get(value, f"Grade {value}")
    if by in YES_NO:
        return YES_NO[by][0 if value else 1]
    return str(value)


# --- what a report shows, as text: the page, its chart and its files say the same ---------

SUPPRESSED = "*"
HIDDEN_COUNT = "—"


def percent_words(figure: Figure) -> str:
    if figure.suppressed:
        return SUPPRESSED
    if figure.coded == "at_most":
        return f"≤ {figure.bound}%"
    if figure.coded == "at_least":
        return f"≥ {figure.bound}%"
    if not figure.n:
        return "–"  # nobody in the group: no rate
    return f"{100 * figure.k / figure.n:.1f}%"


def figure_cells(measure: report_cube.Measure, figure: Figure) -> list[str]:
    """[students, number, percent] of a rate, [students] of a count."""
    if measure.meets is None:
        return [SUPPRESSED if figure.suppressed else str(figure.n)]
    if figure.suppressed:
        return [SUPPRESSED, SUPPRESSED, SUPPRESSED]
    return [str(figure.n), HIDDEN_COUNT if figure.coded else str(figure.k), percent_words(figure)]


def figure_short(measure: report_cube.Measure, figure: Figure) -> str:
    """One cell of a trend or crossed table."""
    if measure.meets is None or figure.suppressed:
        return figure_cells(measure, figure)[0]
    return f"{percent_words(figure)} of {figure.n}"


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]  # the first cell of each row names its group
    footnote: str


def year_label(year: SchoolYear) -> str:
    return f"{year.year}–{year.year + 1}"


def table(report: Report, years_label=year_label) -> Table:
    measure, choice = report.measure, report.choice
    footnote = (f"{SUPPRESSED} not shown: a group of fewer than {report.minimum_n} students, or a figure from which "
                "one not shown could be worked out. ≤ and ≥: the percentage of a small group near 0% or 100%, shown "
                f"as a range; its number is not shown ({HIDDEN_COUNT}).")
    counts = ["Students"] if measure.meets is None else [f"Of ({measure.of})", "Number", "Percent"]
    if choice.trend:
        over = f"month by month, {years_label(report.year)}" if choice.view == "months" else "by school year"
        return Table(f"{measure.title}, {BREAKDOWN_TITLES[choice.by].lower()}, {over}",
                     [BREAKDOWN_TITLES[choice.by] or "Group", *report.periods],
                     [[label, *(figure_short(measure, f) for f in figures)] for label, figures in report.series],
                     footnote)
    year = years_label(report.year) if report.year else ""
    if report.cells:
        columns = [g.label for g in report.groups]
        rows = [[margin.label, *(figure_short(measure, report.cells[(s, v)]) for _, v in report.columns),
                 figure_short(measure, margin.figure)] for (_, s), margin in zip(report.rows, report.row_totals, strict=True)]
        rows.append(["All schools", *(figure_short(measure, g.figure) for g in report.groups),
                     figure_short(measure, report.total.figure)])
        return Table(f"{measure.title}, school by {BREAKDOWN_TITLES[choice.by].lower()}, {year}",
                     ["School", *columns, "All"], rows, footnote)
    groups = [*report.groups, report.total] if report.total else report.groups
    title = f"{measure.title}, {year}" if not choice.by else f"{measure.title} by {BREAKDOWN_TITLES[choice.by].lower()}, {year}"
    return Table(title, [BREAKDOWN_TITLES[choice.by] if choice.by else "Group", *counts],
                 [[g.label, *figure_cells(measure, g.figure)] for g in groups], footnote)


def month_ends_stored(district_id: int, year: int) -> list[date]:
    """The month ends of the school year with indicators as of them, in order: one look
    into the index of each month of the year."""
    from datetime import timedelta

    from casemgr.indicators import month_ends
    from casemgr.models import IndicatorMonth

    school_year = db.session.scalar(sa.select(SchoolYear).where(SchoolYear.district_id == district_id,
                                                                SchoolYear.year == year))
    if school_year is None:
        return []
    ends = month_ends(school_year, school_year.ends_on + timedelta(days=1))
    found = db.session.execute(sa.select(*(
        sa.exists().where(IndicatorMonth.school_year == year, IndicatorMonth.month_end == end,
                          Student.id == IndicatorMonth.student_id, Student.district_id == district_id)
        for end in ends))).one() if ends else ()
    return [end for end, stored in zip(ends, found, strict=True) if stored]

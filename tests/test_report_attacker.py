"""The reports against an attacker, end to end (issue 15, Quality): random small
populations in the database, every measure's figures counted and protected by the path
the pages read (`report_cube.cells_statement` → `cubes` → `protected`, stored by
`report_figures.year_figures`), and everything published of a school year handed to the
integer-programming attacker of tests/test_suppression.py.

What a reader can gather of one school year is every cell of every breakdown and of every
breakdown crossed with the school, the school totals, the breakdowns' totals and the grand
total, for every measure: the pages, trends, charts and files each show a part of that
year's protected cube (checked page by page below). The attacker also knows how the
measures hang together: the measures about the enrolled students share their groups'
sizes, severe chronic absence is within chronic absence, failing English or math within
failing a course, and tier 2 and tier 3 count no student twice.

A trend shows the same groups in several years, each year from its own protected cube.
Nothing ties one year's counts to another's by an equation (students arrive, leave, move
school and grade between years), so the attacker's system splits by year: a trend can
only give a hidden figure away by showing one year's figure that the year's own pages
hide. The teeth tests show the attacker catches that, and the other weakenings.

What holds: nothing published of a year, every table of every measure read together
with how the measures hang together, gives a hidden figure away, and the pages show
nothing but their year's protected figures.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from casemgr import suppression
from casemgr.indicators import current_settings
from casemgr.models import IndicatorMonth, Organization, SchoolEnrollment, SchoolYear, StoredCube
from casemgr.models.enums import Role
from casemgr.reads import report_cube, report_figures, reports
from casemgr.suppression import Cell, Figure
from tests.factories import create_district, create_indicator, create_school, create_student, create_user
from tests.test_suppression import attack, read_together

YEARS = (2024, 2025)
TODAY = date(2026, 3, 2)  # in the second year

# what the attacker knows of the measures: measures about the same students share their
# groups' sizes; some measures count students among another's; some none twice
FAMILY = {m.key: next(o.key for o in report_cube.MEASURES.values() if o.about is m.about)
          for m in report_cube.MEASURES.values()}
NESTED = (("severe_absence", "chronic_absence"), ("core_failure", "course_failure"))
EXCLUSIVE = (("tier_2", "tier_3"),)


def population(db, seed: int, schools: int, size: int):
    """`size` students in `schools` schools of unequal size over two years, with subgroups
    and indicators drawn with shares of their own per population (so that some groups
    are small); some students change school between the years, some leave or arrive. The
    second year has indicators as of the end of a month too."""
    rng, months = random.Random(seed), random.Random(seed + 1)
    district = create_district()
    made = [create_school(district, name=f"School {n}") for n in range(schools)]
    weights = [rng.random() + 0.1 for _ in made]
    for year in YEARS:
        db.session.add(SchoolYear(district_id=district.id, year=year, starts_on=date(year, 8, 15),
                                  ends_on=date(year + 1, 6, 15)))
    share = {name: rng.random() for name in ("female", "latino", "low_income", "english_learner", "disability",
                                             "chronic", "failing", "tier", "suspended", "on_track")}
    for _ in range(size):
        grade = rng.choice((9, 10, 11, 12, 13))  # 13: a senior of the first year, graduated since
        student = create_student(
            rng.choices(made, weights)[0], grade=min(grade, 12),
            gender=rng.choices(("female", "male", None), (share["female"], 1 - share["female"], 0.05))[0],
            ethnicity=rng.choices(("Hispanic or Latino", "White", "Asian"), (share["latino"], 0.5, 0.1))[0],
            low_income=rng.random() < share["low_income"], english_learner=rng.random() < share["english_learner"] / 2,
            disability=rng.random() < share["disability"] / 3)
        for back, year in enumerate(reversed(YEARS)):
            year_grade = grade - back
            if not 9 <= year_grade <= 12 or rng.random() < 0.1:
                continue  # not in high school that year, or not in the district
            school = student.school_id if back == 0 or rng.random() < 0.8 else rng.choices(made, weights)[0].id
            db.session.add(SchoolEnrollment(student_id=student.id, school_id=school, school_year=year,
                                            entry_date=date(year, 8, 20), grade=year_grade))
            chronic = rng.random() < share["chronic"]
            failures = rng.choice((1, 1, 2)) if rng.random() < share["failing"] else 0
            create_indicator(
                student, year, tier=rng.choices((1, 2, 3), (1, share["tier"], share["tier"] / 2))[0],
                days_enrolled=rng.choices((0, 150, 170), (0.05, 1, 1))[0], chronic_absence=chronic,
                severe_absence=chronic and rng.random() < 0.4, course_failures=failures,
                core_failure=failures > 0 and rng.random() < 0.6, suspensions=int(rng.random() < share["suspended"] / 3),
                ninth_grade_on_track=(rng.random() < share["on_track"]) if year_grade == 9 else None,
                credits_on_track=rng.random() < share["on_track"],
                fafsa_status=rng.choice(("complete", "submitted", "not_started")) if year_grade == 12 else None)
            if year == YEARS[1]:
                add_months(db, student, year, months, share)
    db.session.flush()
    return district


MONTH_ENDS = (date(2025, 10, 31),)  # ended months of the second year with indicators as of them


def add_months(db, student, year: int, rng: random.Random, share: dict) -> None:
    """The student's indicators as of each of `MONTH_ENDS`, drawn afresh."""
    for end in MONTH_ENDS:
        chronic = rng.random() < share["chronic"]
        failures = rng.choice((1, 2)) if rng.random() < share["failing"] else 0
        db.session.add(IndicatorMonth(
            student_id=student.id, school_year=year, month_end=end, settings_id=current_settings(student.district_id).id,
            days_enrolled=rng.choice((0, 40, 50)), chronic_absence=chronic, severe_absence=chronic and rng.random() < 0.4,
            course_failures=failures, core_failure=failures > 0 and rng.random() < 0.6,
            suspensions=int(rng.random() < share["suspended"] / 3), ninth_grade_on_track=None,
            credits_on_track=rng.random() < share["on_track"], fafsa_status=None,
            tier=rng.choices((1, 2, 3), (1, share["tier"], share["tier"] / 2))[0]))


def year_publication(db, district_id: int, year: int, minimum_n: int) -> tuple[dict, dict]:
    """The truth of every measure's cube of the year and what is published of it, by the
    path every page reads, with the groups nobody is in (the pages show them as empty)."""
    truth = report_cube.cubes(db.session.execute(report_cube.cells_statement(district_id, year)).all())
    return whole(truth, report_figures.year_figures(district_id, year, minimum_n))


def whole(truth: dict, figures: dict) -> tuple[dict, dict]:
    """Every school × breakdown value, an empty one where no student is."""
    for measure, cells in truth.items():
        schools = {v for key in cells for d, v in key if d == "school"}
        values = {(d, v) for key in cells for d, v in key if d != "school" and len(key) == 1}
        for s in schools:
            for pair in values:
                key = (("school", s), pair)
                if key not in cells:
                    cells[key] = Cell(0, 0 if report_cube.MEASURES[measure].meets else None)
                    figures[measure].setdefault(key, reports._ABSENT)
        assert figures[measure].keys() == cells.keys()
    return truth, figures


def attacker_pins(truth: dict, figures: dict, reader: str = "table") -> list:
    """Every group size and numerator no page shows that the attacker pins to one value,
    reading each crossed table with its margins on its own (`reader` "table"), each
    measure's tables together ("measure"), or all the year's measures together ("year").
    Read one measure at a time, a group size that another measure of its family shows is
    no disclosure."""
    if reader == "year":
        ranges = attack(truth, figures, FAMILY, [pair for pair in NESTED if set(pair) <= truth.keys()],
                        [group for group in EXCLUSIVE if set(group) <= truth.keys()])
    else:
        ranges = {}
        for m in truth:
            parts = [list(truth[m])] if reader == "measure" else [
                [key for key in truth[m] if all(d in ("school", dim) for d, _ in key)]
                for dim in sorted({d for key in truth[m] for d, _ in key if d != "school"})]
            for keys in parts:
                ranges |= attack({m: {k: truth[m][k] for k in keys}}, {m: {k: figures[m][k] for k in keys}})
        ranges = {(m, key, part): found for (m, key, part), found in ranges.items()
                  if part != "n" or all(figures[o][key].suppressed for o in truth if FAMILY[o] == FAMILY[m])}
    return sorted(((*variable, low) for variable, (low, high) in ranges.items() if low == high), key=repr)


def shown_small(truth: dict, figures: dict, minimum_n: int) -> list:
    return [(m, key) for m, cube in figures.items() for key, f in cube.items()
            if not f.suppressed and 0 < truth[m][key].n < minimum_n]


POPULATIONS = dict(seed=st.integers(0, 2**32 - 1), schools=st.integers(2, 3), size=st.integers(20, 80),
                   minimum_n=st.sampled_from((5, 10)))


def settings_for(examples: int):
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings_for(8)
@given(**POPULATIONS)
def test_no_table_of_any_measure_in_any_year_gives_a_hidden_figure_away(db, seed, schools, size, minimum_n):
    """Each crossed table with its margins (school by breakdown, the school totals, the
    breakdown's totals, the total) of each measure, in each year of the trend."""
    savepoint = db.session.begin_nested()
    try:
        district = population(db, seed, schools, size)
        for year in YEARS:
            truth, figures = year_publication(db, district.id, year, minimum_n)
            assert shown_small(truth, figures, minimum_n) == [], year
            assert attacker_pins(truth, figures) == [], year
    finally:
        savepoint.rollback()


@settings_for(10)
@given(**POPULATIONS)
def test_nothing_published_in_any_year_gives_a_hidden_figure_away(db, seed, schools, size, minimum_n):
    """Everything published of each year: every table of every measure together."""
    savepoint = db.session.begin_nested()
    try:
        district = population(db, seed, schools, size)
        for year in YEARS:
            assert attacker_pins(*year_publication(db, district.id, year, minimum_n), reader="year") == [], year
    finally:
        savepoint.rollback()


def test_a_district_that_changes_its_minimum_hides_at_least_what_it_hid_before(db):
    """The year's figures stored for minimum n 10, then counted again for 11: every figure
    hidden before stays hidden, and the two read together give nothing away."""
    district = population(db, 5, 3, 60)
    truth, before = year_publication(db, district.id, YEARS[0], 10)
    _, after = year_publication(db, district.id, YEARS[0], 11)
    assert shown_small(truth, after, 11) == []
    for measure, figures in before.items():
        assert {key for key, f in figures.items() if f.suppressed} <= {
            key for key, f in after[measure].items() if f.suppressed}, measure
    together = {measure: read_together(before[measure], after[measure]) for measure in truth}
    assert attacker_pins(truth, together, reader="year") == []


def test_the_attacker_catches_a_minimum_changed_without_memory(db, monkeypatch):
    """Teeth: protected afresh for minimum n 11, the figures read with those stored for
    10 give figures away."""
    monkeypatch.setattr(report_figures, "_hidden_before", lambda *args: {})
    district = population(db, 5, 3, 60)
    truth, before = year_publication(db, district.id, YEARS[0], 10)
    _, after = year_publication(db, district.id, YEARS[0], 11)
    assert attacker_pins(truth, before, reader="year") == [] and attacker_pins(truth, after, reader="year") == []
    together = {measure: read_together(before[measure], after[measure]) for measure in truth}
    assert attacker_pins(truth, together, reader="year")


# --- what the pages show: each a part of its year's protected cube ------------------------

CHOICES = ([{"year": str(y)} for y in YEARS] + [{"year": str(y), "across": "school"} for y in YEARS]
           + [{"view": "trend"}, {"view": "months", "year": str(YEARS[1])}])


def page_figures(users, measures=tuple(report_cube.MEASURES)) -> dict:
    """{(period, measure): {key: [figure shown, ...]}} over every page of `measures` the
    users may open: each breakdown and crossed table of each year, each trend and the
    second year month by month. A period is (year, None), or (year, month end)."""
    seen: dict = defaultdict(lambda: defaultdict(list))
    for user in users:
        for measure in measures:
            for by in reports.BREAKDOWN_TITLES:
                for choice in CHOICES:
                    report = reports.build(user, {"measure": measure, "by": by, **choice}, TODAY)
                    for period, key, figure in shown_on(report):
                        seen[(period, report.choice.measure)][key].append(figure)
    return seen


def shown_on(report: reports.Report):
    """(period, key, figure) of every figure of a report."""
    measure, by, scope = report.choice.measure, report.choice.by, report.scope
    if report.series:
        if report.choice.view == "months":
            year = report.year.year
            periods = [*((year, end) for end in reports.month_ends_stored(scope.district_id, year)), (year, None)]
        else:
            periods = [(y.year, None) for y in report.years]
        cubes = [report_figures.year_figures(scope.district_id, year, report.minimum_n, end)[measure]
                 for year, end in periods]
        keys = [scope.key(), *(scope.key((by, v)) for v in (reports._values(by, cubes, scope) if by else ()))]
        for key, (_, figures) in zip(keys, report.series, strict=True):
            yield from ((period, key, figure) for period, figure in zip(periods, figures, strict=True))
        return
    period = (report.year.year, None)
    for group in (report.total, *report.groups, *report.row_totals):
        yield period, group.key, group.figure
    for (school, value), figure in report.cells.items():
        yield period, (("school", school), (by, value)), figure


def known(measure: str, figures: list[Figure]) -> Figure:
    """What the pages together tell of one group: its size where any shows it, its number
    where any shows it exactly, else a coded range."""
    shown = [f for f in figures if not f.suppressed]
    exact = [f for f in shown if not f.coded]
    assert len({f.n for f in shown}) <= 1, figures
    if report_cube.MEASURES[measure].meets:
        assert len({f.k for f in exact}) <= 1, figures
    return (exact or shown or figures)[0]


def pages_publication(db, district_id: int, period: tuple, seen: dict) -> tuple[dict, dict]:
    """The truth of a period and what the pages showed of it. A month's pages show no
    crossed table: those groups are taken as their protected figures (a reader who knew
    them would know more, and still pin nothing)."""
    truth = report_cube.cubes(db.session.execute(report_cube.cells_statement(district_id, *period)).all())
    measures = {m for p, m in seen if p == period}
    truth, _ = whole({m: truth[m] for m in measures}, {m: {key: reports._ABSENT for key in truth[m]} for m in measures})
    if period[1] is None:  # a year's pages show every group
        assert all(seen[(period, m)].keys() == truth[m].keys() for m in measures)
    protected = report_figures.year_figures(district_id, period[0], 10, period[1])
    return truth, {m: {key: known(m, seen[(period, m)][key]) if key in seen[(period, m)]
                       else protected[m].get(key, reports._ABSENT) for key in truth[m]} for m in measures}


def test_every_page_shows_its_years_protected_figures_and_nothing_else(db):
    """The district admin's pages of every measure, breakdown, crossed table, year, trend
    and month, and a principal's of two measures: each figure shown is the one of its
    period's protected figures; nothing the pages show of a period, every measure read
    together, gives a hidden figure away."""
    district = population(db, 11, 3, 60)
    admin, principal, *_ = reporters(db, district)
    seen = page_figures([admin])
    for (period, measure), groups in page_figures([principal], ("enrolled", "chronic_absence")).items():
        for key, figures in groups.items():
            seen[(period, measure)][key] += figures
    for (period, measure), groups in seen.items():
        cube = report_figures.year_figures(district.id, period[0], 10, period[1])[measure]
        for key, figures in groups.items():
            assert set(figures) == {cube.get(key, reports._ABSENT)}, (period, measure, key)
    periods = sorted({period for period, _ in seen}, key=repr)
    assert periods == [(YEARS[0], None), (YEARS[1], None), (YEARS[1], MONTH_ENDS[0])]
    for period in periods:
        truth, knowledge = pages_publication(db, district.id, period, seen)
        assert attacker_pins(truth, knowledge, reader="year") == [], period


def reporters(db, district) -> list:
    """The district admin and each school's principal, in the schools' order."""
    return [create_user(Role.DISTRICT_ADMIN, district),
            *(create_user(Role.PRINCIPAL, school) for school in schools_of(db, district))]


def schools_of(db, district) -> list:
    return list(db.session.scalars(sa.select(Organization).where(Organization.district_id == district.id)
                                   .order_by(Organization.id)))


# --- teeth: the attacker catches each weakening ------------------------------------------

def forget_stored_figures(db, district) -> None:
    db.session.execute(sa.delete(StoredCube).where(StoredCube.district_id == district.id))


def test_the_attacker_catches_reports_without_complementary_suppression(db, monkeypatch):
    district = population(db, TEETH_SEED["complement"], 2, 40)
    assert attacker_pins(*year_publication(db, district.id, YEARS[0], 10)) == []
    forget_stored_figures(db, district)
    monkeypatch.setattr(suppression._Layer, "complement", lambda *args, **kwargs: set())
    truth, figures = year_publication(db, district.id, YEARS[0], 10)
    assert shown_small(truth, figures, 10) == []  # primary suppression alone still hides every small group
    # but the margins give them away: the total less the others, 6 English learners
    assert ("enrolled", (("english_learner", True),), "n", 6) in attacker_pins(truth, figures)


def test_the_attacker_catches_margins_published_unsuppressed(db, monkeypatch):
    """The totals, school totals and breakdown totals shown whenever their group is not
    small, as if complementary suppression never hid a margin."""
    district = population(db, TEETH_SEED["margins"], 2, 40)
    assert attacker_pins(*year_publication(db, district.id, YEARS[0], 10)) == []
    forget_stored_figures(db, district)
    protected = report_cube.protected

    def margins_shown(cubes, minimum_n, hidden_before=None):
        return {m: {key: suppression._figure(cubes[m][key], False) if len(key) <= 1 and f.suppressed
                    and not 0 < cubes[m][key].n < minimum_n else f for key, f in figures.items()}
                for m, figures in protected(cubes, minimum_n, hidden_before).items()}

    monkeypatch.setattr(report_cube, "protected", margins_shown)
    truth, figures = year_publication(db, district.id, YEARS[0], 10)
    assert shown_small(truth, figures, 10) == []
    # the total (33) less those without a disability (26): 7 students with one, all but one chronically absent
    assert {("chronic_absence", (("disability", True),), "n", 7),
            ("chronic_absence", (("disability", True),), "k", 6)} <= set(attacker_pins(truth, figures))


def test_the_attacker_catches_a_trend_showing_one_year_unprotected(db, monkeypatch):
    """The trend shows the earlier year's groups from the raw counts instead of that
    year's protected cube, while that year's own pages show the cube. The district
    admin's trend shows the total and each breakdown's groups, small ones outright (as
    `shown_small` says); a principal's trend shows their school's row of each crossed
    table, which with the district's crossed tables gives the other school's hidden
    cells away. Nothing ties the years to each other, so the later year, protected,
    stays safe."""
    district = population(db, TEETH_SEED["trend"], 2, 40)
    readers, measures = reporters(db, district)[:2], ("enrolled", "chronic_absence")  # the admin, one principal
    truth, knowledge = pages_publication(db, district.id, (YEARS[0], None), page_figures(readers, measures))
    assert attacker_pins(truth, knowledge) == []
    build, measure_figures = reports.build, report_figures.measure_figures

    def raw_earlier_year(district_id, year, measure, minimum=None, month_end=None, parts=None):
        if year != YEARS[0]:
            return measure_figures(district_id, year, measure, minimum, month_end, parts)
        rows = db.session.execute(report_cube.cells_statement(district_id, year)).all()
        return {key: Figure(c.n, c.k) for key, c in report_cube.cubes(rows)[measure].items()
                if parts is None or tuple(dim for dim, _ in key) in parts}

    def trend_unprotected(user, args, today):
        with monkeypatch.context() as patch:
            if args.get("view") == "trend":
                patch.setattr(report_figures, "measure_figures", raw_earlier_year)
            return build(user, args, today)

    monkeypatch.setattr(reports, "build", trend_unprotected)
    truth, knowledge = pages_publication(db, district.id, (YEARS[0], None), page_figures(readers, measures))
    # the principal's trend shows their school's 2024 groups as counted; the district's
    # crossed tables then give away the other school's hidden cells
    assert shown_small(truth, knowledge, 10)
    other = schools_of(db, district)[1]  # the principal's is the first
    assert any(key[0] == ("school", other.id) for _, key, _, _ in attacker_pins(truth, knowledge))
    # the later year, shown from its own protected cube by every page, still gives nothing away
    assert attacker_pins(*pages_publication(db, district.id, (YEARS[1], None), page_figures(readers, measures))) == []


TEETH_SEED = {"complement": 1, "margins": 1, "trend": 1}  # populations where each weakening gives figures away

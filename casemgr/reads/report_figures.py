"""The protected figures of a district's school year (issue 15): counted and protected
once (`casemgr.reads.report_cube`, `casemgr.suppression`) and stored, so that every page,
chart, file and published report of that year reads the same figures, fast. Recomputing
the year's indicators removes them (`casemgr.indicators`); the next reader counts them again.

The counting reads the reports database when one is configured (a read replica); the
figures are stored in the main one.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from casemgr.extensions import db
from casemgr.models import Organization, SchoolYear, StoredCube
from casemgr.reads import report_cube
from casemgr.suppression import Figure, Key


def minimum_n(district_id: int) -> int:
    return db.session.scalar(sa.select(Organization.report_minimum_n).where(Organization.id == district_id)) or 10


Part = tuple[str, ...]  # a grouping: () the total, ("grade",), ("school", "grade")


def measure_figures(district_id: int, year: int, measure: str, minimum: int | None = None,
                    month_end: date | None = None, parts: Sequence[Part] | None = None) -> dict[Key, Figure]:
    """{key: figure} of one measure, or of its `parts` alone: a page reads only the
    groupings it shows of its own measure's stored figures."""
    minimum = minimum or minimum_n(district_id)
    names = None if parts is None else ["|".join(part) for part in parts]
    read = StoredCube.figures if names is None else sa.func.jsonb_build_array(
        *(StoredCube.figures[name] for name in names))
    stored = db.session.scalar(
        sa.select(read).where(*_stored(district_id, year, minimum, month_end), StoredCube.measure == measure))
    if stored is not None:
        return _decode(stored if names is None else dict(zip(names, stored, strict=True)))
    figures = year_figures(district_id, year, minimum, month_end)[measure]
    if parts is None:
        return figures
    return {key: figure for key, figure in figures.items() if tuple(dim for dim, _ in key) in parts}


def _stored(district_id: int, year: int, minimum: int, month_end: date | None) -> list:
    return [StoredCube.district_id == district_id, StoredCube.school_year == year, StoredCube.minimum_n == minimum,
            StoredCube.month == (month_end.month if month_end else 0)]


def year_figures(district_id: int, year: int, minimum: int | None = None,
                 month_end: date | None = None) -> dict[str, dict[Key, Figure]]:
    """{measure: {key: figure}} of every measure of the district's school year, or of its
    indicators as of the end of a month of it."""
    minimum = minimum or minimum_n(district_id)
    month = month_end.month if month_end else 0
    stored = db.session.execute(
        sa.select(StoredCube.measure, StoredCube.figures).where(*_stored(district_id, year, minimum, month_end))
    ).all()
    if len(stored) == len(report_cube.MEASURES):
        return {measure: _decode(figures) for measure, figures in stored}
    rows = report_cube.read_rows(report_cube.cells_statement(district_id, year, month_end))
    figures = report_cube.protected(report_cube.cubes(rows), minimum, _hidden_before(district_id, year, month))
    counted_from = rows[0].computed_at if rows else None
    now_computed = db.session.scalar(sa.select(SchoolYear.indicators_computed_at)
                                     .where(SchoolYear.district_id == district_id, SchoolYear.year == year))
    if counted_from != now_computed:
        return figures  # a replica behind the main database: shown, not stored
    db.session.execute(
        insert(StoredCube).values([
            {"district_id": district_id, "school_year": year, "measure": measure, "minimum_n": minimum,
             "month": month, "figures": _encode(cube)} for measure, cube in figures.items()
        ]).on_conflict_do_nothing()
    )
    return figures


def warm(district_id: int) -> int:
    """Counts, protects and stores the figures of every school year of the district, and
    of every month of one, that are not stored for its minimum n: run after a recompute
    and after a new minimum, so that the first reader does not wait. Returns how many
    years and months it stored."""
    from casemgr.reads.reports import month_ends_stored, stored_years

    minimum = minimum_n(district_id)
    stored = set(db.session.execute(
        sa.select(StoredCube.school_year, StoredCube.month).distinct()
        .where(StoredCube.district_id == district_id, StoredCube.minimum_n == minimum)).all())
    periods = [(year.year, end) for year in stored_years(district_id)
               for end in (None, *month_ends_stored(district_id, year.year))]
    missing = [(year, end) for year, end in periods if (year, end.month if end else 0) not in stored]
    for year, end in missing:
        year_figures(district_id, year, minimum, end)
    return len(missing)


def _hidden_before(district_id: int, year: int, month: int) -> dict[str, set[Key]]:
    """What the year's figures stored for another minimum n hide: figures already out
    stay hidden when the district changes its minimum, so that the two read together
    show no more than the first."""
    hidden: dict[str, set[Key]] = defaultdict(set)
    for measure, figures in db.session.execute(
        sa.select(StoredCube.measure, StoredCube.figures).where(
            StoredCube.district_id == district_id, StoredCube.school_year == year, StoredCube.month == month)
    ):
        hidden[measure] |= {key for key, figure in _decode(figures).items() if figure.suppressed}
    return hidden


def _encode(cube: dict[Key, Figure]) -> dict[str, list]:
    parts: dict[str, list] = defaultdict(list)
    for key, f in cube.items():
        parts["|".join(dim for dim, _ in key)].append([*(value for _, value in key), f.n, f.k, f.coded, f.bound])
    return parts


def _decode(parts: dict[str, list | None]) -> dict[Key, Figure]:
    # JSON keeps the breakdowns' values (ids, grades, words, booleans, null) as they were
    figures = {}
    for name, rows in parts.items():
        dims = name.split("|") if name else []
        for row in rows or ():  # a grouping with no group: none stored (null)
            figures[tuple(zip(dims, row, strict=False))] = Figure(*row[len(dims):])
    return figures

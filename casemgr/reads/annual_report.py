"""The annual partnership report (issue 15, item 5; Fresno's and StriveTogether's report
cards): for a school year, each measure against the partnership's baseline year, with its
direction (better, worse, or no change beyond a stated margin), overall and by subgroup,
with the gaps between each subgroup and the other students.

Every figure comes from the years' protected cubes (`report_figures`), so the report
publishes nothing the report pages hide. Its content is plain data (keys, not words): the
page and the PDF word it in English or Spanish, and a published report stores it, frozen.
Partner programs (issue 17) add their reach and their protected outcome comparison.
"""
from __future__ import annotations

from fractions import Fraction

import sqlalchemy as sa

from casemgr import outcomes
from casemgr.extensions import db
from casemgr.models import Organization
from casemgr.reads import report_cube, report_figures
from casemgr.suppression import Figure, Key

MARGIN_POINTS = 2  # a change of 2 percentage points or less is "no change"
SUBGROUPS = ("low_income", "english_learner", "disability", "gender", "ethnicity")
BOOLEAN_SUBGROUPS = ("low_income", "english_learner", "disability")


def figure_data(figure: Figure) -> dict:
    return {"n": figure.n, "k": figure.k, "coded": figure.coded, "bound": figure.bound}


def _rate(figure: dict) -> Fraction | None:
    """The exact rate of a shown, uncoded figure; None otherwise."""
    if figure["n"] and figure["k"] is not None and not figure["coded"]:
        return Fraction(figure["k"], figure["n"])
    return None


def direction(measure: report_cube.Measure, now: dict, then: dict) -> tuple[float | None, str | None]:
    """(the change in percentage points, "better", "worse" or "same"), or (None, None)
    where either year's rate is not shown exactly."""
    a, b = _rate(now), _rate(then)
    if a is None or b is None:
        return None, None
    change = float(100 * (a - b))
    if abs(change) <= MARGIN_POINTS:
        return round(change, 1), "same"
    improved = change < 0 if measure.lower_is_better else change > 0
    return round(change, 1), "better" if improved else "worse"


def _line(measure, key: Key, now: dict[Key, Figure], then: dict[Key, Figure], label: dict) -> dict:
    a = figure_data(now.get(key, Figure(n=0, k=0)))
    b = figure_data(then.get(key, Figure(n=0, k=0)))
    change, way = direction(measure, a, b)
    return {"label": label, "now": a, "then": b, "change": change, "direction": way}


def _values(cube: dict[Key, Figure], dim: str) -> list:
    found = {key[0][1] for key in cube if len(key) == 1 and key[0][0] == dim}
    return sorted(found, key=lambda v: (v is None, str(v)))


def content(district_id: int, district_name: str, year: int, baseline: int, minimum: int | None = None) -> dict:
    """The report of `year` against `baseline` for the whole district, as plain data."""
    minimum = minimum or report_figures.minimum_n(district_id)
    now_cubes = report_figures.year_figures(district_id, year, minimum)
    then_cubes = report_figures.year_figures(district_id, baseline, minimum)
    sections = []
    for measure in report_cube.MEASURES.values():
        if measure.meets is None:
            continue
        now, then = now_cubes[measure.key], then_cubes[measure.key]
        groups = []
        for dim in SUBGROUPS:
            values = sorted(set(_values(now, dim)) | set(_values(then, dim)), key=lambda v: (v is None, str(v)))
            lines = [_line(measure, ((dim, v),), now, then, {"dim": dim, "value": v}) for v in values]
            gap = None
            if dim in BOOLEAN_SUBGROUPS:
                yes = next((line for line in lines if line["label"]["value"] is True), None)
                no = next((line for line in lines if line["label"]["value"] is False), None)
                if yes and no:
                    gap = {"now": _gap(yes["now"], no["now"]), "then": _gap(yes["then"], no["then"])}
            groups.append({"dim": dim, "lines": lines, "gap": gap})
        sections.append({"measure": measure.key, "overall": _line(measure, (), now, then, {"dim": "", "value": None}),
                         "groups": groups})
    return {"district": district_name, "year": year, "baseline": baseline, "minimum_n": minimum,
            "margin": MARGIN_POINTS, "sections": sections, **programs(district_id, year, minimum)}


def programs(district_id: int, year: int, minimum: int) -> dict:
    """Each partner program's reach in the year and, where counted, its outcome
    comparison (issue 17): protected figures only, as plain data; None where hidden."""
    compared = {(f.organization_id, f.service): f for f in outcomes.protected(district_id, year, minimum_n=minimum)}
    lines = []
    for reach in outcomes.protect_reach(outcomes.reach(district_id, year), minimum):
        figures = compared.get((reach.organization_id, reach.service))
        outcome = None
        if figures is not None and figures.figures.get("served_n") is not None:
            served, comparison = figures.attendance_change("served"), figures.attendance_change("comparison")
            outcome = {
                "served_n": figures.figures["served_n"], "comparison_n": figures.figures.get("comparison_n"),
                "served": None if served is None else round(float(served) * 100, 1),
                "comparison": None if comparison is None else round(float(comparison) * 100, 1),
                "difference": None if served is None or comparison is None
                else round(float(served - comparison) * 100, 1),
            }
        lines.append({"organization": reach.organization_name, "service": reach.service, "served": reach.served,
                      "contacted": reach.contacted, "sessions": reach.sessions,
                      "hours": None if reach.hours is None else float(reach.hours), "outcome": outcome})
    min_hours = db.session.scalar(sa.select(Organization.served_min_hours).where(Organization.id == district_id))
    counted = [f for f in compared.values()]
    if counted:  # the comparison's own threshold and day (the reach counts the whole year)
        min_hours = counted[0].served_min_hours
    return {"programs": lines, "served_min_hours": min_hours,
            "outcomes_as_of": max(f.as_of for f in counted).isoformat() if counted else None}


def _gap(group: dict, others: dict) -> float | None:
    """The group's rate less the other students', in points, where both are shown exactly."""
    a, b = _rate(group), _rate(others)
    return None if a is None or b is None else round(float(100 * (a - b)), 1)


def partnership_districts(user) -> sa.Select:
    """The districts whose published reports a signed-in person reads: their own (the
    district's and its schools' staff and families), or those their organization has a
    data-sharing agreement with (partners, research partners)."""
    from casemgr.models import DataSharingAgreement
    from casemgr.models.enums import OrgKind

    org = user.organization
    if org.kind in (OrgKind.PARTNER, OrgKind.RESEARCH):
        return sa.select(DataSharingAgreement.district_id).where(DataSharingAgreement.organization_id == org.id)
    return sa.select(sa.literal(org.district_id or org.id))

"""How a student stood on an earlier day, for the homes' "rose a tier since" and the
caseload's change column: the tier recorded on or before the day (`tier_history`, one
row per change at a recompute) and the attendance rate up to the day, counted from the
same enrollments, calendar and attendance bits as the stored indicator."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.indicators import ABSENT_DAYS, ENROLLED_DAYS, school_year_for
from casemgr.models import TierChange

_RATES_ON = """
WITH {year}pupils AS (SELECT unnest(CAST(:ids AS integer[])) AS id),
enrolled AS ({enrolled}),
absent AS ({absent})
SELECT p.id,
       CASE WHEN e.days > 0 THEN round((e.days - coalesce(a.days, 0))::numeric / e.days, 4) END AS rate
FROM pupils p
LEFT JOIN enrolled e ON e.student_id = p.id
LEFT JOIN absent a ON a.student_id = p.id
"""
RATES_ON_SQL = sa.text(_RATES_ON.format(year="", enrolled=ENROLLED_DAYS, absent=ABSENT_DAYS))
# the same, with the school year under way on the day looked up by the statement itself
# (as `school_year_for` does: the latest begun by then; none, and every rate is NULL)
_YEAR_ON = """year AS (SELECT id, starts_on, ends_on FROM school_years
              WHERE district_id = :district_id AND starts_on <= :as_of ORDER BY starts_on DESC LIMIT 1),
"""
_OF_YEAR = {":year_id": "(SELECT id FROM year)", ":year_start": "(SELECT starts_on FROM year)",
            ":year_end": "(SELECT ends_on FROM year)"}


def _of_year(sql: str) -> str:
    for parameter, column in _OF_YEAR.items():
        sql = sql.replace(parameter, column)
    return sql


RATES_ON_YEAR_SQL = sa.text(_RATES_ON.format(year=_YEAR_ON, enrolled=_of_year(ENROLLED_DAYS),
                                             absent=_of_year(ABSENT_DAYS)))


def tier_on(student_id: sa.ColumnElement[int], day: date) -> sa.ScalarSelect[int]:
    """The tier the student had on `day` (NULL when nothing was recorded by then), as an
    expression for any select: the newest history row on or before the day."""
    return (
        sa.select(TierChange.tier)
        .where(TierChange.student_id == student_id, TierChange.since <= day)
        .order_by(TierChange.school_year.desc(), TierChange.since.desc())
        .limit(1)
        .scalar_subquery()
    )


def attendance_rates_on(district_id: int, student_ids: Iterable[int], day: date) -> dict[int, Decimal | None]:
    """Each student's attendance rate up to `day` in the school year under way then (None
    when not enrolled a day of it by then, or when no school year had begun), in one query."""
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    params = _rates_on_params(district_id, ids, day)
    if params is None:
        return dict.fromkeys(ids)
    return dict(db.session.execute(RATES_ON_SQL, params).all())


def attendance_rates_on_subquery(district_id: int, student_ids: Iterable[int], day: date) -> sa.Subquery | None:
    """The rates of `attendance_rates_on` as a subquery (`id`, `rate`) for a statement of
    one's own to join, the school year looked up within it; None without students."""
    ids = sorted(set(student_ids))
    if not ids:
        return None
    return (RATES_ON_YEAR_SQL.bindparams(ids=ids, as_of=day, district_id=district_id)
            .columns(sa.column("id", sa.Integer), sa.column("rate", sa.Numeric)).subquery("rates_then"))


def _rates_on_params(district_id: int, ids: list[int], day: date) -> dict | None:
    year = school_year_for(district_id, day)
    if year is None or day < year.starts_on:
        return None
    return {"ids": ids, "as_of": day, "year_id": year.id, "year_start": year.starts_on, "year_end": year.ends_on}

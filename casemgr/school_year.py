"""The current school year of a district, and its end (the default consent expiry)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import SchoolYear


def current_school_year(district_id: int, today: date) -> SchoolYear | None:
    return db.session.scalar(
        sa.select(SchoolYear)
        .where(SchoolYear.district_id == district_id, SchoolYear.starts_on <= today, SchoolYear.ends_on >= today)
        .order_by(SchoolYear.starts_on.desc())
        .limit(1)
    )


def end_of_school_year(district_id: int, today: date) -> date:
    """The last day of the current school year; between years, the end of the next
    one's June."""
    year = current_school_year(district_id, today)
    if year is not None:
        return year.ends_on
    june_end = date(today.year, 6, 30)
    return june_end if today <= june_end else date(today.year + 1, 6, 30)

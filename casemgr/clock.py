"""The date the policy and indicators run on: today in the district's time zone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context


def today() -> date:
    zone = "America/New_York"
    if has_app_context():
        zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", zone)
    return datetime.now(ZoneInfo(zone)).date()


def local_day(moment, zone: str) -> sa.ColumnElement:
    """In SQL: the day a stored moment (a timestamptz column) falls on in `zone`."""
    return sa.cast(sa.func.timezone(zone, moment), sa.Date)

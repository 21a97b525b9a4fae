"""The date the policy and indicators run on: today in the district's time zone."""
from __future__ import annotations

import os
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context

DEFAULT_ZONE = "America/New_York"


def district_zone() -> str:
    """The district's time zone: the application's setting, or, outside an application
    (a command's module, a test's constant), the one the environment names."""
    if has_app_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return os.environ.get("CASEMGR_TIMEZONE") or DEFAULT_ZONE


def today() -> date:
    return datetime.now(ZoneInfo(district_zone())).date()


def start_of(day: date) -> datetime:
    """The first moment of `day` in the district's time zone."""
    return datetime.combine(day, time.min, ZoneInfo(district_zone()))


def local_day(moment, zone: str) -> sa.ColumnElement:
    """In SQL: the day a stored moment (a timestamptz column) falls on in `zone`."""
    return sa.cast(sa.func.timezone(zone, moment), sa.Date)

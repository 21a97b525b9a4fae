"""Threshold settings: every change is a new version (SPEC §5)."""
from __future__ import annotations

from calendar import monthrange
from decimal import Decimal

from casemgr.extensions import db
from casemgr.indicators import current_settings
from casemgr.models import ThresholdSettings, User

FIELDS = (
    "band_watch_below", "band_at_risk_below", "band_critical_below", "chronic_absence_rate",
    "severe_absence_rate", "min_enrolled_days", "ninth_grade_min_credits", "ninth_grade_max_core_failures",
    "credits_grade9", "credits_grade10", "credits_grade11", "credits_grade12",
    "fafsa_deadline_month", "fafsa_deadline_day",
)


class ThresholdError(ValueError):
    pass


def check(values: dict) -> None:
    if not (0 < values["band_critical_below"] < values["band_at_risk_below"] < values["band_watch_below"] <= 1):
        raise ThresholdError("The attendance bands must rise: critical below at risk below watch, all at most 100%.")
    if not (0 < values["chronic_absence_rate"] < values["severe_absence_rate"] <= 1):
        raise ThresholdError("Severe chronic absence must be a higher share of days than chronic absence.")
    credits = [values[f"credits_grade{g}"] for g in (9, 10, 11, 12)]
    if credits != sorted(credits) or credits[0] < 0:
        raise ThresholdError("The credit schedule must not go down from one grade to the next.")
    month, day = values["fafsa_deadline_month"], values["fafsa_deadline_day"]
    if not 1 <= month <= 12 or not 1 <= day <= monthrange(2027, month)[1]:
        raise ThresholdError("The FAFSA date is not a real date.")


def save_new_version(district_id: int, values: dict, by: User) -> ThresholdSettings:
    check(values)
    latest = current_settings(district_id)
    if all(getattr(latest, name) == _typed(latest, name, values[name]) for name in FIELDS):
        return latest
    settings = ThresholdSettings(district_id=district_id, version=latest.version + 1, created_by_id=by.id, **values)
    db.session.add(settings)
    db.session.flush()
    return settings


def _typed(latest: ThresholdSettings, name: str, value):
    current = getattr(latest, name)
    return Decimal(str(value)) if isinstance(current, Decimal) else value

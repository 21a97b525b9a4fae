"""Partner staff compliance: confidentiality signature and FERPA training (SPEC §2)."""
from __future__ import annotations

from datetime import date

from casemgr.extensions import db
from casemgr.models import User


class ComplianceError(ValueError):
    pass


def record_compliance(staff: User, confidentiality_signed_on: date | None, ferpa_trained_on: date | None, today: date) -> None:
    for label, value in (("signature", confidentiality_signed_on), ("training", ferpa_trained_on)):
        if value is not None and value > today:
            raise ComplianceError(f"The {label} date cannot be in the future.")
        if value is not None and value.year < 2000:
            raise ComplianceError(f"The {label} date is not plausible.")
    staff.confidentiality_signed_on = confidentiality_signed_on
    staff.ferpa_trained_on = ferpa_trained_on
    db.session.flush()

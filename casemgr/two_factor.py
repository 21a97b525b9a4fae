"""The TOTP second factor (issue 11 item 6): who must have one, how a code is checked,
and how recovery codes look and are stored.

A code is accepted for the current 30-second time step or one either side (a phone's
clock drifts), and never for a step at or before the last one accepted, so a code seen
over someone's shoulder cannot be used again. Recovery codes are ten random characters
shown once; only a SHA-256 of the normalized code is kept (they are random enough that
a fast hash is safe).
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import DataSharingAgreement, Organization, User
from casemgr.models.enums import FAMILY, OrgKind, Role
from casemgr.policy import agreement_in_force

ISSUER = "casemgr"
STEP_SECONDS = 30
VALID_WINDOW = 1  # one time step either side of now
RECOVERY_CODE_COUNT = 10
# no 0/o, 1/l/i: a code copied from paper by hand is read back the same
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
TOTP_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_data_uri(uri: str) -> str:
    """The QR code of `uri` as an SVG data: URI, drawn on the server (no script, and no
    inline style for the Content-Security-Policy to refuse)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", border=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, after: int | None, now: float | None = None) -> int | None:
    """The time step, later than `after`, whose code is `code`; None when there is none
    within one step of now."""
    code = normalize_code(code)
    if not TOTP_CODE.match(code):
        return None
    totp, step = pyotp.TOTP(secret), current_step(now)
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if after is not None and candidate <= after:
            continue
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def normalize_code(code: str) -> str:
    """What the person typed, without spaces and dashes, in lower case."""
    return re.sub(r"[\s-]+", "", code or "").lower()


def looks_like_totp(code: str) -> bool:
    return bool(TOTP_CODE.match(normalize_code(code)))


def new_recovery_code() -> str:
    """Ten characters, shown as two groups of five: "k7m2p-xq4rt"."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def district_of(organization: Organization) -> Organization | None:
    if organization.kind == OrgKind.DISTRICT:
        return organization
    if organization.kind == OrgKind.SCHOOL:
        return organization.district
    return None


def required_for(user: User) -> bool:
    """Whether `user` must sign in with a second factor: district admins always; other
    staff when their district requires it. Partner and research staff belong to no
    district: they need it when any district that shares data with their organization
    under an agreement in force requires it, as those districts' records are what they
    read."""
    role = user.role_enum
    if role is Role.DISTRICT_ADMIN:
        return True
    if role in FAMILY:
        return False
    district = district_of(user.organization)
    if district is not None:
        return district.require_staff_two_factor
    requiring = (
        sa.select(DataSharingAgreement.id)
        .join(Organization, Organization.id == DataSharingAgreement.district_id)
        .where(
            DataSharingAgreement.organization_id == user.organization_id,
            agreement_in_force(today()),
            Organization.require_staff_two_factor.is_(True),
        )
    )
    return bool(db.session.scalar(sa.select(requiring.exists())))


def demo_exempt(user: User) -> bool:
    """A demo login keeps one-step sign-in outside production, so a visitor can look
    around, until it enrols."""
    return user.demo_login and current_app.config["ENV_NAME"] != "production"


def must_enrol(user: User) -> bool:
    """Signed in, required to have a second factor, and without one yet."""
    return not user.two_factor_enabled and not demo_exempt(user) and required_for(user)


def resettable_by(admin: User) -> sa.ColumnElement[bool]:
    """The accounts whose second factor `admin` (a district admin) may reset: the
    district's own people (its offices, its schools, its families) and the staff of
    partner and research organizations, which belong to no district. Never their own:
    a second factor is not removed by the person it protects."""
    district_id = admin.organization_id
    school_ids = sa.select(Organization.id).where(Organization.district_id == district_id)
    no_district = sa.select(Organization.id).where(Organization.kind.in_([OrgKind.PARTNER, OrgKind.RESEARCH]))
    return sa.and_(
        User.id != admin.id,
        sa.or_(
            User.organization_id == district_id,
            User.organization_id.in_(school_ids),
            User.organization_id.in_(no_district),
        ),
    )

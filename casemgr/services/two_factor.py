"""Writes of the second factor: enrol, check a code at sign-in, use or replace recovery
codes, reset another person's, and a district's requirement. Each records an account
event; the caller commits."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from casemgr import two_factor
from casemgr.extensions import db
from casemgr.identity import end_every_session
from casemgr.models import Organization, RecoveryCode, User
from casemgr.models.enums import AccountAction
from casemgr.services import account_events


def start_enrolment(user: User) -> str:
    """The secret `user` is enrolling with: the one already shown, or a new one."""
    if user.totp_secret is None:
        user.totp_secret = two_factor.new_secret()
    return user.totp_secret


def accept_code(user: User, code: str) -> bool:
    """Whether `code` is a current code of `user`'s authenticator not used before; the
    step is remembered, so the same code is refused next time."""
    if not user.totp_secret:
        return False
    # two sign-ins racing with the same code: the second waits, then sees the step taken
    last = db.session.scalar(sa.select(User.totp_last_counter).where(User.id == user.id).with_for_update())
    step = two_factor.matching_step(user.totp_secret, code, last)
    if step is None:
        return False
    user.totp_last_counter = step
    return True


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Turn the second factor on when `code` comes from the secret being enrolled; the
    new recovery codes (to show once), or None for a wrong code."""
    if user.two_factor_enabled or not accept_code(user, code):
        return None
    user.totp_enabled_at = datetime.now(UTC)
    codes = _replace_recovery_codes(user)
    account_events.record(AccountAction.TWO_FACTOR_ENABLED, user, actor=user)
    return codes


def regenerate_recovery_codes(user: User, code: str) -> list[str] | None:
    """Ten new recovery codes in place of the old ones, when `code` is a current code."""
    if not user.two_factor_enabled or not accept_code(user, code):
        return None
    codes = _replace_recovery_codes(user)
    account_events.record(AccountAction.UPDATED, user, actor=user, recovery_codes="replaced")
    return codes


def use_recovery_code(user: User, code: str) -> int | None:
    """Spend one of `user`'s unused recovery codes; how many are left, or None when
    `code` is none of them. The row is locked, so two sign-ins racing with the same
    code cannot both pass."""
    row = db.session.scalar(
        sa.select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
               RecoveryCode.code_hash == two_factor.recovery_code_hash(code))
        .with_for_update()
    )
    if row is None:
        return None
    row.used_at = datetime.now(UTC)
    db.session.flush()
    left = unused_recovery_codes(user)
    account_events.record(AccountAction.RECOVERY_CODE_USED, user, actor=user, left=left)
    return left


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def reset(user: User, actor: User) -> None:
    """Take `user`'s second factor away (a lost phone): secret, recovery codes and the
    last step go, every session of the account ends, and they enrol again."""
    had = user.two_factor_enabled
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_every_session(user)
    account_events.record(AccountAction.TWO_FACTOR_RESET, user, actor=actor, was_enabled=had)


def set_district_requirement(district: Organization, required: bool, actor: User) -> bool:
    """Whether every staff role of `district` needs a second factor; True when it changed."""
    if district.require_staff_two_factor == required:
        return False
    district.require_staff_two_factor = required
    event = account_events.record(AccountAction.SETTINGS_CHANGED, None, actor=actor,
                                  require_staff_two_factor=required)
    event.organization_id = district.id
    return True


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [two_factor.new_recovery_code() for _ in range(two_factor.RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=two_factor.recovery_code_hash(code)) for code in codes)
    return codes

"""What a person does to their own account (issue 11 items 8 and 9): change the
password, choose the language, sign out everywhere."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import gettext

from casemgr.extensions import db
from casemgr.identity import end_every_session
from casemgr.models import AccountEvent, User
from casemgr.models.enums import AccountAction
from casemgr.passwords import hash_password, password_problem, verify_password
from casemgr.services import account_events

RECENT_SIGN_INS = 10


class AccountError(ValueError):
    """A change the person asked for cannot be made; the message says why."""


def change_password(user: User, current: str, new: str) -> None:
    """Set `new` after checking `current`; every other session of the account ends (the
    caller commits and begins a fresh session for this browser)."""
    if not verify_password(user.password_hash, current):
        raise AccountError(gettext("Your current password is not right. Nothing was changed."))
    problem = password_problem(new, user.full_name, user.email)
    if problem:
        raise AccountError(problem)
    if verify_password(user.password_hash, new):
        raise AccountError(gettext("Choose a password different from your current one."))
    user.password_hash = hash_password(new)
    user.password_changed_at = datetime.now(UTC)
    end_every_session(user)
    account_events.record(AccountAction.PASSWORD_CHANGED, user, actor=user)


def choose_language(user: User, language: str) -> None:
    if user.locale != language:
        account_events.record(AccountAction.LANGUAGE_CHANGED, user, actor=user, language=language)
    user.locale = language


def sign_out_everywhere(user: User) -> None:
    end_every_session(user)
    account_events.record(AccountAction.SIGNED_OUT_EVERYWHERE, user, actor=user)


def recent_sign_ins(user: User, limit: int = RECENT_SIGN_INS) -> list[AccountEvent]:
    return list(db.session.scalars(
        sa.select(AccountEvent)
        .where(AccountEvent.user_id == user.id, AccountEvent.action == str(AccountAction.SIGNED_IN))
        .order_by(AccountEvent.occurred_at.desc(), AccountEvent.id.desc())
        .limit(limit)
    ))

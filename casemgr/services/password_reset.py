"""Password reset by email (issue 11 item 4): a single-use link valid
PASSWORD_RESET_LIFETIME (30 minutes). Asking gives the same answer whether or not the
address has an account; only an active account with a password gets a link."""
from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from casemgr.extensions import db
from casemgr.identity import end_every_session
from casemgr.mail import compose_for_user, external_url
from casemgr.models import AccountToken, User
from casemgr.models.enums import AccountAction, TokenPurpose
from casemgr.passwords import hash_password, password_problem
from casemgr.services import account_events, account_links


def N_(message: str) -> str:
    return message


SUBJECT = N_("Reset your casemgr password")


class ResetError(ValueError):
    """The new password will not do; the text is for people."""


def request_reset(email: str) -> EmailMessage | None:
    """A reset link for `email` if it names an active account that has a password: the
    link is made and recorded here, and the message carrying it is returned for the
    caller to send after answering (casemgr.mail.deliver_after_response), so the answer
    takes as long either way. None when nothing is to be sent. The caller commits."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or user.invitation_pending:
        return None
    lifetime = current_app.config["PASSWORD_RESET_LIFETIME"]
    token = account_links.issue(user, TokenPurpose.PASSWORD_RESET, lifetime, None)
    account_events.record(AccountAction.PASSWORD_RESET_REQUESTED, user, actor=None)
    db.session.flush()
    return compose_for_user(user, "password_reset", SUBJECT, link=external_url("accounts.reset_password", token=token),
                            minutes=int(lifetime.total_seconds() // 60))


def reset(link: AccountToken, password: str) -> User:
    """Set the new password; every session of the account ends."""
    user = link.user
    problem = password_problem(password, user.full_name, user.email)
    if problem:
        raise ResetError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = datetime.now(UTC)
    account_links.use(link)
    end_every_session(user)
    account_events.record(AccountAction.PASSWORD_RESET, user, actor=None)
    db.session.flush()
    return user

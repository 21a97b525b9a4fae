"""Invitations (issue 11 item 2): an account is created without a password and its
owner gets a single-use link, valid INVITATION_LIFETIME (7 days), to choose one.

`send_invitation` is the one entry point: staff accounts, the first district admin and
family accounts with an email address all come through it.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from casemgr.extensions import db
from casemgr.mail import external_url, send_to_user
from casemgr.models import AccountToken, User
from casemgr.models.enums import AccountAction, TokenPurpose
from casemgr.passwords import hash_password, password_problem
from casemgr.services import account_events, account_links


def N_(message: str) -> str:
    return message


SUBJECT = N_("Your casemgr account: choose a password")


class InvitationError(ValueError):
    """The invitation cannot be sent or accepted; the text is for people."""


def send_invitation(user: User, invited_by: User | None) -> None:
    """Send `user` (an account without a password) a fresh invitation link; earlier
    links stop working. Records `invited` the first time, `invitation_resent` after.
    The caller commits; a MailError leaves the caller to roll back."""
    if not user.invitation_pending:
        raise InvitationError("This person has already set a password; they can sign in or reset it.")
    if not user.active:
        raise InvitationError("This account is deactivated; reactivate it first.")
    again = account_links.has_been_invited(user)
    lifetime = current_app.config["INVITATION_LIFETIME"]
    token = account_links.issue(user, TokenPurpose.INVITATION, lifetime, invited_by)
    action = AccountAction.INVITATION_RESENT if again else AccountAction.INVITED
    account_events.record(action, user, actor=invited_by)
    db.session.flush()
    send_to_user(
        user, "invitation", SUBJECT,
        link=external_url("accounts.invitation", token=token),
        invited_by=invited_by, days=lifetime.days,
        organization=user.organization,
    )


def accept(link: AccountToken, password: str) -> User:
    """The invitee chose `password`: it must be a good one (InvitationError says why).
    Accepting signs them in, so it counts as a sign-in too."""
    user = link.user
    problem = password_problem(password, user.full_name, user.email)
    if problem:
        raise InvitationError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = user.last_login_at = datetime.now(UTC)
    account_links.use(link)
    account_events.record(AccountAction.INVITATION_ACCEPTED, user, actor=user)
    account_events.record(AccountAction.SIGNED_IN, user, actor=user)
    db.session.flush()
    return user

"""Staff accounts (issue 11 item 1): invite, edit, deactivate, reactivate, resend the
invitation; and the first district admin from the command line. Every change is an
account event with its actor. Who may do what to whom is casemgr.staff_policy's."""
from __future__ import annotations

import re

import sqlalchemy as sa

from casemgr import staff_policy
from casemgr.extensions import db
from casemgr.identity import end_every_session
from casemgr.models import Organization, User
from casemgr.models.enums import ROLE_ORG_KIND, AccountAction, OrgKind, Role, TokenPurpose
from casemgr.services import account_events, account_links
from casemgr.services.invitations import send_invitation


class StaffError(ValueError):
    """The change is refused; the text says why, for the person making it."""


def email_in_use(email: str, except_user: User | None = None) -> bool:
    query = sa.select(sa.exists().where(User.email == email.strip().lower()))
    if except_user is not None:
        query = sa.select(sa.exists().where(User.email == email.strip().lower(), User.id != except_user.id))
    return db.session.scalar(query)


def _check_assignment(manager: User, role: Role, organization: Organization | None) -> None:
    if organization is None or ROLE_ORG_KIND[role] != organization.kind:
        raise StaffError(f"A {role.label.lower()} belongs to a {ROLE_ORG_KIND[role].value} organization; choose one.")
    if not staff_policy.may_assign(manager, role, organization):
        raise StaffError(f"You cannot give the role {role.label.lower()} at {organization.name}.")


def invite(manager: User, *, full_name: str, email: str, role: Role, organization: Organization | None,
           job_title: str | None = None, locale: str | None = None) -> User:
    """Create an account without a password and send its invitation, in `locale` (the
    person's language, English when not given). The caller commits."""
    _check_assignment(manager, role, organization)
    email = email.strip().lower()
    if email_in_use(email):
        raise StaffError(f"{email} already belongs to an account. Search for it in the list instead.")
    user = _add_account(User(email=email, full_name=full_name.strip(), role=str(role), organization_id=organization.id,
                             job_title=(job_title or "").strip() or None, password_hash=None,
                             locale=locale if locale in ("en", "es") else None))
    send_invitation(user, manager)
    return user


def _add_account(user: User) -> User:
    """Insert the account; an address taken meanwhile (two admins at once) is refused."""
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except sa.exc.IntegrityError:
        raise StaffError(f"{user.email} already belongs to an account. Search for it in the list instead.") from None
    return user


def update(manager: User, user: User, *, full_name: str, role: Role, organization: Organization | None,
           job_title: str | None) -> dict:
    """Change name, role, organization and job title; returns what changed. Nobody
    changes their own role or organization. The caller commits."""
    changes = {}
    if (str(role), organization.id if organization else None) != (user.role, user.organization_id):
        if not staff_policy.may_change_role(manager, user):
            raise StaffError("You cannot change your own role or organization; another administrator can.")
        _check_assignment(manager, role, organization)
        if str(role) != user.role:
            changes["role"] = [user.role, str(role)]
        if organization.id != user.organization_id:
            changes["organization"] = [user.organization.name, organization.name]
    job_title = (job_title or "").strip() or None
    full_name = full_name.strip()
    if full_name != user.full_name:
        changes["name"] = [user.full_name, full_name]
    if job_title != user.job_title:
        changes["job_title"] = [user.job_title, job_title]
    if not changes:
        return changes
    user.full_name, user.job_title = full_name, job_title
    user.role = str(role)
    if organization is not None and organization.id != user.organization_id:
        user.organization_id = organization.id
        user.organization = organization
    account_events.record(AccountAction.UPDATED, user, actor=manager, changes=changes)
    db.session.flush()
    return changes


def deactivate(manager: User, user: User) -> None:
    """The account can no longer sign in, and its open sessions and links end now."""
    if not staff_policy.may_deactivate(manager, user):
        raise StaffError("You cannot deactivate your own account; another administrator can.")
    if not user.active:
        raise StaffError(f"{user.full_name}'s account is already deactivated.")
    user.active = False
    end_every_session(user)
    for purpose in TokenPurpose:
        account_links.revoke(user, purpose)
    account_events.record(AccountAction.DEACTIVATED, user, actor=manager)
    db.session.flush()


def reactivate(manager: User, user: User) -> None:
    if user.active:
        raise StaffError(f"{user.full_name}'s account is already active.")
    user.active = True
    account_events.record(AccountAction.REACTIVATED, user, actor=manager)
    db.session.flush()


def resend_invitation(manager: User, user: User) -> None:
    if not user.invitation_pending:
        raise StaffError(f"{user.full_name} has already accepted the invitation.")
    if not user.active:
        raise StaffError(f"{user.full_name}'s account is deactivated; reactivate it first.")
    send_invitation(user, manager)


# --- the first district admin, from the command line ---------------------------------------


def district_code_from(name: str) -> str:
    return (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").upper() or "DISTRICT")[:32]


def create_first_admin(email: str, full_name: str, district_code: str | None, district_name: str | None) -> User:
    """A district admin for the district `district_code` (created, with `district_name`,
    when it does not exist), invited by email. The caller commits."""
    email = email.strip().lower()
    if email_in_use(email):
        raise StaffError(f"{email} already belongs to an account")
    if district_code is None:
        districts = db.session.scalars(sa.select(Organization).where(Organization.kind == str(OrgKind.DISTRICT))).all()
        if len(districts) > 1:
            raise StaffError("there are several districts; name one with --district CODE")
        district = districts[0] if districts else None
        if district is None:
            if not district_name:
                raise StaffError("there is no district yet; give its name with --district-name NAME")
            district_code = district_code_from(district_name)
    else:
        district = db.session.scalar(sa.select(Organization).where(Organization.code == district_code))
        if district is not None and district.kind != OrgKind.DISTRICT:
            raise StaffError(f"{district_code} is the code of a {district.kind}, not of a district")
    if district is None:
        if not district_name:
            raise StaffError(f"there is no district {district_code}; give its name with --district-name NAME to create it")
        district = Organization(kind=str(OrgKind.DISTRICT), code=district_code, name=district_name.strip())
        db.session.add(district)
        db.session.flush()
    user = _add_account(User(email=email, full_name=full_name.strip(), role=str(Role.DISTRICT_ADMIN),
                             organization_id=district.id, password_hash=None))
    account_events.record(AccountAction.CREATED, user, actor=None, by="command line")
    send_invitation(user, None)
    return user

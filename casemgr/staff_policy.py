"""Who may manage which account (issue 11 item 1), in one place.

District admins manage their district's staff (district admins of the district,
principals, counselors and teachers of its schools), researchers of any research
partner and the admins of any partner organization. Partner admins manage their own
organization's youth workers and partner admins. Nobody manages families' accounts here,
and nobody changes their own role or organization or deactivates themselves.

Each grant has two faces built from the same rule: `managed_users(manager)` is a SQL
condition for lists and counts, `may_manage(manager, user)` / `may_assign(...)` decide
for one account; tests/test_staff_accounts.py checks that they agree.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from casemgr.models import Organization, User
from casemgr.models.enums import OrgKind, Role


@dataclass(frozen=True)
class Grant:
    manager: Role
    roles: tuple[Role, ...]
    # the organizations the grant covers: as SQL on Organization, and for one organization
    where: Callable[[User], sa.ColumnElement[bool]]
    covers: Callable[[User, Organization], bool]


GRANTS = (
    Grant(Role.DISTRICT_ADMIN, (Role.DISTRICT_ADMIN,),
          lambda m: Organization.id == m.organization_id,
          lambda m, org: org.id == m.organization_id),
    Grant(Role.DISTRICT_ADMIN, (Role.PRINCIPAL, Role.COUNSELOR, Role.TEACHER),
          lambda m: sa.and_(Organization.kind == str(OrgKind.SCHOOL), Organization.district_id == m.organization_id),
          lambda m, org: org.kind == OrgKind.SCHOOL and org.district_id == m.organization_id),
    Grant(Role.DISTRICT_ADMIN, (Role.PARTNER_ADMIN,),
          lambda m: Organization.kind == str(OrgKind.PARTNER),
          lambda m, org: org.kind == OrgKind.PARTNER),
    Grant(Role.DISTRICT_ADMIN, (Role.RESEARCHER,),
          lambda m: Organization.kind == str(OrgKind.RESEARCH),
          lambda m, org: org.kind == OrgKind.RESEARCH),
    Grant(Role.PARTNER_ADMIN, (Role.PARTNER_ADMIN, Role.YOUTH_WORKER),
          lambda m: Organization.id == m.organization_id,
          lambda m, org: org.id == m.organization_id),
)

MANAGERS = frozenset(grant.manager for grant in GRANTS)


def _grants(manager: User) -> list[Grant]:
    if not manager.active:
        return []
    return [grant for grant in GRANTS if grant.manager == manager.role]


def may_assign(manager: User, role: Role | str, organization: Organization | None) -> bool:
    """May `manager` give an account `role` at `organization`?"""
    if organization is None:
        return False
    return any(str(role) in map(str, grant.roles) and grant.covers(manager, organization) for grant in _grants(manager))


def may_manage(manager: User, user: User) -> bool:
    """May `manager` see and change `user`'s account?"""
    return may_assign(manager, user.role, user.organization)


def managed_users(manager: User) -> sa.ColumnElement[bool]:
    """A condition on User selecting exactly the accounts `manager` may manage."""
    clauses = [
        sa.and_(User.role.in_([str(role) for role in grant.roles]),
                User.organization_id.in_(sa.select(Organization.id).where(grant.where(manager))))
        for grant in _grants(manager)
    ]
    return sa.or_(*clauses) if clauses else sa.false()


def assignable_roles(manager: User) -> list[Role]:
    roles = [role for grant in _grants(manager) for role in grant.roles]
    return [role for role in Role if role in roles]


def assignable_organizations(manager: User) -> sa.Select:
    """The organizations `manager` may put an account in, by kind and name."""
    clauses = [grant.where(manager) for grant in _grants(manager)]
    return (sa.select(Organization).where(sa.or_(*clauses) if clauses else sa.false())
            .order_by(Organization.kind, Organization.name))


def may_change_role(manager: User, user: User) -> bool:
    """Nobody changes their own role or organization."""
    return manager.id != user.id


def may_deactivate(manager: User, user: User) -> bool:
    return manager.id != user.id and may_manage(manager, user)

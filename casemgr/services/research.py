"""Research projects (issue 16 item 1): a district admin records a study under written
agreement and attaches the research organization's researcher accounts to it. A project
is active from its first to its last day; outside them its researchers see only the
published reports."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import Organization, ResearchProject, ResearchProjectMember, SchoolYear, User
from casemgr.models.enums import OrgKind, Role
from casemgr.research import VARIABLES


class ResearchError(ValueError):
    """A project or a change to it that cannot be saved; the message says why."""


def create_project(district: Organization, organization: Organization | None, title: str, purpose: str,
                   approval_reference: str, variables: Sequence[str], school_years: Sequence[int],
                   schools: Sequence[Organization], starts_on: date, ends_on: date, destroy_by: date,
                   created_by: User) -> ResearchProject:
    """`schools` empty: every school of the district."""
    if organization is None or organization.kind != OrgKind.RESEARCH:
        raise ResearchError("Choose the research organization.")
    if not title.strip():
        raise ResearchError("Give the project a title.")
    if not purpose.strip():
        raise ResearchError("State the purpose of the study.")
    if not approval_reference.strip():
        raise ResearchError("Give the reference of the study's ethics (IRB) approval.")
    unknown = sorted(set(variables) - VARIABLES.keys())
    if not variables or unknown:
        raise ResearchError("Choose the approved variables from the list.")
    held = set(db.session.scalars(sa.select(SchoolYear.year).where(SchoolYear.district_id == district.id)))
    if not school_years or not set(school_years) <= held:
        raise ResearchError("Choose school years the district has.")
    if any(school.district_id != district.id or school.kind != OrgKind.SCHOOL for school in schools):
        raise ResearchError("Choose schools of the district.")
    if ends_on < starts_on:
        raise ResearchError("The last day must be on or after the first.")
    if destroy_by < ends_on:
        raise ResearchError("The data must be destroyed on or after the project's last day, not before.")
    project = ResearchProject(
        district_id=district.id, organization_id=organization.id, title=title.strip(), purpose=purpose.strip(),
        approval_reference=approval_reference.strip(), variables=[k for k in VARIABLES if k in set(variables)],
        school_years=sorted(set(school_years)), school_ids=sorted({s.id for s in schools}), starts_on=starts_on,
        ends_on=ends_on, destroy_by=destroy_by, created_by_id=created_by.id)
    db.session.add(project)
    db.session.flush()
    return project


def researchers_to_attach(project: ResearchProject) -> list[User]:
    """The project organization's active researcher accounts not attached yet."""
    attached = sa.select(ResearchProjectMember.user_id).where(ResearchProjectMember.project_id == project.id)
    return list(db.session.scalars(
        sa.select(User).where(User.organization_id == project.organization_id, User.role == str(Role.RESEARCHER),
                              User.active.is_(True), User.id.not_in(attached))
        .order_by(User.full_name, User.id)))


def attach_researcher(project: ResearchProject, user: User | None, by: User) -> ResearchProjectMember:
    if user is None or user.role_enum is not Role.RESEARCHER or user.organization_id != project.organization_id \
            or not user.active:
        raise ResearchError(f"Only researchers of {project.organization.name} can be attached to this project.")
    if db.session.get(ResearchProjectMember, (project.id, user.id)) is not None:
        raise ResearchError(f"{user.full_name} is already attached to this project.")
    member = ResearchProjectMember(project_id=project.id, user_id=user.id, added_by_id=by.id)
    db.session.add(member)
    db.session.flush()
    return member


def detach_researcher(project: ResearchProject, user: User) -> None:
    member = db.session.get(ResearchProjectMember, (project.id, user.id))
    if member is None:
        raise ResearchError(f"{user.full_name} is not attached to this project.")
    db.session.delete(member)
    db.session.flush()


def state(project: ResearchProject, day: date) -> str:
    """"upcoming", "active" or "ended"."""
    if day < project.starts_on:
        return "upcoming"
    return "active" if day <= project.ends_on else "ended"


def projects_of(user: User) -> list[ResearchProject]:
    """The projects a researcher is attached to, the newest first: only while they are
    of the project's organization (an account moved elsewhere keeps none)."""
    return list(db.session.scalars(
        sa.select(ResearchProject).join(ResearchProjectMember, ResearchProjectMember.project_id == ResearchProject.id)
        .where(ResearchProjectMember.user_id == user.id, ResearchProject.organization_id == user.organization_id)
        .order_by(ResearchProject.starts_on.desc(), ResearchProject.id.desc())))


def active_projects_of(user: User, day: date) -> list[ResearchProject]:
    return [project for project in projects_of(user) if project.active_on(day)]

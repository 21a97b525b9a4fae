"""Research projects (issue 16 items 1, 3 and 5): a district admin records a study under
written agreement and attaches the research organization's researcher accounts to it. A
project is active from its first to its last day; outside them its researchers see only
the published reports.

A project may cover other districts of the partnership: the district that records it
invites them, and each covers it from the day its own district admin approves (each
district discloses its own students, under its own agreement) until it withdraws.
Where a district lets them, families keep their child out of every extract."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import (
    Organization,
    ResearchOptOut,
    ResearchProject,
    ResearchProjectDistrict,
    ResearchProjectMember,
    SchoolYear,
    Student,
    User,
)
from casemgr.models.enums import OrgKind, Role
from casemgr.research import VARIABLES


class ResearchError(ValueError):
    """A project or a change to it that cannot be saved; the message says why."""


def create_project(district: Organization, organization: Organization | None, title: str, purpose: str,
                   approval_reference: str, variables: Sequence[str], school_years: Sequence[int],
                   schools: Sequence[Organization], starts_on: date, ends_on: date, destroy_by: date,
                   created_by: User, invited: Sequence[Organization] = ()) -> ResearchProject:
    """`schools` empty: every school of the district; `invited`: the other districts of
    the partnership asked to cover the project too."""
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
    if any(other.kind != OrgKind.DISTRICT or other.id == district.id for other in invited):
        raise ResearchError("Invite other districts of the partnership only.")
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
    moment = _now()
    db.session.add(ResearchProjectDistrict(project_id=project.id, district_id=district.id, invited_at=moment,
                                           approved_by_id=created_by.id, approved_at=moment))
    db.session.add_all(ResearchProjectDistrict(project_id=project.id, district_id=other.id, invited_at=moment)
                       for other in {o.id: o for o in invited}.values())
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


def _now() -> datetime:
    return datetime.now(UTC)


# --- the districts a project covers (item 3) ------------------------------------------


def coverage(project: ResearchProject, district: Organization) -> ResearchProjectDistrict | None:
    return db.session.get(ResearchProjectDistrict, (project.id, district.id))


def approve(project: ResearchProject, district: Organization, by: User) -> None:
    """The invited district's admin approves: its students are in the project's extracts
    from now on (a district that withdrew may approve again)."""
    row = coverage(project, district)
    if row is None or project.district_id == district.id:
        raise ResearchError("Your district is not invited to this project.")
    if row.covered:
        raise ResearchError("Your district already takes part in this project.")
    row.approved_by_id, row.approved_at = by.id, _now()
    row.withdrawn_by_id = row.withdrawn_at = None
    db.session.flush()


def withdraw(project: ResearchProject, district: Organization, by: User) -> None:
    """An invited district stops taking part: no later extract holds its students (what
    was downloaded before stays under the agreement's destruction date)."""
    row = coverage(project, district)
    if row is None or project.district_id == district.id:
        raise ResearchError("Your district is not invited to this project.")
    if not row.covered:
        raise ResearchError("Your district does not take part in this project.")
    row.withdrawn_by_id, row.withdrawn_at = by.id, _now()
    db.session.flush()


def projects_of_district(district_id: int) -> list[ResearchProject]:
    """Every project that invites the district or is its own, the newest first."""
    return list(db.session.scalars(
        sa.select(ResearchProject)
        .join(ResearchProjectDistrict, ResearchProjectDistrict.project_id == ResearchProject.id)
        .where(ResearchProjectDistrict.district_id == district_id)
        .order_by(ResearchProject.starts_on.desc(), ResearchProject.id.desc())))


def taken_part_in(district_id: int, day: date) -> list[ResearchProject]:
    """What a family reads (item 5): the projects the district takes part in whose data
    a research organization may still hold (until its destruction date)."""
    return list(db.session.scalars(
        sa.select(ResearchProject)
        .join(ResearchProjectDistrict, ResearchProjectDistrict.project_id == ResearchProject.id)
        .where(ResearchProjectDistrict.district_id == district_id, ResearchProjectDistrict.approved_at.is_not(None),
               ResearchProjectDistrict.withdrawn_at.is_(None), ResearchProject.destroy_by >= day)
        .order_by(ResearchProject.starts_on.desc(), ResearchProject.id.desc())))


# --- families' choice (item 5) ---------------------------------------------------------


def set_opt_out_allowed(district: Organization, allowed: bool) -> None:
    """Requests made while families could ask stay in force if the district stops
    offering the choice: a family's recorded wish is never dropped silently."""
    district.research_opt_out_allowed = allowed
    db.session.flush()


def _in_force(student: Student) -> sa.Select:
    """The requests in force for the student, made through any district's record of them:
    extracts leave the child out by state ID, so the choice is the child's, not a record's."""
    return (sa.select(ResearchOptOut).join(Student, Student.id == ResearchOptOut.student_id)
            .where(Student.state_id == student.state_id, ResearchOptOut.withdrawn_at.is_(None))
            .order_by(ResearchOptOut.requested_at, ResearchOptOut.id))


def opt_out_in_force(student: Student) -> ResearchOptOut | None:
    return db.session.scalars(_in_force(student).limit(1)).first()


def _offered(student: Student) -> None:
    if not student.district.research_opt_out_allowed:
        raise ResearchError("The district does not offer this choice.")


def opt_out(student: Student, by: User) -> ResearchOptOut:
    _offered(student)
    if opt_out_in_force(student) is not None:
        raise ResearchError("This student is already left out of research extracts.")
    request = ResearchOptOut(student_id=student.id, requested_by_id=by.id, requested_at=_now())
    db.session.add(request)
    db.session.flush()
    return request


def opt_back_in(student: Student, by: User) -> None:
    """Withdraws the requests in force; a family may always do so, even where the district
    no longer offers the choice (its requests stayed in force)."""
    requests = db.session.scalars(_in_force(student)).all()
    if not requests:
        raise ResearchError("This student is not left out of research extracts.")
    moment = _now()
    for request in requests:
        request.withdrawn_by_id, request.withdrawn_at = by.id, moment
    db.session.flush()

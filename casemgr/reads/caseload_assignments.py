"""Who has which students: the condition "in this counselor's caseload" on `Student`,
and the principal's page of rules, individual assignments and how many students each
counselor gets."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import CaseloadAssignment, CaseloadRule, Organization, Student, User
from casemgr.models.enums import Role
from casemgr.text import unaccented

INDIVIDUALS_SHOWN = 200


def rule_matches(rule: type[CaseloadRule] = CaseloadRule, day: date | None = None) -> sa.ColumnElement[bool]:
    """A rule matches a current student of its school (one who has not left by `day`,
    today by default) in its grade (if it names one) whose last name starts with a letter
    of its range (if it has one), accents aside ("Ábalos" is an A)."""
    initial = sa.func.upper(sa.func.left(unaccented(Student.last_name), 1))
    return sa.and_(
        rule.school_id == Student.school_id,
        Student.current_on(day or today()),
        sa.or_(rule.grade.is_(None), rule.grade == Student.grade),
        sa.or_(rule.letters_from.is_(None), initial.between(rule.letters_from, rule.letters_to)),
    )


def in_caseload_of(counselor_id: int | sa.ColumnElement[int], day: date | None = None) -> sa.ColumnElement[bool]:
    """A condition on `Student`: assigned to the counselor one by one, or, when not
    assigned to anyone one by one, matched by one of the counselor's rules (on `day`)."""
    assigned = sa.exists().where(CaseloadAssignment.student_id == Student.id).correlate_except(CaseloadAssignment)
    mine = sa.exists().where(CaseloadAssignment.student_id == Student.id,
                             CaseloadAssignment.counselor_id == counselor_id).correlate_except(CaseloadAssignment)
    by_rule = sa.exists().where(CaseloadRule.counselor_id == counselor_id,
                                rule_matches(day=day)).correlate_except(CaseloadRule)
    return sa.or_(mine, sa.and_(~assigned, by_rule))


def has_caseload(counselor: User) -> sa.ColumnElement[bool]:
    """Whether any rule or individual assignment names the counselor at their school
    (uncorrelated: evaluated once in any statement)."""
    return sa.or_(
        sa.exists().where(CaseloadRule.counselor_id == counselor.id, CaseloadRule.school_id == counselor.organization_id)
        .correlate(None),
        sa.exists().where(CaseloadAssignment.counselor_id == counselor.id,
                          CaseloadAssignment.student_id == Student.id,
                          Student.school_id == counselor.organization_id).correlate(None),
    )


def counselors_of(school: Organization) -> sa.Select:
    return (sa.select(User).where(User.organization_id == school.id, User.role == str(Role.COUNSELOR),
                                  User.active.is_(True)).order_by(User.full_name, User.id))


@dataclass
class Individual:
    student: Student
    counselor: User


@dataclass
class AssignmentsPage:
    school: Organization
    counselors: list[tuple[User, int]]  # each counselor of the school and how many students they get
    unassigned: int
    students: int
    rules: list[CaseloadRule]
    individuals: list[Individual]
    individuals_total: int
    shared: int = 0  # students whom rules put in more than one counselor's caseload


def assignments_page(school: Organization) -> AssignmentsPage:
    """The school's current students (those who left are no one's caseload)."""
    counselors = db.session.scalars(counselors_of(school)).all()
    ids = [c.id for c in counselors]
    current = Student.current_on(today())
    mine = (sa.select(sa.func.count()).where(Student.school_id == school.id, current, in_caseload_of(User.id))
            .correlate(User))
    counts = dict(db.session.execute(
        sa.select(User.id, mine.scalar_subquery()).where(User.id.in_(ids))).all()) if ids else {}
    holders = (sa.select(sa.func.count()).where(User.id.in_(ids), in_caseload_of(User.id)).scalar_subquery()
               if ids else sa.literal(0))
    students, unassigned, shared = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(holders == 0), sa.func.count().filter(holders > 1))
        .where(Student.school_id == school.id, current)).one()
    rules = db.session.scalars(
        sa.select(CaseloadRule).options(selectinload(CaseloadRule.counselor)).where(CaseloadRule.school_id == school.id)
        .order_by(CaseloadRule.grade.nulls_first(), CaseloadRule.letters_from, CaseloadRule.id)).all()
    individual = (sa.select(Student, User).join(CaseloadAssignment, CaseloadAssignment.student_id == Student.id)
                  .join(User, User.id == CaseloadAssignment.counselor_id).where(Student.school_id == school.id, current))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(individual.subquery()))
    rows = db.session.execute(
        individual.order_by(Student.last_name, Student.first_name, Student.id).limit(INDIVIDUALS_SHOWN)).all()
    return AssignmentsPage(school, [(c, counts.get(c.id, 0)) for c in counselors], unassigned, students, rules,
                           [Individual(s, u) for s, u in rows], total, shared)

"""Flags and support plans (SPEC §6): the counselor's own casework for a student.

History is only ever added to: a flag and a plan are closed, never deleted; a
check-in is a row of its own and is never changed afterwards. Each use-case checks
everything itself (the forms check too) and raises `CaseworkError` with a sentence
for the person, so a forged form changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import Flag, Student, SupportPlan, SupportPlanCheckIn, User
from casemgr.models.enums import CaseStatus, Service
from casemgr.policy import casework_staff
from casemgr.services.locks import lock_student

DETAILS_MAX = 2000
GOAL_MAX = 1000
STRATEGIES_MAX = 4000
SUMMARY_MAX = 4000
OUTCOME_MAX = 2000
DURATION_WEEKS = (1, 52)
CHECK_IN_EVERY_DAYS = (1, 90)
DEFAULT_DURATION_WEEKS = 6
DEFAULT_CHECK_IN_EVERY_DAYS = 7
START_AT_MOST_DAYS_AGO = 365
START_AT_MOST_DAYS_AHEAD = 90

SERVICE_LABELS = {
    Service.ATTENDANCE_SUPPORT: "Attendance support",
    Service.TUTORING: "Tutoring",
    Service.MENTORING: "Mentoring",
    Service.COLLEGE_APPLICATION: "College application",
    Service.FAFSA_HELP: "FAFSA help",
    Service.FAMILY_SUPPORT: "Family support",
    Service.OTHER: "Other",
}


class CaseworkError(ValueError):
    """Casework that cannot be recorded; the message says why, for the person."""


def _text(value: str | None, what: str, limit: int, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise CaseworkError(f"Write the {what}.")
        return None
    if len(cleaned) > limit:
        raise CaseworkError(f"The {what} is {len(cleaned)} characters long; the limit is {limit}.")
    return cleaned


def _lock(model, row_id: int) -> str:
    return db.session.scalar(sa.select(model.status).where(model.id == row_id).with_for_update())


# --- flags ------------------------------------------------------------------------------


def open_flags(student: Student) -> list[Flag]:
    return list(
        db.session.scalars(
            sa.select(Flag)
            .where(Flag.student_id == student.id, Flag.status == str(CaseStatus.OPEN))
            .order_by(Flag.created_at.desc(), Flag.id.desc())
        )
    )


def raise_flag(student: Student, need: str, details: str | None, raised_by: User) -> Flag:
    try:
        service = Service(need)
    except ValueError:
        raise CaseworkError("Choose the kind of need.") from None
    cleaned = _text(details, "details", DETAILS_MAX, required=False)
    lock_student(student)  # two counselors cannot raise the same flag twice
    if any(flag.need == str(service) for flag in open_flags(student)):
        raise CaseworkError(f"This student already has an open flag for {SERVICE_LABELS[service].lower()}.")
    flag = Flag(student_id=student.id, need=str(service), details=cleaned, raised_by_id=raised_by.id)
    db.session.add(flag)
    db.session.flush()
    return flag


def close_flag(flag: Flag, closed_by: User, now: datetime | None = None) -> Flag:
    if _lock(Flag, flag.id) != str(CaseStatus.OPEN):
        raise CaseworkError("This flag is already closed.")
    flag.status = str(CaseStatus.CLOSED)
    flag.closed_at = now or datetime.now(timezone.utc)
    flag.closed_by_id = closed_by.id
    db.session.flush()
    return flag


# --- support plans ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSupportPlan:
    tier: int
    goal: str
    strategies: str
    owner: User | None
    starts_on: date
    duration_weeks: int = DEFAULT_DURATION_WEEKS
    checkin_every_days: int = DEFAULT_CHECK_IN_EVERY_DAYS
    flag: Flag | None = None


def check_new_plan(student: Student, plan: NewSupportPlan, today: date) -> None:
    if plan.tier not in (1, 2, 3):
        raise CaseworkError("Choose tier 1, 2 or 3.")
    low, high = DURATION_WEEKS
    if not low <= plan.duration_weeks <= high:
        raise CaseworkError(f"The duration must be from {low} to {high} weeks.")
    low, high = CHECK_IN_EVERY_DAYS
    if not low <= plan.checkin_every_days <= high:
        raise CaseworkError(f"Check-ins must be every {low} to {high} days.")
    if plan.starts_on < today - timedelta(days=START_AT_MOST_DAYS_AGO):
        raise CaseworkError("The start date cannot be more than a year ago.")
    if plan.starts_on > today + timedelta(days=START_AT_MOST_DAYS_AHEAD):
        raise CaseworkError(f"The start date cannot be more than {START_AT_MOST_DAYS_AHEAD} days from today.")
    staff_ids = set(db.session.scalars(casework_staff(student).with_only_columns(User.id)))
    if plan.owner is None or plan.owner.id not in staff_ids:
        raise CaseworkError(f"The owner must be a counselor or the principal of {student.school.name}.")
    if plan.flag is not None:
        if plan.flag.student_id != student.id or plan.flag.status != str(CaseStatus.OPEN):
            raise CaseworkError("A plan can only start from one of this student's open flags.")
        already = db.session.scalar(
            sa.select(SupportPlan.id).where(
                SupportPlan.flag_id == plan.flag.id, SupportPlan.status == str(CaseStatus.OPEN)
            )
        )
        if already is not None:
            raise CaseworkError("This flag already has an open support plan.")


def open_support_plan(student: Student, plan: NewSupportPlan, created_by: User, today: date) -> SupportPlan:
    goal = _text(plan.goal, "goal", GOAL_MAX)
    strategies = _text(plan.strategies, "strategies", STRATEGIES_MAX)
    lock_student(student)  # nor open two plans for one flag
    check_new_plan(student, plan, today)
    row = SupportPlan(
        student_id=student.id,
        flag_id=plan.flag.id if plan.flag else None,
        tier=plan.tier,
        goal=goal,
        strategies=strategies,
        owner_id=plan.owner.id,
        starts_on=plan.starts_on,
        duration_weeks=plan.duration_weeks,
        checkin_every_days=plan.checkin_every_days,
        created_by_id=created_by.id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def record_check_in(plan: SupportPlan, occurred_on: date, summary: str, recorded_by: User, today: date) -> SupportPlanCheckIn:
    cleaned = _text(summary, "summary of the check-in", SUMMARY_MAX)
    if _lock(SupportPlan, plan.id) != str(CaseStatus.OPEN):
        raise CaseworkError("This plan is closed; check-ins can no longer be added.")
    if occurred_on > today:
        raise CaseworkError("A check-in date cannot be in the future.")
    if occurred_on < plan.starts_on:
        raise CaseworkError(f"A check-in cannot be before the plan started ({plan.starts_on.day} {plan.starts_on:%B %Y}).")
    check_in = SupportPlanCheckIn(plan_id=plan.id, occurred_on=occurred_on, summary=cleaned, recorded_by_id=recorded_by.id)
    db.session.add(check_in)
    db.session.flush()
    return check_in


def close_support_plan(plan: SupportPlan, outcome: str, closed_by: User, today: date) -> SupportPlan:
    """Closed today, with its outcome. The plan's goal, strategies and check-ins stay
    exactly as they were."""
    cleaned = _text(outcome, "outcome", OUTCOME_MAX)
    if _lock(SupportPlan, plan.id) != str(CaseStatus.OPEN):
        raise CaseworkError("This plan is already closed.")
    plan.status = str(CaseStatus.CLOSED)
    plan.closed_on = today
    plan.closed_at = datetime.now(timezone.utc)
    plan.closed_by_id = closed_by.id
    plan.outcome = cleaned
    db.session.flush()
    return plan


@dataclass(frozen=True)
class PlanSchedule:
    """When a plan ends and when its next check-in is due."""

    ends_on: date
    last_check_in_on: date | None
    next_check_in_on: date | None  # None once the plan is closed
    overdue_days: int  # 0 when not overdue
    past_end: bool  # still open after its end date: it wants closing with an outcome


def plan_schedule(plan: SupportPlan, today: date) -> PlanSchedule:
    """The next check-in is due one interval after the latest check-in (or after the
    start), and never later than the end date, when the plan wants its final review."""
    ends_on = plan.starts_on + timedelta(weeks=plan.duration_weeks)
    last = max((c.occurred_on for c in plan.check_ins), default=None)
    if plan.status != str(CaseStatus.OPEN):
        return PlanSchedule(ends_on, last, None, 0, False)
    due = min((last or plan.starts_on) + timedelta(days=plan.checkin_every_days), ends_on)
    return PlanSchedule(ends_on, last, due, max((today - due).days, 0), today > ends_on)

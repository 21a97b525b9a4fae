"""Referrals (SPEC §6): a counselor hands a flagged need to an organization whose service
agreement offers it at the student's school, and the organization answers.

    awaiting_consent ──(a consent naming the organization is recorded)──▶ sent
    sent ──▶ accepted (the student joins the roster) ──▶ closed (with an outcome)
    sent ──▶ declined (with a reason)
    awaiting_consent or sent ──(withdrawn by the school, with a reason)──▶ closed
    awaiting_consent ──(the family declines to consent)──▶ closed

Each step is a `ReferralEvent` and an entry in the disclosure log naming the receiving
organization. What the organization sees through a referral is never stored: every read
computes it from the consents (`policy.organization_categories`), so a revocation takes
effect on the next request, as everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import (
    DataSharingAgreement,
    Flag,
    Organization,
    Referral,
    ReferralEvent,
    RosterEntry,
    ServiceAgreement,
    Student,
    User,
    service_agreement_schools,
)
from casemgr.models.enums import CaseStatus, Category, ReferralStatus, Service
from casemgr.reads.indicator_cards import current_indicator, percent
from casemgr.services import disclosure
from casemgr.services.casework import SERVICE_LABELS
from casemgr.services.locks import lock_student

MESSAGE_MAX = 2000
REASON_MAX = 2000
OUTCOME_MAX = 2000

OPEN_STATUSES = (ReferralStatus.AWAITING_CONSENT, ReferralStatus.SENT, ReferralStatus.ACCEPTED)
# referrals not yet answered hold a place against the organization's capacity
PENDING_STATUSES = (ReferralStatus.AWAITING_CONSENT, ReferralStatus.SENT)

STATUS_LABELS = {
    ReferralStatus.AWAITING_CONSENT: "Awaiting family consent",
    ReferralStatus.SENT: "Sent, waiting for an answer",
    ReferralStatus.ACCEPTED: "Accepted",
    ReferralStatus.DECLINED: "Declined",
    ReferralStatus.CLOSED: "Closed",
}


class ReferralError(ValueError):
    """A referral step that cannot be taken; the message says why, for the person."""


def status_label(status: str) -> str:
    return STATUS_LABELS[ReferralStatus(status)]


def _text(value: str | None, what: str, limit: int, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise ReferralError(f"Write the {what}.")
        return None
    if len(cleaned) > limit:
        raise ReferralError(f"The {what} is {len(cleaned)} characters long; the limit is {limit}.")
    return cleaned


def in_force(model, today: date) -> sa.ColumnElement[bool]:
    """An agreement (data-sharing or service) that applies on `today`; one ended today does not."""
    return sa.and_(
        model.starts_on <= today,
        model.ends_on >= today,
        sa.or_(model.ended_on.is_(None), model.ended_on > today),
    )


def _on_roster_today(today: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        RosterEntry.added_on <= today, sa.or_(RosterEntry.removed_on.is_(None), RosterEntry.removed_on > today)
    )


# --- capacity ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """An organization's places: the capacity of its service agreements in force, the
    students on its roster, and the students with a referral still waiting (for consent
    or for an answer), who would take a place if accepted."""

    capacity: int
    on_roster: int
    pending: int

    @property
    def in_use(self) -> int:
        return self.on_roster + self.pending

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.in_use, 0)


def organization_loads(organization_ids: list[int], today: date, district_id: int | None = None) -> dict[int, Load]:
    """Each organization's `Load` (in one district, or in all), in three grouped queries."""
    if not organization_ids:
        return {}
    capacity, rostered, pending = (dict(db.session.execute(query).all())
                                   for query in _load_queries(organization_ids, today, district_id))
    return {
        org_id: Load(int(capacity.get(org_id) or 0), rostered.get(org_id, 0), pending.get(org_id, 0))
        for org_id in organization_ids
    }


def load_columns(organization_id: int, today: date) -> list[sa.ColumnElement[int]]:
    """One organization's `Load` in all districts as three columns (capacity, on_roster,
    pending) for a statement of its own page, in `Load`'s order."""
    return [sa.func.coalesce(query.with_only_columns(query.selected_columns[1]).scalar_subquery(), 0)
            for query in _load_queries([organization_id], today, None)]


def _load_queries(organization_ids: list[int], today: date, district_id: int | None) -> list[sa.Select]:
    """(organization_id, capacity), (organization_id, students on the roster) and
    (organization_id, students with a referral pending), grouped by organization."""

    def in_district(*where):
        return [*where, Student.district_id == district_id] if district_id is not None else list(where)

    capacity_where = [ServiceAgreement.organization_id.in_(organization_ids), in_force(ServiceAgreement, today)]
    if district_id is not None:
        capacity_where.append(ServiceAgreement.district_id == district_id)
    already = sa.exists().where(
        RosterEntry.organization_id == Referral.organization_id,
        RosterEntry.student_id == Referral.student_id,
        _on_roster_today(today),
    )
    return [
        sa.select(ServiceAgreement.organization_id, sa.func.sum(ServiceAgreement.capacity))
        .where(*capacity_where).group_by(ServiceAgreement.organization_id),
        sa.select(RosterEntry.organization_id, sa.func.count(sa.distinct(RosterEntry.student_id)))
        .join(Student, Student.id == RosterEntry.student_id)
        .where(*in_district(RosterEntry.organization_id.in_(organization_ids), _on_roster_today(today)))
        .group_by(RosterEntry.organization_id),
        sa.select(Referral.organization_id, sa.func.count(sa.distinct(Referral.student_id)))
        .join(Student, Student.id == Referral.student_id)
        .where(*in_district(
            Referral.organization_id.in_(organization_ids),
            Referral.status.in_([str(s) for s in PENDING_STATUSES]),
            ~already,
        ))
        .group_by(Referral.organization_id),
    ]


# --- the organizations a counselor may refer to, best first -----------------------------------


@dataclass
class ReferralOption:
    """An organization offering the service at the student's school, and why it ranks
    where it does."""

    organization: Organization
    load: Load
    already_serves: bool  # the student is on its roster
    sharing_agreement: bool  # a data-sharing agreement with the district is in force
    shares: dict[Category, str] = field(default_factory=dict)  # what a referral would share now
    open_referral: str | None = None  # status of this student's open referral to it for this service

    @property
    def available(self) -> bool:
        return self.sharing_agreement and self.open_referral is None

    @property
    def rank_key(self) -> tuple:
        return (not self.available, not self.already_serves, not self.shares, -self.load.remaining,
                self.organization.name, self.organization.id)

    @property
    def unavailable_reason(self) -> str | None:
        name = self.organization.name
        if self.open_referral is not None:
            return f"Already referred to {name} ({status_label(self.open_referral).lower()})."
        if not self.sharing_agreement:
            return f"{name} has no data-sharing agreement in force with the district, so a referral could share nothing."
        return None

    def reasons(self, service: Service, school: Organization) -> list[str]:
        """Why this organization is listed where it is, in words."""
        reasons = [f"Offers {SERVICE_LABELS[service].lower()} at {school.name}."]
        if self.already_serves:
            reasons.append("Already works with this student (on its roster).")
        if self.shares:
            reasons.append(f"Family consent on file: the referral would share {_in_words(self.shares)}.")
        elif self.sharing_agreement:
            reasons.append("No family consent on file: the referral would wait for it, sharing nothing until then.")
        load = self.load
        if load.capacity and load.remaining:
            reasons.append(f"{load.remaining} of {load.capacity} places free.")
        else:
            reasons.append(f"No places free ({load.in_use} students for {load.capacity} places).")
        return reasons


def _in_words(categories) -> str:
    labels = [policy.CATEGORY_LABELS[c] for c in categories]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def referral_options(student: Student, service: str | Service, today: date) -> list[ReferralOption]:
    """The organizations whose service agreement in force offers `service` at the
    student's school, ranked by fit (available; already serving the student; family
    consent on file) and then by remaining capacity."""
    service = Service(service)
    offering = (
        sa.select(ServiceAgreement.organization_id)
        .join(service_agreement_schools, service_agreement_schools.c.agreement_id == ServiceAgreement.id)
        .where(
            ServiceAgreement.district_id == student.district_id,
            service_agreement_schools.c.school_id == student.school_id,
            ServiceAgreement.services.contains([str(service)]),
            in_force(ServiceAgreement, today),
        )
    )
    organizations = list(db.session.scalars(sa.select(Organization).where(Organization.id.in_(offering))))
    if not organizations:
        return []
    ids = [o.id for o in organizations]
    loads = organization_loads(ids, today, student.district_id)
    serving = set(db.session.scalars(
        sa.select(RosterEntry.organization_id).where(
            RosterEntry.student_id == student.id, RosterEntry.organization_id.in_(ids), _on_roster_today(today))
    ))
    with_agreement = set(db.session.scalars(
        sa.select(DataSharingAgreement.organization_id).where(
            DataSharingAgreement.organization_id.in_(ids),
            DataSharingAgreement.district_id == student.district_id,
            policy.agreement_in_force(today),
        )
    ))
    open_referrals = dict(db.session.execute(
        sa.select(Referral.organization_id, Referral.status).where(
            Referral.student_id == student.id,
            Referral.organization_id.in_(ids),
            Referral.service == str(service),
            Referral.status.in_([str(s) for s in OPEN_STATUSES]),
        )
    ).all())
    options = []
    for org in organizations:
        agreed = org.id in with_agreement
        options.append(ReferralOption(
            organization=org,
            load=loads[org.id],
            already_serves=org.id in serving,
            sharing_agreement=agreed,
            shares=policy.organization_categories(org.id, student, today) if agreed else {},
            open_referral=open_referrals.get(org.id),
        ))
    return sorted(options, key=lambda option: option.rank_key)


# --- the steps ------------------------------------------------------------------------------


def _step(referral: Referral, status: ReferralStatus, by: User, comment: str | None = None) -> None:
    referral.status = str(status)
    referral.updated_at = sa.func.now()
    db.session.add(ReferralEvent(referral_id=referral.id, status=str(status), by_user_id=by.id, comment=comment))
    db.session.flush()


def _current_status(referral: Referral) -> ReferralStatus:
    """The referral's status, re-read under a row lock: two people answering at once
    are serialized, and the second sees the first one's answer."""
    db.session.refresh(referral, with_for_update=True)
    return ReferralStatus(referral.status)


ANSWERED = {
    ReferralStatus.ACCEPTED: "This referral has already been accepted.",
    ReferralStatus.DECLINED: "This referral has already been declined.",
    ReferralStatus.CLOSED: "This referral is already closed.",
    ReferralStatus.AWAITING_CONSENT: "This referral is waiting for the family's consent.",
}


def send_referral(student: Student, flag: Flag | None, organization: Organization | None, message: str | None,
                  sent_by: User, today: date) -> Referral:
    """Refer the flag's need to one of the organizations `referral_options` offers. With a
    family consent on file it is sent; without one it waits for consent, sharing nothing."""
    cleaned = _text(message, "message", MESSAGE_MAX, required=False)
    lock_student(student)
    if flag is None or flag.student_id != student.id or flag.status != str(CaseStatus.OPEN):
        raise ReferralError("A referral starts from one of this student's open flags.")
    service = Service(flag.need)
    option = None
    if organization is not None:
        option = next((o for o in referral_options(student, service, today) if o.organization.id == organization.id), None)
    if option is None:
        raise ReferralError(
            f"Choose an organization that offers {SERVICE_LABELS[service].lower()} at {student.school.name}.")
    if not option.available:
        raise ReferralError(option.unavailable_reason)
    status = ReferralStatus.SENT if option.shares else ReferralStatus.AWAITING_CONSENT
    referral = Referral(
        student_id=student.id, flag_id=flag.id, organization_id=option.organization.id, service=str(service),
        status=str(status), message=cleaned, created_by_id=sent_by.id,
    )
    db.session.add(referral)
    db.session.flush()
    _step(referral, status, sent_by)
    disclosure.log_referral(sent_by, student, referral.organization_id, option.shares,
                            "referral sent" if option.shares else "referral awaiting family consent; nothing shared")
    return referral


def release_awaiting_referrals(student: Student, organization_id: int, by: User, today: date) -> list[Referral]:
    """Send the student's referrals to the organization that were waiting for consent,
    once a consent lets the organization see something. Called wherever a consent is
    recorded (staff record paper consents; the family portal will record its own)."""
    waiting = list(db.session.scalars(
        sa.select(Referral).where(
            Referral.student_id == student.id,
            Referral.organization_id == organization_id,
            Referral.status == str(ReferralStatus.AWAITING_CONSENT),
        ).order_by(Referral.id).with_for_update()
    ))
    if not waiting:
        return []
    shares = policy.organization_categories(organization_id, student, today)
    if not shares:
        return []
    for referral in waiting:
        _step(referral, ReferralStatus.SENT, by, "Family consent recorded; the referral was sent.")
        disclosure.log_referral(by, student, organization_id, shares, "family consent recorded; referral sent")
    return waiting


def accept_referral(referral: Referral, student: Student, accepted_by: User, today: date) -> RosterEntry | None:
    """Accept a sent referral: the student joins the organization's roster (unless
    already on it). Returns the new roster entry, if one was added."""
    lock_student(student)
    status = _current_status(referral)
    if status is not ReferralStatus.SENT:
        raise ReferralError(ANSWERED[status])
    shares = policy.organization_categories(referral.organization_id, student, today)
    if not shares:
        raise ReferralError("The family's consent for your organization is no longer active, "
                            "so this referral can only be declined.")
    entry = None
    already = db.session.scalar(sa.select(sa.exists().where(
        RosterEntry.organization_id == referral.organization_id, RosterEntry.student_id == student.id,
        RosterEntry.removed_on.is_(None),
    )))
    if not already:
        entry = RosterEntry(organization_id=referral.organization_id, student_id=student.id,
                            program=SERVICE_LABELS[Service(referral.service)], added_on=today,
                            added_by_id=accepted_by.id)
        db.session.add(entry)
    _step(referral, ReferralStatus.ACCEPTED, accepted_by)
    disclosure.log_referral(accepted_by, student, referral.organization_id, shares,
                            "referral accepted; added to the roster" if entry else "referral accepted")
    return entry


def decline_referral(referral: Referral, student: Student, reason: str, declined_by: User, today: date) -> None:
    cleaned = _text(reason, "reason for declining", REASON_MAX)
    status = _current_status(referral)
    if status is not ReferralStatus.SENT:
        raise ReferralError(ANSWERED[status])
    referral.decline_reason = cleaned
    _step(referral, ReferralStatus.DECLINED, declined_by, cleaned)
    disclosure.log_referral(declined_by, student, referral.organization_id,
                            policy.referral_disclosure(referral, student, today), "referral declined")


def close_referral(referral: Referral, student: Student, outcome: str, closed_by: User, today: date) -> None:
    """Close an accepted referral with its outcome. The student stays on the roster
    until the organization removes them."""
    cleaned = _text(outcome, "outcome", OUTCOME_MAX)
    status = _current_status(referral)
    if status is not ReferralStatus.ACCEPTED:
        raise ReferralError(
            "Only an accepted referral is closed with an outcome." if status is ReferralStatus.SENT else ANSWERED[status])
    referral.outcome = cleaned
    _step(referral, ReferralStatus.CLOSED, closed_by, cleaned)
    disclosure.log_referral(closed_by, student, referral.organization_id,
                            policy.referral_disclosure(referral, student, today), "referral closed")


def withdraw_referral(referral: Referral, student: Student, reason: str, withdrawn_by: User, today: date) -> None:
    """The school withdraws a referral not yet accepted (the family said no, the need
    went away): it closes with the reason as its outcome."""
    cleaned = _text(reason, "reason for withdrawing", REASON_MAX)
    status = _current_status(referral)
    if status not in PENDING_STATUSES:
        if status is ReferralStatus.ACCEPTED:
            raise ReferralError("This referral has been accepted; the organization closes it with an outcome.")
        raise ReferralError(ANSWERED[status])
    referral.outcome = f"Withdrawn by the school: {cleaned}"
    _step(referral, ReferralStatus.CLOSED, withdrawn_by, referral.outcome)
    disclosure.log_referral(withdrawn_by, student, referral.organization_id,
                            policy.referral_disclosure(referral, student, today), "referral withdrawn by the school")


FAMILY_DECLINED = "The family declined consent."


def decline_for_family(referral: Referral, student: Student, declined_by: User, today: date) -> None:
    """The family says no to a referral waiting for its consent: the referral closes with
    that outcome, the organization receives nothing, and the school sees the step (by a
    parent or the student) on the student's timeline. Refused to anyone who may not sign
    the student's consents."""
    if referral.student_id != student.id or not policy.may_sign_consents(declined_by, student, today):
        raise ReferralError(gettext("You cannot answer this request."))
    if _current_status(referral) is not ReferralStatus.AWAITING_CONSENT:
        raise ReferralError(gettext("This request has already been answered."))
    referral.outcome = FAMILY_DECLINED
    _step(referral, ReferralStatus.CLOSED, declined_by, FAMILY_DECLINED)
    disclosure.log_referral(declined_by, student, referral.organization_id, {}, "family declined consent; referral closed")


# --- what the receiving organization reads ------------------------------------------------


@dataclass(frozen=True)
class SharedLine:
    category: Category
    text: str


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def shared_summary(student: Student, shared: dict[Category, str], today: date) -> list[SharedLine]:
    """The student's indicators in words, for each category the organization may see
    (identity and the referral itself are shown apart). Assessments and notes wait for
    the student's record, once on the roster."""
    wanted = shared.keys() & {Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.COLLEGE}
    if not wanted:
        return []
    row = current_indicator(student, today)
    lines = []
    if Category.ATTENDANCE in wanted:
        if row is None or not row.days_enrolled:
            lines.append(SharedLine(Category.ATTENDANCE, "No attendance recorded this school year yet."))
        else:
            text = (f"Missed {row.days_absent} of {row.days_enrolled} school days this year "
                    f"({percent(row.days_absent, row.days_enrolled)}%).")
            if row.chronic_absence:
                text += " Chronically absent" + (" (severe)." if row.severe_absence else ".")
            lines.append(SharedLine(Category.ATTENDANCE, text))
    if Category.GRADES in wanted and row is not None:
        text = (_plural(row.course_failures, "failing mark") + " this year"
                + (", in English or math." if row.core_failure else ".")) if row.course_failures else "No failing marks this year."
        if row.credits_expected and row.credits_earned is not None:
            text += f" {row.credits_earned.normalize():f} of {row.credits_expected.normalize():f} credits expected by now."
        lines.append(SharedLine(Category.GRADES, text))
    if Category.BEHAVIOR in wanted and row is not None:
        lines.append(SharedLine(Category.BEHAVIOR, (_plural(row.suspensions, "suspension") + " this year.")
                                if row.suspensions else "No suspensions this year."))
    if Category.COLLEGE in wanted and row is not None and student.grade == 12:
        status = (row.fafsa_status or "not_started").replace("_", " ")
        lines.append(SharedLine(Category.COLLEGE, f"FAFSA: {status}."))
    return lines

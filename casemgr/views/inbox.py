"""The partner administrator's referral inbox (SPEC §6): accept (the student joins the
roster), decline with a reason, close with an outcome.

A referral shows only what the family's consents let the organization see
(`policy.referral_shared`); one still awaiting consent shows the service, the school and
the date, never who it is for. Referrals of other organizations answer 404.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import aliased, joinedload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import Organization, Referral, ReferralEvent, Student
from casemgr.models.enums import Category, ReferralStatus, Role
from casemgr.reads.partner_workspace import admin_summary
from casemgr.services import disclosure
from casemgr.services import referrals as referral_service
from casemgr.services.referrals import ReferralError
from casemgr.views.rendering import render

bp = Blueprint("inbox", __name__, url_prefix="/partner/referrals")
restrict_blueprint(bp, role_permission(Role.PARTNER_ADMIN))
FINISHED_SHOWN = 20


class AcceptForm(FlaskForm):
    """Only the CSRF token."""


class DeclineForm(FlaskForm):
    reason = TextAreaField("Reason for declining", validators=[
        DataRequired("Write why you are declining the referral."),
        Length(max=referral_service.REASON_MAX, message=f"Keep the reason to {referral_service.REASON_MAX} characters or fewer.")])


class CloseForm(FlaskForm):
    outcome = TextAreaField("Outcome", validators=[
        DataRequired("Write the outcome of the referral."),
        Length(max=referral_service.OUTCOME_MAX, message=f"Keep the outcome to {referral_service.OUTCOME_MAX} characters or fewer.")])


@dataclass(frozen=True)
class InboxRow:
    referral: Referral
    student: Student
    school: str
    shared: dict[Category, str]

    @property
    def named(self) -> bool:
        return Category.IDENTITY in self.shared


def _rows(where, order, limit: int | None = None) -> list[InboxRow]:
    day = today()
    school = aliased(Organization)
    bases = [policy.referral_basis_column(current_user, c, day).label(f"basis_{c}")
             for c in (Category.IDENTITY, Category.SERVICES)]
    query = (
        sa.select(Referral, Student, school.name, *bases)
        .join(Student, Student.id == Referral.student_id)
        .join(school, school.id == Student.school_id)
        .where(policy.referral_inbox(current_user, day), *where)
        .order_by(*order)
    )
    if limit:
        query = query.limit(limit)
    return [
        InboxRow(row[0], row[1], row[2], {c: row._mapping[f"basis_{c}"] for c in (Category.IDENTITY, Category.SERVICES)
                                          if row._mapping[f"basis_{c}"] is not None})
        for row in db.session.execute(query)
    ]


def _log_rows(rows: list[InboxRow]) -> None:
    """Each named student once, with what their row shows (name, and the referral
    itself when services are shared)."""
    logged = set()
    for row in rows:
        if row.named and row.student.id not in logged:
            logged.add(row.student.id)
            disclosure.log_view(current_user, row.student, row.shared)


@bp.get("")
def index():
    day = today()
    blocked = policy.partner_block_reason(current_user, day)
    if blocked:
        return render("inbox/index.html", blocked=blocked)
    open_rows = _rows([Referral.status.in_([str(s) for s in referral_service.OPEN_STATUSES])],
                      [Referral.created_at, Referral.id])
    finished = _rows([Referral.status.in_([str(ReferralStatus.DECLINED), str(ReferralStatus.CLOSED)])],
                     [Referral.updated_at.desc(), Referral.id.desc()], FINISHED_SHOWN)
    by_status = {status: [r for r in open_rows if r.referral.status == status] for status in referral_service.OPEN_STATUSES}
    response = render("inbox/index.html", blocked=None, by_status=by_status, finished=finished,
                      summary=admin_summary(current_user, day))
    _log_rows(open_rows + finished)
    db.session.commit()
    return response


# --- one referral -------------------------------------------------------------------------------


def _load_or_404(referral_id: uuid.UUID) -> tuple[Referral, Student]:
    found = db.session.execute(
        sa.select(Referral, Student).join(Student, Student.id == Referral.student_id).where(Referral.uuid == referral_id)
    ).one_or_none()
    if found is None:
        abort(404)
    referral, student = found
    if not policy.in_referral_inbox(current_user, referral, today()):
        disclosure.log_denied(current_user, student, "not a referral to the user's organization", [Category.SERVICES])
        db.session.commit()
        abort(404)
    return referral, student


def _page(referral: Referral, student: Student, decline: DeclineForm | None = None, close: CloseForm | None = None,
          status: int = 200):
    """The referral as the organization may see it, logged once built."""
    day = today()
    shared = policy.referral_shared(current_user, referral, student, day)
    lines = referral_service.shared_summary(student, shared, day)
    events = db.session.scalars(
        sa.select(ReferralEvent).options(joinedload(ReferralEvent.by_user))
        .where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.created_at, ReferralEvent.id)
    ).all()
    response = render(
        "inbox/show.html", referral=referral, student=student, school=student.school, shared=shared, lines=lines,
        reached=policy.referral_reached(referral),
        events=events, accept_form=AcceptForm(formdata=None), decline_form=decline or DeclineForm(formdata=None),
        close_form=close or CloseForm(formdata=None), status=status,
    )
    shown = {c: shared[c] for c in (Category.IDENTITY, Category.SERVICES) if c in shared}
    shown |= {line.category: shared[line.category] for line in lines}
    if shown:
        disclosure.log_view(current_user, student, shown)
    else:
        disclosure.log_denied(current_user, student, "consent needed: the referral shows nothing about the student",
                              [Category.IDENTITY, Category.SERVICES])
    db.session.commit()
    return response


@bp.get("/<uuid:referral_id>")
def show(referral_id: uuid.UUID):
    return _page(*_load_or_404(referral_id))


@bp.post("/<uuid:referral_id>/accept")
def accept(referral_id: uuid.UUID):
    referral, student = _load_or_404(referral_id)
    if AcceptForm().validate_on_submit():
        try:
            entry = referral_service.accept_referral(referral, student, current_user, today())
        except ReferralError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Referral accepted" + (": the student is now on your roster." if entry else "."), "success")
    return redirect(url_for("inbox.show", referral_id=referral_id))


@bp.post("/<uuid:referral_id>/decline")
def decline(referral_id: uuid.UUID):
    referral, student = _load_or_404(referral_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            referral_service.decline_referral(referral, student, form.reason.data, current_user, today())
        except ReferralError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("Referral declined. The school sees your reason.", "success")
            return redirect(url_for("inbox.show", referral_id=referral_id))
    return _page(referral, student, decline=form, status=400)


@bp.post("/<uuid:referral_id>/close")
def close(referral_id: uuid.UUID):
    referral, student = _load_or_404(referral_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            referral_service.close_referral(referral, student, form.outcome.data, current_user, today())
        except ReferralError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash("Referral closed with its outcome.", "success")
            return redirect(url_for("inbox.show", referral_id=referral_id))
    return _page(referral, student, close=form, status=400)

"""Managing staff accounts, shared by the district admin's pages (/admin/users) and the
partner admin's (/partner/staff): the same handlers, each area with its own endpoints.
Which accounts appear and may be changed is casemgr.staff_policy's decision alone."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import aliased, selectinload
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from casemgr import staff_policy
from casemgr.clock import start_of
from casemgr.extensions import db
from casemgr.i18n import LANGUAGE_NAMES
from casemgr.mail import MailError
from casemgr.models import AccountEvent, Organization, User
from casemgr.models.enums import AccountAction, OrgKind, Role
from casemgr.services import staff
from casemgr.services.invitations import InvitationError
from casemgr.text import CONTROL
from casemgr.views.forms import EmailAddress
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

PAGE_SIZE = 50
REFUSALS = (staff.StaffError, InvitationError, MailError)


@dataclass(frozen=True)
class Area:
    """Where the pages live: the district admin's or the partner admin's."""

    name: str
    index: str
    invite: str
    edit: str
    deactivate: str
    reactivate: str
    resend: str
    events: str


ADMIN = Area("admin", "users.index", "users.invite", "users.edit", "users.deactivate", "users.reactivate",
             "users.resend_invitation", "users.events")
PARTNER = Area("partner", "partner.staff", "partner.invite", "partner.edit_member", "partner.deactivate",
               "partner.reactivate", "partner.resend_invitation", "partner.account_events")


def plain(form, field) -> None:
    if field.data and CONTROL.search(field.data):
        raise ValidationError("Remove the control characters (such as NUL) from this field.")


class AccountForm(FlaskForm):
    full_name = StringField("Name", validators=[DataRequired("Enter the person's name."),
                                                Length(max=200, message="Use at most 200 characters."), plain])
    role = SelectField("Role", validators=[DataRequired("Choose a role.")])
    organization = SelectField("Organization", validators=[DataRequired("Choose an organization.")])
    job_title = StringField("Job title", validators=[Optional(), Length(max=120, message="Use at most 120 characters."),
                                                      plain])


class InviteForm(AccountForm):
    email = EmailField("Email", validators=[DataRequired("Enter the person's email address."),
                                            Length(max=254, message="Use at most 254 characters."), plain,
                                            EmailAddress("Enter an email address like name@example.org.")])
    language = SelectField("Language of the invitation", choices=list(LANGUAGE_NAMES.items()), default="en",
                           validators=[DataRequired("Choose a language.")])


class ConfirmForm(FlaskForm):
    pass


KIND_GROUPS = {OrgKind.DISTRICT: "District", OrgKind.SCHOOL: "Schools", OrgKind.PARTNER: "Partner organizations",
               OrgKind.RESEARCH: "Research partners"}


def _fill_choices(form: AccountForm) -> list[Organization]:
    organizations = db.session.scalars(staff_policy.assignable_organizations(current_user)).all()
    roles = staff_policy.assignable_roles(current_user)
    form.role.choices = [("", "Choose…")] + [(str(role), role.label) for role in roles]
    groups: dict[str, list] = {}
    for org in organizations:
        groups.setdefault(KIND_GROUPS[OrgKind(org.kind)], []).append((str(org.uuid), org.name))
    form.organization.choices = {"": [("", "Choose…")], **groups} if len(organizations) > 1 else [
        (str(org.uuid), org.name) for org in organizations]
    return organizations


def _chosen(organizations: list[Organization], value: str | None) -> Organization | None:
    return next((org for org in organizations if str(org.uuid) == value), None)


def managed_or_404(user_id: uuid.UUID) -> User:
    member = db.session.scalar(
        sa.select(User).where(User.uuid == user_id, staff_policy.managed_users(current_user))
    )
    if member is None:
        abort(404)
    return member


# --- the list ------------------------------------------------------------------------------


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", validators=[Optional()])
    status = SelectField("Status", choices=[("", "Any status"), ("active", "Active"), ("invited", "Invited, no password yet"),
                                            ("deactivated", "Deactivated")], validators=[Optional()])


def _search_text(value: str | None) -> str:
    return CONTROL.sub("", value or "").strip()


def _names_or_emails(person, text: str) -> sa.ColumnElement[bool]:
    """The accounts (`person`: User or an alias of it) whose name or email holds `text`."""
    return sa.or_(person.full_name.icontains(text, autoescape=True),
                  person.email.icontains(text.lower(), autoescape=True))


def list_accounts(area: Area, template: str, **context):
    form = UserFilterForm(request.args)
    form.role.choices = [("", "Any role")] + [(str(r), r.label) for r in staff_policy.assignable_roles(current_user)]
    query = sa.select(User).where(staff_policy.managed_users(current_user)).order_by(User.full_name, User.id)
    if form.validate():
        text = _search_text(form.q.data)
        if text:
            query = query.where(_names_or_emails(User, text))
        if form.role.data:
            query = query.where(User.role == form.role.data)
        if form.status.data == "active":
            query = query.where(User.active.is_(True), User.password_hash.is_not(None))
        elif form.status.data == "invited":
            query = query.where(User.active.is_(True), User.password_hash.is_(None))
        elif form.status.data == "deactivated":
            query = query.where(User.active.is_(False))
    results = db.paginate(query, page=page_number(), per_page=PAGE_SIZE, error_out=False, count=True)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render(template, "staff/partials/_account_rows.html", form=form, results=results, args=args, area=area,
                  action_form=ConfirmForm(), **context)


# --- invite and edit -----------------------------------------------------------------------


def invite(area: Area):
    form = InviteForm()
    organizations = _fill_choices(form)
    if form.validate_on_submit():
        try:
            member = staff.invite(current_user, full_name=form.full_name.data, email=form.email.data,
                                  role=Role(form.role.data), organization=_chosen(organizations, form.organization.data),
                                  job_title=form.job_title.data, locale=form.language.data)
        except REFUSALS as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Invitation sent to {member.full_name} at {member.email}. The link works for "
                  f"{current_app.config['INVITATION_LIFETIME'].days} days.", "success")
            return redirect(url_for(area.index))
    status = 400 if form.is_submitted() else 200
    return render("staff/invite.html", form=form, area=area, status=status)


def edit(area: Area, user_id: uuid.UUID):
    member = managed_or_404(user_id)
    own = member.id == current_user.id
    form = AccountForm(obj=None if request.method == "POST" else member)
    organizations = _fill_choices(form)
    if not form.is_submitted():
        form.role.data, form.organization.data = member.role, str(member.organization.uuid)
    if own:
        # nobody changes their own role or organization: the fields are not offered
        del form.role
        del form.organization
    if form.validate_on_submit():
        role = Role(member.role) if own else Role(form.role.data)
        organization = member.organization if own else _chosen(organizations, form.organization.data)
        try:
            changes = staff.update(current_user, member, full_name=form.full_name.data, role=role,
                                   organization=organization, job_title=form.job_title.data)
        except REFUSALS as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"{member.full_name}'s account was saved." if changes else "Nothing changed.", "success")
            return redirect(url_for(area.index))
    status = 400 if form.is_submitted() else 200
    return render("staff/edit.html", form=form, member=member, own=own, area=area, action_form=ConfirmForm(),
                  status=status)


def _act(area: Area, user_id: uuid.UUID, write, done: str):
    member = managed_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        write(current_user, member)
    except REFUSALS as error:
        db.session.rollback()
        return render("staff/refused.html", message=str(error), member=member, area=area, status=400)
    db.session.commit()
    flash(done.format(name=member.full_name, email=member.email), "success")
    return redirect(url_for(area.edit, user_id=member.uuid))


def deactivate(area: Area, user_id: uuid.UUID):
    return _act(area, user_id, staff.deactivate,
                "{name}'s account is deactivated: they were signed out everywhere and cannot sign in.")


def reactivate(area: Area, user_id: uuid.UUID):
    return _act(area, user_id, staff.reactivate, "{name}'s account is active again.")


def resend_invitation(area: Area, user_id: uuid.UUID):
    return _act(area, user_id, staff.resend_invitation,
                "A new invitation was sent to {email}; the earlier link no longer works.")


# --- account events ------------------------------------------------------------------------


ACTION_LABELS = {action: str(action).replace("_", " ").capitalize() for action in AccountAction}


class EventFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Account (name or email)", validators=[Optional(), Length(max=254)])
    action = SelectField("What happened", choices=[("", "Anything")] + [(str(a), label) for a, label in ACTION_LABELS.items()],
                         validators=[Optional()])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])


def _day_start(day) -> datetime:
    return start_of(day)


def _day_end(day) -> datetime:
    """The start of the day after `day` (the last day there is has no day after)."""
    return _day_start(day + timedelta(days=1)) if day < date.max else datetime.max.replace(tzinfo=UTC)


def district_events() -> sa.ColumnElement[bool]:
    """The events a district admin reads: those of accounts of the district and its
    schools (staff and families), and of the accounts they manage elsewhere."""
    district_id = current_user.organization_id
    district_orgs = sa.select(Organization.id).where(
        sa.or_(Organization.id == district_id, Organization.district_id == district_id))
    managed = sa.select(User.id).where(staff_policy.managed_users(current_user))
    return sa.or_(AccountEvent.organization_id.in_(district_orgs), AccountEvent.user_id.in_(managed))


def organization_events() -> sa.ColumnElement[bool]:
    return AccountEvent.organization_id == current_user.organization_id


def list_events(area: Area, scope: sa.ColumnElement[bool]):
    form = EventFilterForm(request.args)
    subject = aliased(User)
    query = (
        sa.select(AccountEvent)
        .outerjoin(subject, subject.id == AccountEvent.user_id)
        .options(selectinload(AccountEvent.user), selectinload(AccountEvent.actor))
        .where(scope)
        .order_by(AccountEvent.occurred_at.desc(), AccountEvent.id.desc())
    )
    if form.validate():
        text = _search_text(form.q.data)
        if text:
            query = query.where(_names_or_emails(subject, text))
        if form.action.data:
            query = query.where(AccountEvent.action == form.action.data)
        if form.start.data:
            query = query.where(AccountEvent.occurred_at >= _day_start(form.start.data))
        if form.end.data:
            query = query.where(AccountEvent.occurred_at < _day_end(form.end.data))
        if form.start.data and form.end.data and form.end.data < form.start.data:
            form.end.errors.append("The end date is before the start date.")
    results = db.paginate(query, page=page_number(), per_page=PAGE_SIZE, error_out=False, count=True)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("staff/events.html", "staff/partials/_event_rows.html", form=form, results=results, args=args,
                  area=area, labels=ACTION_LABELS)

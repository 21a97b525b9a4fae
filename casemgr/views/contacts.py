"""Services delivered (issue 17): a youth worker logs a contact with a student of the
roster, takes a program group's attendance in one save, and the partner administrator
defines the groups. Made for a phone: one column, big targets, today and the usual
length already filled in."""
from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Optional

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import Student, User
from casemgr.models.enums import PARTNER_STAFF, ContactMode, NoteAudience
from casemgr.models.services import SESSION_MINUTES_MAX
from casemgr.reads import partner_workspace as workspace
from casemgr.reads import progress as progress_reads
from casemgr.reads import services_delivered as delivered
from casemgr.reads.notes import audience_label, audience_preview
from casemgr.services import contacts as contact_service
from casemgr.services import disclosure
from casemgr.services.contacts import ContactError
from casemgr.views.casework import need_label
from casemgr.views.forms import CheckboxListField, flashed, saved
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("contacts", __name__, url_prefix="/services")
restrict_blueprint(bp, role_permission(*PARTNER_STAFF))

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MODE_LABELS = {ContactMode.INDIVIDUAL: "One to one", ContactMode.GROUP: "In a group"}
NOTE_AUDIENCES = (NoteAudience.ORGANIZATION, NoteAudience.SHARED, NoteAudience.FAMILY)


class ContactForm(FlaskForm):
    # the choices are checked by the use-case, which says what is wrong in words
    student = SelectField("Student", validate_choice=False, validators=[InputRequired("Choose the student.")])
    day = DateField("Day", validators=[InputRequired("Enter the day of the contact (YYYY-MM-DD).")])
    service = RadioField("Service", validate_choice=False, validators=[InputRequired("Choose the service.")])
    minutes = IntegerField("Minutes", validators=[InputRequired(f"Enter the minutes, from 1 to {SESSION_MINUTES_MAX}.")])
    mode = RadioField("How", validate_choice=False, choices=[(str(m), label) for m, label in MODE_LABELS.items()],
                      default=str(ContactMode.INDIVIDUAL), validators=[InputRequired("Choose one to one or in a group.")])
    note = TextAreaField("Note (optional)", validators=[Optional()])
    audience = RadioField("Who can read the note", validate_choice=False, default=str(NoteAudience.ORGANIZATION), validators=[Optional()])
    # the form's own identifier: sent twice (a double tap, a retry), it records one contact
    token = HiddenField()


class SheetDayForm(FlaskForm):
    class Meta:
        csrf = False

    day = DateField("Session day", validators=[Optional()])


class AttendanceForm(FlaskForm):
    day = DateField("Session day", validators=[InputRequired("Enter the day of the session (YYYY-MM-DD).")])
    minutes = IntegerField("Minutes", validators=[InputRequired(f"Enter the minutes, from 1 to {SESSION_MINUTES_MAX}.")])


class GroupForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Name the group.")])
    service = SelectField("Service", validators=[InputRequired("Choose the service.")])
    weekdays = CheckboxListField("Meets on", coerce=int, choices=list(enumerate(WEEKDAYS)))
    starts_at = TimeField("Starts at (optional)", validators=[Optional()])
    session_minutes = IntegerField("Usual length in minutes", default=60,
                                   validators=[InputRequired(f"Enter the minutes, from 1 to {SESSION_MINUTES_MAX}.")])
    leader = SelectField("Leader (optional)", validators=[Optional()])


class MembersForm(FlaskForm):
    members = CheckboxListField("Members", choices=[])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


def _blocked_or_none(day: date) -> str | None:
    if policy.records_contacts(current_user, day):
        return None
    return policy.partner_block_reason(current_user, day) or "You cannot record services."


def _service_choices(day: date) -> list[tuple[str, str]]:
    return [(s, need_label(s)) for s in policy.services_offered(current_user.organization_id, day)]


@bp.route("/contacts/new", methods=["GET", "POST"])
def new_contact():
    day = today()
    blocked = _blocked_or_none(day)
    if blocked:
        if request.method == "POST":
            abort(403)
        return render("contacts/new.html", blocked=blocked)
    form = ContactForm()
    # from a roster row the student is chosen already: the form lists them alone
    picked = _roster_student(request.values.get("student"), day)
    students = ([delivered.Choice(picked.uuid, picked.display_name, picked.id)] if picked is not None
                else delivered.roster_choices(current_user, day))
    form.student.choices = [("", "Choose a student")] + [(str(s.uuid), s.name) for s in students]
    form.service.choices = _service_choices(day)
    form.audience.choices = [(str(a), audience_label(a, current_user.organization.name)) for a in NOTE_AUDIENCES]
    if request.method == "GET":
        form.token.data = str(uuid.uuid4())
        form.day.data = day
        form.minutes.data = 60
        if len(form.service.choices) == 1:
            form.service.data = form.service.choices[0][0]
        if picked is not None:
            form.student.data = str(picked.uuid)
    previewing = request.method == "POST" and request.form.get("preview") == "1"
    if not previewing and form.validate_on_submit():
        student = picked  # the form's own student field, read above
        if student is None:
            form.student.errors = ["Choose a student from your roster."]
        elif saved(form, lambda: contact_service.record_contact(
                current_user, student, form.day.data, form.service.data, form.minutes.data, form.mode.data, day,
                note_audience=form.audience.data, note_body=form.note.data, contact_id=_token(form.token.data)),
                ContactError):
            flash(f"Contact with {student.display_name} saved: {form.minutes.data} minutes of "
                  f"{need_label(form.service.data).lower()}.", "success")
            return redirect(url_for("home.index"))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    may_write, preview = _note_readers(picked, form.audience.data, day)
    response = render("contacts/new.html", blocked=None, form=form, status=status, today_iso=day.isoformat(),
                      chosen=picked is not None, may_write=may_write, preview=preview, only_one=picked is not None)
    disclosure.log_names_shown(current_user, [s.id for s in students])
    db.session.commit()
    return response


def _note_readers(student: Student | None, audience: str | None, day: date):
    """(whether the user may write a note about the student, who would read it with the
    audience chosen): the note form's own preview (SPEC §4 rule 4)."""
    access = policy.student_access(current_user, student, day) if student is not None else None
    if access is None or not policy.may_write_note(access):
        return False, None
    if audience not in policy.note_audiences(access):
        return True, None
    return True, audience_preview(student, current_user, NoteAudience(audience), day)


@bp.get("/contacts/audience")
def note_audience():
    """Who would read the contact's note, for the student and audience chosen: the live
    preview's fragment."""
    day = today()
    if _blocked_or_none(day):
        abort(404)
    student = _roster_student(request.args.get("student"), day)
    may_write, preview = _note_readers(student, request.args.get("audience"), day)
    return render("contacts/partials/_note_readers.html", "contacts/partials/_note_readers.html",
                  chosen=student is not None, may_write=may_write, preview=preview)


def _token(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def _roster_student(value: str | None, day: date) -> Student | None:
    try:
        student_id = uuid.UUID(value or "")
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(Student).where(Student.uuid == student_id, policy.contact_scope(current_user, day)))


@bp.get("/progress")
def progress():
    """What changed for each student of the roster since the organization began serving
    them, as far as each family's consent lets the user see."""
    day = today()
    blocked = _blocked_or_none(day)
    if blocked:
        return render("contacts/progress.html", blocked=blocked)
    roster = workspace.roster_page(current_user, day, page_number())
    found = progress_reads.load_progress(current_user, roster, day)
    response = render("contacts/progress.html", blocked=None, roster=roster, progress=found)
    progress_reads.log_progress(current_user, roster, found)
    db.session.commit()
    return response


# --- groups ------------------------------------------------------------------------------------

@bp.get("/groups")
def groups():
    day = today()
    blocked = _blocked_or_none(day)
    rows = [] if blocked else delivered.groups_of(current_user, include_ended=request.args.get("ended") == "1")
    return render("contacts/groups.html", blocked=blocked, rows=rows, manage=policy.manages_groups(current_user, day),
                  weekdays=WEEKDAYS, show_ended=request.args.get("ended") == "1")


def _group_or_404(group_id: uuid.UUID, day: date, manage: bool = False):
    group = contact_service.group_of(current_user, group_id, day)
    if group is None or (manage and not policy.manages_groups(current_user, day)):
        abort(404)
    return group


@bp.route("/groups/<uuid:group_id>/attendance", methods=["GET", "POST"])
def attendance(group_id: uuid.UUID):
    day = today()
    group = _group_or_404(group_id, day)
    form = AttendanceForm()
    picked = SheetDayForm(request.args)
    session_day = picked.day.data if request.method == "GET" and picked.validate() and picked.day.data else day
    if request.method == "POST":
        session_day = form.day.data or day
    sheet = delivered.attendance_sheet(current_user, group, session_day, day)
    if form.validate_on_submit():
        present, bad = set(), False
        for value in request.form.getlist("present"):
            try:
                present.add(uuid.UUID(value))
            except ValueError:
                bad = True
        if bad:
            form.form_errors.append("The sheet names a student who is not in this group: reload it and try again.")
        elif saved(form, lambda: contact_service.take_attendance(
                current_user, group, form.day.data, present, form.minutes.data, sheet.members, day), ContactError):
            absent = len(sheet.rows) - len(present)
            flash(f"Attendance saved for {group.name} on {form.day.data:%-d %B}: {len(present)} present, "
                  f"{absent} absent.", "success")
            return redirect(url_for("contacts.attendance", group_id=group.uuid, day=form.day.data.isoformat()))
        sheet = delivered.attendance_sheet(current_user, group, session_day, day)
    elif request.method == "GET":
        form.day.data = session_day
        form.minutes.data = sheet.minutes
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    checked = set(request.form.getlist("present")) if form.is_submitted() else None
    response = render("contacts/attendance.html", group=group, sheet=sheet, form=form, status=status,
                      checked=checked, today=day,
                      policy_manages=policy.manages_groups(current_user, day))
    disclosure.log_names_shown(current_user, [row.student_id for row in sheet.rows])
    db.session.commit()
    return response


def _fill_group_form(form: GroupForm, day: date) -> None:
    form.service.choices = _service_choices(day)
    staff = db.session.execute(sa.select(User.id, User.full_name).where(
        User.organization_id == current_user.organization_id, User.active,
        User.role.in_([str(r) for r in PARTNER_STAFF])).order_by(User.full_name)).all()
    form.leader.choices = [("", "No one in particular")] + [(str(i), name) for i, name in staff]


def _group_fields(form: GroupForm) -> dict:
    return dict(name=form.name.data, service=form.service.data, weekdays=form.weekdays.data or [],
                starts_at=form.starts_at.data, session_minutes=form.session_minutes.data,
                leader_id=int(form.leader.data) if form.leader.data else None)


@bp.route("/groups/new", methods=["GET", "POST"])
def new_group():
    day = today()
    if not policy.manages_groups(current_user, day):
        abort(403)
    form = GroupForm()
    _fill_group_form(form, day)
    created = []
    if form.validate_on_submit() and saved(
            form, lambda: created.append(contact_service.create_group(current_user, day, **_group_fields(form))),
            ContactError):
        flash(f"Group {created[0].name} created. Now choose its members.", "success")
        return redirect(url_for("contacts.members", group_id=created[0].uuid))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render("contacts/group_form.html", form=form, group=None, status=status)


@bp.route("/groups/<uuid:group_id>/edit", methods=["GET", "POST"])
def edit_group(group_id: uuid.UUID):
    day = today()
    group = _group_or_404(group_id, day, manage=True)
    form = GroupForm(obj=group) if request.method == "GET" else GroupForm()
    _fill_group_form(form, day)
    if request.method == "GET":
        form.leader.data = str(group.leader_id) if group.leader_id else ""
    if form.validate_on_submit() and saved(
            form, lambda: contact_service.update_group(current_user, group, day, **_group_fields(form)), ContactError):
        flash(f"Group {group.name} saved.", "success")
        return redirect(url_for("contacts.groups"))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render("contacts/group_form.html", form=form, group=group, status=status, end_form=ConfirmForm())


@bp.route("/groups/<uuid:group_id>/members", methods=["GET", "POST"])
def members(group_id: uuid.UUID):
    day = today()
    group = _group_or_404(group_id, day, manage=True)
    students = delivered.roster_choices(current_user, day)
    form = MembersForm()
    form.members.choices = [(str(s.uuid), s.name) for s in students]
    if request.method == "GET":
        form.members.data = [str(u) for u in delivered.member_uuids(group)]
    if form.validate_on_submit() and saved(form, lambda: contact_service.set_members(
            current_user, group, [uuid.UUID(v) for v in form.members.data or []], day), ContactError):
        flash(f"Members of {group.name} saved: {len(form.members.data or [])}.", "success")
        return redirect(url_for("contacts.groups"))
    status = 400 if form.is_submitted() and (form.errors or form.form_errors) else 200
    response = render("contacts/members.html", form=form, group=group, status=status)
    disclosure.log_names_shown(current_user, [s.id for s in students])
    db.session.commit()
    return response


@bp.post("/groups/<uuid:group_id>/end")
def end_group(group_id: uuid.UUID):
    day = today()
    group = _group_or_404(group_id, day, manage=True)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    flashed(lambda: contact_service.end_group(current_user, group, day), ContactError,
            f"Group {group.name} ended: its attendance stays in each student's services.")
    return redirect(url_for("contacts.groups"))


bp.add_app_template_global(WEEKDAYS, "weekday_names")
bp.add_app_template_filter(delivered.hours, "hours")
bp.add_app_template_global(MODE_LABELS, "contact_mode_labels")

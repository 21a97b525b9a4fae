"""Writing and amending case notes, and the form's audience preview (SPEC §4 rule 4).

Every handler loads, asks the policy, then acts: writing needs `policy.may_write_note`,
amending `policy.may_amend_note`; anything else answers 404, like a student that does
not exist. The note form sits at the top of the student timeline: with htmx a note is
posted in place and the timeline comes back with it; without JavaScript the same form
posts to its own page and redirects to the timeline.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from casemgr import policy
from casemgr.extensions import db, htmx
from casemgr.models import Note, Student
from casemgr.models.enums import Category, NoteAudience, NoteTopic
from casemgr.reads.notes import audience_description, audience_label, audience_preview, topic_label
from casemgr.reads.timeline import timeline_page
from casemgr.services import disclosure
from casemgr.services import notes as notes_service
from casemgr.services.notes import NoteError
from casemgr.views.casework import ChoiceField
from casemgr.views.forms import saved
from casemgr.views.rendering import render
from casemgr.views.students import load_access_or_404

bp = Blueprint("notes", __name__)

AUDIENCE_FORM_LABELS = {
    NoteAudience.SHARED: "Shared",
    NoteAudience.ORGANIZATION: "My organization only",
    NoteAudience.FAMILY: "Shared, and with the family",
    NoteAudience.RESTRICTED: "Restricted",
}


class AudienceField(RadioField):
    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError("Choose who can read the note.") from None


def note_length(form, field) -> None:
    problem = notes_service.length_problem(field.data)
    if problem:
        raise ValidationError(problem)


class NoteForm(FlaskForm):
    audience = AudienceField("Who can read it")
    topic = ChoiceField("Topic", validators=[DataRequired("Choose the topic of the note.")],
                        not_a_choice="Choose the topic of the note.")
    body = TextAreaField("Note", validators=[note_length])


class AmendForm(FlaskForm):
    body = TextAreaField("Amendment", validators=[note_length])


# --- loading and checking -------------------------------------------------------------------


def _refuse(access: policy.StudentAccess, reason: str):
    disclosure.log_denied(access.user, access.student, reason, [Category.NOTES])
    db.session.commit()
    abort(404)


def _writer_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    access = load_access_or_404(student_id)
    if not policy.may_write_note(access):
        _refuse(access, "may not write notes about this student")
    return access


def _note_or_404(note_id: uuid.UUID) -> tuple[Note, uuid.UUID]:
    found = db.session.execute(
        sa.select(Note, Student.uuid).join(Student, Student.id == Note.student_id).where(Note.uuid == note_id)
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def note_form(access: policy.StudentAccess, fresh: bool = False) -> NoteForm:
    """The note form with the audiences the user may choose, from the request or
    `fresh`; a fresh one starts shared."""
    form = NoteForm(formdata=None) if fresh else NoteForm()
    form.audience.choices = [(str(a), AUDIENCE_FORM_LABELS[a]) for a in policy.note_audiences(access)]
    form.topic.choices = [("", "Choose…")] + [(str(t), topic_label(t)) for t in NoteTopic]
    if fresh or not form.is_submitted():
        form.audience.data = str(NoteAudience.SHARED)
    return form


def new_note_form(access: policy.StudentAccess) -> NoteForm | None:
    """A fresh note form for the timeline, when the user may write notes."""
    return note_form(access, fresh=True) if policy.may_write_note(access) else None


def _preview(access: policy.StudentAccess, audience: str | None):
    if audience not in policy.note_audiences(access):
        return None
    return audience_preview(access.student, access.user, NoteAudience(audience), access.today)


def _timeline_response(access: policy.StudentAccess, message: str):
    """The timeline's first page with the note just written on top, for htmx; logged
    as a read of what it shows, like the timeline itself."""
    shown = timeline_page(access, 1)
    response = render("casework/timeline.html", "casework/partials/_timeline.html", access=access,
                      student=access.student, timeline=shown, note_form=new_note_form(access), timeline_message=message)
    disclosure.log_view(access.user, access.student, shown.shown)
    db.session.commit()
    return response


def _in_place(response, target: str, swap: str = "outerHTML"):
    """An htmx form that could not be saved comes back where it was. htmx swaps only
    2xx responses, so this one is 200; the form says what is wrong."""
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response


def _is_htmx() -> bool:
    return bool(htmx) and not htmx.boosted


# --- writing a note ---------------------------------------------------------------------------


@bp.route("/students/<uuid:student_id>/notes/new", methods=["GET", "POST"])
@login_required
def new(student_id: uuid.UUID):
    access = _writer_access_or_404(student_id)
    form = note_form(access)
    # "Preview audience" (the form without JavaScript) shows who will read the note and
    # writes nothing; CSRFProtect has checked the token of this POST already
    previewing = form.is_submitted() and "preview" in request.form
    def write():
        return notes_service.post_note(access, form.audience.data, form.topic.data, form.body.data)

    if not previewing and form.validate_on_submit():
        if saved(form, write, NoteError):
            if _is_htmx():
                return _timeline_response(access, "Note posted.")
            flash("Note posted.", "success")
            return redirect(url_for("students.show", student_id=access.student.uuid, _anchor="timeline"))
    preview = _preview(access, form.audience.data)
    failed = form.is_submitted() and not previewing
    context = dict(access=access, student=access.student, form=form, preview=preview)
    if _is_htmx():
        return _in_place(render("notes/partials/_form.html", in_place=True, **context), "#note-form")
    return render("notes/new.html", status=400 if failed else 200, **context)


@bp.get("/students/<uuid:student_id>/notes/audience")
@login_required
def audience(student_id: uuid.UUID):
    """Who will be able to read the note, for the audience chosen: the live preview's
    fragment for htmx, the note form with the preview otherwise."""
    access = _writer_access_or_404(student_id)
    chosen = request.args.get("audience", "")
    preview = _preview(access, chosen)
    form = note_form(access, fresh=True)
    if preview is not None:
        form.audience.data = chosen
    return render("notes/new.html", "notes/partials/_audience.html", access=access, student=access.student,
                  form=form, preview=preview)


# --- amending a note ----------------------------------------------------------------------------


@bp.route("/notes/<uuid:note_id>/amend", methods=["GET", "POST"])
@login_required
def amend(note_id: uuid.UUID):
    note, student_uuid = _note_or_404(note_id)
    access = load_access_or_404(student_uuid)
    if not policy.may_amend_note(access, note):
        _refuse(access, "only the author of a note can amend it")
    form = AmendForm()
    if form.validate_on_submit():
        if saved(form, lambda: notes_service.amend_note(access, note, form.body.data), NoteError):
            if _is_htmx():
                return _timeline_response(access, "Amendment posted.")
            flash("Amendment posted.", "success")
            return redirect(url_for("students.show", student_id=student_uuid, _anchor="timeline"))
    failed = form.is_submitted()
    context = dict(access=access, student=access.student, note=note, form=form)
    if _is_htmx():
        response = render("notes/partials/_amend_form.html", in_place=True, **context)
        if failed:
            _in_place(response, f"#amend-{note.uuid}", "innerHTML")
    else:
        response = render("notes/amend.html", status=400 if failed else 200, **context)
    # the form shows the note it amends: a read of the student's notes
    disclosure.log_view(access.user, access.student, {Category.NOTES: access.visible[Category.NOTES]})
    db.session.commit()
    return response


# --- showing notes ------------------------------------------------------------------------------


def note_text(text: str | None) -> Markup:
    """Plain text with its line breaks: every line escaped, then joined with <br>."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


ROLE_WITH_ARTICLE = {"district_admin": "a district administrator", "partner_admin": "a partner administrator"}


def role_with_article(role) -> str:
    return ROLE_WITH_ARTICLE.get(str(role), f"a {role.label.lower()}")


bp.add_app_template_filter(note_text, "note_text")
bp.add_app_template_filter(topic_label, "topic_label")
bp.add_app_template_global(audience_label, "audience_label")
bp.add_app_template_global(audience_description, "audience_description")
bp.add_app_template_global(role_with_article, "role_with_article")
bp.add_app_template_global(new_note_form, "new_note_form")
bp.add_app_template_global(policy.may_write_note, "may_write_note")
bp.add_app_template_global(policy.may_amend_note, "may_amend_note")

"""Imports: the history of an organization's imports and an upload form. A district
admin imports the district's files; a partner administrator, their organization's
service contacts from its own attendance system (issue 17), and nothing else; the
OneRoster school mapping is the district's.

An upload is written to disk as it arrives (views/uploads.py), recorded as a running
batch and imported in the background (importers/background.py); the answer is at once
the batch's page, which follows the import by polling its status fragment (htmx, or a
refresh without JavaScript) until the result is there."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from casemgr import importers, policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint, role_permission
from casemgr.importers import background, contacts, progress
from casemgr.models import ImportBatch, Organization, User
from casemgr.models.enums import ImportStatus, Role
from casemgr.services import source_schools
from casemgr.views import uploads
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")
PAGE_SIZE = 25

# who imports which kind is the policy's (may_import); these roles may open the pages
restrict_blueprint(bp, role_permission(Role.DISTRICT_ADMIN, Role.PARTNER_ADMIN))
district_only = admin_permission.require(http_exception=403)


class UploadForm(FlaskForm):
    kind = SelectField("What the file holds", validators=[DataRequired("Choose what the file holds.")])
    file = FileField("CSV file (a .zip for a OneRoster bundle, an .xml Ed-Fi interchange file)", validators=[FileRequired("Choose a file to import.")])
    dry_run = BooleanField("Dry run: check the file and count the changes, but change nothing")


def _kinds() -> list[importers.Kind]:
    """The kinds the user may import for their organization (none: a partner
    administrator who is not yet compliant)."""
    day = today()
    return [k for k in importers.KINDS.values() if policy.may_import(current_user, k.name, day)]


def _partner_only(kinds: list[importers.Kind]) -> bool:
    return bool(kinds) and all(k.name in importers.PARTNER_KINDS for k in kinds)


def _form(kinds: list[importers.Kind]) -> UploadForm:
    form = UploadForm()
    form.kind.choices = [("", "Choose…")] + [(k.name, k.title) for k in kinds]
    if _partner_only(kinds):
        form.file.label.text = "CSV file"
        if len(kinds) == 1 and not form.is_submitted():
            form.kind.data = kinds[0].name
    if not form.is_submitted() and request.args.get("kind") in {k.name for k in kinds}:
        form.kind.data = request.args["kind"]  # a page that links here for one kind of file
    return form


def _require_kinds() -> list[importers.Kind]:
    """The kinds the user may import; a user who may import none is refused (403)."""
    kinds = _kinds()
    if not kinds:
        abort(403)
    return kinds


def _history(page: int):
    query = (
        sa.select(ImportBatch)
        .where(ImportBatch.district_id == current_user.organization_id)
        .order_by(ImportBatch.started_at.desc(), ImportBatch.id.desc())
    )
    results = db.paginate(query, page=max(page, 1), per_page=PAGE_SIZE, error_out=False, count=True)
    ids = {b.user_id for b in results.items if b.user_id}
    names = dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    return results, names


def _unfinished() -> dict[str, int]:
    """How many of the district's imports are running, and how many were interrupted
    (recorded so, or running no longer heard from)."""
    shown = progress.shown_status_sql(_stale_after())
    counted = db.session.execute(
        sa.select(shown, sa.func.count())
        .where(ImportBatch.district_id == current_user.organization_id,
               ImportBatch.status.in_([ImportStatus.RUNNING, ImportStatus.INTERRUPTED]))
        .group_by(shown)
    ).all()
    return dict(counted)


def _index_page(form: UploadForm, kinds: list[importers.Kind], status: int = 200, error: str | None = None):
    results, names = _history(page_number())
    return render("imports/index.html", "imports/partials/_history.html", form=form, results=results, names=names,
                  limit_mb=_limit_mb(), unfinished=_unfinished(), shown_status=_shown_status, error=error,
                  partner_only=_partner_only(kinds), services=contacts.SERVICE_CONTACTS.column("service").values,
                  status=status)


@bp.get("/")
def index():
    kinds = _kinds()
    if not kinds:  # a partner administrator not yet compliant: why, and nothing else
        blocked = policy.partner_block_reason(current_user, today())
        if blocked is None:
            abort(403)
        return render("imports/index.html", blocked=blocked)
    return _index_page(_form(kinds), kinds)


@bp.post("/")
def upload():
    kinds = _require_kinds()
    requested = request.form.get("kind")
    if requested in importers.KINDS and requested not in {k.name for k in kinds}:
        abort(403)  # a kind of another organization's files (a partner's, or the district's)
    form = _form(kinds)
    if not form.validate_on_submit():
        return _index_page(form, kinds, status=400)
    background.record_interrupted()
    upload = form.file.data
    try:
        batch = background.start(form.kind.data, upload.filename or "upload.csv", uploads.take(upload),
                                 current_user.organization, user_id=current_user.id, dry_run=form.dry_run.data)
    except background.Busy:
        return _index_page(form, kinds, status=503, error=gettext(
            "As many imports as casemgr runs at once (%(count)s) are running: start this one when one has finished.",
            count=current_app.config["IMPORT_WORKERS"]))
    return redirect(url_for("imports.show", batch_id=batch.uuid), 303)


@bp.get("/<uuid:batch_id>")
def show(batch_id: uuid.UUID):
    return _batch_page(batch_id)


@bp.get("/<uuid:batch_id>/status")
def status(batch_id: uuid.UUID):
    """The batch's status fragment: its progress while it runs (polled), then its result."""
    return _batch_page(batch_id)


def _batch_page(batch_id: uuid.UUID):
    _require_kinds()
    batch = db.session.scalar(
        sa.select(ImportBatch).where(ImportBatch.uuid == batch_id, ImportBatch.district_id == current_user.organization_id)
    )
    if batch is None:
        abort(404)
    errors = [importers.RowError.from_json(e) for e in batch.errors if not e.get("warning")]
    warnings = [importers.RowError.from_json(e) for e in batch.errors if e.get("warning")]
    return render("imports/result.html", "imports/partials/_status.html", batch=batch, errors=errors,
                  warnings=warnings, kind=importers.KINDS.get(batch.kind), status_shown=_shown_status(batch))


def _stale_after():
    return progress.stale_after(current_app.config)


def _shown_status(batch: ImportBatch) -> str:
    return progress.shown_status(batch, _stale_after())


class SchoolMappingForm(FlaskForm):
    org_key = StringField(_l("The org's sourcedId or identifier in orgs.csv"), validators=[
        DataRequired(_l("Give the org's sourcedId or identifier.")), Length(max=255)])
    school = SelectField(_l("The casemgr school"), validators=[DataRequired(_l("Choose the school."))])


class UnmapForm(FlaskForm):
    org_key = StringField(validators=[DataRequired(), Length(max=255)])


def _mapping_form() -> SchoolMappingForm:
    form = SchoolMappingForm()
    form.school.choices = [("", gettext("Choose…"))] + [
        (str(s.uuid), f"{s.name} ({s.code})") for s in source_schools.district_schools(current_user.organization)]
    return form


@bp.route("/oneroster-schools", methods=["GET", "POST"])
@district_only
def oneroster_schools():
    """The district's OneRoster orgs whose identifier is not the casemgr school code."""
    form = _mapping_form()
    if request.method == "POST":
        if form.validate_on_submit():
            school = db.session.scalar(sa.select(Organization).where(Organization.uuid == uuid.UUID(form.school.data)))
            key = form.org_key.data.strip()
            source_schools.map_school(current_user.organization, key, school)
            flash(gettext("OneRoster org %(org)s is now %(school)s.", org=key, school=school.name), "success")
            return redirect(url_for("imports.oneroster_schools"))
        status = 400
    else:
        status = 200
    return render("imports/oneroster_schools.html", form=form, unmap=UnmapForm(),
                  mappings=source_schools.mappings(current_user.organization), status=status)


@bp.post("/oneroster-schools/remove")
@district_only
def unmap_oneroster_school():
    form = UnmapForm()
    if not form.validate_on_submit():
        abort(400)
    if source_schools.unmap_school(current_user.organization, form.org_key.data):
        flash(gettext("OneRoster org %(org)s is no longer mapped.", org=form.org_key.data), "success")
    return redirect(url_for("imports.oneroster_schools"))


def _limit_mb() -> int:
    return (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)

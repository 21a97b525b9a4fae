"""The district data steward's imports: the history of imports and an upload form."""
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

from casemgr import importers
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint
from casemgr.models import ImportBatch, Organization, User
from casemgr.services import source_schools
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")
PAGE_SIZE = 25

restrict_blueprint(bp, admin_permission)


class UploadForm(FlaskForm):
    kind = SelectField("What the file holds", validators=[DataRequired("Choose what the file holds.")])
    file = FileField("CSV file (a .zip for a OneRoster bundle, an .xml Ed-Fi interchange file)", validators=[FileRequired("Choose a file to import.")])
    dry_run = BooleanField("Dry run: check the file and count the changes, but change nothing")


def _form() -> UploadForm:
    form = UploadForm()
    form.kind.choices = [("", "Choose…")] + [(k.name, k.title) for k in importers.KINDS.values()]
    return form


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


@bp.get("/")
def index():
    results, names = _history(page_number())
    return render("imports/index.html", "imports/partials/_history.html", form=_form(), results=results,
                  names=names, limit_mb=_limit_mb())


@bp.post("/")
def upload():
    form = _form()
    if not form.validate_on_submit():
        results, names = _history(1)
        return render("imports/index.html", form=form, results=results, names=names, limit_mb=_limit_mb(), status=400)
    upload = form.file.data
    outcome = importers.import_file(
        form.kind.data, upload.read(), upload.filename or "upload.csv", current_user.organization,
        user_id=current_user.id, dry_run=form.dry_run.data,
    )
    status = 200 if outcome.ok else 400 if outcome.unreadable else 422
    return render("imports/result.html", batch=outcome.batch, errors=outcome.errors, warnings=outcome.warnings,
                  kind=importers.KINDS[outcome.batch.kind], status=status)


@bp.get("/<uuid:batch_id>")
def show(batch_id: uuid.UUID):
    batch = db.session.scalar(
        sa.select(ImportBatch).where(ImportBatch.uuid == batch_id, ImportBatch.district_id == current_user.organization_id)
    )
    if batch is None:
        abort(404)
    errors = [importers.RowError.from_json(e) for e in batch.errors if not e.get("warning")]
    warnings = [importers.RowError.from_json(e) for e in batch.errors if e.get("warning")]
    return render("imports/result.html", batch=batch, errors=errors, warnings=warnings,
                  kind=importers.KINDS.get(batch.kind))


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
def unmap_oneroster_school():
    form = UnmapForm()
    if not form.validate_on_submit():
        abort(400)
    if source_schools.unmap_school(current_user.organization, form.org_key.data):
        flash(gettext("OneRoster org %(org)s is no longer mapped.", org=form.org_key.data), "success")
    return redirect(url_for("imports.oneroster_schools"))


def _limit_mb() -> int:
    return (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)

"""The district data steward's imports: the history of imports and an upload form."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired

from casemgr import importers
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint
from casemgr.models import ImportBatch, User
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")
PAGE_SIZE = 25

restrict_blueprint(bp, admin_permission)


class UploadForm(FlaskForm):
    kind = SelectField("What the file holds", validators=[DataRequired("Choose what the file holds.")])
    file = FileField("CSV file (a .zip for a OneRoster bundle)", validators=[FileRequired("Choose a file to import.")])
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


def _limit_mb() -> int:
    return (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)

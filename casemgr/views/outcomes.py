"""Outcomes by program (issue 17, item 4): district admins, principals (their school) and
partner administrators (their own programs) compare each program's served students with
students alike when service began; charts and export as in the reports. Every figure is
an aggregate protected by `casemgr.outcomes`; exports are written to the report log."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange

from casemgr import outcomes, policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint, role_permission
from casemgr.models import Organization
from casemgr.models.enums import OrgKind
from casemgr.reads import program_outcomes
from casemgr.services import report_log
from casemgr.views import spreadsheets
from casemgr.views.rendering import render

bp = Blueprint("outcomes", __name__, url_prefix="/reports/programs")
restrict_blueprint(bp, role_permission(*policy.OUTCOME_READERS))


class ThresholdForm(FlaskForm):
    served_min_hours = IntegerField("Hours that count a student as served", validators=[
        NumberRange(1, 500, "A number of hours from 1 to 500.")])


def _uuid_arg(name: str) -> uuid.UUID | None:
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def _page() -> program_outcomes.OutcomePage | None:
    """The page the reader asked for within their scopes; 404 for a district or school
    outside them; None when they have no scope (a partner without an agreement in force)."""
    day = today()
    scopes = policy.outcome_scopes(current_user, day)
    if not scopes:
        return None
    scope = scopes[0]
    district = _uuid_arg("district")
    if district is not None:
        ids = dict(db.session.execute(sa.select(Organization.uuid, Organization.id).where(
            Organization.id.in_([s.district_id for s in scopes]))).all())
        if district not in ids:
            abort(404)
        scope = next(s for s in scopes if s.district_id == ids[district])
    school_id = None
    school = _uuid_arg("school")
    if school is not None:
        school_id = db.session.scalar(sa.select(Organization.id).where(
            Organization.uuid == school, Organization.kind == OrgKind.SCHOOL,
            Organization.district_id == scope.district_id))
        if school_id is None or not scope.by_school:
            abort(404)
    year = request.args.get("year", type=int)
    return program_outcomes.load(scope, day, year, school_id)


def _choices(page: program_outcomes.OutcomePage) -> dict:
    districts = schools = []
    scopes = policy.outcome_scopes(current_user, today())
    if len(scopes) > 1:
        districts = db.session.execute(sa.select(Organization.uuid, Organization.name).where(
            Organization.id.in_([s.district_id for s in scopes])).order_by(Organization.name)).all()
    if page.scope.by_school:
        schools = db.session.execute(sa.select(Organization.uuid, Organization.name).where(
            Organization.kind == OrgKind.SCHOOL, Organization.district_id == page.scope.district_id)
            .order_by(Organization.name)).all()
    return {"districts": districts, "schools": schools}


@bp.get("")
def index():
    page = _page()
    if page is None:
        return render("outcomes/index.html", outcome=None)
    form = None
    if admin_permission.can():
        form = ThresholdForm(served_min_hours=page.served_min_hours)
    return render("outcomes/index.html", outcome=page, chart=page.chart(), caveat=program_outcomes.CAVEAT,
                  threshold_form=form, **_choices(page))


@bp.get("/export.<fmt>")
def export(fmt: str):
    if fmt not in spreadsheets.MIMETYPES:
        abort(404)
    page = _page()
    if page is None or not page.lines:
        abort(404)
    header, rows = page.table()
    rows = [*rows, [], [page.footnote()]]
    body = (spreadsheets.csv_bytes(header, rows) if fmt == "csv"
            else spreadsheets.xlsx_bytes("Outcomes by program", header, rows))
    filename = f"outcomes-by-program-{page.year}.{fmt}"
    report_log.record(current_user, page.scope.district_id, report_log.EXPORT, page.title(),
                      {k: request.args[k] for k in ("district", "school") if request.args.get(k)}
                      | {"year": str(page.year)}, body, filename)
    db.session.commit()
    return spreadsheets.download(body, filename)


@bp.post("/threshold")
@admin_permission.require(http_exception=403)
def threshold():
    """The district's dosage threshold; the outcomes are counted again at once."""
    form = ThresholdForm()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0] if form.errors else "Nothing was saved.", "error")
        return redirect(url_for("outcomes.index"))
    district = db.session.get(Organization, current_user.organization_id)
    district.served_min_hours = form.served_min_hours.data
    db.session.flush()
    outcomes.rebuild(district.id, today())
    db.session.commit()
    flash(f"A student now counts as served by a program after {form.served_min_hours.data} hours; "
          "the outcomes were counted again.", "success")
    return redirect(url_for("outcomes.index"))

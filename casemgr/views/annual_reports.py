"""The annual partnership report (issue 15, item 5): a district admin previews a school
year against a baseline year and publishes it; a published report is frozen, read by the
partnership's signed-in people and, when the district chooses, by anyone at its public
link, as a page that prints cleanly and as a PDF, in English or Spanish."""
from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import DataRequired

from casemgr.extensions import db
from casemgr.identity import admin_permission
from casemgr.models import Organization, PublishedReport
from casemgr.reads import annual_report, report_cube
from casemgr.reads.reports import stored_years
from casemgr.services import report_log
from casemgr.views.rendering import render

bp = Blueprint("annual_reports", __name__)

LANGUAGES = ("en", "es")


class PublishForm(FlaskForm):
    year = IntegerField("School year", validators=[DataRequired()])
    baseline = IntegerField("Baseline year", validators=[DataRequired()])
    public = BooleanField("Also publish at a public link, readable without signing in")


def _language() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return current_user.locale if current_user.is_authenticated and current_user.locale in LANGUAGES else "en"


def _district() -> Organization:
    return db.session.get(Organization, current_user.organization_id)


def _years(district_id: int) -> list[int]:
    return [y.year for y in stored_years(district_id)]


@bp.get("/annual-reports")
@login_required
def index():
    readable = annual_report.partnership_districts(current_user)
    published = db.session.scalars(
        sa.select(PublishedReport).where(PublishedReport.district_id.in_(readable))
        .order_by(PublishedReport.school_year.desc(), PublishedReport.published_at.desc())).all()
    admin = admin_permission.can()
    years = _years(current_user.organization_id) if admin else []
    return render("annual/index.html", published=published, admin=admin, years=years, form=PublishForm())


@bp.get("/annual-reports/draft")
@admin_permission.require(http_exception=403)
def draft():
    district = _district()
    years = _years(district.id)
    try:
        year, baseline = int(request.args.get("year", "")), int(request.args.get("baseline", ""))
    except ValueError:
        year = baseline = None
    if year not in years or baseline not in years or baseline >= year:
        flash("Choose a school year and an earlier baseline year that both have figures.", "error")
        return redirect(url_for("annual_reports.index"))
    content = annual_report.content(district.id, district.name, year, baseline)
    db.session.commit()  # the years' figures, if this read counted and stored them
    form = PublishForm(data={"year": year, "baseline": baseline})
    return _page("annual/show.html", content, draft=True, form=form)


@bp.post("/annual-reports/publish")
@admin_permission.require(http_exception=403)
def publish():
    form = PublishForm()
    district = _district()
    years = _years(district.id)
    if not form.validate_on_submit() or form.year.data not in years or form.baseline.data not in years \
            or form.baseline.data >= form.year.data:
        flash("The report could not be published: choose a school year and an earlier baseline year with figures.",
              "error")
        return redirect(url_for("annual_reports.index"))
    content = annual_report.content(district.id, district.name, form.year.data, form.baseline.data)
    report = PublishedReport(district_id=district.id, school_year=form.year.data, baseline_year=form.baseline.data,
                             content=content, published_by_id=current_user.id,
                             public_token=secrets.token_urlsafe(24) if form.public.data else None)
    db.session.add(report)
    body = json.dumps(content, sort_keys=True).encode()
    report_log.record(current_user, district.id, report_log.PUBLISH,
                      f"Annual partnership report {form.year.data}–{form.year.data + 1}",
                      {"year": str(form.year.data), "baseline": str(form.baseline.data),
                       "public": "yes" if form.public.data else "no"}, body, "content.json")
    db.session.commit()
    flash("The report is published: its figures are frozen as they are today.", "success")
    return redirect(url_for("annual_reports.show", report_id=report.uuid))


def _readable(report_id) -> PublishedReport:
    report = db.session.scalar(sa.select(PublishedReport).where(
        PublishedReport.uuid == report_id,
        PublishedReport.district_id.in_(annual_report.partnership_districts(current_user))))
    if report is None:
        abort(404)
    return report


@bp.get("/annual-reports/<uuid:report_id>")
@login_required
def show(report_id):
    report = _readable(report_id)
    return _page("annual/show.html", report.content, report=report)


@bp.get("/annual-reports/<uuid:report_id>.pdf")
@login_required
def pdf(report_id):
    report = _readable(report_id)
    return _pdf(report)


@bp.post("/annual-reports/<uuid:report_id>/public")
@admin_permission.require(http_exception=403)
def public_link(report_id):
    """Makes the public link, or takes it away (a new link is a new secret)."""
    report = db.session.scalar(sa.select(PublishedReport).where(PublishedReport.uuid == report_id,
                                                                PublishedReport.district_id == current_user.organization_id))
    if report is None:
        abort(404)
    if FlaskForm().validate_on_submit():
        report.public_token = None if report.public_token else secrets.token_urlsafe(24)
        db.session.commit()
        flash("The public link is on." if report.public_token else "The public link is off: it no longer opens.",
              "success")
    return redirect(url_for("annual_reports.show", report_id=report.uuid))


@bp.get("/public/annual-reports/<token>")
def public(token: str):
    report = _public(token)
    return _page("annual/public.html", report.content, report=report)


@bp.get("/public/annual-reports/<token>.pdf")
def public_pdf(token: str):
    return _pdf(_public(token))


def _public(token: str) -> PublishedReport:
    report = db.session.scalar(sa.select(PublishedReport).where(PublishedReport.public_token == token)) \
        if 16 <= len(token) <= 64 else None
    if report is None:
        abort(404)
    return report


def _page(template: str, content: dict, **context):
    language = _language()
    with force_locale(language):
        return render(template, content=content, language=language, measures=report_cube.MEASURES, **context)


def _pdf(report: PublishedReport) -> Response:
    from weasyprint import HTML

    language = _language()
    css = Path(current_app.static_folder, "css", "annual.css").read_text()
    with force_locale(language):
        html = render_template("annual/document.html", content=report.content, language=language,
                               measures=report_cube.MEASURES, inline_css=css)
    body = HTML(string=html).write_pdf()
    response = Response(body, mimetype="application/pdf")
    name = f"partnership-report-{report.school_year}-{language}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["X-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    return response

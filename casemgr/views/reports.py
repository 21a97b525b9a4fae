"""Reports: figures about groups of students, never a row about one (SPEC §6, issue 15).
The page, its chart, its print view and its files show the same table, read from the
year's protected figures; each file written is recorded in the report log."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint, role_permission
from casemgr.models import Organization, ReportLogEntry, User
from casemgr.reads import report_figures, reports
from casemgr.services import report_log
from casemgr.views import charts, spreadsheets
from casemgr.clock import start_of
from casemgr.views.rendering import render

bp = Blueprint("reports", __name__)

restrict_blueprint(bp, role_permission(*reports.REPORTERS))


def _report() -> tuple[reports.Report | None, reports.Table | None, charts.Chart | None]:
    report = reports.build(current_user, request.args, today())
    if report is None or report.year is None:
        return report, None, None
    table = reports.table(report)
    if report.choice.trend:
        chart = charts.lines(report, table.title)
    elif report.cells:
        chart = None  # a crossed table has no one chart; its table says it all
    else:
        chart = charts.bars(report, table.title)
    return report, table, chart


@bp.get("/reports")
def index():
    report, table, chart = _report()
    db.session.commit()  # the year's figures, if this read counted and stored them
    admin = admin_permission.can()
    return render("reports/index.html", "reports/partials/_report.html", report=report, table=table, chart=chart,
                  measures=reports.report_cube.MEASURES, breakdowns=reports.BREAKDOWN_TITLES, year_words=reports.year_label,
                  minimum_form=MinimumNForm() if admin else None)


@bp.get("/reports/print")
def print_view():
    report, table, chart = _report()
    db.session.commit()
    return render("reports/print.html", report=report, table=table, chart=chart, year_words=reports.year_label)


@bp.get("/reports/export.<fmt>")
def export(fmt: str):
    if fmt not in spreadsheets.MIMETYPES:
        abort(404)
    report, table, _ = _report()
    if table is None:
        abort(404)
    rows = [*table.rows, [], [table.footnote]]
    body = (spreadsheets.csv_bytes(table.header, rows) if fmt == "csv"
            else spreadsheets.xlsx_bytes("Report", table.header, rows))
    filename = f"report-{report.choice.measure}-{report.year.year}.{fmt}"
    report_log.record(current_user, report.scope.district_id, report_log.EXPORT, table.title,
                      report.choice.args(year=report.year.year), body, filename)
    db.session.commit()
    return spreadsheets.download(body, filename)


# --- the district's settings and its report log (district admins) ------------------------


class MinimumNForm(FlaskForm):
    minimum_n = IntegerField("Smallest group shown", validators=[
        NumberRange(5, 100, "A number of students from 5 to 100.")])


@bp.post("/reports/minimum-n")
@admin_permission.require(http_exception=403)
def minimum_n():
    """The district's minimum n: no figure about fewer students is published. Every
    figure is counted and protected for it anew, hiding at least what it hid before."""
    form = MinimumNForm()
    district = db.session.get(Organization, current_user.organization_id)
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors) or "The form expired: try again.", "error")
        return redirect(url_for("reports.index"))
    district.report_minimum_n = form.minimum_n.data
    db.session.commit()
    report_figures.warm(district.id)
    db.session.commit()
    flash(f"Reports now show no figure about fewer than {form.minimum_n.data} students.", "success")
    return redirect(url_for("reports.index"))


class LogSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search: it reads, changes nothing

    who = StringField("Name or email", validators=[Optional()])
    action = SelectField("What", choices=[("", "Anything"), (report_log.EXPORT, "Files exported"),
                                          (report_log.PUBLISH, "Reports published")], validators=[Optional()])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])


LOG_PAGE = 100


@bp.get("/reports/log")
@admin_permission.require(http_exception=403)
def log():
    """Every file exported and report published with the district's figures, newest first."""
    form = LogSearchForm(request.args)
    query = (sa.select(ReportLogEntry, User).join(User, User.id == ReportLogEntry.user_id)
             .where(ReportLogEntry.district_id == current_user.organization_id))
    if form.validate():
        if form.who.data:
            like = f"%{form.who.data.strip().lower()}%"
            query = query.where(sa.or_(sa.func.lower(User.full_name).like(like), sa.func.lower(User.email).like(like)))
        if form.action.data:
            query = query.where(ReportLogEntry.action == form.action.data)
        if form.start.data:
            query = query.where(ReportLogEntry.occurred_at >= start_of(form.start.data))
        if form.end.data:
            query = query.where(ReportLogEntry.occurred_at < start_of(form.end.data + timedelta(days=1)))
    entries = db.session.execute(query.order_by(ReportLogEntry.occurred_at.desc(), ReportLogEntry.id.desc())
                                 .limit(LOG_PAGE)).all()
    return render("reports/log.html", form=form, entries=entries, page_size=LOG_PAGE,
                  status=200 if not form.errors else 400)

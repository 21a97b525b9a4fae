"""The National Student Clearinghouse round trip (issue 16 item 4), for the district
admin: the graduates file of each graduating class, to send to StudentTracker for High
Schools; the detail report that comes back is imported as the kind `studenttracker`
on the imports page. Writing the file is an export of the graduates' identities, logged
in the disclosure log like any other."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from casemgr import clearinghouse, policy, postsecondary
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint
from casemgr.models import ImportBatch, Organization
from casemgr.models.enums import Category, DisclosureAction, OrgKind
from casemgr.services import disclosure
from casemgr.views import spreadsheets
from casemgr.views.rendering import render

bp = Blueprint("clearinghouse", __name__, url_prefix="/admin/clearinghouse")
ACT_CODE = re.compile(r"[0-9A-Z]{6}")
ACCOUNT = re.compile(r"[0-9A-Za-z-]{1,20}")
restrict_blueprint(bp, admin_permission)


def _district() -> Organization:
    return db.session.get(Organization, current_user.organization_id)


@bp.get("")
def index():
    district = _district()
    classes = postsecondary.class_summary(district.id)
    imports = db.session.scalars(
        sa.select(ImportBatch).where(ImportBatch.district_id == district.id, ImportBatch.kind == "studenttracker")
        .order_by(ImportBatch.started_at.desc()).limit(10)).all()
    return render("clearinghouse/index.html", classes=classes, imports=imports, schools=_high_schools(district),
                  account=district.clearinghouse_account,
                  upload=url_for("imports.index", kind="studenttracker"), form=FlaskForm())


def _high_schools(district: Organization) -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).where(
        Organization.district_id == district.id, Organization.kind == str(OrgKind.SCHOOL),
        Organization.level == "high").order_by(Organization.name)))


@bp.post("/act-codes")
def act_codes():
    """The district's account code with the Clearinghouse and each high school's ACT code,
    as the Clearinghouse knows the school: six letters or digits (leading zeros kept), or
    blank. Nothing is saved while one is wrong."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    district = _district()
    account = request.form.get("account", district.clearinghouse_account or "").strip()
    if account and not ACCOUNT.fullmatch(account):
        flash("The Clearinghouse account code is up to 20 letters, digits or dashes. Nothing was saved.", "error")
        return redirect(url_for("clearinghouse.index"))
    schools = _high_schools(district)
    given = {school: request.form[f"act_{school.uuid}"].strip().upper() for school in schools
             if f"act_{school.uuid}" in request.form}  # a school the form left out keeps its code
    wrong = [school.name for school, code in given.items() if code and not ACT_CODE.fullmatch(code)]
    if wrong:
        flash(f"An ACT code is six letters or digits: check {', '.join(wrong)}. Nothing was saved.", "error")
        return redirect(url_for("clearinghouse.index"))
    district.clearinghouse_account = account or None
    for school, code in given.items():
        school.act_code = code or None
    db.session.commit()
    flash("The Clearinghouse account code and the high schools' ACT codes are saved.", "success")
    return redirect(url_for("clearinghouse.index"))


@bp.get("/graduates-<int:class_year>.txt")
def graduates_file(class_year: int):
    """The class's graduates file (PH3, a PD3 row per graduate, PT3), tab-delimited."""
    district = _district()
    graduates = postsecondary.graduates(district.id, class_year)
    if not graduates:
        abort(404)
    rows = [clearinghouse.Graduate(
        student_id=g.local_id, first_name=g.first_name, middle_name=g.middle_name, last_name=g.last_name, suffix=None,
        birth_date=g.birth_date, graduated_on=g.graduated_on, high_school_code=g.act_code or "",
        ferpa_block=g.ferpa_block, gender=g.gender, ethnicity=g.ethnicity, low_income=g.low_income,
        english_learner=g.english_learner, disability=g.disability) for g in graduates]
    header = clearinghouse.GraduatesHeader(
        account_code=district.clearinghouse_account or "", account_name=district.name, created_on=today(),
        diploma_period=clearinghouse.diploma_period([g.graduated_on for g in graduates]))
    missing = sorted({g.school_name for g in graduates if not g.act_code})
    try:
        body = clearinghouse.graduates_file(header, rows)
    except clearinghouse.SubmissionError as error:
        # the problems name graduates: a view of their identity
        disclosure.log_list_view(current_user, [g.student_id for g in graduates], [Category.IDENTITY],
                                 policy.SCHOOL_OFFICIAL)
        response = render("clearinghouse/problems.html", class_year=class_year, problems=error.problems,
                          missing=missing, no_account=not district.clearinghouse_account, status=422)
        db.session.commit()
        return response
    disclosure.log_list_view(current_user, [g.student_id for g in graduates], [Category.IDENTITY],
                             policy.SCHOOL_OFFICIAL, DisclosureAction.EXPORT)
    db.session.commit()
    return spreadsheets.download(body.encode("ascii"), f"graduates-{district.code}-{class_year + 1}.txt")

"""The family portal (issue 6): a parent's or student's home, a child's record in plain
language, and the child's disclosure log in plain language — in English or Spanish.

Load → policy → act, as everywhere: `policy.family_access` answers None (404) for staff
and for anyone else's child. Reading the home and the record page is appended to the
disclosure log like any other read (basis `guardian` or `self`), so a second parent
sees the first one's views; reading the log itself is not logged, since it shows no
category of the record, only who saw it (FERPA 34 CFR 99.32(c) gives families that
right), and logging it would grow the log on every look at it.
"""
from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.models import Student
from casemgr.models.enums import Category
from casemgr.reads import family, family_consents, family_log, family_reminders
from casemgr.research import family_labels
from casemgr.services import amendments, disclosure
from casemgr.services import research as research_service
from casemgr.services.consents import partners_with_agreement
from casemgr.views.disclosure_guard import exempt
from casemgr.views.forms import flashed
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("family", __name__, url_prefix="/family")


def load_family_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    student = db.session.scalar(select(Student).where(Student.uuid == student_id))
    access = policy.family_access(current_user, student) if student is not None else None
    if access is None:
        if student is not None:
            disclosure.log_denied(current_user, student, "no access to this student", Category)
            db.session.commit()
        abort(404)
    return access


def home():
    """The home page of a parent or a student: a card per child (or for themself)."""
    summaries = []
    students = family.children(current_user)
    for student in students:
        access = policy.family_access(current_user, student)
        if access is not None:
            summaries.append(family.summarize(access))
    day = today()
    # who signs each child's consents today: the user, or (for a student under 18) a parent
    may_sign = {student.id: policy.may_sign_consents(current_user, student, day) for student in students}
    requests = family_consents.consent_requests([s.student for s in summaries if may_sign[s.student.id]], day)
    notices = family_reminders.home_notices(current_user, students, may_sign, day)
    response = render(f"home/{current_user.role}.html", user=current_user, summaries=summaries, requests=requests,
                      notices=notices)
    for summary in summaries:
        shown = summary.shown
        if summary.student.id in requests and summary.access.can_see(Category.SERVICES):
            shown[Category.SERVICES] = summary.access.visible[Category.SERVICES]  # the referrals waiting
        if shown:
            disclosure.log_view(current_user, summary.student, shown)
    db.session.commit()
    return response


@bp.get("/children/<uuid:student_id>")
@login_required
def child(student_id: uuid.UUID):
    access = load_family_access_or_404(student_id)
    summary = family.summarize(access, notes=None)
    response = render(
        "family/child.html",
        summary=summary,
        student=access.student,
        attendance=family.attendance_detail(access),
        marks=family.this_year_marks(access),
        **family_forms_context(access),
    )
    if summary.shown:
        disclosure.log_view(current_user, access.student, summary.shown)
    db.session.commit()
    return response


def family_forms_context(access: policy.StudentAccess) -> dict:
    """The child page's requests to amend the record, and the release forms to print."""
    return {
        "amendments": amendments.requests_for_student(access.student) if policy.may_request_amendment(access) else None,
        "release_partners": partners_with_agreement(access.student, access.today) if policy.holds_consent_rights(access) else [],
    }


def _day(name: str, errors: list[str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(gettext("Enter dates as year-month-day, for example 2027-03-03."))
        return None


@bp.get("/children/<uuid:student_id>/log")
@login_required
@exempt("the family's own reading of who saw the record (FERPA 34 CFR 99.32(c)); logging each look at the log "
        "would grow it on every look")
def log(student_id: uuid.UUID):
    """The child's log, a line per person, day and kind of view; the family's own views
    only with `own=1` (the "Show my own views" box)."""
    access = load_family_access_or_404(student_id)
    student = access.student
    errors: list[str] = []
    date_from, date_to = _day("from", errors), _day("to", errors)
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    own_views = request.args.get("own") == "1"
    organizations, chosen, page = family_log.read_log(
        student, request.args.get("organization", ""), date_from, date_to, zone, page_number(), own_views)
    lines = family_log.log_lines(student, page.items, current_user)
    return render("family/log.html", student=student, organizations=organizations, chosen=chosen, errors=errors,
                  pages=page, lines=lines, args={k: v for k, v in request.args.items() if k != "page"})




@bp.route("/children/<uuid:student_id>/research", methods=["GET", "POST"])
@login_required
def research(student_id: uuid.UUID):
    """Research in plain words (issue 16 item 5): the projects the district takes part in
    and what they receive; where the district offers it, the family member who signs
    the child's consents keeps the child out of every extract, or lets them back in.
    The page names the child: a view of their identity, logged as the family's others are."""
    access = load_family_access_or_404(student_id)
    student = access.student
    district = student.district
    signs = policy.holds_consent_rights(access)
    may_choose = district.research_opt_out_allowed and signs
    form = FlaskForm()  # the CSRF token of the choice
    if request.method == "POST":
        # the choice is said, never toggled: a second click or an old tab changes nothing
        choice = request.form.get("choice")
        if not signs or (choice == "out" and not may_choose):
            abort(403)
        if choice not in ("out", "in") or not form.validate_on_submit():
            abort(400)
        if choice == "out":
            flashed(lambda: research_service.opt_out(student, current_user), research_service.ResearchError,
                    gettext("%(name)s will be left out of every research file from now on.",
                            name=student.display_name))
        else:
            flashed(lambda: research_service.opt_back_in(student, current_user), research_service.ResearchError,
                    gettext("%(name)s may be included in research files again.", name=student.display_name))
        return redirect(url_for("family.research", student_id=student.uuid))
    projects = [(project, family_labels(project.variables))
                for project in research_service.taken_part_in(district.id, access.today)]
    response = render("family/research.html", student=student, district=district, projects=projects,
                      opted_out=research_service.opt_out_in_force(student), may_choose=may_choose, signs=signs,
                      form=form)
    disclosure.log_view(current_user, student, {Category.IDENTITY: access.visible[Category.IDENTITY]})
    db.session.commit()
    return response

"""The student record page: one section per category, each also an htmx fragment."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort
from flask_login import current_user, login_required

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import Student
from casemgr.models.enums import PARTNER_STAFF, Category
from casemgr.reads import consent_asks
from casemgr.reads.indicator_cards import load_cards
from casemgr.reads.student_record import record_section
from casemgr.services import amendments, disclosure
from casemgr.views.rendering import render

bp = Blueprint("students", __name__, url_prefix="/students")


def load_access_or_404(student_id: uuid.UUID) -> policy.StudentAccess:
    """Load, then check: a student the user may not see answers 404, exactly like one
    that does not exist, and the refusal is logged."""
    student, access = policy.load_student_access(current_user, Student.uuid == student_id)
    if access is None:
        if student is not None:
            disclosure.log_denied(current_user, student, "no access to this student", Category)
            db.session.commit()
        abort(404)
    return access


def log_page_view(access: policy.StudentAccess, categories: list[Category]) -> None:
    shown = {c: access.visible[c] for c in categories if c in access.visible}
    hidden = [c for c in categories if c not in access.visible]
    if shown:
        disclosure.log_view(access.user, access.student, shown)
    if hidden and not shown:
        disclosure.log_denied(access.user, access.student, "consent needed", hidden)


@bp.get("/<uuid:student_id>")
@login_required
def show(student_id: uuid.UUID):
    access = load_access_or_404(student_id)
    sections = [record_section(access, category) for category in Category]
    response = render(
        "students/show.html",
        access=access,
        student=access.student,
        sections=sections,
        show_consents=policy.consent_organizations_visible(access) is not False,
        show_access=policy.may_manage_consents(access),
        show_family_accounts=policy.may_issue_letters(access),
        cards=load_cards(access),
        amendments=amendments.requests_for_student(access.student) if policy.reads_amendments(access) else None,
        panel=consent_asks.consent_panel(access),
        notes_first=access.user.role_enum in PARTNER_STAFF,  # a worker writes notes more than reads cards
        consent_asks=consent_asks.open_for_student(current_user, access.student),
        back="student",
    )
    # logged once the page is built and before it leaves: no log entry, no disclosure
    log_page_view(access, list(Category))
    db.session.commit()
    return response


@bp.get("/<uuid:student_id>/sections/<category>")
@login_required
def section(student_id: uuid.UUID, category: str):
    try:
        chosen = Category(category)
    except ValueError:
        abort(404)
    access = load_access_or_404(student_id)
    shown = record_section(access, chosen)
    response = render(
        "students/section.html",
        "students/partials/_section.html",
        access=access,
        student=access.student,
        section=shown,
    )
    if shown.visible:
        disclosure.log_view(access.user, access.student, {chosen: shown.basis})
    else:
        disclosure.log_denied(access.user, access.student, shown.reason, [chosen])
    db.session.commit()
    return response


@bp.get("/<uuid:student_id>/access")
@login_required
def access_list(student_id: uuid.UUID):
    """Who can see this record (SPEC §4): for school officials, to explain and debug access."""
    access = load_access_or_404(student_id)
    if not policy.may_manage_consents(access):
        abort(404)
    viewers = policy.who_can_see(access.student, access.today)
    return render("students/access.html", access=access, student=access.student, viewers=viewers,
                  every_category=len(Category))

"""Each role's home page: what needs them, most urgent first. Counselors and principals
work from their queue (reads/school_home.py), teachers from their classes
(reads/teacher_home.py), the district admin from the district's state
(reads/district_home.py); partner staff from the roster with each student's consent
status and the latest notes, and the administrator also sees the inbox, roster and
staff at a glance."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, current_app, request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from casemgr import policy, statement_cache
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import role_permission
from casemgr.importers import progress
from casemgr.models.enums import FAMILY, PARTNER_STAFF, Category, Role
from casemgr.reads import services_delivered as delivered
from casemgr.reads import caseload_assignments, district_home, school_home, teacher_home
from casemgr.reads import partner_workspace as workspace
from casemgr.services import disclosure
from casemgr.views import family, navigation
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("home", __name__)
teacher_permission = role_permission(Role.TEACHER)


class SinceForm(FlaskForm):
    """The date from which the queue counts changes (a date in the URL)."""

    class Meta:
        csrf = False

    since = DateField("Changes since", validators=[Optional()])

    def validate_since(self, field) -> None:
        if field.data is not None and field.data > today():
            raise ValidationError("Choose a date no later than today.")
        if field.data is not None and field.data < date(today().year - 2, 1, 1):
            raise ValidationError("Choose a date within the last two years.")


@bp.route("/")
@login_required
def index():
    if current_user.role_enum in PARTNER_STAFF:
        return _partner_home()
    if current_user.role_enum in FAMILY:
        return family.home()
    if current_user.role_enum in (Role.COUNSELOR, Role.PRINCIPAL):
        return _school_home()
    if current_user.role_enum is Role.TEACHER:
        return _classes("home/teacher.html")
    if current_user.role_enum is Role.DISTRICT_ADMIN:
        return _district_home()
    return render(f"home/{current_user.role}.html", user=current_user)


def _school_home():
    day = today()
    form = SinceForm(request.args)
    since = form.since.data if form.validate() and form.since.data else school_home.default_since(day)
    # a counselor with a caseload starts from their own students, the whole school a click away
    counselor = current_user.role_enum is Role.COUNSELOR
    user = current_user._get_current_object()
    has_caseload = statement_cache.reuse(("has caseload", statement_cache.user_facts(user, day)),
                                         lambda: caseload_assignments.has_caseload(user).label("has_caseload"))
    queue = school_home.load_queue(current_user, day, since, mine=counselor and request.args.get("scope") != "school",
                                   alongside=[*navigation.badge_columns(), *([has_caseload] if counselor else [])])
    navigation.remember_badges(queue.alongside)
    if counselor and "has_caseload" not in queue.alongside:  # an empty queue: no row carried it
        queue.alongside["has_caseload"] = db.session.scalar(sa.select(has_caseload))
    scope = None
    if queue.alongside.get("has_caseload"):
        scope = "school" if request.args.get("scope") == "school" else "mine"
    response = render(f"home/{current_user.role}.html", user=current_user, queue=queue, form=form, scope=scope)
    disclosure.log_list_views(current_user, {student_id: dict.fromkeys(categories, policy.SCHOOL_OFFICIAL)
                                             for student_id, categories in queue.shown().items()})
    db.session.commit()
    return response


@bp.get("/classes")
@login_required
@teacher_permission.require(http_exception=403)
def classes():
    """The teacher's sections and their students, reached from the navigation."""
    return _classes("home/classes.html")


def _classes(template: str):
    classes = teacher_home.load_classes(current_user, today(), alongside=navigation.badge_columns())
    navigation.remember_badges(classes.alongside)
    response = render(template, user=current_user, classes=classes)
    disclosure.log_list_view(current_user, classes.student_ids, teacher_home.SHOWN_CATEGORIES, policy.TEACHER_OF_RECORD)
    db.session.commit()
    return response


def _district_home():
    state = district_home.load_district_home(current_user, today())
    stale_after = progress.stale_after(current_app.config)
    response = render("home/district_admin.html", user=current_user, state=state,
                      import_status=lambda batch: progress.shown_status(batch, stale_after))
    disclosure.log_list_view(current_user, state.student_ids, [Category.IDENTITY], policy.SCHOOL_OFFICIAL)
    db.session.commit()
    return response


def _partner_home():
    day = today()
    template = f"home/{current_user.role}.html"
    blocked = policy.partner_block_reason(current_user, day)
    admin = current_user.role_enum is Role.PARTNER_ADMIN
    if blocked:
        return render(template, user=current_user, blocked=blocked,
                      summary=workspace.admin_summary(current_user, day) if admin else None)
    summary_columns = workspace.admin_summary_columns(current_user, day) if admin else []
    roster = workspace.roster_page(current_user, day, page_number(), request.args.get("consent", ""),
                                   alongside=[workspace.expiring_count(current_user, day), *summary_columns,
                                              *navigation.badge_columns()])
    navigation.remember_badges(roster.alongside)
    summary = workspace.summary_of(roster.alongside) if admin else None
    notes = workspace.latest_notes(current_user, day)
    expiring = workspace.expiring_consents(current_user, day, total=roster.alongside["expiring"])
    since = workspace.last_visit(current_user, day)
    changes = workspace.roster_changes(current_user, roster, since, day)
    dosage = workspace.roster_dosage(current_user, roster, day)
    response = render(template, "partner/partials/_roster.html", user=current_user, blocked=None, roster=roster,
                      notes=notes, summary=summary, expiring=expiring, roster_endpoint="home.index", manage=False,
                      changes=changes, changes_since=since, first_visit=current_user.home_changes_since is None,
                      dosage=dosage, groups=delivered.groups_of(current_user))
    workspace.log_workspace(current_user, roster, notes, expiring, changes, dosage)
    db.session.commit()
    return response

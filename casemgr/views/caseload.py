"""The caseload: a school's students by tier and indicator, filtered and sorted live."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, request
from flask_login import current_user

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import Organization
from casemgr.models.enums import Category, OrgKind, Role
from casemgr.reads.caseload import INDICATOR_FILTERS, CaseloadQuery, load_caseload
from casemgr.services import disclosure
from casemgr.views.rendering import render

bp = Blueprint("caseload", __name__)
caseload_permission = role_permission(Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.COUNSELOR)
SHOWN_CATEGORIES = (
    Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.COLLEGE, Category.SERVICES,
)


restrict_blueprint(bp, caseload_permission)


@bp.get("/caseload")
def index():
    query = CaseloadQuery.from_args(request.args)
    result = load_caseload(current_user, query, today())
    schools = []
    if current_user.role_enum is Role.DISTRICT_ADMIN:
        schools = db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind == OrgKind.SCHOOL, Organization.district_id == current_user.organization_id)
            .order_by(Organization.name)
        ).all()
    response = render(
        "caseload/index.html",
        "caseload/partials/_results.html",
        query=query,
        result=result,
        schools=schools,
        indicator_filters=INDICATOR_FILTERS,
    )
    disclosure.log_list_view(current_user, [row.student.id for row in result.rows], SHOWN_CATEGORIES, policy.SCHOOL_OFFICIAL)
    db.session.commit()
    return response

"""The caseload: a school's students by tier and indicator, filtered and sorted live;
a counselor's own students by default; exported (CSV, Excel) and printed as shown."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, request
from flask_login import current_user

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import restrict_blueprint, role_permission
from casemgr.models import Organization
from casemgr.models.enums import Category, DisclosureAction, OrgKind, Role
from casemgr.reads import caseload_export
from casemgr.reads.caseload import INDICATOR_FILTERS, CaseloadQuery, load_caseload
from casemgr.services import disclosure
from casemgr.views import spreadsheets
from casemgr.views.rendering import render

bp = Blueprint("caseload", __name__)
caseload_permission = role_permission(Role.DISTRICT_ADMIN, Role.PRINCIPAL, Role.COUNSELOR)
SHOWN_CATEGORIES = (
    Category.IDENTITY, Category.ATTENDANCE, Category.GRADES, Category.BEHAVIOR, Category.COLLEGE, Category.SERVICES,
)


restrict_blueprint(bp, caseload_permission)


def _schools() -> list[Organization]:
    if current_user.role_enum is not Role.DISTRICT_ADMIN:
        return []
    return db.session.scalars(
        sa.select(Organization)
        .where(Organization.kind == OrgKind.SCHOOL, Organization.district_id == current_user.organization_id)
        .order_by(Organization.name)
    ).all()


def _log(result, action: DisclosureAction = DisclosureAction.VIEW) -> None:
    disclosure.log_list_view(current_user, [row.student.id for row in result.rows], SHOWN_CATEGORIES,
                             policy.SCHOOL_OFFICIAL, action)
    db.session.commit()


@bp.get("/caseload")
def index():
    query = CaseloadQuery.from_args(request.args)
    result = load_caseload(current_user, query, today())
    response = render(
        "caseload/index.html",
        "caseload/partials/_results.html",
        query=query,
        result=result,
        schools=_schools(),
        indicator_filters=INDICATOR_FILTERS,
        assigns=current_user.role_enum in policy.CASELOAD_ASSIGNERS,
        export_cap=caseload_export.EXPORT_CAP,
    )
    _log(result)
    return response


def _whole(query: CaseloadQuery):
    query.page = 1
    return load_caseload(current_user, query, today(), size=caseload_export.EXPORT_CAP)


@bp.get("/caseload/export.<fmt>")
def export(fmt: str):
    """What the page shows, all its pages up to the cap, as a file: one disclosure
    entry (an export) naming exactly the students in it."""
    if fmt not in spreadsheets.MIMETYPES:
        abort(404)
    query = CaseloadQuery.from_args(request.args)
    result = _whole(query)
    with_school = current_user.role_enum is Role.DISTRICT_ADMIN
    header = caseload_export.columns(with_school, query.since)
    rows = [caseload_export.cells(row, with_school) for row in result.rows]
    body = (spreadsheets.csv_bytes(header, rows) if fmt == "csv"
            else spreadsheets.xlsx_bytes("Caseload", header, rows))
    response = spreadsheets.download(body, f"caseload-{today():%Y-%m-%d}.{fmt}")
    _log(result, DisclosureAction.EXPORT)
    return response


@bp.get("/caseload/print")
def print_view():
    """What the page shows, all its pages up to the cap, for paper."""
    query = CaseloadQuery.from_args(request.args)
    result = _whole(query)
    schools = _schools()
    picked = next((s.name for s in schools if s.uuid == query.school), None)
    response = render("caseload/print.html", query=query, result=result, schools=schools, day=today(),
                      place=picked or (current_user.organization.name + (" (all schools)" if schools else "")),
                      indicator_filters=INDICATOR_FILTERS, export_cap=caseload_export.EXPORT_CAP)
    _log(result)
    return response

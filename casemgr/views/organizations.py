"""The district admin's organizations page: the district's schools and the partnership's
youth and research organizations, listed, added and renamed (never deleted)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint
from casemgr.models import Organization
from casemgr.models.enums import OrgKind, SchoolLevel
from casemgr.services import organizations as service
from casemgr.views.rendering import render

bp = Blueprint("organizations", __name__, url_prefix="/admin/organizations")
restrict_blueprint(bp, admin_permission)

KIND_LABELS = {OrgKind.SCHOOL: "School", OrgKind.PARTNER: "Youth organization", OrgKind.RESEARCH: "Research partner"}
LEVEL_LABELS = {SchoolLevel.ELEMENTARY: "Elementary", SchoolLevel.MIDDLE: "Middle", SchoolLevel.HIGH: "High"}


class AddOrganizationForm(FlaskForm):
    kind = SelectField("Kind", choices=[(str(k), label) for k, label in KIND_LABELS.items()],
                       validators=[DataRequired("Choose what kind of organization this is.")])
    code = StringField("Code", validators=[DataRequired("Enter the organization's code."), Length(max=32)])
    name = StringField("Name", validators=[DataRequired("Enter the organization's name."),
                                           Length(max=service.NAME_LENGTH)])
    level = SelectField("Level (schools only)", choices=[("", "Not a school")] + [(str(k), v) for k, v in LEVEL_LABELS.items()],
                        validators=[Optional()])


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired("Enter the organization's name."),
                                               Length(max=service.NAME_LENGTH)])


def _district() -> Organization:
    return current_user.organization


def _listed(kind: OrgKind) -> list[Organization]:
    return list(db.session.scalars(
        sa.select(Organization).where(service.managed_by(_district()), Organization.kind == kind)
        .order_by(Organization.name, Organization.code)
    ))


def _refused(form, error: service.OrganizationError) -> None:
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


@bp.route("", methods=["GET", "POST"])
def index():
    form = AddOrganizationForm()
    if form.validate_on_submit():
        kind = OrgKind(form.kind.data)
        level = SchoolLevel(form.level.data) if form.level.data else None
        try:
            added = service.add_organization(_district(), kind, form.code.data, form.name.data, level)
        except service.OrganizationError as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(f"{KIND_LABELS[kind]} {added.name} ({added.code}) added.", "success")
            return redirect(url_for("organizations.index"))
    return render(
        "admin/organizations.html",
        form=form,
        groups=[(kind, KIND_LABELS[kind], _listed(kind)) for kind in service.ADDABLE_KINDS],
        level_labels=LEVEL_LABELS,
        status=400 if form.is_submitted() else 200,
    )


@bp.route("/<uuid:organization_id>/rename", methods=["GET", "POST"])
def rename(organization_id: uuid.UUID):
    organization = db.session.scalar(
        sa.select(Organization).where(Organization.uuid == organization_id, service.managed_by(_district()))
    )
    if organization is None:
        abort(404)
    form = RenameForm()
    if not form.is_submitted():
        form.name.data = organization.name
    if form.validate_on_submit():
        old = organization.name
        try:
            changed = service.rename_organization(organization, form.name.data)
        except service.OrganizationError as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(f"{old} is now {organization.name}." if changed else "The name is unchanged.",
                  "success" if changed else "info")
            return redirect(url_for("organizations.index"))
    return render(
        "admin/organization_rename.html",
        form=form,
        organization=organization,
        kind_label=KIND_LABELS[organization.kind_enum],
        status=400 if form.is_submitted() else 200,
    )

"""Research projects (issue 16): the district admin records studies and attaches
researchers, approves or withdraws from other districts' projects that invite the
district, and decides whether families may keep their child out of extracts
(`research_admin`, under /admin/research); a researcher reads the projects they are
attached to (`research`, /research)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint, role_permission
from casemgr.models import (
    Organization,
    ReportLogEntry,
    ResearchProject,
    ResearchProjectDistrict,
    ResearchProjectMember,
    SchoolYear,
    User,
)
from casemgr.models.enums import OrgKind, Role
from casemgr.research import VARIABLES, labels
from casemgr.reads import research_extract
from casemgr.services import report_log
from casemgr.services import research as research_service
from casemgr.views.forms import CheckboxListField, flashed, saved
from casemgr.views.rendering import render

admin_bp = Blueprint("research_admin", __name__, url_prefix="/admin/research")
restrict_blueprint(admin_bp, admin_permission)
bp = Blueprint("research", __name__)
restrict_blueprint(bp, role_permission(Role.RESEARCHER))


EXTRACT = "extract"  # the report log's action for an extract downloaded


class ProjectForm(FlaskForm):
    organization = SelectField("Research organization", validators=[DataRequired("Choose the research organization.")])
    title = StringField("Title", validators=[DataRequired("Give the project a title."), Length(max=200)])
    purpose = TextAreaField("Purpose of the study", validators=[DataRequired("State the purpose of the study."),
                                                                Length(max=4000)])
    approval_reference = StringField(
        "Ethics (IRB) approval reference", validators=[DataRequired("Give the reference of the ethics approval."),
                                                       Length(max=200)],
        description="The study exception of FERPA (34 CFR 99.31(a)(6)) needs a written agreement for a study; "
                    "this project is that record.")
    variables = CheckboxListField("Approved variables", validators=[DataRequired("Choose at least one variable.")],
                                  description="One row per student and school year, with these columns only.")
    school_years = CheckboxListField("School years covered", validators=[DataRequired("Choose at least one school year.")])
    schools = CheckboxListField("Schools covered", description="None chosen: every school of the district.")
    invited = CheckboxListField(
        "Other districts of the partnership", description="Invited to take part: each covers the project once its own "
        "district admin approves. Students who moved between districts keep one pseudonym.")
    starts_on = DateField("First day", validators=[DataRequired("Enter the first day (YYYY-MM-DD).")])
    ends_on = DateField("Last day", validators=[DataRequired("Enter the last day (YYYY-MM-DD).")])
    destroy_by = DateField("Data destroyed by", validators=[DataRequired("Enter the day by which the data must be "
                                                                          "destroyed (YYYY-MM-DD).")])


class AttachForm(FlaskForm):
    researcher = SelectField("Researcher", validators=[DataRequired("Choose a researcher.")])


class ConfirmForm(FlaskForm):
    pass


class SettingsForm(FlaskForm):
    opt_out_allowed = BooleanField(
        "Families may keep their child out of research extracts",
        description="Parents (and students of 18) choose on the page that explains research to them.")


def _district() -> Organization:
    return db.session.get(Organization, current_user.organization_id)


def _project(project_id: uuid.UUID) -> ResearchProject:
    """A project of the admin's district, or one that invites it."""
    project = db.session.scalar(
        sa.select(ResearchProject).join(ResearchProjectDistrict, ResearchProjectDistrict.project_id == ResearchProject.id)
        .where(ResearchProject.uuid == project_id, ResearchProjectDistrict.district_id == _district().id))
    if project is None:
        abort(404)
    return project


def _own_project(project_id: uuid.UUID) -> ResearchProject:
    """A project the admin's district recorded: only it attaches researchers."""
    project = _project(project_id)
    if project.district_id != _district().id:
        abort(404)
    return project


def _years_after(day: date, years: int) -> date:
    """The same day `years` later (29 February: 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _year_label(year: int) -> str:
    return f"{year}–{year + 1}"


@admin_bp.get("")
def index():
    day, district = today(), _district()
    projects = research_service.projects_of_district(district.id)
    settings = SettingsForm(formdata=None, opt_out_allowed=district.research_opt_out_allowed)
    return render("research/admin_index.html", district=district, settings=settings,
                  projects=[(p, research_service.state(p, day), research_service.coverage(p, district))
                            for p in projects])


@admin_bp.post("/settings")
def settings():
    form = SettingsForm()
    if not form.validate_on_submit():
        abort(400)
    research_service.set_opt_out_allowed(_district(), form.opt_out_allowed.data)
    db.session.commit()
    flash("Families may now keep their child out of research extracts." if form.opt_out_allowed.data else
          "Families are no longer offered to keep their child out of research extracts; the requests already made "
          "stay in force.", "success")
    return redirect(url_for("research_admin.index"))


@admin_bp.route("/new", methods=["GET", "POST"])
def new():
    district = _district()
    organizations = db.session.scalars(sa.select(Organization).where(Organization.kind == str(OrgKind.RESEARCH))
                                       .order_by(Organization.name)).all()
    schools = db.session.scalars(sa.select(Organization).where(Organization.district_id == district.id,
                                                               Organization.kind == str(OrgKind.SCHOOL))
                                 .order_by(Organization.name)).all()
    years = db.session.scalars(sa.select(SchoolYear.year).where(SchoolYear.district_id == district.id)
                               .order_by(SchoolYear.year)).all()
    others = db.session.scalars(sa.select(Organization).where(Organization.kind == str(OrgKind.DISTRICT),
                                                              Organization.id != district.id)
                                .order_by(Organization.name)).all()
    form = ProjectForm()
    if not others:
        del form.invited
    form.organization.choices = [("", "Choose…")] + [(str(o.uuid), o.name) for o in organizations]
    form.variables.choices = [(key, v.label) for key, v in VARIABLES.items()]
    form.school_years.choices = [(str(y), _year_label(y)) for y in years]
    form.schools.choices = [(str(s.uuid), s.name) for s in schools]
    if others:
        form.invited.choices = [(str(o.uuid), o.name) for o in others]
    if not form.is_submitted():
        day = today()
        form.starts_on.data = day
        form.ends_on.data = _years_after(day, 2) - timedelta(days=1)
        form.destroy_by.data = _years_after(day, 3) - timedelta(days=1)
    if form.validate_on_submit():
        organization = next((o for o in organizations if str(o.uuid) == form.organization.data), None)
        chosen = [s for s in schools if str(s.uuid) in form.schools.data]
        invited = [o for o in others if str(o.uuid) in form.invited.data] if others else []
        created = []
        if saved(form, lambda: created.append(research_service.create_project(
            district, organization, form.title.data, form.purpose.data, form.approval_reference.data,
            form.variables.data, [int(y) for y in form.school_years.data], chosen, form.starts_on.data,
            form.ends_on.data, form.destroy_by.data, current_user, invited,
        )), research_service.ResearchError):
            return redirect(url_for("research_admin.show", project_id=created[0].uuid))
    status = 400 if form.is_submitted() else 200
    return render("research/admin_form.html", form=form, status=status)


@admin_bp.get("/<uuid:project_id>")
def show(project_id: uuid.UUID):
    project = _project(project_id)
    district = _district()
    form = _attach_form(project) if project.district_id == district.id else None
    downloads = db.session.execute(
        sa.select(ReportLogEntry, User.full_name).join(User, User.id == ReportLogEntry.user_id)
        .where(ReportLogEntry.action == EXTRACT, ReportLogEntry.district_id == district.id,
               ReportLogEntry.parameters["project"].astext == str(project.uuid))
        .order_by(ReportLogEntry.occurred_at.desc()).limit(50)).all()
    return render("research/admin_project.html", project=project, state=research_service.state(project, today()),
                  downloads=downloads,
                  variables=labels(project.variables), years=[_year_label(y) for y in project.school_years],
                  schools=_school_names(project), form=form, confirm=ConfirmForm(),
                  own=project.district_id == district.id, coverage=research_service.coverage(project, district))


@admin_bp.post("/<uuid:project_id>/approve")
def approve(project_id: uuid.UUID):
    """The invited district takes part: its students are in the project's extracts."""
    return _covering(project_id, research_service.approve,
                     "Your district takes part in the project: its extracts now hold your district's students.")


@admin_bp.post("/<uuid:project_id>/withdraw")
def withdraw(project_id: uuid.UUID):
    return _covering(project_id, research_service.withdraw,
                     "Your district no longer takes part: later extracts hold none of your district's students.")


def _covering(project_id: uuid.UUID, change, done: str):
    project = _project(project_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    flashed(lambda: change(project, _district(), current_user), research_service.ResearchError, done)
    return redirect(url_for("research_admin.show", project_id=project.uuid))


def _attach_form(project: ResearchProject) -> AttachForm:
    """The form offering the organization's researchers not attached yet ("Choose…" is
    no choice: the field requires one)."""
    form = AttachForm()
    form.researcher.choices = [("", "Choose…")] + [(str(u.uuid), u.full_name)
                                                   for u in research_service.researchers_to_attach(project)]
    return form


def _school_names(project: ResearchProject) -> list[str]:
    if not project.school_ids:
        return []
    return list(db.session.scalars(sa.select(Organization.name).where(Organization.id.in_(project.school_ids))
                                   .order_by(Organization.name)))


@admin_bp.post("/<uuid:project_id>/researchers")
def attach(project_id: uuid.UUID):
    project = _own_project(project_id)
    form = _attach_form(project)
    if not form.validate_on_submit():
        flash("Choose a researcher of the project's organization.", "error")
        return redirect(url_for("research_admin.show", project_id=project.uuid))
    user = db.session.scalar(sa.select(User).where(User.uuid == uuid.UUID(form.researcher.data)))
    flashed(lambda: research_service.attach_researcher(project, user, current_user), research_service.ResearchError,
            f"{user.full_name if user else 'The researcher'} is attached to the project.")
    return redirect(url_for("research_admin.show", project_id=project.uuid))


@admin_bp.post("/<uuid:project_id>/researchers/<uuid:user_id>/detach")
def detach(project_id: uuid.UUID, user_id: uuid.UUID):
    project = _own_project(project_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.scalar(sa.select(User).where(User.uuid == user_id))
    if user is None:
        abort(404)
    flashed(lambda: research_service.detach_researcher(project, user), research_service.ResearchError,
            f"{user.full_name} is no longer attached to the project.")
    return redirect(url_for("research_admin.show", project_id=project.uuid))


@bp.get("/research/<uuid:project_id>/extract.<fmt>")
def extract(project_id: uuid.UUID, fmt: str):
    """The project's de-identified extract, for a researcher attached to it while it is
    active; logged in the report log with the file's hash and row count."""
    day = today()
    project = db.session.scalar(
        sa.select(ResearchProject).join(ResearchProjectMember, ResearchProjectMember.project_id == ResearchProject.id)
        .where(ResearchProject.uuid == project_id, ResearchProjectMember.user_id == current_user.id,
               ResearchProject.organization_id == current_user.organization_id))
    if project is None or fmt not in research_extract.FORMATS:
        abort(404)
    if not project.active_on(day):
        flash("This project is not active today: its extract cannot be downloaded.", "error")
        return redirect(url_for("research.projects"))
    built = research_extract.build(project, research_extract.k_of(project))
    body = research_extract.zip_file(project, built, fmt, day)
    filename = f"extract-{project.uuid}-{day.isoformat()}-{fmt}.zip"
    # in the report log of every district whose students the file holds
    for district_id in project.covered_district_ids:
        report_log.record(current_user, district_id, EXTRACT, f"Extract of {project.title}",
                          {"project": str(project.uuid), "format": fmt, "rows": str(len(built.result.rows)),
                           "rows_left_out": str(built.result.rows_left_out)}, body, filename)
    db.session.commit()
    return Response(body, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/research")
def projects():
    day = today()
    mine = research_service.projects_of(current_user)
    return render("research/index.html",
                  projects=[(p, research_service.state(p, day), labels(p.variables),
                             [_year_label(y) for y in p.school_years], _school_names(p)) for p in mine],
                  formats=research_extract.FORMATS)


"""The district data steward's pages: agreements and the disclosure log."""
from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.identity import admin_permission, restrict_blueprint
from casemgr import indicators, policy
from casemgr.indicators import current_settings
from casemgr.models import (
    DataSharingAgreement,
    DisclosureEntry,
    Organization,
    ServiceAgreement,
    ThresholdSettings,
)
from casemgr.models.enums import Category, DisclosureAction, OrgKind, Service
from casemgr.reads import agreements as agreement_reads
from casemgr.reads import disclosure_search
from casemgr.services import agreements as agreement_service
from casemgr.services import disclosure, disclosure_chain
from casemgr.services import thresholds as threshold_service
from casemgr.views.disclosure_guard import exempt
from casemgr.views.forms import CheckboxListField, flashed, saved
from casemgr.views.spreadsheets import csv_response
from casemgr.views.formatting import basis_label, category_label, service_label
from casemgr.views.input_bounds import page_number
from casemgr.views.rendering import render

bp = Blueprint("admin", __name__, url_prefix="/admin")
LOG_PAGE_SIZE = 50
LOG_COUNT_BOUND = 10_000
LOG_EXPORT_BOUND = 100_000

restrict_blueprint(bp, admin_permission)


def _district() -> Organization:
    return current_user.organization


def _partners() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).where(Organization.kind == OrgKind.PARTNER).order_by(Organization.name)))


def _schools() -> list[Organization]:
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind == OrgKind.SCHOOL, Organization.district_id == _district().id)
            .order_by(Organization.name)
        )
    )


LANGUAGE_NAMES_IN_ENGLISH = {"en": "English", "es": "Spanish"}


def family_languages() -> list[str]:
    """The languages families read besides the district's default one."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return [language for language in current_app.config["LANGUAGES"] if language != default]


def data_sharing_agreement_form() -> FlaskForm:
    """The form, with the purpose asked in each language the district offers families
    (`purpose_es`, ...), right after the purpose in the default language."""
    fields = {
        "organization": SelectField("Partner organization", validators=[DataRequired("Choose the partner organization.")]),
        "categories": CheckboxListField("Categories the organization may receive",
                                        validators=[DataRequired("Choose at least one category.")]),
        "purpose": TextAreaField("Purpose", validators=[DataRequired("State the purpose of the agreement."),
                                                        Length(max=2000)]),
    }
    for language in family_languages():
        name = LANGUAGE_NAMES_IN_ENGLISH.get(language, language)
        fields[f"purpose_{language}"] = TextAreaField(
            f"Purpose in {name}", validators=[Optional(), Length(max=2000)],
            description=f"What families who read {name} see on the consent form. Without it they see the purpose "
                        f"above, with a note that it is not in their language.")
    fields["starts_on"] = DateField("Starts on", validators=[DataRequired("Enter the start date (YYYY-MM-DD).")])
    fields["ends_on"] = DateField("Ends on", validators=[DataRequired("Enter the end date (YYYY-MM-DD).")])
    return type("DataSharingAgreementForm", (FlaskForm,), fields)()


class ServiceAgreementForm(FlaskForm):
    organization = SelectField("Partner organization", validators=[DataRequired("Choose the partner organization.")])
    services = CheckboxListField("Services offered", validators=[DataRequired("Choose at least one service.")])
    schools = CheckboxListField("At these schools", validators=[DataRequired("Choose at least one school.")])
    capacity = IntegerField("Capacity (students at a time)", validators=[InputRequired("Enter a capacity of at least 1."), NumberRange(min=1, max=100_000, message="Enter a capacity between 1 and 100,000.")])
    starts_on = DateField("Starts on", validators=[DataRequired("Enter the start date (YYYY-MM-DD).")])
    ends_on = DateField("Ends on", validators=[DataRequired("Enter the end date (YYYY-MM-DD).")])


class ConfirmForm(FlaskForm):
    pass


@bp.get("/agreements")
def agreements():
    district, day = _district(), today()
    sharing = db.session.scalars(
        sa.select(DataSharingAgreement)
        .options(selectinload(DataSharingAgreement.organization))
        .where(DataSharingAgreement.district_id == district.id)
        .order_by(DataSharingAgreement.starts_on.desc())
    ).all()
    services = db.session.scalars(
        sa.select(ServiceAgreement)
        .options(selectinload(ServiceAgreement.organization), selectinload(ServiceAgreement.schools))
        .where(ServiceAgreement.district_id == district.id)
        .order_by(ServiceAgreement.starts_on.desc())
    ).all()
    state = agreement_service.agreement_state
    unshared = agreement_reads.without_sharing_agreement(district.id, {a.organization_id for a in services}, day)
    return render(
        "admin/agreements.html",
        sharing=[(a, state(a, day)) for a in sharing],
        services=[(a, state(a, day)) for a in services],
        unshared=unshared,
    )


def _default_dates(form) -> None:
    if not form.is_submitted():
        day = today()
        form.starts_on.data = day
        form.ends_on.data = day.replace(year=day.year + 1) - timedelta(days=1)


@bp.route("/agreements/new", methods=["GET", "POST"])
def new_agreement():
    partners = _partners()
    form = data_sharing_agreement_form()
    form.organization.choices = [("", "Choose…")] + [(str(p.uuid), p.name) for p in partners]
    form.categories.choices = [(str(c), category_label(c)) for c in Category]
    _default_dates(form)
    if form.validate_on_submit():
        partner = next((p for p in partners if str(p.uuid) == form.organization.data), None)
        if saved(form, lambda: agreement_service.create_data_sharing_agreement(
            _district(), partner, [Category(c) for c in form.categories.data], form.purpose.data,
            form.starts_on.data, form.ends_on.data, current_user,
            {language: form[f"purpose_{language}"].data for language in family_languages()},
        ), agreement_service.AgreementError):
            flash(f"Data-sharing agreement with {partner.name} saved.", "success")
            return redirect(url_for("admin.agreements"))
    status = 400 if form.is_submitted() else 200
    return render("admin/agreement_form.html", form=form, heading="New data-sharing agreement", status=status)


@bp.route("/service-agreements/new", methods=["GET", "POST"])
def new_service_agreement():
    partners, schools = _partners(), _schools()
    form = ServiceAgreementForm()
    form.organization.choices = [("", "Choose…")] + [(str(p.uuid), p.name) for p in partners]
    form.services.choices = [(str(s), service_label(s)) for s in Service]
    form.schools.choices = [(str(s.uuid), s.name) for s in schools]
    _default_dates(form)
    if form.validate_on_submit():
        partner = next((p for p in partners if str(p.uuid) == form.organization.data), None)
        chosen = [s for s in schools if str(s.uuid) in form.schools.data]
        if saved(form, lambda: agreement_service.create_service_agreement(
            _district(), partner, [Service(s) for s in form.services.data], chosen, form.capacity.data,
            form.starts_on.data, form.ends_on.data, current_user,
        ), agreement_service.AgreementError):
            flash(f"Service agreement with {partner.name} saved.", "success")
            return redirect(url_for("admin.agreements"))
    status = 400 if form.is_submitted() else 200
    return render("admin/agreement_form.html", form=form, heading="New service agreement", status=status)


def _end(model, agreement_id: uuid.UUID):
    """GET asks, saying what ending the agreement today stops; POST ends it."""
    agreement = db.session.scalar(
        sa.select(model).where(model.uuid == agreement_id, model.district_id == _district().id)
    )
    if agreement is None:
        abort(404)
    form = ConfirmForm()
    if request.method == "GET":
        day = today()
        return render("admin/end_agreement.html", form=form, ending=agreement_reads.ending(agreement, day),
                      state=agreement_service.agreement_state(agreement, day))
    if not form.validate_on_submit():
        abort(400)
    flashed(lambda: agreement_service.end_agreement(agreement, today()), agreement_service.AgreementError,
            f"Agreement with {agreement.organization.name} ended today.")
    return redirect(url_for("admin.agreements"))


@bp.route("/agreements/<uuid:agreement_id>/end", methods=["GET", "POST"])
def end_agreement(agreement_id: uuid.UUID):
    return _end(DataSharingAgreement, agreement_id)


@bp.route("/service-agreements/<uuid:agreement_id>/end", methods=["GET", "POST"])
def end_service_agreement(agreement_id: uuid.UUID):
    return _end(ServiceAgreement, agreement_id)


# --- indicator thresholds ------------------------------------------------------------------


def _percent(label: str, low: int = 1, high: int = 100):
    return DecimalField(label, places=1, validators=[
        InputRequired(f"Enter {label.lower()} as a percentage."),
        NumberRange(min=low, max=high, message=f"Enter a percentage between {low} and {high}."),
    ])


def _number(label: str, low: float, high: float, integer: bool = False):
    field = IntegerField if integer else DecimalField
    return field(label, validators=[
        InputRequired(f"Enter {label.lower()}."),
        NumberRange(min=low, max=high, message=f"Enter a number between {low:g} and {high:g}."),
    ])


class ThresholdsForm(FlaskForm):
    band_watch_below = _percent("On track from (attendance %)")
    band_at_risk_below = _percent("Watch from (attendance %)")
    band_critical_below = _percent("At risk from (attendance %)")
    chronic_absence_rate = _percent("Chronic absence from (% of days missed)")
    severe_absence_rate = _percent("Severe chronic absence from (% of days missed)")
    min_enrolled_days = _number("Days enrolled before chronic absence counts", 1, 60, integer=True)
    ninth_grade_min_credits = _number("9th grade on track: credits at least", 0, 30)
    ninth_grade_max_core_failures = _number("9th grade on track: core semester Fs at most", 0, 10, integer=True)
    credits_grade9 = _number("Credits by the end of grade 9", 0, 60)
    credits_grade10 = _number("Credits by the end of grade 10", 0, 60)
    credits_grade11 = _number("Credits by the end of grade 11", 0, 60)
    credits_grade12 = _number("Credits by the end of grade 12", 0, 60)
    fafsa_deadline_month = _number("FAFSA complete by (month)", 1, 12, integer=True)
    fafsa_deadline_day = _number("FAFSA complete by (day)", 1, 31, integer=True)

    PERCENT_FIELDS = ("band_watch_below", "band_at_risk_below", "band_critical_below",
                      "chronic_absence_rate", "severe_absence_rate")

    def load(self, settings) -> None:
        for name in threshold_service.FIELDS:
            value = getattr(settings, name)
            getattr(self, name).data = value * 100 if name in self.PERCENT_FIELDS else value

    def values(self) -> dict:
        return {
            name: (getattr(self, name).data / 100 if name in self.PERCENT_FIELDS else getattr(self, name).data)
            for name in threshold_service.FIELDS
        }


@bp.route("/thresholds", methods=["GET", "POST"])
def thresholds():
    district = _district()
    current = current_settings(district.id)
    form = ThresholdsForm()
    if not form.is_submitted():
        form.load(current)
    if form.validate_on_submit():
        try:
            saved = threshold_service.save_new_version(district.id, form.values(), current_user)
        except threshold_service.ThresholdError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            if saved.version == current.version:
                flash("Nothing changed: the thresholds stay at version %d." % saved.version, "info")
            else:
                indicators.recompute(district.id)
                flash(f"Thresholds saved as version {saved.version}; every student's indicators were recomputed.", "success")
            db.session.commit()
            return redirect(url_for("admin.thresholds"))
    history = db.session.scalars(
        sa.select(ThresholdSettings).where(ThresholdSettings.district_id == district.id)
        .order_by(ThresholdSettings.version.desc())
    ).all()
    status = 400 if form.is_submitted() else 200
    return render("admin/thresholds.html", form=form, current=current, history=history, status=status)


# --- the disclosure log ------------------------------------------------------------------


class LogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    student = StringField("Student (name, state or local ID)", validators=[Optional(), Length(max=80)])
    user = StringField("User (email)", validators=[Optional(), Length(max=254)])
    organization = SelectField("Organization", validators=[Optional()])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])


def _log_search() -> tuple[LogFilterForm, disclosure_search.LogSearch]:
    """The search form as submitted, and the search it asks for (none of its filters
    when the form is not valid)."""
    form = LogFilterForm(request.args)
    organizations = db.session.scalars(sa.select(Organization).order_by(Organization.kind, Organization.name)).all()
    form.organization.choices = [("", "Any organization")] + [(str(o.uuid), o.name) for o in organizations]
    search = disclosure_search.LogSearch(_district().id, current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if form.validate():
        if form.start.data and form.end.data and form.end.data < form.start.data:
            form.end.errors.append("The end date is before the start date.")
        search = disclosure_search.LogSearch(
            search.district_id, search.zone, student=(form.student.data or "").strip(), user_email=form.user.data or "",
            organization=uuid.UUID(form.organization.data) if form.organization.data else None,
            start=form.start.data, end=form.end.data)
    return form, search


@bp.get("/disclosures")
@exempt("the district's search of the disclosure log shows who saw records, not the records; logging each "
        "search would grow the log on every look at it")
def disclosures():
    district = _district()
    form, search = _log_search()
    query = disclosure_search.entries(search).options(
        selectinload(DisclosureEntry.student),
        selectinload(DisclosureEntry.user),
        selectinload(DisclosureEntry.organization),
    )
    results = db.paginate(query, page=page_number(), per_page=LOG_PAGE_SIZE, error_out=False, count=False)
    # counted up to a bound: a district's whole log runs to millions of rows
    counted = query.with_only_columns(DisclosureEntry.id).order_by(None).limit(LOG_COUNT_BOUND + 1).subquery()
    results.total = db.session.scalar(sa.select(sa.func.count()).select_from(counted))
    found = disclosure_search.students_found(search) if search.student else ([], False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render("admin/disclosures.html", "admin/partials/_disclosure_rows.html", form=form, results=results, args=args,
                  bound=LOG_COUNT_BOUND, export_bound=LOG_EXPORT_BOUND, found=found,
                  basis_summary=lambda basis: disclosure_search.basis_summary(basis, basis_label, category_label),
                  chain_status=lambda: _chain_status(district.id))


@bp.get("/disclosures.csv")
def disclosures_csv():
    """The search's entries as a file. Unlike the page (a log reader), the file leaves
    casemgr with the names and state IDs of the students it lists: an export, logged."""
    form, search = _log_search()
    if any(field.errors for field in form):
        return redirect(url_for("admin.disclosures", **request.args))
    rows = list(disclosure_search.export_rows(search, LOG_EXPORT_BOUND, basis_label, category_label))
    response = csv_response(f"disclosure-log-{today().isoformat()}.csv", disclosure_search.EXPORT_COLUMNS, rows)
    disclosure.log_list_view(current_user, disclosure_search.exported_students(search, LOG_EXPORT_BOUND),
                             [Category.IDENTITY], policy.SCHOOL_OFFICIAL, DisclosureAction.EXPORT)
    db.session.commit()
    return response


def _chain_status(district_id: int) -> dict:
    """The district's chain and its recent digests, for the full page only (a search's
    htmx fragment does not show them). Only the rows after the latest digest are walked
    here (each digest's row is checked against it): a load of the page costs a day's
    rows at most, however long the log; `casemgr audit verify` walks it whole."""
    digests = disclosure_chain.recent_digests(district_id)
    found = disclosure_chain.verify_since_digests(district_id)
    report, since = found[0] if found else (None, None)
    broken = report.broken if report else None
    if broken is None:
        broken = next((disclosure_chain.digest_break(d) for d in digests if not d.matches), None)
    return {"report": report, "broken": broken, "since": since, "digests": digests}

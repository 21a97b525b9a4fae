"""The family's consents online (issue 6 items 2 and 3): the list per organization, giving
a consent with an electronic signature (34 CFR 99.30), revoking one, and answering the
referrals that wait for the family's consent.

Load → policy → act: `policy.consent_standing` answers None (404) for staff and for
anyone else's child; only `policy.may_sign_consents` lets a grant, a revocation or an
answer through (the services check it again), so a parent's forged request after the
student became eligible gets 404 and changes nothing.

Giving a consent takes two steps, so that the statement signed is exactly the one
shown: the family chooses the records, purpose and end date; the next page shows the
statement built from those choices, in the family's language, with the name box and the
tick box; signing sends the statement back, and the service refuses it unless it is
still the statement for those choices in that language.
"""
from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from casemgr import policy
from casemgr.clock import today
from casemgr.extensions import db
from casemgr.i18n import current_language
from casemgr.models import Consent, Organization, Referral, Student
from casemgr.models.enums import Category, OrgKind, ReferralStatus
from casemgr.reads import family_consents
from casemgr.services import consents as consent_service
from casemgr.services import disclosure, referrals
from casemgr.text import line_breaks, plain_text
from casemgr.views.forms import CheckboxListField
from casemgr.views.rendering import render
from casemgr.words.family import CATEGORY_WORDS, categories_words

bp = Blueprint("family_consents", __name__, url_prefix="/family")


class ConsentForm(FlaskForm):
    """Both steps of giving a consent; the choices travel hidden on the second."""

    organization = HiddenField()
    referral = HiddenField()
    # the offered choices are the agreement's; a forged one is refused by the service
    categories = CheckboxListField(_l("Which records may they see?"), validate_choice=False)
    purpose = TextAreaField(_l("What for"), validators=[Optional(), Length(max=consent_service.PURPOSE_MAX)])
    expires_on = StringField(_l("Until"))
    statement = HiddenField()
    typed_name = StringField(_l("Type your full name"), validators=[Optional(), Length(max=consent_service.NAME_MAX)])
    agreed = BooleanField(_l("I have read this statement and I agree to it."))


class ConfirmForm(FlaskForm):
    pass


def _student_or_404(student_id: uuid.UUID) -> Student:
    student = db.session.scalar(sa.select(Student).where(Student.uuid == student_id))
    if student is None:
        abort(404)
    return student


def _standing_or_404(student: Student) -> policy.ConsentStanding:
    standing = policy.consent_standing(current_user, student, today())
    if standing is None:
        disclosure.log_denied(current_user, student, "no access to this student's consents")
        db.session.commit()
        abort(404)
    return standing


def _signer_or_404(student: Student) -> policy.ConsentStanding:
    """Only who may sign the student's consents today gets a form or an answer."""
    standing = _standing_or_404(student)
    if not standing.may_sign:
        abort(404)
    return standing


@bp.get("/children/<uuid:student_id>/consents")
@login_required
def index(student_id: uuid.UUID):
    standing = _standing_or_404(_student_or_404(student_id))
    student, day = standing.student, standing.today
    if not standing.sees_consents:
        return render("family/consents.html", standing=standing, student=student)
    requests = family_consents.consent_requests([student], day).get(student.id, []) if standing.may_sign else []
    response = render(
        "family/consents.html", standing=standing, student=student, requests=requests,
        groups=family_consents.consents_by_organization(student, day),
        offers=family_consents.offers(student, day) if standing.may_sign else [],
    )
    if requests:
        _log_referral_read(student, day)
    return response


def _log_referral_read(student: Student, day: date) -> None:
    """A referral waiting for consent (its organization and need) is part of the
    student's services records: a page showing it is a read, logged like any other."""
    access = policy.family_access(current_user, student, day)
    if access is not None and access.can_see(Category.SERVICES):
        disclosure.log_view(current_user, student, {Category.SERVICES: access.visible[Category.SERVICES]})
        db.session.commit()


def _organization(value: str | None) -> Organization | None:
    try:
        organization_id = uuid.UUID(value or "")
    except ValueError:
        return None
    return db.session.scalar(sa.select(Organization).where(Organization.uuid == organization_id,
                                                           Organization.kind == str(OrgKind.PARTNER)))


def _awaiting_referral(value: str | None, student: Student, organization: Organization) -> Referral | None:
    """The referral a consent answers, when the family came from its request."""
    try:
        referral_id = uuid.UUID(value or "")
    except ValueError:
        return None
    return db.session.scalar(sa.select(Referral).where(
        Referral.uuid == referral_id, Referral.student_id == student.id, Referral.organization_id == organization.id,
        Referral.status == str(ReferralStatus.AWAITING_CONSENT)))


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _agreement_purpose(organization: Organization, student: Student, day: date) -> tuple[str, str]:
    """The agreement's purpose in the family's language, else in the district's default
    language; and the language it is in."""
    language, default = current_language(), current_app.config["BABEL_DEFAULT_LOCALE"]
    if language == default:
        return consent_service.agreement_purpose(organization, student, day)[0], default
    purpose, translated = consent_service.agreement_purpose(organization, student, day, language)
    return purpose, language if translated else default


@bp.route("/children/<uuid:student_id>/consents/new", methods=["GET", "POST"])
@login_required
def grant(student_id: uuid.UUID):
    standing = _signer_or_404(_student_or_404(student_id))
    student, day = standing.student, standing.today
    form = ConsentForm()
    organization = _organization(form.organization.data if form.is_submitted() else request.args.get("organization"))
    if organization is None:
        abort(404)
    allowed = sorted(consent_service.agreement_categories(organization, student, day),
                     key=lambda c: list(Category).index(Category(c)))
    form.categories.choices = [(c, str(CATEGORY_WORDS[Category(c)])) for c in allowed]
    referral_value = form.referral.data if form.is_submitted() else request.args.get("referral")
    referral = _awaiting_referral(referral_value, student, organization)
    purpose_language = None  # what the family types is in no language we know
    if not form.is_submitted():
        form.organization.data = str(organization.uuid)
        form.referral.data = str(referral.uuid) if referral else ""
        form.purpose.data, purpose_language = _agreement_purpose(organization, student, day)
        expiry = consent_service.default_expiry(organization, student, day)
        form.expires_on.data = expiry.isoformat() if expiry else ""
    bounds = consent_service.expiry_bounds(organization, student, day)
    page = dict(standing=standing, student=student, organization=organization, form=form, referral=referral,
                bounds=bounds, errors=[], purpose_language=purpose_language)
    if not allowed:
        page["errors"].append(gettext("%(organization)s has no data-sharing agreement in force with the school "
                                      "district, so it cannot receive records.", organization=organization.name))
        return render("family/consent_choose.html", status=400 if form.is_submitted() else 200, **page)
    if not form.is_submitted():
        response = render("family/consent_choose.html", **page)
        if referral is not None:
            _log_referral_read(student, day)
        return response
    if not form.validate():
        page["errors"].append(_form_error(form))
        return render("family/consent_choose.html", status=400, **page)

    categories = list(form.categories.data or [])
    # as typed, without control characters, and line breaks as "\n" (a browser sends CR LF)
    purpose, expires_on = plain_text(form.purpose.data), _day(form.expires_on.data)
    action = request.form.get("action")
    try:
        consent_service.check_consent_choice(student, organization, categories, purpose, expires_on, day)
    except consent_service.ConsentError as error:
        page["errors"].append(str(error))
        return render("family/consent_choose.html", status=400, **page)
    if action == "change":
        return render("family/consent_choose.html", **page)
    statement = consent_service.consent_statement(student, organization, categories, purpose, expires_on,
                                                  current_user)
    page.update(statement=statement, categories=categories, expires_on=expires_on)
    if action != "sign":
        form.statement.data = statement
        return render("family/consent_sign.html", **page)

    signature = consent_service.ElectronicSignature(
        typed_name=form.typed_name.data or "", agreed=bool(form.agreed.data),
        statement_text=line_breaks(form.statement.data),
        address=request.remote_addr, locale=current_language(),
    )
    try:
        consent_service.record_electronic_consent(student, organization, categories, purpose, expires_on,
                                                  current_user, signature, day)
    except consent_service.ConsentError as error:
        db.session.rollback()
        page["errors"].append(str(error))
        form.statement.data = statement  # what is shown now is what may be signed
        form.agreed.data = False
        return render("family/consent_sign.html", status=400, **page)
    db.session.commit()
    flash(gettext("Thank you. %(organization)s may now see %(records)s until %(date)s. You can revoke this consent "
                  "at any time on this page.", organization=organization.name, records=categories_words(categories),
                  date=format_date(expires_on, "long")), "success")
    return redirect(url_for("family_consents.index", student_id=student.uuid))


def _form_error(form: FlaskForm) -> str:
    if "csrf_token" in form.errors:
        return gettext("This page has expired. Please reload it and try again.")
    return gettext("Please check what you entered.")


def _consent_or_404(consent_id: uuid.UUID) -> tuple[Consent, policy.ConsentStanding]:
    consent = db.session.scalar(sa.select(Consent).where(Consent.uuid == consent_id))
    if consent is None:
        abort(404)
    return consent, _signer_or_404(db.session.get(Student, consent.student_id))


def _confirmation(page: str, act, refusal: type[Exception], done: str, standing: policy.ConsentStanding,
                  **context):
    """A one-step confirmation: the page, then its POST acts, commits and says `done` (or
    rolls back and says why not) and goes back to the consents."""
    student = standing.student
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            act()
        except refusal as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(done, "success")
        return redirect(url_for("family_consents.index", student_id=student.uuid))
    errors = [_form_error(form)] if form.is_submitted() else []
    return render(page, standing=standing, student=student, form=form, errors=errors, status=400 if errors else 200,
                  **context)


@bp.route("/consents/<uuid:consent_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(consent_id: uuid.UUID):
    consent, standing = _consent_or_404(consent_id)
    state = consent_service.consent_state(consent, standing.today)
    return _confirmation(
        "family/consent_revoke.html",
        lambda: consent_service.revoke_family_consent(consent, standing.student, current_user, standing.today),
        consent_service.ConsentError,
        gettext("The consent for %(organization)s is revoked: from now on it no longer sees these records.",
                organization=consent.organization.name),
        standing, consent=consent, state=state, revocable=state in family_consents.REVOCABLE,
    )


@bp.route("/referrals/<uuid:referral_id>/decline", methods=["GET", "POST"])
@login_required
def decline(referral_id: uuid.UUID):
    referral = db.session.scalar(sa.select(Referral).where(Referral.uuid == referral_id))
    if referral is None:
        abort(404)
    standing = _signer_or_404(db.session.get(Student, referral.student_id))
    response = _confirmation(
        "family/consent_decline.html",
        lambda: referrals.decline_for_family(referral, standing.student, current_user, standing.today),
        referrals.ReferralError,
        gettext("You said no. The request from the school is closed and %(organization)s receives nothing.",
                organization=referral.organization.name),
        standing, referral=referral,
    )
    if request.method == "GET":
        _log_referral_read(standing.student, standing.today)
    return response

"""Recording and revoking consents (SPEC §4 rule 1). Consents are never edited or
deleted: a change is a new consent, a revocation is a row of its own."""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask_babel import force_locale, format_date, gettext

from casemgr import policy
from casemgr.extensions import db
from casemgr.models import (
    Consent,
    ConsentRevocation,
    DataSharingAgreement,
    Guardian,
    GuardianLink,
    Organization,
    Student,
    User,
)
from casemgr.models.enums import Category, ConsentMethod, OrgKind, Role, SignerRelationship
from casemgr.policy import active_agreements
from casemgr.school_year import end_of_school_year
from casemgr.services.locks import lock_student
from casemgr.services.referrals import release_awaiting_referrals
from casemgr.text import has_control_characters
from casemgr.words.consent_states import state_of
from casemgr.words.family import categories_words

log = logging.getLogger(__name__)

LOCALES = ("en", "es")
PURPOSE_MAX = 2000
NAME_MAX = 200
# the longest a family's online consent runs: one year from signing
LONGEST_CONSENT = timedelta(days=365)


class ConsentError(ValueError):
    """A consent that cannot be recorded; the message says why, for the person."""


@dataclass(frozen=True)
class PaperConsent:
    organization: Organization
    categories: list[Category]
    purpose: str
    signer_name: str
    signer_relationship: SignerRelationship
    signer_guardian: Guardian | None
    signed_on: date
    expires_on: date


def guardians_with_rights(student: Student) -> list[Guardian]:
    return list(
        db.session.scalars(
            sa.select(Guardian)
            .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
            .where(GuardianLink.student_id == student.id, GuardianLink.educational_rights.is_(True))
            .order_by(Guardian.last_name, Guardian.first_name)
        )
    )


def partners_with_agreement(student: Student, today: date) -> list[Organization]:
    """Partners with a data-sharing agreement in force with the student's district: the
    organizations a consent may name."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(
                Organization.kind == OrgKind.PARTNER,
                sa.exists().where(
                    DataSharingAgreement.organization_id == Organization.id,
                    DataSharingAgreement.district_id == student.district_id,
                    policy.agreement_in_force(today),
                ),
            )
            .order_by(Organization.name)
        )
    )


def agreement_categories(organization: Organization, student: Student, today: date) -> set[str]:
    """What the organization may ever receive about this student, today."""
    return {
        category
        for agreement in active_agreements(organization.id, today)
        if agreement.district_id == student.district_id
        for category in agreement.categories
    }


def check_paper_consent(student: Student, release: PaperConsent, today: date) -> None:
    org = release.organization
    if org.kind != OrgKind.PARTNER:
        raise ConsentError("Consents name a partner organization.")
    allowed = agreement_categories(org, student, today)
    if not allowed:
        raise ConsentError(f"{org.name} has no active data-sharing agreement with this district.")
    beyond = sorted(str(c) for c in release.categories if str(c) not in allowed)
    if beyond:
        raise ConsentError(f"{org.name}'s data-sharing agreement does not include {', '.join(beyond)}.")
    if release.signed_on > today:
        raise ConsentError("The signature date cannot be in the future.")
    if release.expires_on < today:
        raise ConsentError("The expiry date has already passed.")
    if release.expires_on < release.signed_on:
        raise ConsentError("The expiry date must be after the signature date.")
    eligible = student.is_eligible_on(release.signed_on)
    if eligible and release.signer_relationship is not SignerRelationship.ELIGIBLE_STUDENT:
        raise ConsentError("This student was 18 or in postsecondary when it was signed: only the student can sign.")
    if not eligible:
        if release.signer_relationship is SignerRelationship.ELIGIBLE_STUDENT:
            raise ConsentError("This student is not yet eligible: a parent or guardian with educational rights must sign.")
        if release.signer_guardian is None or release.signer_guardian not in guardians_with_rights(student):
            raise ConsentError("Choose the parent or guardian with educational rights who signed.")


def record_paper_consent(student: Student, release: PaperConsent, recorded_by: User, today: date) -> Consent:
    check_paper_consent(student, release, today)
    consent = Consent(
        student_id=student.id,
        organization_id=release.organization.id,
        categories=sorted(str(c) for c in release.categories),
        purpose=release.purpose.strip(),
        signer_name=release.signer_name.strip(),
        signer_relationship=str(release.signer_relationship),
        signer_guardian_id=release.signer_guardian.id if release.signer_guardian else None,
        signer_user_id=None,
        signed_on=release.signed_on,
        expires_on=release.expires_on,
        method=str(ConsentMethod.PAPER),
        recorded_by_id=recorded_by.id,
    )
    db.session.add(consent)
    db.session.flush()
    # referrals to the organization that were waiting for this consent go out now
    release_awaiting_referrals(student, release.organization.id, recorded_by, today)
    return consent


def revoke_consent(consent: Consent, revoked_by: User, reason: str | None = None) -> ConsentRevocation:
    """Revoke `consent`. The consent's row is locked and its revocation read again, so
    of two requests revoking it at once the second is told it is already revoked."""
    db.session.execute(sa.select(Consent.id).where(Consent.id == consent.id).with_for_update())
    revoked = db.session.scalar(sa.select(sa.exists().where(ConsentRevocation.consent_id == consent.id)))
    if revoked or consent.revocation is not None:
        raise ConsentError(gettext("This consent has already been revoked."))
    revocation = ConsentRevocation(consent_id=consent.id, revoked_by_id=revoked_by.id, reason=(reason or "").strip() or None)
    db.session.add(revocation)
    db.session.flush()
    return revocation


def consent_state(consent: Consent, today: date) -> str:
    """active, expiring (within 30 days), expired, revoked or pending (not yet signed)."""
    return state_of(consent, today).state


def consent_history(student: Student, organization_id: int | None = None) -> list[Consent]:
    query = (
        sa.select(Consent)
        .where(Consent.student_id == student.id)
        .order_by(Consent.signed_on.desc(), Consent.id.desc())
    )
    if organization_id is not None:
        query = query.where(Consent.organization_id == organization_id)
    return list(db.session.scalars(query))


# --- electronic consents, signed by the family (FERPA 34 CFR 99.30) ------------------------


@dataclass(frozen=True)
class ElectronicSignature:
    """What the signer did on the page: typed their full name, ticked the statement, and
    was shown `statement_text` in `locale`, from network `address`."""

    typed_name: str
    agreed: bool
    statement_text: str
    address: str | None
    locale: str


def same_name(typed: str, account_name: str) -> bool:
    """The typed name matches the account holder's, whatever the case and spacing."""
    def folded(name: str) -> str:
        return " ".join((name or "").split()).casefold()
    return bool(folded(typed)) and folded(typed) == folded(account_name)


def expiry_bounds(organization: Organization, student: Student, today: date) -> tuple[date, date] | None:
    """The earliest and latest expiry of a consent signed today: from today, to one year
    on or the end of the organization's data-sharing agreement, whichever comes first
    (a consent outliving the agreement would let nothing more in). None without an
    agreement in force with the student's district."""
    ends = [a.ends_on for a in active_agreements(organization.id, today) if a.district_id == student.district_id]
    if not ends:
        return None
    return today, min(today + LONGEST_CONSENT, max(ends))


def default_expiry(organization: Organization, student: Student, today: date) -> date | None:
    """The end of the school year (SPEC §4 rule 1), within `expiry_bounds`."""
    bounds = expiry_bounds(organization, student, today)
    if bounds is None:
        return None
    return min(max(end_of_school_year(student.district_id, today), bounds[0]), bounds[1])


def agreement_purpose(organization: Organization, student: Student, today: date,
                      language: str | None = None) -> tuple[str, bool]:
    """The purpose stated in the organization's agreement(s) with the district, to start
    from: in `language` where every agreement gives it, else in the district's default
    language; and whether it is in `language` (None asks for the default language)."""
    agreements = [a for a in active_agreements(organization.id, today)
                  if a.district_id == student.district_id and a.purpose]
    shown = [a.purpose_in(language) for a in agreements] if language else []
    translated = bool(shown) and all(found is not None for _, found in shown)
    purposes = [text for text, _ in shown] if translated else [a.purpose for a in agreements]
    return "\n".join(dict.fromkeys(purposes)), translated


def signer_relationship(signer: User, student: Student) -> tuple[SignerRelationship, Guardian | None]:
    if signer.role_enum is Role.STUDENT:
        return SignerRelationship.ELIGIBLE_STUDENT, None
    link = policy.rights_link(signer, student)
    guardian = link.guardian if link is not None else None
    if link is not None and link.relation in ("mother", "father", "parent"):
        return SignerRelationship.PARENT, guardian
    return SignerRelationship.GUARDIAN, guardian


def consent_statement(student: Student, organization: Organization, categories, purpose: str, expires_on: date,
                      signer: User) -> str:
    """The statement the signer reads and agrees to, in the current language: the records,
    the purpose, the party (34 CFR 99.30(b)), the expiry, and the signer's rights.
    Paragraphs are separated by a blank line; this exact text is kept with the consent."""
    values = dict(
        signer=" ".join(signer.full_name.split()),
        student=f"{student.first_name} {student.last_name}",
        district=student.district.name,
        organization=organization.name,
        records=categories_words(categories),
        purpose=" ".join((purpose or "").split()),
        date=format_date(expires_on, "long"),
    )
    if signer.role_enum is Role.STUDENT:
        first = gettext("I, %(signer)s, consent to %(district)s sharing these records of mine with "
                        "%(organization)s: %(records)s.", **values)
    else:
        first = gettext("I, %(signer)s, am a parent or guardian of %(student)s with educational rights. I consent "
                        "to %(district)s sharing these records of %(student)s with %(organization)s: %(records)s.",
                        **values)
    return "\n\n".join([
        first,
        gettext("Purpose: %(purpose)s", **values),
        gettext("This consent lasts until %(date)s, unless it is revoked sooner.", **values),
        gettext("I understand that giving this consent is voluntary; that it can be revoked at any time, in this "
                "portal or in writing to the school, although what was shared before is not taken back; and that "
                "%(organization)s may not share these records with anyone else without consent.", **values),
        gettext("Typing my full name below is my electronic signature."),
    ])


def _signature_error(student: Student, signer: User, today: date) -> str:
    if signer.role_enum is Role.PARENT and student.is_eligible_on(today) and policy.rights_link(signer, student):
        return gettext("%(name)s is now 18 or in college: only %(name)s can give or revoke consent.",
                       name=student.first_name)
    if signer.role_enum is Role.STUDENT and signer.student_id == student.id:
        return gettext("Until you are 18, a parent or guardian with educational rights gives or revokes consent.")
    return gettext("You cannot give consent for this student.")


def check_electronic_consent(student: Student, organization: Organization | None, categories, purpose: str,
                             expires_on: date | None, signer: User, signature: ElectronicSignature,
                             today: date) -> None:
    """Every rule of an online consent; raises ConsentError with a message for the signer."""
    if not policy.may_sign_consents(signer, student, today):
        raise ConsentError(_signature_error(student, signer, today))
    check_consent_choice(student, organization, categories, purpose, expires_on, today)
    if signature.locale not in LOCALES:
        raise ConsentError(gettext("Choose English or Spanish."))
    missing = []  # both told at once
    if not signature.agreed:
        missing.append(gettext("Tick the box to say that you have read and agree to the statement."))
    if not same_name(signature.typed_name, signer.full_name):
        missing.append(gettext("Type your full name exactly as it appears on your account: %(name)s.",
                               name=signer.full_name))
    if missing:
        raise ConsentError(" ".join(missing))
    with force_locale(signature.locale):
        shown = consent_statement(student, organization, categories, purpose, expires_on, signer)
    if signature.statement_text != shown:
        raise ConsentError(gettext("The statement changed since it was shown. Please read it again and sign."))


def check_consent_choice(student: Student, organization: Organization | None, categories, purpose: str,
                         expires_on: date | None, today: date) -> None:
    """The organization, records, purpose and expiry a family chose, before signing."""
    if organization is None or organization.kind != OrgKind.PARTNER:
        raise ConsentError(gettext("Choose an organization that works with the school district."))
    allowed = agreement_categories(organization, student, today)
    if not allowed:
        raise ConsentError(gettext("%(organization)s has no data-sharing agreement in force with the school district, "
                                   "so it cannot receive records.", organization=organization.name))
    chosen = [str(c) for c in categories]
    if not chosen:
        raise ConsentError(gettext("Choose at least one kind of record."))
    if any(c not in allowed for c in chosen):
        raise ConsentError(gettext("%(organization)s's agreement with the school district allows only these records: "
                                   "%(records)s.", organization=organization.name, records=categories_words(allowed)))
    cleaned = (purpose or "").strip()
    if not cleaned:
        raise ConsentError(gettext("Say what the records are for."))
    if has_control_characters(cleaned):
        raise ConsentError(gettext("The purpose holds characters that cannot be kept. Please type it again."))
    if len(cleaned) > PURPOSE_MAX:
        raise ConsentError(gettext("The purpose is too long: at most %(num)s characters.", num=PURPOSE_MAX))
    earliest, latest = expiry_bounds(organization, student, today)
    if expires_on is None or not earliest <= expires_on <= latest:
        raise ConsentError(gettext("Choose an end date between %(first)s and %(last)s.",
                                   first=format_date(earliest, "long"), last=format_date(latest, "long")))


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def record_electronic_consent(student: Student, organization: Organization, categories, purpose: str,
                              expires_on: date, signer: User, signature: ElectronicSignature,
                              today: date) -> Consent:
    """Record a consent the family signed online, with its signature (who, when, from
    where, and the exact statement shown), and send the referrals that waited for it.

    Granting discloses nothing by itself: the disclosure log gets entries when the
    organization reads the record, or when a waiting referral goes out."""
    check_electronic_consent(student, organization, categories, purpose, expires_on, signer, signature, today)
    chosen = [str(c) for c in Category if c in {Category(x) for x in categories}]
    # one signature at a time per student: the same form sent twice (a double click)
    # finds the consent the first one recorded, rather than a twin that revoking the
    # first would leave in force
    lock_student(student)
    already = _same_signature(student, organization, chosen, purpose.strip(), expires_on, signer, signature, today)
    if already is not None:
        return already
    relationship, guardian = signer_relationship(signer, student)
    consent = Consent(
        student_id=student.id,
        organization_id=organization.id,
        categories=chosen,
        purpose=purpose.strip(),
        signer_name=" ".join(signature.typed_name.split())[:NAME_MAX],
        signer_relationship=str(relationship),
        signer_guardian_id=guardian.id if guardian is not None else None,
        signer_user_id=signer.id,
        signed_on=today,
        expires_on=expires_on,
        method=str(ConsentMethod.ELECTRONIC),
        recorded_by_id=signer.id,
        statement_text=signature.statement_text,
        signed_at=datetime.now(timezone.utc),
        signer_address=_address(signature.address),
        locale=signature.locale,
    )
    db.session.add(consent)
    db.session.flush()
    log.info("consent %s signed online for organization %s by user %s", consent.uuid, organization.uuid, signer.uuid)
    release_awaiting_referrals(student, organization.id, signer, today)
    return consent


def _same_signature(student: Student, organization: Organization, categories: list[str], purpose: str,
                    expires_on: date, signer: User, signature: ElectronicSignature, today: date) -> Consent | None:
    """A consent in force that this signer signed online today on exactly these terms."""
    return db.session.scalar(
        sa.select(Consent).where(
            Consent.student_id == student.id,
            Consent.organization_id == organization.id,
            Consent.signer_user_id == signer.id,
            Consent.method == str(ConsentMethod.ELECTRONIC),
            Consent.signed_on == today,
            Consent.categories == categories,
            Consent.purpose == purpose,
            Consent.expires_on == expires_on,
            Consent.statement_text == signature.statement_text,
            ~sa.exists().where(ConsentRevocation.consent_id == Consent.id),
        ).order_by(Consent.id).limit(1)
    )


def revoke_family_consent(consent: Consent, student: Student, user: User, today: date) -> ConsentRevocation:
    """A parent (before eligibility) or the eligible student revokes a consent online;
    the policy reads revocations on every request, so it applies from the next one."""
    if consent.student_id != student.id or not policy.may_sign_consents(user, student, today):
        raise ConsentError(_signature_error(student, user, today))
    if consent.revocation is None and consent.expires_on < today:
        raise ConsentError(gettext("This consent has already expired."))
    return revoke_consent(consent, user)  # refuses one already revoked

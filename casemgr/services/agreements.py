"""Data-sharing and service agreements between the district and its partners."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from casemgr.extensions import db
from casemgr.models import DataSharingAgreement, Organization, ServiceAgreement, User
from casemgr.models.enums import Category, OrgKind, Service


class AgreementError(ValueError):
    """An agreement that cannot be saved; the message says why."""


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise AgreementError("The end date must be on or after the start date.")


def _check_partner(organization: Organization | None) -> Organization:
    if organization is None or organization.kind != OrgKind.PARTNER:
        raise AgreementError("Choose a partner organization.")
    return organization


def create_data_sharing_agreement(
    district: Organization,
    organization: Organization | None,
    categories: Sequence[Category],
    purpose: str,
    starts_on: date,
    ends_on: date,
    created_by: User,
    purpose_translations: dict[str, str] | None = None,
) -> DataSharingAgreement:
    """`purpose` is in the district's default language; `purpose_translations` gives it
    in the other languages families read ({"es": "..."}), each optional."""
    organization = _check_partner(organization)
    if not categories:
        raise AgreementError("Choose at least one category of records.")
    if not purpose.strip():
        raise AgreementError("State the purpose of the agreement.")
    _check_dates(starts_on, ends_on)
    agreement = DataSharingAgreement(
        district_id=district.id,
        organization_id=organization.id,
        categories=sorted({str(c) for c in categories}),
        purpose=purpose.strip(),
        purpose_translations={
            language: text.strip() for language, text in (purpose_translations or {}).items() if text and text.strip()
        },
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=created_by.id,
    )
    db.session.add(agreement)
    db.session.flush()
    return agreement


def create_service_agreement(
    district: Organization,
    organization: Organization | None,
    services: Sequence[Service],
    schools: Sequence[Organization],
    capacity: int,
    starts_on: date,
    ends_on: date,
    created_by: User,
) -> ServiceAgreement:
    organization = _check_partner(organization)
    if not services:
        raise AgreementError("Choose at least one service.")
    if not schools:
        raise AgreementError("Choose at least one school.")
    if any(school.district_id != district.id for school in schools):
        raise AgreementError("Choose schools of your own district.")
    if capacity < 1:
        raise AgreementError("Capacity must be at least 1 student.")
    _check_dates(starts_on, ends_on)
    agreement = ServiceAgreement(
        district_id=district.id,
        organization_id=organization.id,
        services=sorted({str(s) for s in services}),
        capacity=capacity,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=created_by.id,
    )
    agreement.schools = list(schools)
    db.session.add(agreement)
    db.session.flush()
    return agreement


def end_agreement(agreement: DataSharingAgreement | ServiceAgreement, today: date) -> None:
    """End an agreement today; from the next request it no longer applies."""
    if agreement.ended_on is not None:
        raise AgreementError("This agreement has already been ended.")
    if agreement.ends_on < today:
        raise AgreementError("This agreement has already run out.")
    agreement.ended_on = max(today, agreement.starts_on)
    db.session.flush()


def agreement_state(agreement: DataSharingAgreement | ServiceAgreement, today: date) -> str:
    if agreement.ended_on is not None and agreement.ended_on <= today:
        return "ended"
    if agreement.ends_on < today:
        return "expired"
    if agreement.starts_on > today:
        return "upcoming"
    return "active"

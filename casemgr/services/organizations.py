"""The district's schools and the partnership's youth and research organizations, as a
district admin adds and renames them: how an empty production database gets the schools
its imports name (by code) and the partners its agreements name. Nothing is deleted:
students, users, agreements and the disclosure log refer to organizations.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from casemgr.extensions import db
from casemgr.models import Organization
from casemgr.models.enums import OrgKind, SchoolLevel
from casemgr.text import has_control_characters

# the kinds a district admin adds here; the district itself exists from the start
ADDABLE_KINDS = (OrgKind.SCHOOL, OrgKind.PARTNER, OrgKind.RESEARCH)
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
NAME_LENGTH = 200


class OrganizationError(ValueError):
    """A refused change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def clean_name(name: str) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise OrganizationError("Enter the organization's name.", "name")
    if has_control_characters(name) or len(text) > NAME_LENGTH:
        raise OrganizationError(f"Enter a name of at most {NAME_LENGTH} ordinary characters.", "name")
    return text


def clean_code(code: str) -> str:
    text = (code or "").strip()
    if not CODE.fullmatch(text):
        raise OrganizationError(
            "Enter a code of 1 to 32 letters, digits, dots, dashes or underscores, as the import files "
            "name the organization (for example HS-101).", "code")
    return text


def code_taken(code: str) -> Organization | None:
    """The organization already known by `code`, however its letters are cased (two codes
    that differ only so would be mixed up in import files)."""
    return db.session.scalar(sa.select(Organization).where(sa.func.lower(Organization.code) == code.lower()))


def add_organization(district: Organization, kind: OrgKind, code: str, name: str,
                     level: SchoolLevel | None = None) -> Organization:
    """A school of `district` (with its level), or a youth-serving or research partner of
    the partnership. The caller commits."""
    if kind not in ADDABLE_KINDS:
        raise OrganizationError("Choose a school, a youth organization or a research partner.", "kind")
    code, name = clean_code(code), clean_name(name)
    if kind is OrgKind.SCHOOL and level is None:
        raise OrganizationError("Choose the school's level: elementary, middle or high.", "level")
    existing = code_taken(code)
    if existing is not None:
        raise OrganizationError(f"The code {existing.code} is already used by {existing.name}. Choose another code.", "code")
    organization = Organization(
        kind=str(kind),
        code=code,
        name=name,
        district_id=district.id if kind is OrgKind.SCHOOL else None,
        level=str(level) if kind is OrgKind.SCHOOL else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(organization)
    except IntegrityError:  # added by someone else since the check above
        raise OrganizationError(f"The code {code} is already used. Choose another code.", "code") from None
    return organization


def rename_organization(organization: Organization, name: str) -> bool:
    """True when the name changed. The caller commits."""
    name = clean_name(name)
    if name == organization.name:
        return False
    organization.name = name
    return True


def managed_by(district: Organization):
    """The organizations a district admin of `district` lists and renames: the district's
    schools and every youth-serving and research partner."""
    return sa.or_(
        sa.and_(Organization.kind == OrgKind.SCHOOL, Organization.district_id == district.id),
        Organization.kind.in_([OrgKind.PARTNER, OrgKind.RESEARCH]),
    )

"""A district's mapping of OneRoster orgs to casemgr schools, for bundles whose org
`identifier` is not the casemgr school code (set by the district admin on the imports
area; read by the OneRoster import)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from casemgr.extensions import db
from casemgr.models import Organization, SourceSchool
from casemgr.models.enums import OrgKind

SOURCE = "oneroster"


def district_schools(district: Organization) -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).where(
        Organization.district_id == district.id, Organization.kind == OrgKind.SCHOOL).order_by(Organization.name)))


def mappings(district: Organization) -> list[tuple[str, Organization]]:
    """The district's mapped orgs (sourcedId or identifier) and their schools, by org."""
    return [tuple(row) for row in db.session.execute(
        sa.select(SourceSchool.org_key, Organization).join(Organization, Organization.id == SourceSchool.school_id)
        .where(SourceSchool.district_id == district.id, SourceSchool.source == SOURCE)
        .order_by(SourceSchool.org_key)).all()]


def map_school(district: Organization, org_key: str, school: Organization) -> None:
    """Bundles' org `org_key` (its sourcedId or identifier) is `school` from now on."""
    if school.kind != OrgKind.SCHOOL or school.district_id != district.id:
        raise ValueError("the school is not a school of this district")
    db.session.execute(
        insert(SourceSchool)
        .values(district_id=district.id, source=SOURCE, org_key=org_key, school_id=school.id)
        .on_conflict_do_update(index_elements=["district_id", "source", "org_key"], set_={"school_id": school.id}))
    db.session.commit()


def unmap_school(district: Organization, org_key: str) -> bool:
    removed = db.session.execute(sa.delete(SourceSchool).where(
        SourceSchool.district_id == district.id, SourceSchool.source == SOURCE, SourceSchool.org_key == org_key))
    db.session.commit()
    return bool(removed.rowcount)

"""Ed-Fi descriptors in casemgr's terms: attendance event categories to attendance
statuses (built-in defaults, then each district's own mappings), grade levels to grades.

The defaults cover the AttendanceEventCategoryDescriptor values the Ed-Fi Data Standard
publishes (3.x to 5.x), in the Ed-Fi namespace (uri://ed-fi.org/…) or as a bare code
value. casemgr counts a tardy day as attended, so the two partial-day categories take
it too; no Ed-Fi category means a suspension. A district's own descriptors (a local
namespace, "Sick", "Out-of-school suspension") are mapped by a district admin with
`casemgr edfi-map DESCRIPTOR STATUS`; a district mapping wins over a default.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.importers.edfi_xml import code_value, is_edfi_namespace
from casemgr.models import EdFiDescriptorMapping
from casemgr.models.enums import AttendanceStatus

DEFAULT_STATUSES: dict[str, str] = {
    "in attendance": AttendanceStatus.PRESENT,
    "present": AttendanceStatus.PRESENT,
    "tardy": AttendanceStatus.TARDY,
    "early departure": AttendanceStatus.TARDY,  # attended part of the day: counted as attended
    "partial": AttendanceStatus.TARDY,
    "excused absence": AttendanceStatus.EXCUSED,
    "unexcused absence": AttendanceStatus.UNEXCUSED,
}
STATUSES = tuple(str(s) for s in AttendanceStatus)

# GradeLevelDescriptor code values; casemgr keeps grades PK (-1) to 12
GRADE_LEVELS: dict[str, int] = {
    "preschool": -1, "prekindergarten": -1, "early education": -1, "transitional kindergarten": 0,
    "kindergarten": 0, "first grade": 1, "second grade": 2, "third grade": 3, "fourth grade": 4, "fifth grade": 5,
    "sixth grade": 6, "seventh grade": 7, "eighth grade": 8, "ninth grade": 9, "tenth grade": 10,
    "eleventh grade": 11, "twelfth grade": 12, "pk": -1, "k": 0, "kg": 0, "tk": 0,
}
_NUMBER = re.compile(r"(?:grade\s*)?0*(\d{1,2})")


def how_to_map(descriptor: str) -> str:
    return (f"a district admin maps it with: casemgr edfi-map '{descriptor}' STATUS "
            f"(STATUS one of {', '.join(STATUSES)})")


class AttendanceStatuses:
    """The casemgr status of each attendance event descriptor for one district: the
    district's mapping of the descriptor as written, then of its code value, then the
    default; None for a descriptor nobody mapped. Looked up once per distinct text."""

    def __init__(self, cur, district_id: int) -> None:
        rows = cur.execute("SELECT lower(descriptor), status FROM edfi_descriptor_mappings WHERE district_id = %s",
                           (district_id,)).fetchall()
        self.district = dict(rows)
        self.known: dict[str, str | None] = {}

    def status(self, descriptor: str) -> str | None:
        if descriptor not in self.known:
            self.known[descriptor] = self._resolve(descriptor)
        return self.known[descriptor]

    def _resolve(self, descriptor: str) -> str | None:
        namespace, code = code_value(descriptor)
        for key in (descriptor.lower(), code.lower()):
            if key in self.district:
                return self.district[key]
        return DEFAULT_STATUSES.get(code.lower()) if is_edfi_namespace(namespace) else None


def grade(descriptor: str) -> int | None:
    """casemgr's grade for a GradeLevelDescriptor ("uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"
    or a code value such as "09"); None for a level casemgr does not keep (Grade 13,
    Postsecondary, Ungraded, Adult Education, Infant/toddler, Other)."""
    code = code_value(descriptor)[1].lower()
    if code in GRADE_LEVELS:
        return GRADE_LEVELS[code]
    number = _NUMBER.fullmatch(code)
    return int(number.group(1)) if number and int(number.group(1)) <= 12 else None


def set_mapping(district_id: int, descriptor: str, status: str) -> tuple[EdFiDescriptorMapping, bool]:
    """Map `descriptor` to `status` for the district (replacing a mapping of the same
    descriptor in any letter case); (the mapping, whether it is new). Raises ValueError
    with one line for a status casemgr does not have or a blank or overlong descriptor."""
    descriptor = descriptor.strip()
    status = status.strip().lower()
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; the statuses are: {', '.join(STATUSES)}")
    if not descriptor:
        raise ValueError("the descriptor is blank")
    if len(descriptor) > EdFiDescriptorMapping.descriptor.type.length:
        raise ValueError(f"the descriptor is longer than {EdFiDescriptorMapping.descriptor.type.length} characters")
    mapping = db.session.scalar(sa.select(EdFiDescriptorMapping).where(
        EdFiDescriptorMapping.district_id == district_id,
        sa.func.lower(EdFiDescriptorMapping.descriptor) == descriptor.lower()))
    new = mapping is None
    if new:
        mapping = EdFiDescriptorMapping(district_id=district_id, descriptor=descriptor)
        db.session.add(mapping)
    mapping.descriptor, mapping.status = descriptor, status
    db.session.commit()
    return mapping, new


def mappings(district_id: int) -> list[EdFiDescriptorMapping]:
    return list(db.session.scalars(sa.select(EdFiDescriptorMapping).where(
        EdFiDescriptorMapping.district_id == district_id).order_by(sa.func.lower(EdFiDescriptorMapping.descriptor))))

"""Ed-Fi interchange files written by streaming, for tests and benchmarks that need
files too large to keep in memory or in the repository."""
from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO
from xml.sax.saxutils import escape

NAMESPACE = "http://ed-fi.org/5.2.0"
EDFI_CATEGORY = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"
# no Ed-Fi category means a suspension: a district's own descriptor, mapped with casemgr edfi-map
SUSPENSION = "uri://district.example.org/AttendanceEventCategoryDescriptor#Out-of-school suspension"
CATEGORIES = {"present": EDFI_CATEGORY + "In Attendance", "tardy": EDFI_CATEGORY + "Tardy",
              "excused": EDFI_CATEGORY + "Excused Absence", "unexcused": EDFI_CATEGORY + "Unexcused Absence",
              "suspended": SUSPENSION}
EVENT = """  <StudentSchoolAttendanceEvent>
    <AttendanceEvent>
      <EventDate>{day}</EventDate>
      <AttendanceEventCategory>{category}</AttendanceEventCategory>
    </AttendanceEvent>
    <StudentReference>
      <StudentIdentity>
        <StudentUniqueId>{student}</StudentUniqueId>
      </StudentIdentity>
    </StudentReference>
    <SchoolReference>
      <SchoolIdentity>
        <SchoolId>{school}</SchoolId>
      </SchoolIdentity>
    </SchoolReference>
    <SessionReference>
      <SessionIdentity>
        <SessionName>{year}-{next_year} School Year</SessionName>
        <SchoolYear>{year}-{next_year}</SchoolYear>
        <SchoolReference>
          <SchoolIdentity>
            <SchoolId>{school}</SchoolId>
          </SchoolIdentity>
        </SchoolReference>
      </SessionIdentity>
    </SessionReference>
  </StudentSchoolAttendanceEvent>
"""


def write_attendance(out: BinaryIO, rows: Iterable[tuple[str, str, str, str]], year: int) -> int:
    """Write an InterchangeStudentAttendance of one StudentSchoolAttendanceEvent per
    (state ID, school code, ISO day, casemgr status) row; returns how many."""
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<InterchangeStudentAttendance xmlns="{NAMESPACE}">\n'.encode())
    count = 0
    for student, school, day, status in rows:
        out.write(EVENT.format(day=day, category=escape(CATEGORIES[status]), student=escape(student), school=escape(school),
                               year=year, next_year=year + 1).encode())
        count += 1
    out.write(b"</InterchangeStudentAttendance>\n")
    return count

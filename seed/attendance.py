"""School calendars, enrollments, daily attendance and suspensions.

Attendance is the bulk of the data (a year of 100,000 students is 19 million days); it
is written as one row of bit strings per student and school year (casemgr.attendance).
"""
from __future__ import annotations

import random
from datetime import date

from psycopg import Cursor

from casemgr.models.enums import AttendanceStatus, DisciplineAction
from casemgr.seed.bulk import copy_rows, copy_text
from casemgr.seed.world import MockDistrict, Student, rng_for

STATUSES = (
    AttendanceStatus.PRESENT, AttendanceStatus.TARDY, AttendanceStatus.EXCUSED,
    AttendanceStatus.UNEXCUSED, AttendanceStatus.SUSPENDED,
)
PRESENT, TARDY, EXCUSED, UNEXCUSED, SUSPENDED = range(5)
STATUS_COLUMNS = tuple(str(s) for s in STATUSES)
INCIDENT_TYPES = (
    ("Fighting", "Physical altercation with another student."),
    ("Threat or intimidation", "Threatened another student."),
    ("Drug or alcohol possession", "Possession of a prohibited substance on campus."),
    ("Weapon possession", "Brought a prohibited item to school."),
    ("Harassment or bullying", "Repeated harassment of a classmate."),
)
MINOR_INCIDENTS = (
    ("Defiance or disruption", DisciplineAction.DETENTION),
    ("Vaping or tobacco", DisciplineAction.IN_SCHOOL_SUSPENSION),
    ("Inappropriate language", DisciplineAction.DETENTION),
    ("Leaving class without permission", DisciplineAction.DETENTION),
)


def write_calendar(cur: Cursor, d: MockDistrict) -> None:
    """Every weekday of the school year per school; holidays are not instructional."""
    instructional = set(d.calendar.instructional)
    rows = (
        (school.id, day, d.year, day in instructional)
        for school in d.schools
        for day in d.calendar.weekdays
    )
    columns = ("school_id", "day", "school_year", "instructional")
    d.counts["calendar_days"] = copy_rows(cur, "calendar_days", columns, rows)


def write_enrollments(cur: Cursor, d: MockDistrict, closed_on: date | None = None) -> None:
    """Each student's stay at their school in their grade; a stay still open at the end
    of the school year ends on `closed_on` (none: open)."""
    days = d.calendar.instructional
    rows = (
        (s.id, s.school.id, d.year, s.grade, days[s.entry], days[s.exit] if s.exit is not None else closed_on)
        for s in d.students
    )
    columns = ("student_id", "school_id", "school_year", "grade", "entry_date", "exit_date")
    d.counts["school_enrollments"] = copy_rows(cur, "school_enrollments", columns, rows)


def write_attendance(cur: Cursor, d: MockDistrict) -> None:
    """One row of bit strings per student (casemgr.attendance): for each status, a '1'
    at the position of every day with that status."""
    rng = rng_for(d.seed, "attendance")
    elapsed = d.calendar.elapsed
    first_day = d.calendar.starts_on
    length = (d.calendar.ends_on - first_day).days + 1
    positions = [(day - first_day).days for day in elapsed]
    prefix = f"\t{d.school_year_id}\t{first_day}\t"
    total = 0
    with copy_text(cur, "attendance_years", ("student_id", "school_year_id", "first_day") + STATUS_COLUMNS) as out:
        for student in d.students:
            last = len(elapsed) if student.exit is None else min(student.exit + 1, len(elapsed))
            if last <= student.entry:
                continue
            codes = status_codes(rng, student, last - student.entry)
            bits = [bytearray(b"0" * length) for _ in STATUSES]
            for position, code in zip(positions[student.entry:last], codes):
                bits[code][position] = 49  # '1'
            out.write(f"{student.id}{prefix}" + "\t".join(b.decode() for b in bits) + "\n")
            total += len(codes)
    d.counts["attendance_days"] = total


def status_codes(rng: random.Random, student: Student, days: int) -> bytearray:
    """One status code per enrolled day: absences to the student's rate, some tardies,
    and out-of-school suspension days; records the absences on the student."""
    codes = bytearray(days)
    absences = min(days, int(student.absence_rate * days + rng.random()))
    tardy_rate = rng.uniform(0.0, 0.05) if rng.random() < 0.8 else rng.uniform(0.05, 0.15)
    tardies = min(days - absences, int(tardy_rate * days + rng.random()))
    chosen = rng.sample(range(days), absences + tardies)
    excused_share = rng.uniform(0.3, 0.8) if student.absence_rate < 0.2 else rng.uniform(0.1, 0.4)
    for position in chosen[:absences]:
        codes[position] = EXCUSED if rng.random() < excused_share else UNEXCUSED
    for position in chosen[absences:]:
        codes[position] = TARDY
    if student.suspension:
        first, length = student.suspension
        start = first - student.entry
        codes[start:start + length] = bytes([SUSPENDED]) * len(codes[start:start + length])
    student.enrolled_days = days
    student.absent_days = days - codes.count(PRESENT) - codes.count(TARDY)
    return codes


def write_discipline(cur: Cursor, d: MockDistrict) -> None:
    """Out-of-school suspensions behind the 'suspended' attendance days, and a few
    lesser incidents for other secondary students."""
    rng = rng_for(d.seed, "discipline")
    elapsed = d.calendar.elapsed
    rows = []
    for student in d.students:
        if student.suspension:
            first, length = student.suspension
            kind, description = rng.choice(INCIDENT_TYPES)
            rows.append((student, elapsed[first], kind, DisciplineAction.OUT_OF_SCHOOL_SUSPENSION,
                         f"{length}.0", description))
        elif student.school.level != "elementary" and elapsed and rng.random() < 0.04:
            last = len(elapsed) - 1 if student.exit is None else min(student.exit, len(elapsed) - 1)
            if last >= student.entry:
                kind, action = rng.choice(MINOR_INCIDENTS)
                days = "1.0" if action == DisciplineAction.IN_SCHOOL_SUSPENSION else "0.0"
                rows.append((student, elapsed[rng.randint(student.entry, last)], kind, action, days, None))
    columns = ("student_id", "school_id", "incident_code", "occurred_on", "school_year", "incident_type", "action",
               "days", "description")
    d.counts["discipline_incidents"] = copy_rows(
        cur, "discipline_incidents", columns,
        ((s.id, s.school.id, f"INC{d.year}-{n + 1:06d}", day, d.year, kind, str(action), days, text)
         for n, (s, day, kind, action, days, text) in enumerate(rows)),
    )

"""A OneRoster 1.1 bundle in casemgr's kinds: rows for `students`, `sections` and
`section_enrollments`, the teachers to match or create, and the warnings of what was
left out (roles casemgr does not use, teachers without an email, classes without a
teacher of record).

A column or file the bundle leaves out says nothing: its casemgr column is left out of
the translation, and the merge keeps what is stored (middleName absent keeps the
middle names; demographics.csv absent keeps birth dates, sex and ethnicity). What
casemgr cannot do without for a new student (a birth date, a grade) is asked for in
OneRoster's words by `missing_for_new_students`."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from casemgr.importers import classes
from casemgr.importers.base import Rejected, RowError
from casemgr.importers.oneroster_bundle import Bundle

USED_ROLES = ("student", "teacher")
GRADES = {"PK": "-1", "KG": "0", "TK": "0"}
SUBJECTS = (("english", "english"), ("language arts", "english"), ("ela", "english"), ("reading", "english"),
            ("math", "math"), ("algebra", "math"), ("geometry", "math"), ("science", "science"),
            ("biology", "science"), ("chemistry", "science"), ("physics", "science"), ("social", "social_studies"),
            ("history", "social_studies"), ("government", "social_studies"))
RACES = (("americanIndianOrAlaskaNative", "American Indian or Alaska Native"), ("asian", "Asian"),
         ("blackOrAfricanAmerican", "Black or African American"),
         ("nativeHawaiianOrOtherPacificIslander", "Native Hawaiian or Other Pacific Islander"), ("white", "White"))
_USER_ID = re.compile(r"\{\s*([^:{}]+?)\s*:\s*([^{}]*?)\s*\}")
_OTHER_ROW = re.compile(r"(the same as row |also on row )(\d+)")
ETHNICITY_COLUMNS = ("hispanicOrLatinoEthnicity", "demographicRaceTwoOrMoreRaces") + tuple(c for c, _ in RACES)


class Translation:
    """Rows for one casemgr kind, each remembering the bundle row it came from."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.rows: list[list[str]] = []
        self.origins: list[tuple[str, int]] = []

    def add(self, origin: tuple[str, int], **values: str) -> None:
        self.rows.append([values.get(c, "") for c in self.columns])
        self.origins.append(origin)

    def csv_bytes(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue().encode()

    def origin(self, row: int) -> tuple[str, int] | None:
        return self.origins[row - 2] if 2 <= row < len(self.origins) + 2 else None

    def _bundle_row(self, match: re.Match) -> str:
        origin = self.origin(int(match.group(2)))
        return match.group(1) + (str(origin[1]) if origin else match.group(2))

    def remap(self, rejection: Rejected) -> Rejected:
        """The errors of the translated file in the bundle's terms: its file and row,
        also where a message names another row ("the same as row 3")."""
        errors = []
        for error in rejection.errors:
            origin = self.origin(error.row) if error.row is not None else None
            if origin is None:
                errors.append(error)
                continue
            message = _OTHER_ROW.sub(self._bundle_row, error.message)
            errors.append(RowError(origin[1], f"{origin[0]} ({error.column})" if error.column else origin[0], message))
        return Rejected(errors, rejection.total)


@dataclass
class Roster:
    students: Translation
    sections: Translation
    enrollments: Translation
    teachers: list[tuple[int, dict]]
    # students lacking what a new student needs: {state_id: (users.csv row, [what is missing])}
    incomplete: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)


def _school_year(day: str) -> str:
    parsed = date.fromisoformat(day)
    return str(parsed.year if parsed.month >= 8 else parsed.year - 1)


def _subject(text: str) -> str:
    lowered = text.lower()
    return next((subject for word, subject in SUBJECTS if word in lowered), "other")


def _ethnicity(demo: dict[str, str]) -> str:
    if demo.get("hispanicOrLatinoEthnicity", "").lower() == "true":
        return "Hispanic or Latino"
    if demo.get("demographicRaceTwoOrMoreRaces", "").lower() == "true":
        return "Two or more races"
    return next((label for column, label in RACES if demo.get(column, "").lower() == "true"), "")


def _first(values: str) -> str:
    return values.split(",")[0].strip()


def _state_id(user: dict[str, str]) -> str:
    """A student's state ID: `identifier`, else the state ID among `userIds`, written
    `{type:id}` and separated by commas ("{state:12345},{district:678}"), its type
    `state` or `stateId` in any case."""
    return user.get("identifier") or next(
        (value for kind, value in _USER_ID.findall(user.get("userIds", ""))
         if re.sub(r"[^a-z]", "", kind.lower()) in ("state", "stateid")), "")


def _student_columns(bundle: Bundle) -> list[str]:
    columns = ["state_id", "local_id", "school_code", "first_name", "last_name", "grade", "birth_date"]
    optional = (("middle_name", "users.csv", ("middleName",)), ("preferred_name", "users.csv", ("preferredFirstName",)),
                ("gender", "demographics.csv", ("sex",)), ("ethnicity", "demographics.csv", ETHNICITY_COLUMNS))
    return columns + [column for column, name, sources in optional if any(bundle.has(name, s) for s in sources)]


def _birth_date_missing(bundle: Bundle, sourced_id: str, demo: dict[str, str] | None) -> str:
    if not bundle.has("demographics.csv"):
        return f"{sourced_id} has no birthDate: demographics.csv is absent"
    if not bundle.has("demographics.csv", "birthDate"):
        return f"{sourced_id} has no birthDate: demographics.csv has no birthDate column"
    if demo is None:
        return f"{sourced_id} has no birthDate: demographics.csv has no row for {sourced_id}"
    return f"{sourced_id} has no birthDate in demographics.csv"


def _skipped(name: str, noun: str, roles: Counter) -> RowError:
    total = sum(roles.values())
    listed = ", ".join(f"{n} {role}" for role, n in sorted(roles.items(), key=lambda item: (-item[1], item[0])))
    return RowError(None, name, f"{total} {noun}{'' if total == 1 else 's'} skipped ({listed}): "
                                "casemgr imports students and teachers only")


def translate(bundle: Bundle) -> Roster:
    orgs = {r["sourcedId"]: r for _, r in bundle.rows("orgs.csv")}
    schools = {sid: r.get("identifier", "") for sid, r in orgs.items() if r["type"].lower() == "school"}
    demographics = {r["sourcedId"]: r for _, r in bundle.rows("demographics.csv")}
    sessions = {r["sourcedId"]: r for _, r in bundle.rows("academicSessions.csv")}
    courses = {r["sourcedId"]: r for _, r in bundle.rows("courses.csv")}
    users = {r["sourcedId"]: (n, r) for n, r in bundle.rows("users.csv")}
    roster = Roster(Translation(_student_columns(bundle)), Translation([c.name for c in classes.SECTION_COLUMNS]),
                    Translation([c.name for c in classes.ENROLLMENT_COLUMNS]), [])
    skipped_users: Counter = Counter()
    without_email: set[str] = set()
    for n, user in bundle.rows("users.csv"):
        sourced_id, role = user["sourcedId"], user["role"].lower()
        school = next((schools[o.strip()] for o in user["orgSourcedIds"].split(",") if o.strip() in schools), "")
        if role == "student":
            state_id = _state_id(user)
            if not state_id:
                roster.errors.append(RowError(n, "users.csv (identifier)", (
                    f"{sourced_id} has no identifier and no {{state:…}} in userIds: casemgr matches students "
                    "by their state ID")))
                continue
            if not school:
                roster.errors.append(RowError(n, "users.csv (orgSourcedIds)", (
                    f"{sourced_id} belongs to no school: none of orgSourcedIds '{user['orgSourcedIds']}' "
                    "is an org of type school in orgs.csv")))
                continue
            demo = demographics.get(sourced_id)
            grade = _first(user.get("grades", ""))
            lacking = []
            if not (demo or {}).get("birthDate"):
                lacking.append(_birth_date_missing(bundle, sourced_id, demo))
            if not grade:
                lacking.append(f"{sourced_id} has no grades" + ("" if bundle.has("users.csv", "grades")
                                                               else ": users.csv has no grades column"))
            if lacking:
                roster.incomplete[state_id] = (n, lacking)
            demo = demo or {}
            roster.students.add(
                ("users.csv", n), state_id=state_id, local_id=user.get("username") or sourced_id,
                school_code=school, first_name=user["givenName"], middle_name=user.get("middleName", ""),
                last_name=user["familyName"], preferred_name=user.get("preferredFirstName", ""),
                birth_date=demo.get("birthDate", ""), grade=GRADES.get(grade.upper(), grade.lstrip("0") or grade),
                gender=demo.get("sex", ""), ethnicity=_ethnicity(demo))
        elif role == "teacher":
            if not user.get("email"):
                without_email.add(sourced_id)
                roster.warnings.append(RowError(n, "users.csv", (
                    f"{sourced_id} (teacher) has no email: skipped, as casemgr signs teachers in and matches them "
                    "by email; their classes have no teacher of record")))
                continue
            roster.teachers.append((n, dict(user, school_code=school)))
        else:
            skipped_users[role or "(no role)"] += 1
    if skipped_users:
        roster.warnings.append(_skipped("users.csv", "user", skipped_users))
    _sections(bundle, roster, schools, sessions, courses, users, without_email)
    return roster


def _sections(bundle: Bundle, roster: Roster, schools: dict, sessions: dict, courses: dict, users: dict,
              without_email: set[str]) -> None:
    years: dict[str, str] = {}
    teacher_of: dict[str, str] = {}
    skipped: Counter = Counter()
    for _, e in bundle.rows("enrollments.csv"):
        role = e["role"].lower()
        if role == "teacher" and e["userSourcedId"] in users:
            if e["classSourcedId"] not in teacher_of or e.get("primary", "").lower() == "true":
                teacher_of[e["classSourcedId"]] = e["userSourcedId"]
        elif role not in USED_ROLES:
            skipped[role or "(no role)"] += 1
    if skipped:
        roster.warnings.append(_skipped("enrollments.csv", "enrollment", skipped))
    for n, c in bundle.rows("classes.csv"):
        term = sessions.get(_first(c["termSourcedIds"]), {})
        try:
            year = _school_year(term.get("startDate", ""))
        except ValueError:
            year = ""
        years[c["sourcedId"]] = year
        course = courses.get(c.get("courseSourcedId", ""), {})
        teacher = teacher_of.get(c["sourcedId"], "")
        if not teacher:
            roster.warnings.append(RowError(n, "classes.csv", (
                f"{c['sourcedId']} has no teacher of record (no enrollment with role teacher): imported without one")))
        elif teacher in without_email:
            roster.warnings.append(RowError(n, "classes.csv", (
                f"{c['sourcedId']} is imported without a teacher of record: its teacher {teacher} has no email")))
        roster.sections.add(
            ("classes.csv", n), school_code=schools.get(c["schoolSourcedId"], c["schoolSourcedId"]),
            school_year=year, section_id=c["sourcedId"], course_code=course.get("courseCode") or c.get("classCode", ""),
            course_title=course.get("title") or c["title"],
            subject=_subject(c.get("subjects", "") + " " + course.get("subjects", "") + " " + c["title"]),
            teacher_email=users.get(teacher, (0, {}))[1].get("email", ""))
    class_rows = {r["sourcedId"]: r for _, r in bundle.rows("classes.csv")}
    for n, e in bundle.rows("enrollments.csv"):
        if e["role"].lower() != "student":
            continue
        klass = class_rows.get(e["classSourcedId"], {})
        student = users.get(e["userSourcedId"], (0, {}))[1]
        term = sessions.get(_first(klass.get("termSourcedIds", "")), {})
        roster.enrollments.add(
            ("enrollments.csv", n), school_code=schools.get(klass.get("schoolSourcedId", ""), ""),
            school_year=years.get(e["classSourcedId"], ""), section_id=e["classSourcedId"],
            state_id=_state_id(student), entry_date=e.get("beginDate") or term.get("startDate", ""),
            exit_date=e.get("endDate", ""))

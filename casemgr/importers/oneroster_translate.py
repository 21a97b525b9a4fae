"""A OneRoster 1.1 bundle in casemgr's kinds: rows for `students`, `sections` and
`section_enrollments`, written to CSV files on disk as the bundle's files are read row
by row; the teachers to match or create; guardians and their links; the sourcedIds to
keep; the `tobedeleted` rows; and the warnings of what was left out.

A column or file the bundle leaves out says nothing: its casemgr column is left out of
the translation, and the merge keeps what is stored (middleName absent keeps the
middle names; demographics.csv absent keeps birth dates, sex and ethnicity). What
casemgr cannot do without for a new student (a birth date, a grade) is asked for in
OneRoster's words by `missing_for_new_students`.

Memory holds the small files (orgs, academicSessions, courses, classes), a student's
sourcedId → state ID, the teachers, and the few demographics values casemgr keeps per
student; users.csv and enrollments.csv are never held whole."""
from __future__ import annotations

import csv
import hashlib
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from casemgr.importers import classes, people
from casemgr.importers.base import Rejected, RowError
from casemgr.importers.oneroster_bundle import Bundle, deleted

USED_ROLES = ("student", "teacher")
# guardian users and the relation casemgr records for them
GUARDIAN_ROLES = {"parent": "parent", "guardian": "guardian", "relative": "other"}
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

# each casemgr column of a translation as the bundle's file and column that feed it
STUDENT_SOURCES = {
    "state_id": ("users.csv", "identifier"), "local_id": ("users.csv", "username"),
    "school_code": ("users.csv", "orgSourcedIds"), "first_name": ("users.csv", "givenName"),
    "middle_name": ("users.csv", "middleName"), "last_name": ("users.csv", "familyName"),
    "preferred_name": ("users.csv", "preferredFirstName"), "grade": ("users.csv", "grades"),
    "birth_date": ("demographics.csv", "birthDate"), "gender": ("demographics.csv", "sex"),
    "ethnicity": ("demographics.csv", "hispanicOrLatinoEthnicity"),
}
SECTION_SOURCES = {
    "school_code": ("classes.csv", "schoolSourcedId"), "school_year": ("classes.csv", "termSourcedIds"),
    "section_id": ("classes.csv", "sourcedId"), "course_code": ("classes.csv", "classCode"),
    "course_title": ("classes.csv", "title"), "subject": ("classes.csv", "subjects"),
    "term": ("classes.csv", "termSourcedIds"), "teacher_email": ("users.csv", "email"),
}
ENROLLMENT_SOURCES = {
    "school_code": ("enrollments.csv", "schoolSourcedId"), "school_year": ("enrollments.csv", "classSourcedId"),
    "section_id": ("enrollments.csv", "classSourcedId"), "state_id": ("enrollments.csv", "userSourcedId"),
    "entry_date": ("enrollments.csv", "beginDate"), "exit_date": ("enrollments.csv", "endDate"),
}
MAX_KEPT = 200  # errors kept of a bundle's rows (50 are shown)


class Translation:
    """Rows for one casemgr kind, written to a CSV file as they come; each remembers the
    bundle row it came from (and, for students, their demographics.csv row)."""

    def __init__(self, path: Path, columns: list[str], sources: dict[str, tuple[str, str]], origin: str) -> None:
        self.path, self.columns, self.sources, self.file = path, columns, sources, origin
        self.rows = 0
        self.origins = array("q")
        self.second = array("q")  # the row of the second file feeding it (demographics.csv), 0 for none
        self._out = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._out, lineterminator="\n")
        self._writer.writerow(columns)

    def add(self, origin: int, second: int = 0, **values: str) -> None:
        self._writer.writerow([values.get(c, "") for c in self.columns])
        self.origins.append(origin)
        self.second.append(second)
        self.rows += 1

    def close(self) -> None:
        self._out.close()

    def labels(self) -> dict[str, str]:
        """The casemgr columns as the bundle's column names, for the messages."""
        return {c: self.sources[c][1] for c in self.columns if c in self.sources}

    def origin(self, row: int, column: str | None = None) -> tuple[str, int] | None:
        if not 2 <= row < self.rows + 2:
            return None
        name = self.sources.get(column or "", (self.file, ""))[0]
        if name != self.file and self.second[row - 2]:
            return name, self.second[row - 2]
        return self.file, self.origins[row - 2]

    def _bundle_row(self, match: re.Match) -> str:
        origin = self.origin(int(match.group(2)))
        return match.group(1) + (str(origin[1]) if origin else match.group(2))

    def remap(self, rejection: Rejected) -> Rejected:
        """The errors of the translated file in the bundle's terms: its file, column and
        row, also where a message names another row ("the same as row 3")."""
        by_label = {label: column for column, label in self.labels().items()}
        errors = []
        for error in rejection.errors:
            column = by_label.get(error.column or "", error.column)
            origin = self.origin(error.row, column) if error.row is not None else None
            if origin is None:
                errors.append(error)
                continue
            message = _OTHER_ROW.sub(self._bundle_row, error.message)
            label = error.column
            if column in self.sources:  # a value another file gives: "classes.csv (email in users.csv)"
                name, label = self.sources[column]
                label += f" in {name}" if name != origin[0] else ""
            errors.append(RowError(origin[1], f"{origin[0]} ({label})" if label else origin[0], message))
        return Rejected(errors, rejection.total)


class Sheet:
    """A small CSV file of rows for set-based SQL (guardians, their links, sourcedIds,
    tobedeleted rows), written as the bundle is read."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns, self.rows = path, columns, 0
        self._out = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._out, lineterminator="\n")

    def add(self, *values: object) -> None:
        self._writer.writerow(["" if v is None else v for v in values])
        self.rows += 1

    def close(self) -> None:
        self._out.close()


@dataclass
class Lookups:
    """What the bundle is read against: the district's schools for its orgs, casemgr's
    school years, and (for delta files) what earlier bundles gave."""

    schools: dict[str, str]  # org sourcedId -> casemgr school code
    unmapped: dict[str, tuple[int, str]]  # a school org casemgr has no school for -> (orgs.csv row, how to map it)
    years: dict[int, tuple[date, date]]  # casemgr's school years: year -> (first day, last day)
    students: dict[str, str] = field(default_factory=dict)  # sourcedId -> state ID, from earlier bundles
    teachers: dict[str, str] = field(default_factory=dict)  # sourcedId -> email, from earlier bundles
    classes: dict[str, tuple[str, int]] = field(default_factory=dict)  # sourcedId -> (school code, year)
    # sourcedId -> the stored teacher of record's email, for a bundle without a bulk enrollments.csv
    class_teachers: dict[str, str] = field(default_factory=dict)


@dataclass
class Roster:
    students: Translation
    # students without a row in demographics.csv: their sex and ethnicity are left out (the stored ones stay)
    undescribed: Translation
    sections: Translation
    enrollments: Translation
    guardians: Sheet  # sourcedId, local ID, givenName, familyName, email, phone, relation, row
    agents: Sheet  # guardian sourcedId, student sourcedId
    sources: Sheet  # entity, sourcedId, key, key2, key3 (see oneroster.keep_sources)
    deletions: Sheet  # file, row, entity, sourcedId, the day it ends
    teachers: list[tuple[int, dict]] = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)  # rows per school org casemgr has no school for
    # the sourcedIds of rows refused (for their org, or a student without a state ID): their enrollments add no error
    left_out: set[str] = field(default_factory=set)
    users_columns: tuple[str, ...] = ()  # the columns of users.csv (a guardian's email or phone may be left out)
    # students lacking what a new student needs: {state_id: (users.csv row, [what is missing])}
    incomplete: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_KEPT of error_total
    error_total: int = 0
    warnings: list[RowError] = field(default_factory=list)
    # per file: rows read and rows skipped
    read: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    school_year: tuple[int, date] | None = None  # the bundle's school year and its first day

    def error(self, error: RowError) -> None:
        """An error of a row: a bad file of a million rows keeps only its first ones."""
        self.error_total += 1
        if len(self.errors) < MAX_KEPT:
            self.errors.append(error)

    def close(self) -> None:
        for sheet in (self.students, self.undescribed, self.sections, self.enrollments, self.guardians, self.agents, self.sources,
                      self.deletions):
            sheet.close()


def _school_year(day: str) -> str:
    parsed = date.fromisoformat(day)
    return str(parsed.year if parsed.month >= 8 else parsed.year - 1)


def _year_of(session: dict[str, str], years: dict[int, tuple[date, date]]) -> str:
    """The casemgr school year of an academic session: the year holding its start, else
    its end (a school year session may start in July, before casemgr's year), else the
    year that starts on the 1 August before its start."""
    for day in (_day(session.get("startDate", "")), _day(session.get("endDate", ""))):
        if day:
            parsed = date.fromisoformat(day)
            held = next((year for year, (first, last) in years.items() if first <= parsed <= last), None)
            if held is not None:
                return str(held)
    return _school_year(_day(session.get("startDate", "")))


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


def _listed(values: str) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()]


def _state_id(user: dict[str, str]) -> str:
    """A student's state ID: `identifier`, else the state ID among `userIds`, written
    `{type:id}` and separated by commas ("{state:12345},{district:678}"), its type
    `state` or `stateId` in any case."""
    return user.get("identifier") or next(
        (value for kind, value in _USER_ID.findall(user.get("userIds", ""))
         if re.sub(r"[^a-z]", "", kind.lower()) in ("state", "stateid")), "")


def local_id(sourced_id: str) -> str:
    """A casemgr local ID (32 characters at most) for a sourcedId: itself when it fits,
    else a digest of it (a GUID has 36)."""
    return sourced_id if len(sourced_id) <= 32 else "or-" + hashlib.sha256(sourced_id.encode()).hexdigest()[:29]


def _day(value: str) -> str:
    """The date of a OneRoster date or dateTime ("2026-09-01T12:00:00Z"), or ""."""
    try:
        return date.fromisoformat(value[:10]).isoformat() if value else ""
    except ValueError:
        return ""


def _clamped(day: str, year: int | None, years: dict[int, tuple[date, date]]) -> str:
    """A date moved into casemgr's school year `year` (its first or last day) when outside it."""
    if not day or year not in years:
        return day
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return day
    first, last = years[year]
    return min(max(parsed, first), last).isoformat()


def _student_columns(bundle: Bundle) -> list[str]:
    columns = ["state_id", "local_id", "school_code", "first_name", "last_name", "grade", "birth_date"]
    optional = (("middle_name", "users.csv", ("middleName",)), ("preferred_name", "users.csv", ("preferredFirstName",)),
                ("gender", "demographics.csv", ("sex",)), ("ethnicity", "demographics.csv", ETHNICITY_COLUMNS))
    return columns + [column for column, name, sources in optional if any(bundle.has(name, s) for s in sources)]


def _birth_date_missing(bundle: Bundle, sourced_id: str, demo: tuple | None) -> str:
    if not bundle.has("demographics.csv"):
        return f"{sourced_id} has no birthDate: demographics.csv is absent"
    if not bundle.has("demographics.csv", "birthDate"):
        return f"{sourced_id} has no birthDate: demographics.csv has no birthDate column"
    if demo is None:
        return f"{sourced_id} has no birthDate: demographics.csv has no row for {sourced_id}"
    return f"{sourced_id} has no birthDate in demographics.csv"


def _skipped(name: str, noun: str, roles: Counter, imported: str) -> RowError:
    total = sum(roles.values())
    listed = ", ".join(f"{n} {role}" for role, n in sorted(roles.items(), key=lambda item: (-item[1], item[0])))
    return RowError(None, name, f"{total} {noun}{'' if total == 1 else 's'} skipped ({listed}): "
                                f"casemgr imports {imported} only")


def _demographics(bundle: Bundle, roster: Roster) -> dict[str, tuple[int, str, str, str]]:
    """Per student sourcedId: (its row, birthDate, sex, ethnicity), the little casemgr keeps."""
    kept = {}
    for n, demo in bundle.rows("demographics.csv"):
        roster.read["demographics.csv"] += 1
        if deleted(demo):
            roster.skipped["demographics.csv"] += 1
            continue
        kept[demo["sourcedId"]] = (n, demo.get("birthDate", ""), demo.get("sex", ""), _ethnicity(demo))
    return kept


def translate(bundle: Bundle, lookups: Lookups, folder: Path, today: date) -> Roster:
    roster = Roster(
        Translation(folder / "students.csv", _student_columns(bundle), STUDENT_SOURCES, "users.csv"),
        Translation(folder / "undescribed.csv", [c for c in _student_columns(bundle) if c not in ("gender", "ethnicity")],
                    STUDENT_SOURCES, "users.csv"),
        Translation(folder / "sections.csv", [c.name for c in classes.SECTION_COLUMNS], SECTION_SOURCES, "classes.csv"),
        Translation(folder / "enrollments.csv", [c.name for c in classes.ENROLLMENT_COLUMNS], ENROLLMENT_SOURCES,
                    "enrollments.csv"),
        Sheet(folder / "guardians.csv", ["sourced_id", "local_id", "first_name", "last_name", "email", "phone",
                                         "relation", "row_no"]),
        Sheet(folder / "agents.csv", ["guardian", "student"]),
        Sheet(folder / "sources.csv", ["entity", "sourced_id", "key", "key2", "key3"]),
        Sheet(folder / "deletions.csv", ["file", "row_no", "entity", "sourced_id", "ends_on"]))
    try:
        sessions = _small(bundle, roster, "academicSessions.csv")
        courses = _small(bundle, roster, "courses.csv")
        roster.school_year = _bundle_year(sessions, lookups, today)
        students = _users(bundle, roster, lookups, today)
        _sections(bundle, roster, lookups, sessions, courses, students, today)
    finally:
        roster.close()
    return roster


def _small(bundle: Bundle, roster: Roster, name: str) -> dict[str, dict[str, str]]:
    """A small file's rows by sourcedId (tobedeleted ones are counted and skipped: there is
    nothing of a course or a session to end in casemgr)."""
    rows = {}
    for _, row in bundle.rows(name):
        roster.read[name] += 1
        if deleted(row):
            roster.skipped[name] += 1
        else:
            rows[row["sourcedId"]] = row
    return rows


def _bundle_year(sessions: dict[str, dict[str, str]], lookups: Lookups, today: date) -> tuple[int, date] | None:
    """The school year the bundle is for (its schoolYear session holding today, else its
    latest) and its first day, clamped to casemgr's school year."""
    spans = []
    for s in sessions.values():
        if s.get("type", "").lower() == "schoolyear" and _day(s.get("startDate", "")):
            spans.append((date.fromisoformat(_day(s["startDate"])), _day(s.get("endDate", "")), s))
    current = [span for span in spans if span[0] <= today and (not span[1] or today <= date.fromisoformat(span[1]))]
    chosen = current[0] if current else max(spans, key=lambda span: span[0], default=None)
    if chosen is None:
        return None
    year = int(_year_of(chosen[2], lookups.years))
    return year, date.fromisoformat(_clamped(chosen[0].isoformat(), year, lookups.years))


def _users(bundle: Bundle, roster: Roster, lookups: Lookups, today: date) -> dict[str, tuple[str, str]]:
    """users.csv, row by row. Returns each user's sourcedId -> (role, state ID or email)
    for students and teachers, with earlier bundles' for a delta file."""
    demographics = _demographics(bundle, roster)
    roster.users_columns = bundle.files["users.csv"].columns if bundle.has("users.csv") else ()
    people_by_id = {sid: ("student", state_id) for sid, state_id in lookups.students.items()}
    people_by_id.update((sid, ("teacher", email)) for sid, email in lookups.teachers.items())
    skipped_roles: Counter = Counter()
    for n, user in bundle.rows("users.csv"):
        roster.read["users.csv"] += 1
        sourced_id, role = user["sourcedId"], user["role"].lower()
        if deleted(user):
            entity = "student" if role == "student" else "teacher" if role == "teacher" else \
                "guardian" if role in GUARDIAN_ROLES else ""
            if entity:
                roster.deletions.add("users.csv", n, entity, sourced_id, _day(user.get("dateLastModified", "")))
            else:
                skipped_roles[role or "(no role)"] += 1
            continue
        orgs = _listed(user["orgSourcedIds"])
        school = next((lookups.schools[o] for o in orgs if o in lookups.schools), "")
        unmapped = next((o for o in orgs if o in lookups.unmapped), "")
        if role in USED_ROLES and not school and unmapped:
            roster.unmapped[unmapped] += 1
            roster.left_out.add(sourced_id)
            continue
        if role == "student":
            state_id = _student(bundle, roster, n, user, school, demographics)
            if state_id:
                people_by_id[sourced_id] = ("student", state_id)
                for agent in _listed(user.get("agentSourcedIds", "")):
                    roster.agents.add(agent, sourced_id)
        elif role == "teacher":
            if not user.get("email"):
                roster.skipped["users.csv"] += 1
                roster.warnings.append(RowError(n, "users.csv", (
                    f"{sourced_id} (teacher) has no email: skipped, as casemgr signs teachers in and matches them "
                    "by email; their classes have no teacher of record")))
                people_by_id[sourced_id] = ("teacher", "")
                continue
            roster.teachers.append((n, dict(user, school_code=school)))
            people_by_id[sourced_id] = ("teacher", user["email"].lower())
            roster.sources.add("teacher", sourced_id, user["email"].lower(), "", "")
        elif role in GUARDIAN_ROLES:
            roster.guardians.add(sourced_id, local_id(sourced_id), user["givenName"], user["familyName"],
                                 user.get("email", "").lower(), user.get("phone", "") or user.get("sms", ""),
                                 GUARDIAN_ROLES[role], n)
            for agent in _listed(user.get("agentSourcedIds", "")):
                roster.agents.add(sourced_id, agent)
        else:
            skipped_roles[role or "(no role)"] += 1
    if skipped_roles:
        roster.skipped["users.csv"] += sum(skipped_roles.values())
        roster.warnings.append(_skipped("users.csv", "user", skipped_roles,
                                        "students, teachers and guardians (parent, guardian, relative)"))
    return people_by_id


def _student(bundle: Bundle, roster: Roster, n: int, user: dict[str, str], school: str,
             demographics: dict[str, tuple[int, str, str, str]]) -> str:
    """One student row translated; returns its state ID ("" when refused)."""
    sourced_id = user["sourcedId"]
    state_id = _state_id(user)
    if not state_id:
        roster.error(RowError(n, "users.csv (identifier)", (
            f"{sourced_id} has no identifier and no {{state:…}} in userIds: casemgr matches students "
            "by their state ID")))
        roster.left_out.add(sourced_id)
        return ""
    if not school:
        roster.error(RowError(n, "users.csv (orgSourcedIds)", (
            f"{sourced_id} belongs to no school: none of orgSourcedIds '{user['orgSourcedIds']}' "
            "is an org of type school in orgs.csv")))
        roster.left_out.add(sourced_id)
        return ""
    demo = demographics.get(sourced_id)
    grade = _first(user.get("grades", ""))
    lacking = []
    if not (demo and demo[1]):
        lacking.append(_birth_date_missing(bundle, sourced_id, demo))
    if not grade:
        lacking.append(f"{sourced_id} has no grades" + ("" if bundle.has("users.csv", "grades")
                                                       else ": users.csv has no grades column"))
    if lacking:
        roster.incomplete[state_id] = (n, lacking)
    row, birth_date, sex, ethnicity = demo or (0, "", "", "")
    (roster.students if demo else roster.undescribed).add(
        n, row, state_id=state_id, local_id=user.get("username") or sourced_id,
        school_code=school, first_name=user["givenName"], middle_name=user.get("middleName", ""),
        last_name=user["familyName"], preferred_name=user.get("preferredFirstName", ""),
        birth_date=birth_date, grade=GRADES.get(grade.upper(), grade.lstrip("0") or grade),
        gender=sex, ethnicity=ethnicity)
    roster.sources.add("student", sourced_id, state_id, "", "")
    return state_id


def section_term(class_terms: list[str], sessions: dict[str, dict[str, str]]) -> str:
    """The casemgr term (year, S1, S2, Q1…Q4) of a class's academic sessions. A school
    year, several sessions or one casemgr cannot place is the year; a semester or term
    is S1 or S2 by its place among the sessions of its type in its school year when
    there are two (a lone one by its start: August to December is S1), a grading
    period, or a term of four, Q1…Q4."""
    if len(class_terms) != 1 or class_terms[0] not in sessions:
        return "year"
    session = sessions[class_terms[0]]
    kind = session.get("type", "").lower()
    if kind not in ("semester", "term", "gradingperiod"):
        return "year"
    year = _school_year_of(session)
    siblings = sorted((s.get("startDate", ""), sid) for sid, s in sessions.items()
                      if s.get("type", "").lower() == kind and _school_year_of(s) == year)
    place = [sid for _, sid in siblings].index(class_terms[0])
    if len(siblings) == 2 and kind != "gradingperiod":
        return ("S1", "S2")[place]
    if len(siblings) == 1 and kind == "semester":
        return "S1" if session.get("startDate", "")[5:7] >= "08" else "S2"
    if len(siblings) == 4 or (kind == "gradingperiod" and len(siblings) <= 4):
        return f"Q{place + 1}"
    return "year"


def _school_year_of(session: dict[str, str]) -> str:
    try:
        return _school_year(_day(session.get("startDate", "")))
    except ValueError:
        return ""


def _teachers_of_classes(bundle: Bundle, roster: Roster, people_by_id: dict) -> dict[str, str]:
    """Each class's teacher of record (a primary teacher first), from a first pass over
    enrollments.csv that keeps only the teachers' rows."""
    teacher_of: dict[str, str] = {}
    for _, e in bundle.rows("enrollments.csv"):
        if e["role"].lower() == "teacher" and not deleted(e) and people_by_id.get(e["userSourcedId"], ("",))[0] == "teacher":
            if e["classSourcedId"] not in teacher_of or e.get("primary", "").lower() == "true":
                teacher_of[e["classSourcedId"]] = e["userSourcedId"]
    return teacher_of


def _sections(bundle: Bundle, roster: Roster, lookups: Lookups, sessions: dict, courses: dict, people_by_id: dict,
              today: date) -> None:
    teacher_of = _teachers_of_classes(bundle, roster, people_by_id)
    klasses: dict[str, tuple[str, int | None, str]] = {  # sourcedId -> (school code, year, first term's start)
        sid: (code, year, "") for sid, (code, year) in lookups.classes.items()}
    for n, c in bundle.rows("classes.csv"):
        roster.read["classes.csv"] += 1
        if deleted(c):
            roster.deletions.add("classes.csv", n, "class", c["sourcedId"], _day(c.get("dateLastModified", "")))
            continue
        terms = _listed(c["termSourcedIds"])
        term = sessions.get(terms[0] if terms else "", {})
        try:
            year = _year_of(term, lookups.years)
        except ValueError:  # no session in the bundle (a delta classes.csv): the year of the stored class
            year = str(lookups.classes.get(c["sourcedId"], ("", ""))[1])
        school = lookups.schools.get(c["schoolSourcedId"], "")
        if not school and c["schoolSourcedId"] in lookups.unmapped:
            roster.unmapped[c["schoolSourcedId"]] += 1
            roster.left_out.add(c["sourcedId"])
            continue
        klasses[c["sourcedId"]] = (school or c["schoolSourcedId"], int(year) if year else None,
                                   _day(term.get("startDate", "")))
        course = courses.get(c.get("courseSourcedId", ""), {})
        teacher = teacher_of.get(c["sourcedId"], "")
        # without a bulk enrollments.csv the bundle may say nothing of a class's teacher: the stored one stays
        stored = lookups.class_teachers.get(c["sourcedId"], "") if bundle.mode("enrollments.csv") != "bulk" else ""
        if not teacher and not stored:
            roster.warnings.append(RowError(n, "classes.csv", (
                f"{c['sourcedId']} has no teacher of record (no enrollment with role teacher): imported without one")))
        elif teacher and not people_by_id[teacher][1]:
            roster.warnings.append(RowError(n, "classes.csv", (
                f"{c['sourcedId']} is imported without a teacher of record: its teacher {teacher} has no email")))
        roster.sections.add(
            n, school_code=school or c["schoolSourcedId"], school_year=year, section_id=c["sourcedId"],
            course_code=course.get("courseCode") or c.get("classCode", ""), course_title=course.get("title") or c["title"],
            term=section_term(terms, sessions),
            subject=_subject(c.get("subjects", "") + " " + course.get("subjects", "") + " " + c["title"]),
            teacher_email=people_by_id.get(teacher, ("", ""))[1] if teacher else stored)
        roster.sources.add("class", c["sourcedId"], school or c["schoolSourcedId"], year, c["sourcedId"])
    _enrollments(bundle, roster, lookups, klasses, people_by_id)


def _enrollments(bundle: Bundle, roster: Roster, lookups: Lookups, klasses: dict, people_by_id: dict) -> None:
    skipped: Counter = Counter()
    for n, e in bundle.rows("enrollments.csv"):
        roster.read["enrollments.csv"] += 1
        role = e["role"].lower()
        if deleted(e):
            roster.deletions.add("enrollments.csv", n, "enrollment", e.get("sourcedId", ""),
                                 _day(e.get("endDate", "")) or _day(e.get("dateLastModified", "")))
            continue
        if role == "teacher":
            continue  # the teacher of record of its class (see _teachers_of_classes)
        if role != "student":
            skipped[role or "(no role)"] += 1
            continue
        if e["classSourcedId"] in roster.left_out or e["userSourcedId"] in roster.left_out:
            continue  # the bundle is refused for the org of its class or student
        if e["classSourcedId"] not in klasses:
            roster.error(RowError(n, "enrollments.csv (classSourcedId)", (
                f"class {e['classSourcedId']} is in neither classes.csv nor an earlier bundle")))
            continue
        student = people_by_id.get(e["userSourcedId"], ("", ""))
        if student[0] != "student":
            roster.error(RowError(n, "enrollments.csv (userSourcedId)", (
                f"{e['userSourcedId']} is a student in neither users.csv nor an earlier bundle")))
            continue
        school, year, term_start = klasses[e["classSourcedId"]]
        roster.enrollments.add(
            n, school_code=school, school_year=str(year or ""), section_id=e["classSourcedId"],
            state_id=student[1],
            entry_date=_clamped(_day(e.get("beginDate", "")) or term_start, year, lookups.years),
            exit_date=_clamped(_day(e.get("endDate", "")), year, lookups.years))
        if e.get("sourcedId"):
            roster.sources.add("enrollment", e["sourcedId"], e["classSourcedId"], e["userSourcedId"], "")
    if skipped:
        roster.skipped["enrollments.csv"] += sum(skipped.values())
        roster.warnings.append(_skipped("enrollments.csv", "enrollment", skipped, "students and teachers"))

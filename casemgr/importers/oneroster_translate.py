"""A OneRoster 1.1 bundle in casemgr's kinds: rows for `students`, `sections` and
`section_enrollments`, written to CSV files on disk as the bundle's files are read row
by row; the teachers to match or create; guardians and their links; the sourcedIds to
keep; the `tobedeleted` rows; and the warnings of what was left out. This module reads
orgs' sessions, courses, users and demographics; oneroster_classes the classes and
enrollments; oneroster_sheets holds what they write to.

A column or file the bundle leaves out says nothing: its casemgr column is left out of
the translation, and the merge keeps what is stored (middleName absent keeps the
middle names; demographics.csv absent keeps birth dates, sex and ethnicity). What
casemgr cannot do without for a new student (a birth date, a grade) is asked for in
OneRoster's words by `missing_for_new_students`.

Memory holds the small files (orgs, academicSessions, courses, classes), a student's
sourcedId → state ID, the teachers, and the few demographics values casemgr keeps per
student; users.csv and enrollments.csv are never held whole."""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date
from pathlib import Path

from casemgr.importers import classes
from casemgr.importers.base import RowError
from casemgr.importers.oneroster_bundle import Bundle, deleted
from casemgr.importers.oneroster_classes import translate_classes, year_of
from casemgr.importers.oneroster_sheets import (
    ENROLLMENT_SOURCES, SECTION_SOURCES, STUDENT_SOURCES, Lookups, Roster, Sheet, Translation, clamped, day_of,
    first_of, listed, skipped_warning,
)

USED_ROLES = ("student", "teacher")
# guardian users and the relation casemgr records for them
GUARDIAN_ROLES = {"parent": "parent", "guardian": "guardian", "relative": "other"}
GRADES = {"PK": "-1", "KG": "0", "TK": "0"}
RACES = (("americanIndianOrAlaskaNative", "American Indian or Alaska Native"), ("asian", "Asian"),
         ("blackOrAfricanAmerican", "Black or African American"),
         ("nativeHawaiianOrOtherPacificIslander", "Native Hawaiian or Other Pacific Islander"), ("white", "White"))
_USER_ID = re.compile(r"\{\s*([^:{}]+?)\s*:\s*([^{}]*?)\s*\}")
ETHNICITY_COLUMNS = ("hispanicOrLatinoEthnicity", "demographicRaceTwoOrMoreRaces") + tuple(c for c, _ in RACES)

def _ethnicity(demo: dict[str, str]) -> str:
    if demo.get("hispanicOrLatinoEthnicity", "").lower() == "true":
        return "Hispanic or Latino"
    if demo.get("demographicRaceTwoOrMoreRaces", "").lower() == "true":
        return "Two or more races"
    return next((label for column, label in RACES if demo.get(column, "").lower() == "true"), "")


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
        translate_classes(bundle, roster, lookups, sessions, courses, students, today)
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
        if s.get("type", "").lower() == "schoolyear" and day_of(s.get("startDate", "")):
            spans.append((date.fromisoformat(day_of(s["startDate"])), day_of(s.get("endDate", "")), s))
    current = [span for span in spans if span[0] <= today and (not span[1] or today <= date.fromisoformat(span[1]))]
    chosen = current[0] if current else max(spans, key=lambda span: span[0], default=None)
    if chosen is None:
        return None
    year = int(year_of(chosen[2], lookups.years))
    return year, date.fromisoformat(clamped(chosen[0].isoformat(), year, lookups.years))


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
                roster.deletions.add("users.csv", n, entity, sourced_id, day_of(user.get("dateLastModified", "")))
            else:
                skipped_roles[role or "(no role)"] += 1
            continue
        orgs = listed(user["orgSourcedIds"])
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
                for agent in listed(user.get("agentSourcedIds", "")):
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
            for agent in listed(user.get("agentSourcedIds", "")):
                roster.agents.add(sourced_id, agent)
        else:
            skipped_roles[role or "(no role)"] += 1
    if skipped_roles:
        roster.skipped["users.csv"] += sum(skipped_roles.values())
        roster.warnings.append(skipped_warning("users.csv", "user", skipped_roles,
                                        "students, teachers and guardians (parent, guardian, relative)"))
    return people_by_id


def _student_refusal(roster: Roster, n: int, user: dict[str, str], state_id: str, school: str,
                     described: bool) -> RowError | None:
    """Why a student row cannot be taken at all: no state ID, no school, or a state ID
    given before in the other of the two files students are written to (with and
    without demographics), whose checks would not see it."""
    sourced_id = user["sourcedId"]
    if not state_id:
        return RowError(n, "users.csv (identifier)", (
            f"{sourced_id} has no identifier and no {{state:…}} in userIds: casemgr matches students "
            "by their state ID"))
    if not school:
        return RowError(n, "users.csv (orgSourcedIds)", (
            f"{sourced_id} belongs to no school: none of orgSourcedIds '{user['orgSourcedIds']}' "
            "is an org of type school in orgs.csv"))
    earlier = roster.state_ids.setdefault(state_id, (n, described))
    if earlier[0] != n and earlier[1] != described:
        return RowError(n, "users.csv", f"duplicate key (identifier): the same as row {earlier[0]}")
    return None


def _student(bundle: Bundle, roster: Roster, n: int, user: dict[str, str], school: str,
             demographics: dict[str, tuple[int, str, str, str]]) -> str:
    """One student row translated; returns its state ID ("" when refused)."""
    sourced_id = user["sourcedId"]
    state_id = _state_id(user)
    demo = demographics.get(sourced_id)
    refusal = _student_refusal(roster, n, user, state_id, school, demo is not None)
    if refusal is not None:
        roster.error(refusal)
        roster.left_out.add(sourced_id)
        return ""
    grade = first_of(user.get("grades", ""))
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



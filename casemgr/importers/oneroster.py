"""Kind `oneroster`: a OneRoster 1.1 CSV bundle (a .zip, or a folder) for the roster.

The bundle is translated into the casemgr kinds `students`, `sections` and
`section_enrollments` and each is run through the same validation and merge, inside
the one transaction of the import; an error names the bundle's file and row.
- orgs.csv: schools are matched by `identifier` = the school's organization code
  (schools are not created: an unknown one is an error);
- users.csv, role student: `identifier` = state ID, `username` (or sourcedId) = local
  ID, the first school in orgSourcedIds, the first of `grades`; the birth date, sex and
  ethnicity come from demographics.csv;
- users.csv, role teacher: matched by email to a teacher of the school, or created as
  a teacher without a password (they sign in after an invitation);
- classes.csv + courses.csv + academicSessions.csv: sections keyed by the class
  sourcedId, the school year from the first term's start date (years turn on 1 August);
- enrollments.csv: students into sections; the primary teacher is the teacher of record.
Rows with status `tobedeleted` are skipped (nothing is deleted by an import).
"""
from __future__ import annotations

import csv
import io
from datetime import date

from casemgr.importers import classes, people
from casemgr.importers.base import Context, Kind, Rejected, RowError, file_error
from casemgr.importers.oneroster_bundle import Bundle, read_bundle, read_bundle_folder  # noqa: F401
from casemgr.importers.runner import run_file

GRADES = {"PK": "-1", "KG": "0", "TK": "0"}
SUBJECTS = (("english", "english"), ("language arts", "english"), ("ela", "english"), ("reading", "english"),
            ("math", "math"), ("algebra", "math"), ("geometry", "math"), ("science", "science"),
            ("biology", "science"), ("chemistry", "science"), ("physics", "science"), ("social", "social_studies"),
            ("history", "social_studies"), ("government", "social_studies"))
RACES = (("americanIndianOrAlaskaNative", "American Indian or Alaska Native"), ("asian", "Asian"),
         ("blackOrAfricanAmerican", "Black or African American"),
         ("nativeHawaiianOrOtherPacificIslander", "Native Hawaiian or Other Pacific Islander"), ("white", "White"))


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

    def remap(self, rejection: Rejected) -> Rejected:
        errors = []
        for error in rejection.errors:
            if error.row is not None and 2 <= error.row < len(self.origins) + 2:
                name, row = self.origins[error.row - 2]
                errors.append(RowError(row, f"{name} ({error.column})" if error.column else name, error.message))
            else:
                errors.append(error)
        return Rejected(errors, rejection.total)


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


def translate(bundle: Bundle) -> tuple[Translation, Translation, Translation, list[tuple[int, dict]]]:
    orgs = {r["sourcedId"]: r for _, r in bundle.rows("orgs.csv")}
    schools = {sid: r.get("identifier", "") for sid, r in orgs.items() if r["type"].lower() == "school"}
    demographics = {r["sourcedId"]: r for _, r in bundle.rows("demographics.csv")}
    sessions = {r["sourcedId"]: r for _, r in bundle.rows("academicSessions.csv")}
    courses = {r["sourcedId"]: r for _, r in bundle.rows("courses.csv")}
    users = {r["sourcedId"]: (n, r) for n, r in bundle.rows("users.csv")}
    students = Translation([c.name for c in people.STUDENT_COLUMNS if c.name not in ("entry_date", "exit_date")])
    teachers = []
    for n, user in bundle.rows("users.csv"):
        school = next((schools[o] for o in user["orgSourcedIds"].split(",") if o.strip() in schools), "")
        role = user["role"].lower()
        if role == "student":
            demo = demographics.get(user["sourcedId"], {})
            grade = (user.get("grades", "").split(",")[0].strip() if user.get("grades") else "")
            students.add(("users.csv", n), state_id=user.get("identifier", ""), local_id=user.get("username") or user["sourcedId"],
                         school_code=school, first_name=user["givenName"], middle_name=user.get("middleName", ""),
                         last_name=user["familyName"], preferred_name=user.get("preferredFirstName", ""),
                         birth_date=demo.get("birthDate", ""), grade=GRADES.get(grade.upper(), grade.lstrip("0") or grade),
                         gender=demo.get("sex", ""), ethnicity=_ethnicity(demo))
        elif role == "teacher":
            teachers.append((n, dict(user, school_code=school)))
    sections = Translation([c.name for c in classes.SECTION_COLUMNS])
    years: dict[str, str] = {}
    teacher_of: dict[str, str] = {}
    for _, e in bundle.rows("enrollments.csv"):
        if e["role"].lower() == "teacher" and e["userSourcedId"] in users:
            if e["classSourcedId"] not in teacher_of or e.get("primary", "").lower() == "true":
                teacher_of[e["classSourcedId"]] = users[e["userSourcedId"]][1].get("email", "")
    for n, c in bundle.rows("classes.csv"):
        term = sessions.get(c["termSourcedIds"].split(",")[0].strip(), {})
        try:
            year = _school_year(term.get("startDate", ""))
        except ValueError:
            year = ""
        years[c["sourcedId"]] = year
        course = courses.get(c.get("courseSourcedId", ""), {})
        sections.add(("classes.csv", n), school_code=schools.get(c["schoolSourcedId"], c["schoolSourcedId"]),
                     school_year=year, section_id=c["sourcedId"], course_code=course.get("courseCode") or c.get("classCode", ""),
                     course_title=course.get("title") or c["title"],
                     subject=_subject(c.get("subjects", "") + " " + course.get("subjects", "") + " " + c["title"]),
                     teacher_email=teacher_of.get(c["sourcedId"], ""))
    enrollments = Translation([c.name for c in classes.ENROLLMENT_COLUMNS])
    class_rows = {r["sourcedId"]: r for _, r in bundle.rows("classes.csv")}
    for n, e in bundle.rows("enrollments.csv"):
        if e["role"].lower() != "student":
            continue
        klass = class_rows.get(e["classSourcedId"], {})
        student = users.get(e["userSourcedId"], (0, {}))[1]
        term = sessions.get(klass.get("termSourcedIds", "").split(",")[0].strip(), {})
        enrollments.add(("enrollments.csv", n), school_code=schools.get(klass.get("schoolSourcedId", ""), ""),
                        school_year=years.get(e["classSourcedId"], ""), section_id=e["classSourcedId"],
                        state_id=student.get("identifier", ""), entry_date=e.get("beginDate") or term.get("startDate", ""),
                        exit_date=e.get("endDate", ""))
    return students, sections, enrollments, teachers


def create_teachers(ctx: Context, teachers: list[tuple[int, dict]]) -> None:
    errors = []
    for n, t in teachers:
        email = t.get("email", "").lower()
        if not email or not t["school_code"]:
            errors.append(RowError(n, "users.csv", "a teacher needs an email and a school in orgSourcedIds"))
            continue
        row = ctx.cur.execute(
            "SELECT u.role, o.code FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.email = %s",
            (email,)).fetchone()
        if row and (row[0] != "teacher"):
            errors.append(RowError(n, "users.csv", f"{email} already belongs to a {row[0].replace('_', ' ')}"))
        elif row is None:
            ctx.cur.execute(
                """INSERT INTO users (email, full_name, role, organization_id)
                   SELECT %s, %s, 'teacher', o.id FROM organizations o
                   WHERE o.code = %s AND o.kind = 'school' AND o.district_id = %s""",
                (email, f"{t['givenName']} {t['familyName']}".strip(), t["school_code"], ctx.district_id))
            ctx.counts.add(ctx.cur.rowcount, 0)
    if errors:
        raise Rejected(errors)


def run(raw: bytes, ctx: Context) -> None:
    students, sections, enrollments, teachers = translate(read_bundle(raw))
    for kind, translation in ((people.STUDENTS, students), (None, None), (classes.SECTIONS, sections),
                              (classes.SECTION_ENROLLMENTS, enrollments)):
        if kind is None:
            create_teachers(ctx, teachers)
            continue
        if not translation.rows:
            continue
        try:
            run_file(kind, translation.csv_bytes(), ctx)
        except Rejected as rejection:
            raise translation.remap(rejection) from None


def _no_checks(ctx: Context) -> list[str]:
    return []


ONEROSTER = Kind(
    "oneroster", "OneRoster 1.1 bundle", [], [], _no_checks, lambda ctx: None, run=run,
    description="A .zip of OneRoster 1.1 CSV files: students, teachers, classes and enrollments.",
)

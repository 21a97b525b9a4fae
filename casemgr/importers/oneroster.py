"""Kind `oneroster`: a OneRoster 1.1 CSV bundle (a .zip, or a folder) for the roster.

The bundle is read (oneroster_bundle: the manifest first) and translated
(oneroster_translate) into the casemgr kinds `students`, `sections` and
`section_enrollments`; each is run through the same validation and merge, inside the
one transaction of the import; an error names the bundle's file and row.
- orgs.csv: schools are matched by `identifier` = the school's organization code
  (schools are not created: an unknown one is an error);
- users.csv, role student: `identifier` = state ID, `username` (or sourcedId) = local
  ID, the first school in orgSourcedIds, the first of `grades`; the birth date, sex and
  ethnicity come from demographics.csv;
- users.csv, role teacher: matched by email to a teacher of the school, or created as
  a teacher without a password (they sign in after an invitation); a teacher without
  an email is skipped with a warning; other roles are counted and skipped;
- classes.csv + courses.csv + academicSessions.csv: sections keyed by the class
  sourcedId, the school year from the first term's start date (years turn on 1 August);
- enrollments.csv: students into sections; the primary teacher is the teacher of record
  (a class without one is imported with a warning).
Rows with status `tobedeleted` are skipped (nothing is deleted by an import).
"""
from __future__ import annotations

from dataclasses import replace

from casemgr.importers import classes, people
from casemgr.importers.base import Context, Kind, Rejected, RowError
from casemgr.importers.oneroster_bundle import read_bundle
from casemgr.importers.oneroster_translate import Roster, translate
from casemgr.importers.runner import run_file

# students as OneRoster gives them: a birth date and a grade may be missing for a student
# casemgr already has (the stored ones are kept); a new one needs both (missing_for_new_students)
STUDENTS = replace(people.STUDENTS, columns=[
    replace(c, required=False) if c.name in ("birth_date", "grade") else c for c in people.STUDENT_COLUMNS])


def missing_for_new_students(ctx: Context, roster: Roster) -> list[RowError]:
    """What students new to casemgr lack that casemgr needs (a birth date, a grade), in
    OneRoster's words: "usr-17 has no birthDate: demographics.csv is absent"."""
    if not roster.incomplete:
        return []
    known = {row[0] for row in ctx.cur.execute(
        "SELECT state_id FROM students WHERE district_id = %s AND state_id = ANY(%s)",
        (ctx.district_id, list(roster.incomplete))).fetchall()}
    return [RowError(row, "users.csv", f"{reason}; casemgr needs it for a new student")
            for state_id, (row, reasons) in roster.incomplete.items() if state_id not in known for reason in reasons]


def create_teachers(ctx: Context, teachers: list[tuple[int, dict]]) -> None:
    errors = []
    for n, t in teachers:
        email = t.get("email", "").lower()
        if not t["school_code"]:
            errors.append(RowError(n, "users.csv (orgSourcedIds)", (
                f"{t['sourcedId']} (teacher) belongs to no school: none of orgSourcedIds '{t['orgSourcedIds']}' "
                "is an org of type school in orgs.csv")))
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
    roster = translate(read_bundle(raw))
    errors = roster.errors + missing_for_new_students(ctx, roster)
    if errors:
        raise Rejected(sorted(errors, key=lambda e: e.row or 0))
    ctx.warnings.extend(roster.warnings)
    for kind, translation in ((STUDENTS, roster.students), (None, None), (classes.SECTIONS, roster.sections),
                              (classes.SECTION_ENROLLMENTS, roster.enrollments)):
        if kind is None:
            create_teachers(ctx, roster.teachers)
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
    "oneroster", "OneRoster 1.1 bundle", [], [], _no_checks, lambda ctx: None, run=run, bundle=True,
    description="A .zip of OneRoster 1.1 CSV files: students, teachers, classes and enrollments.",
)

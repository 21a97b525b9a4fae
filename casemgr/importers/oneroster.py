"""Kind `oneroster`: a OneRoster 1.1 CSV bundle (a .zip, or a folder) for the roster.

The bundle is read (oneroster_bundle: the manifest first, each file unpacked to disk
and read row by row) and translated (oneroster_translate) into the casemgr kinds
`students`, `sections` and `section_enrollments`, each run through the same validation
and merge inside the one transaction of the import; an error names the bundle's file,
column and row. The mapping of every file and column is in seed/examples/README.md.
- orgs.csv: a school org is the casemgr school its sourcedId or identifier is mapped to
  (source_schools, set on the imports page), else the school whose code is its
  identifier; an org of type school that maps to no school is refused by name;
- users.csv: students by state ID, teachers by email (created without a password),
  parents, guardians and relatives as guardians linked to their students through
  agentSourcedIds; other roles are counted and skipped;
- classes.csv + courses.csv + academicSessions.csv: sections, their term from the
  class's academic session; enrollments.csv: students into sections, the primary
  teacher the teacher of record. Students get their stay at the school for the
  bundle's school year (school_enrollments), its entry date within casemgr's year.
Each record's sourcedId is kept (source_ids) so a later delta bundle can refer to it.
A `tobedeleted` row, in a bulk or a delta file, ends what casemgr has of that sourcedId
(an enrollment's exit date, a student's stay at the school, a teacher's account) and
never deletes a row; one casemgr never saw is counted as skipped with a warning.
Records missing from a bulk file are left as they are.
"""
from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from casemgr.importers import classes, people, staging
from casemgr.importers.base import MAX_ERRORS, Context, Kind, Rejected, RowError
from casemgr.importers import oneroster_merge as merge
from casemgr.importers.oneroster_bundle import Bundle, deleted, read_bundle
from casemgr.importers.oneroster_merge import SOURCE, Tally
from casemgr.importers.oneroster_sheets import Lookups, Roster, Translation
from casemgr.importers.oneroster_translate import translate
from casemgr.importers.source import match_header, read_csv, spool_dir

# students as OneRoster gives them: a birth date and a grade may be missing for a student
# casemgr already has (the stored ones are kept); a new one needs both (missing_for_new_students)
STUDENTS = replace(people.STUDENTS, columns=[
    replace(c, required=False) if c.name in ("birth_date", "grade") else c for c in people.STUDENT_COLUMNS])
HOW_TO_MAP = ("map it to a casemgr school under 'OneRoster schools' on the Imports page, "
              "or give it the school's casemgr code as its identifier")


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
            errors.append(RowError(n, "users.csv (email)", f"{email} already belongs to a {row[0].replace('_', ' ')}"))
        elif row is None:
            ctx.cur.execute(
                """INSERT INTO users (email, full_name, role, organization_id)
                   SELECT %s, %s, 'teacher', o.id FROM organizations o
                   WHERE o.code = %s AND o.kind = 'school' AND o.district_id = %s""",
                (email, f"{t['givenName']} {t['familyName']}".strip(), t["school_code"], ctx.district_id))
            ctx.counts.add(ctx.cur.rowcount, 0)
    if errors:
        raise Rejected(errors)


def _run_translated(kind: Kind, translation: Translation, ctx: Context) -> None:
    """Validate and merge a translation as a file of `kind`, its errors in the bundle's
    terms. The translation is read from disk as a stream, like any file of that kind."""
    csv_file = read_csv(translation.path)
    match_header(csv_file.header, kind)
    ctx.labels = translation.labels()
    staging.load(ctx, csv_file, list(translation.columns), list(kind.columns))
    checks = (staging.type_checks(list(kind.columns), ctx.labels)
              + [staging.duplicate_check(list(kind.key), ctx.labels)] + kind.checks(ctx))
    try:
        staging.collect_errors(ctx, checks)
        staging.raise_if_errors(ctx, MAX_ERRORS)
    except Rejected as rejection:
        raise translation.remap(rejection) from None
    kind.merge(ctx)


def read_orgs(ctx: Context, bundle: Bundle, tally: Tally) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """Each school org's casemgr school code, by the district's mapping (sourcedId, then
    identifier), else by identifier = school code; and the school orgs mapped to none,
    with how to map them. Orgs of earlier bundles count for a delta file."""
    params = {"district": ctx.district_id, "source": SOURCE}
    mapped = dict(ctx.cur.execute(
        """SELECT m.org_key, o.code FROM source_schools m JOIN organizations o ON o.id = m.school_id
           WHERE m.district_id = %(district)s AND m.source = %(source)s""", params).fetchall())
    codes = {code for code, in ctx.cur.execute(
        "SELECT code FROM organizations WHERE kind = 'school' AND district_id = %(district)s", params).fetchall()}
    schools = dict(ctx.cur.execute(
        """SELECT s.sourced_id, o.code FROM source_ids s JOIN organizations o ON o.id = s.record_id
           WHERE s.district_id = %(district)s AND s.source = %(source)s AND s.entity = 'org'""", params).fetchall())
    unmapped: dict[str, tuple[int, str]] = {}
    ended: list[int] = []
    for n, org in bundle.rows("orgs.csv"):
        tally.add("orgs.csv", read=1)
        if deleted(org):
            ended.append(n)
            continue
        if org["type"].lower() != "school":
            continue
        sid, identifier = org["sourcedId"], org.get("identifier", "")
        code = mapped.get(sid) or mapped.get(identifier) or (identifier if identifier in codes else "")
        if code:
            schools[sid] = code
        else:  # an org the bundle gives is mapped by what it says now, not by what an earlier bundle said
            schools.pop(sid, None)
            name = f" '{org['name']}'" if org.get("name") else ""
            unmapped[sid] = (n, (
                f"{sid}{name} is a school casemgr does not know: "
                + (f"no school of the district has the code '{identifier}'" if identifier else "it has no identifier")
                + f"; {HOW_TO_MAP}"))
    ctx.cur.execute(
        """INSERT INTO source_ids (district_id, source, entity, sourced_id, record_id)
           SELECT %(district)s, %(source)s, 'org', k.sourced_id, o.id
           FROM unnest(%(sids)s::text[], %(codes)s::text[]) AS k (sourced_id, code)
           JOIN organizations o ON o.code = k.code AND o.kind = 'school' AND o.district_id = %(district)s
           ON CONFLICT (district_id, source, entity, sourced_id) DO UPDATE SET record_id = EXCLUDED.record_id
           WHERE source_ids.record_id <> EXCLUDED.record_id""",
        params | {"sids": list(schools), "codes": list(schools.values())})
    if ended:
        tally.add("orgs.csv", skipped=len(ended))
        ctx.warnings.append(RowError(ended[0], "orgs.csv", (
            f"{len(ended)} org{'' if len(ended) == 1 else 's'} marked tobedeleted skipped: casemgr does not close "
            "schools from a roster")))
    return schools, unmapped


def _lookups(ctx: Context, bundle: Bundle, tally: Tally) -> Lookups:
    schools, unmapped = read_orgs(ctx, bundle, tally)
    params = {"district": ctx.district_id, "source": SOURCE}
    years = {year: (first, last) for year, first, last in ctx.cur.execute(
        "SELECT year, starts_on, ends_on FROM school_years WHERE district_id = %(district)s", params).fetchall()}
    lookups = Lookups(schools, unmapped, years)
    if bundle.mode("users.csv") != "bulk":  # a delta (or no) users.csv: the users of earlier bundles
        lookups.students = dict(ctx.cur.execute(
            """SELECT s.sourced_id, st.state_id FROM source_ids s JOIN students st ON st.id = s.record_id
               WHERE s.district_id = %(district)s AND s.source = %(source)s AND s.entity = 'student'""", params).fetchall())
        lookups.teachers = dict(ctx.cur.execute(
            """SELECT s.sourced_id, u.email FROM source_ids s JOIN users u ON u.id = s.record_id
               WHERE s.district_id = %(district)s AND s.source = %(source)s AND s.entity = 'teacher'""", params).fetchall())
    if bundle.mode("classes.csv") != "bulk":
        lookups.classes = {sid: tuple(rest) for sid, *rest in ctx.cur.execute(
            """SELECT s.sourced_id, o.code, c.school_year, c.term, c.course_code, c.course_title
               FROM source_ids s JOIN sections c ON c.id = s.record_id
               JOIN organizations o ON o.id = c.school_id
               WHERE s.district_id = %(district)s AND s.source = %(source)s AND s.entity = 'class'""", params).fetchall()}
    if bundle.mode("enrollments.csv") != "bulk":
        lookups.class_teachers = dict(ctx.cur.execute(
            """SELECT s.sourced_id, u.email FROM source_ids s JOIN sections c ON c.id = s.record_id
               JOIN users u ON u.id = c.teacher_id
               WHERE s.district_id = %(district)s AND s.source = %(source)s AND s.entity = 'class'""", params).fetchall())
    return lookups


def run(path: Path, ctx: Context) -> None:
    with tempfile.TemporaryDirectory(prefix="casemgr-oneroster-", dir=spool_dir()) as folder:
        bundle_folder, translated = Path(folder) / "bundle", Path(folder) / "casemgr"
        bundle_folder.mkdir()
        translated.mkdir()
        bundle = read_bundle(path, bundle_folder)
        tally = Tally()
        lookups = _lookups(ctx, bundle, tally)
        roster = translate(bundle, lookups, translated, ctx.today)
        errors = roster.errors + _unmapped(lookups, roster) + missing_for_new_students(ctx, roster)
        if errors:
            raise Rejected(sorted(errors, key=lambda e: e.row or 0), roster.error_total + len(errors) - len(roster.errors))
        ctx.warnings.extend(roster.warnings)
        for name, count in roster.read.items():
            tally.add(name, read=count, skipped=roster.skipped[name])
        _merge(ctx, roster, tally)
        tally.close(ctx, bundle.files)


def _unmapped(lookups: Lookups, roster: Roster) -> list[RowError]:
    """One error per school org that rows belong to and that maps to no casemgr school."""
    return [RowError(lookups.unmapped[sid][0], "orgs.csv (identifier)", (
        f"{lookups.unmapped[sid][1]} ({count} row{'' if count == 1 else 's'} of the bundle belong to it)"))
        for sid, count in sorted(roster.unmapped.items())]


def _merge(ctx: Context, roster: Roster, tally: Tally) -> None:
    merge.copy_sheet(ctx, roster.sources, "oneroster_sources")
    for students in (roster.students, roster.undescribed):
        if students.rows:
            tally.merged(ctx, "users.csv", lambda: _run_translated(STUDENTS, students, ctx))
    tally.merged(ctx, "users.csv", lambda: create_teachers(ctx, roster.teachers))
    merge.keep_sources(ctx, ("student", "teacher"))
    merge.guardians(ctx, roster, tally)
    if roster.sections.rows:
        tally.merged(ctx, "classes.csv", lambda: _run_translated(classes.SECTIONS, roster.sections, ctx))
    merge.keep_sources(ctx, ("class",))
    if roster.enrollments.rows:
        tally.merged(ctx, "enrollments.csv",
                     lambda: _run_translated(classes.SECTION_ENROLLMENTS, roster.enrollments, ctx))
    merge.keep_sources(ctx, ("enrollment",))
    merge.school_enrollments(ctx, roster, tally)
    merge.end_deleted(ctx, roster, tally)
    staging.drop_tables(ctx.cur)
    merge.drop_tables(ctx)


def _no_checks(ctx: Context) -> list[str]:
    return []


ONEROSTER = Kind(
    "oneroster", "OneRoster 1.1 bundle", [], [], _no_checks, lambda ctx: None, run=run, bundle=True,
    description="A .zip of OneRoster 1.1 CSV files: students, teachers, guardians, classes and enrollments.",
)


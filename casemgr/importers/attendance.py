"""Kind `attendance`: one row per student and school day.

A small file (a nightly file of a few days) takes the path of every kind: a typed
staging table, one set-based check per rule, one INSERT … ON CONFLICT.

A large file (a full year is ~9 million rows for 50,000 students) takes a faster path:
after the COPY into staging, ONE pass resolves every row at once (state ID to student,
school code and date text to an instructional, not-future day of that school's
calendar, status to the closed list) and compares it with the stored row; only when that
pass finds a bad row are the detailed checks run, to name every error. Then only new and
changed rows are written; when they are many, attendance_days is loaded without its
indexes and foreign keys, which are rebuilt and validated inside the same transaction
(per-row index and foreign-key maintenance is what makes a naive merge ~10x slower than
COPY, SPEC §7).
"""
from __future__ import annotations

import psycopg

from casemgr.importers import staging
from casemgr.importers.base import MAX_ERRORS, Column, Context, Kind
from casemgr.importers.lookups import in_future, outside_school_year, unknown_school, unknown_student, upsert
from casemgr.importers.source import check_header, read_csv
from casemgr.models.enums import AttendanceStatus
from casemgr.seed.bulk import constraints_deferred

BULK_ROWS = 100_000  # at or above: the one-pass path, and an index rebuild after a large change

COLUMNS = [
    Column("state_id", max_length=32),
    Column("school_code", max_length=32),
    Column("date", "date"),
    Column("status", "enum", values=tuple(AttendanceStatus)),
]
KEY = ["state_id", "date"]

RESOLVED = """
    SELECT s.id AS student_id, t.date AS day, o.id AS school_id, t.status
    FROM import_typed t
    JOIN students s ON s.state_id = t.state_id AND s.district_id = %(district)s
    JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s"""


def checks(ctx: Context) -> list[str]:
    return [
        unknown_student(),
        unknown_school(),
        in_future("date"),
        outside_school_year("date"),
        """SELECT t.row_no, 'date', format('%%s is not a school day at %%s', t.date, t.school_code)
           FROM import_typed t
           JOIN organizations o ON o.code = t.school_code AND o.kind = 'school' AND o.district_id = %(district)s
           LEFT JOIN calendar_days c ON c.school_id = o.id AND c.day = t.date AND c.instructional
           WHERE t.date <= %(today)s AND c.day IS NULL
             AND EXISTS (SELECT 1 FROM school_years y WHERE y.district_id = %(district)s AND t.date BETWEEN y.starts_on AND y.ends_on)""",
    ]


def validate_in_detail(ctx: Context) -> None:
    """Every rule, each naming its rows (raises Rejected when a row is bad)."""
    staging.type_rows(ctx, COLUMNS)
    staging.collect_errors(ctx, staging.type_checks(COLUMNS) + [staging.duplicate_check(KEY)] + checks(ctx))
    staging.raise_if_errors(ctx, MAX_ERRORS)


def run(raw: bytes, ctx: Context) -> None:
    csv_file = read_csv(raw)
    check_header(csv_file.header, COLUMNS)
    rows = staging.load(ctx, csv_file.data, csv_file.header, COLUMNS, typed=False)
    ctx.counts.rows_read += rows
    if rows < BULK_ROWS:
        validate_in_detail(ctx)
        upsert(ctx, "attendance_days", ["student_id", "day", "school_id", "status"], RESOLVED, ["student_id", "day"])
        return
    cur = ctx.cur
    # hash joins: a merge join would sort millions of staged rows on text keys
    cur.execute("SET LOCAL enable_mergejoin = off")
    cur.execute("SET LOCAL work_mem = '256MB'")
    cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cur.execute("ANALYZE import_stage")
    resolve_in_one_pass(ctx)
    inserted, updated, bad = cur.execute("""
        SELECT count(*) FILTER (WHERE NOT existed), count(*) FILTER (WHERE changed),
               count(*) FILTER (WHERE student_id IS NULL OR day IS NULL OR status IS NULL)
        FROM import_attendance""").fetchone()
    if bad or has_duplicates(ctx):
        validate_in_detail(ctx)  # names every bad row and raises
        # only spaces or letter case differed: the typed rows are good, merge them
        upsert(ctx, "attendance_days", ["student_id", "day", "school_id", "status"], RESOLVED, ["student_id", "day"])
        return
    ctx.counts.add(inserted, updated)
    write_changes(ctx)


def resolve_in_one_pass(ctx: Context) -> None:
    params = {"district": ctx.district_id, "today": ctx.today}
    ctx.cur.execute("""
        CREATE TEMP TABLE import_school_days AS
        SELECT o.code, c.school_id, c.day, c.day::text AS day_text
        FROM calendar_days c JOIN organizations o ON o.id = c.school_id AND o.kind = 'school' AND o.district_id = %(district)s
        WHERE c.instructional AND c.day <= %(today)s
          AND EXISTS (SELECT 1 FROM school_years y WHERE y.district_id = %(district)s AND c.day BETWEEN y.starts_on AND y.ends_on)""",
                    params)
    ctx.cur.execute("ANALYZE import_school_days")
    statuses = ", ".join(f"'{s}'" for s in AttendanceStatus)
    # raw keys (no trim, no case folding: they cost more than the joins); a row that only
    # differs by spaces or case fails here and takes the detailed path, which accepts it
    ctx.cur.execute(f"""
        CREATE TEMP TABLE import_attendance AS
        SELECT st.id AS student_id, c.school_id, c.day, CASE WHEN s.status IN ({statuses}) THEN s.status END AS status,
               a.student_id IS NOT NULL AS existed,
               a.student_id IS NOT NULL AND (a.status <> s.status OR a.school_id <> c.school_id) AS changed
        FROM import_stage s
        LEFT JOIN students st ON st.state_id = s.state_id AND st.district_id = %(district)s
        LEFT JOIN import_school_days c ON c.code = s.school_code AND c.day_text = s.date
        LEFT JOIN attendance_days a ON a.student_id = st.id AND a.day = c.day""", params)
    ctx.cur.execute("DROP TABLE import_school_days")


def has_duplicates(ctx: Context) -> bool:
    """A unique index on the resolved rows (a sort, cheaper than grouping 9 million rows)."""
    cur = ctx.cur
    cur.execute("SAVEPOINT import_duplicates")
    try:
        cur.execute("CREATE UNIQUE INDEX ON import_attendance (student_id, day)")
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT import_duplicates")
        return True
    cur.execute("RELEASE SAVEPOINT import_duplicates")
    return False


def write_changes(ctx: Context) -> None:
    cur = ctx.cur
    inserted, updated = ctx.counts.inserted, ctx.counts.updated
    if inserted + updated == 0:
        return
    if inserted + updated < BULK_ROWS:
        cur.execute("""INSERT INTO attendance_days (student_id, day, school_id, status)
            SELECT student_id, day, school_id, status FROM import_attendance WHERE changed OR NOT existed
            ON CONFLICT (student_id, day) DO UPDATE SET school_id = EXCLUDED.school_id, status = EXCLUDED.status""")
        return
    with constraints_deferred(cur, ["attendance_days"]):
        if updated:
            cur.execute("""UPDATE attendance_days a SET school_id = n.school_id, status = n.status
                FROM import_attendance n WHERE n.changed AND a.student_id = n.student_id AND a.day = n.day""")
        cur.execute("""INSERT INTO attendance_days (student_id, day, school_id, status)
            SELECT student_id, day, school_id, status FROM import_attendance WHERE NOT existed""")
    cur.execute("ANALYZE attendance_days")


def _merged_by_run(ctx: Context) -> None:
    """Not called: the attendance kind runs itself (`run` above)."""


ATTENDANCE = Kind(
    "attendance", "Daily attendance", COLUMNS, KEY, checks, _merged_by_run, run=run,
    description="One row per student and school day: present, tardy, excused, unexcused or suspended (out of school).",
)

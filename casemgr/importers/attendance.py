"""Kind `attendance`: one row per student and school day.

A full year is ~9 million rows for 50,000 students, so every file, large or small,
takes one path of a few set-based statements:
1. COPY into an unlogged staging table (text columns), which, unlike a temporary one,
   PostgreSQL reads with parallel workers (in the schema import_staging: the application
   role creates nothing in public);
2. ONE pass resolves every row (state ID to student, school code and date text to an
   instructional, not-future day of that school's calendar in a school year, status to
   the closed list) and folds the rows into one row of bit strings per student-year
   (`casemgr.attendance`); every row sets one bit, so fewer bits than rows means a row
   did not resolve or a day was given twice;
3. only when that pass finds a bad row are the detailed checks run, to name every error
   with its row number (they also accept what only differs by spaces or letter case);
4. one statement merges the folded rows into attendance_years, writing only the
   student-years that change.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from psycopg import sql

from casemgr import attendance
from casemgr.importers import staging
from casemgr.importers.base import MAX_ERRORS, Column, Context, Kind, Rejected, RowError
from casemgr.importers.lookups import in_future, outside_school_year, unknown_school, unknown_student
from casemgr.importers.source import match_header, read_csv
from casemgr.models.enums import AttendanceStatus

COLUMNS = [
    Column("state_id", max_length=32),
    Column("school_code", max_length=32),
    Column("date", "date"),
    Column("status", "enum", values=tuple(AttendanceStatus)),
]
KEY = ["state_id", "date"]

# the staged rows as text, exactly as in the file (no trim or case folding: they cost
# more than the joins; a row that only differs by spaces or case fails the fast pass
# and takes the detailed one, which accepts it)
RAW_ROWS = "SELECT state_id, school_code, date AS day_text, status FROM {stage}"
TYPED_ROWS = "SELECT state_id, school_code, date::text AS day_text, status FROM import_typed"


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
    staging.collect_errors(ctx, staging.type_checks(COLUMNS, ctx.labels) + [staging.duplicate_check(KEY, ctx.labels)]
                           + checks(ctx))
    staging.raise_if_errors(ctx, MAX_ERRORS)


def run(path: Path, ctx: Context) -> None:
    csv_file = read_csv(path)
    ctx.labels = match_header(csv_file.header, ATTENDANCE)
    # unlogged, not temporary: the fold below can then use parallel workers
    suffix = uuid.uuid4().hex[:16]
    stage, days = staging.unlogged(f"import_stage_{suffix}"), staging.unlogged(f"import_year_days_{suffix}")
    rows = staging.load(ctx, csv_file, list(ctx.labels), COLUMNS, typed=False, unlogged_table=stage)
    ctx.counts.rows_read += rows
    cur = ctx.cur
    cur.execute("SET LOCAL work_mem = '256MB'")
    cur.execute(sql.SQL("ANALYZE {}").format(stage))
    calendar(ctx, days)
    if not fold(ctx, RAW_ROWS.format(stage=stage.as_string(cur)), rows, days):
        # rows of empty values only (a blank row left mid-file) are no rows: without them,
        # the file may fold after all; if not, the detailed checks name the bad rows
        blank = cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            stage, staging.blank_row([c.name for c in COLUMNS]))).fetchone()[0]
        ctx.counts.rows_read -= blank
        rows -= blank
        if rows == 0:
            raise Rejected([RowError(None, None, "the file has a header but no rows")])
        if not (blank and fold(ctx, RAW_ROWS.format(stage="import_stage"), rows, days)):
            validate_in_detail(ctx)  # names every bad row and raises
            if not fold(ctx, TYPED_ROWS, rows, days):  # the detailed checks passed: never expected
                raise Rejected([RowError(None, None, "some rows could not be matched to a student and school day")])
    cur.execute("RESET work_mem")
    cur.execute(sql.SQL("DROP TABLE {}, {} CASCADE").format(stage, days))
    inserted, updated = cur.execute(attendance.changes_sql("import_attendance")).fetchone()
    ctx.counts.add(inserted, updated)
    if inserted or updated:
        cur.execute(attendance.merge_sql("import_attendance"))


def calendar(ctx: Context, days: sql.Identifier) -> None:
    """`days` (an unlogged table): every day of the district's school years by its ISO text, once
    per status, with the one bit that (day, status) sets in its year's bit string of that
    status (the others NULL); import_open_days: per school and year, the bits of its
    open days (instructional, not in the future)."""
    params = {"district": ctx.district_id, "today": ctx.today}
    cur = ctx.cur
    cur.execute("DROP TABLE IF EXISTS pg_temp.import_open_days")
    one_hot = ", ".join(
        f"CASE WHEN t.status = '{status}' THEN set_bit(repeat('0', y.ends_on - y.starts_on + 1)::varbit,"
        f" d::date - y.starts_on, 1) END AS {status}"
        for status in attendance.STATUSES
    )
    cur.execute(sql.SQL("""
        CREATE UNLOGGED TABLE {} AS
        SELECT d::date::text AS day_text, t.status, y.id AS school_year_id, {}
        FROM school_years y
        CROSS JOIN generate_series(y.starts_on, y.ends_on, interval '1 day') AS d
        CROSS JOIN unnest(%(statuses)s::text[]) AS t(status)
        WHERE y.district_id = %(district)s""").format(days, sql.SQL(one_hot)),
                {**params, "statuses": list(attendance.STATUSES)})
    cur.execute(sql.SQL("ANALYZE {}").format(days))
    cur.execute("""
        CREATE TEMP TABLE import_open_days AS
        SELECT hashtextextended(o.code, 0) AS code_hash, y.id AS school_year_id,
               bit_or(set_bit(repeat('0', y.ends_on - y.starts_on + 1)::varbit, c.day - y.starts_on, 1)) AS open
        FROM calendar_days c
        JOIN organizations o ON o.id = c.school_id AND o.kind = 'school' AND o.district_id = %(district)s
        JOIN school_years y ON y.district_id = %(district)s AND c.day BETWEEN y.starts_on AND y.ends_on
        WHERE c.instructional AND c.day <= %(today)s
        GROUP BY o.code, y.id""", params)


def fold(ctx: Context, rows_sql: str, rows: int, days: sql.Identifier, by_school: bool = False) -> bool:
    """Fold the rows into import_attendance, one row of bit strings per student-year.

    The millions of rows are folded by state ID and year (and school code `by_school`)
    after one join, on the day's text and the status, with a table of a few thousand
    (day, status) pairs that holds each pair's bit: per row, one small join and one
    bit_or keep this pass close to the cost of reading the rows. The thousands of folded
    rows are then resolved to students and checked against their school's open days. A
    student with rows at two schools in the file is folded again `by_school`. False when
    a row did not resolve (unknown student or school, a date not in a school year, not a
    school day there or in the future, a status not in the list) or a student's day came
    twice."""
    cur = ctx.cur
    cur.execute("DROP TABLE IF EXISTS pg_temp.import_folded, pg_temp.import_attendance")
    # a hash join: the planner may price a merge join lower, but it would sort
    # millions of staged rows
    cur.execute("SET LOCAL enable_mergejoin = off")
    # A school is known by the 64-bit hash of its code (carrying the code's text through
    # the aggregate costs more per row). A student's rows name one school in all but
    # rare files: then the OR and the AND of their hashes agree; where they differ, the
    # rows are folded again, by school code.
    code_hash = "hashtextextended(s.school_code, 0)"
    if by_school:
        school = f"{code_hash} AS school_hash, {code_hash} AS other_school_hash"
    else:
        school = f"bit_or({code_hash}) AS school_hash, bit_and({code_hash}) AS other_school_hash"
    folded = ", ".join(f"bit_or(c.{status}) AS {status}" for status in attendance.STATUSES)
    cur.execute(f"""
        CREATE TEMP TABLE import_folded AS
        SELECT s.state_id, c.school_year_id, {school}, {folded}
        FROM ({rows_sql}) s JOIN {days.as_string(cur)} c ON c.day_text = s.day_text AND c.status = s.status
        GROUP BY s.state_id, c.school_year_id{", s.school_code" if by_school else ""}""")
    cur.execute("SET LOCAL enable_mergejoin = on")
    if not by_school and cur.execute(
            "SELECT EXISTS (SELECT 1 FROM import_folded WHERE school_hash <> other_school_hash)").fetchone()[0]:
        return fold(ctx, rows_sql, rows, days, by_school=True)
    zeros = "repeat('0', y.ends_on - y.starts_on + 1)::varbit"
    merged = ", ".join(f"coalesce(bit_or(f.{status}), {zeros}) AS {status}" for status in attendance.STATUSES)
    recorded = " | ".join(f"coalesce(f.{status}, {zeros})" for status in attendance.STATUSES)
    cur.execute(f"""
        CREATE TEMP TABLE import_attendance AS
        SELECT st.id AS student_id, f.school_year_id, y.starts_on AS first_day, {merged},
               bool_and(o.open IS NOT NULL AND bit_count(({recorded}) & ~o.open) = 0) AS open
        FROM import_folded f
        JOIN school_years y ON y.id = f.school_year_id
        LEFT JOIN students st ON st.state_id = f.state_id AND st.district_id = %(district)s
        LEFT JOIN import_open_days o ON o.code_hash = f.school_hash AND o.school_year_id = f.school_year_id
        GROUP BY st.id, f.school_year_id, y.starts_on, y.ends_on""", {"district": ctx.district_id})
    recorded = " | ".join(attendance.STATUSES)
    # every row sets one bit: fewer bits than rows means a row did not resolve (the join
    # dropped it) or a student's day came twice
    recorded_days, bad = cur.execute(f"""
        SELECT coalesce(sum(bit_count({recorded})), 0), count(*) FILTER (WHERE student_id IS NULL OR NOT open)
        FROM import_attendance""").fetchone()
    return recorded_days == rows and bad == 0


def _merged_by_run(ctx: Context) -> None:
    """Not called: the attendance kind runs itself (`run` above)."""


ATTENDANCE = Kind(
    "attendance", "Daily attendance", COLUMNS, KEY, checks, _merged_by_run, run=run,
    description="One row per student and school day: present, tardy, excused, unexcused or suspended (out of school).",
)

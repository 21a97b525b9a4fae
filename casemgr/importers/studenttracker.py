"""Kind `studenttracker`: the National Student Clearinghouse's StudentTracker for High
Schools detail report (CSV, one row per enrollment term or degree, and one "not found"
row per graduate searched without a record), read by `casemgr.clearinghouse`.

The report names each graduate by the requester return field, the district's student
ID (local ID) that the graduates file sent. A report holds every record the
Clearinghouse has of each graduate it names, so importing one replaces those graduates'
records and leaves everyone else's: importing the same report again changes nothing.
The four measures (`casemgr.postsecondary`) are derived again for the graduates named.
A bad report is rejected whole, with its rows' errors; nothing of it is written."""
from __future__ import annotations

from pathlib import Path

from casemgr import clearinghouse, postsecondary
from casemgr.importers.base import (
    MAX_ERRORS,
    Context,
    Kind,
    Rejected,
    RowError,
    Unreadable,
)

RECORD_COLUMNS = ("row_no", "student_key", "found", "searched_on", "reported_on", "college_code", "college_name",
                  "college_state", "college_level", "public", "begins_on", "ends_on", "enrollment_status", "graduated",
                  "graduated_on", "degree_title", "major")
# what a record is, for counting the records a report brings that were not there before
SAME_RECORD = " AND ".join(f"p.{c} IS NOT DISTINCT FROM r.{c}" for c in RECORD_COLUMNS[2:] if c != "reported_on")


def run(path: Path, ctx: Context) -> None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable([RowError(None, None, f"the file is not UTF-8 text (byte {error.start + 1:,})")]) from None
    ctx.progress(phase="reading")
    report = clearinghouse.parse_detail_report(text)
    ctx.counts.rows_read = len(report.records) + len(report.errors)
    if report.errors:
        raise Rejected([RowError(e.row, None, e.message) for e in report.errors])
    ctx.progress(rows_done=ctx.counts.rows_read, phase="checking")
    _stage(ctx, report.records)
    _reject_unknown_students(ctx)
    ctx.progress(phase="merging")
    _merge(ctx)


def _stage(ctx: Context, records) -> None:
    cur = ctx.cur
    cur.execute("""CREATE TEMP TABLE import_records (
        row_no int, student_key text, found boolean, searched_on date, reported_on date, college_code text, college_name text,
        college_state text, college_level text, public boolean, begins_on date, ends_on date,
        enrollment_status text, graduated boolean, graduated_on date, degree_title text, major text,
        student_id int)""")
    with cur.copy(f"COPY import_records ({', '.join(RECORD_COLUMNS)}) FROM STDIN") as copy:
        for r in records:
            copy.write_row((r.row, r.student_id, r.found, r.search_date, ctx.today, r.college_code, r.college_name,
                            r.college_state, r.college_level, r.public, r.enrollment_begin, r.enrollment_end,
                            r.enrollment_status, r.graduated, r.graduation_date, r.degree_title,
                            r.degree_major or r.enrollment_major))
    cur.execute("""UPDATE import_records r SET student_id = s.id FROM students s
                   WHERE s.district_id = %s AND s.local_id = r.student_key""", (ctx.district_id,))


def _reject_unknown_students(ctx: Context) -> None:
    ctx.cur.execute("""SELECT row_no, student_key FROM import_records WHERE student_id IS NULL ORDER BY row_no""")
    unknown = ctx.cur.fetchall()
    if unknown:
        raise Rejected([RowError(row, clearinghouse.STUDENT_ID, f"no student of the district has the ID {key}")
                        for row, key in unknown[:MAX_ERRORS]], total=len(unknown))


def _merge(ctx: Context) -> None:
    cur, district = ctx.cur, ctx.district_id
    cur.execute(f"""SELECT count(*) FROM import_records r WHERE EXISTS (
                        SELECT 1 FROM postsecondary_records p
                        WHERE p.district_id = %s AND p.student_id = r.student_id AND {SAME_RECORD})""", (district,))
    unchanged = cur.fetchone()[0]
    cur.execute("""DELETE FROM postsecondary_records p USING (SELECT DISTINCT student_id FROM import_records) r
                   WHERE p.district_id = %s AND p.student_id = r.student_id""", (district,))
    stored = ", ".join(RECORD_COLUMNS[:1] + RECORD_COLUMNS[2:])  # all but the key the file gave
    cur.execute(f"""INSERT INTO postsecondary_records (district_id, student_id, {stored})
                    SELECT %s, student_id, {stored} FROM import_records ORDER BY row_no""", (district,))
    ctx.counts.add(cur.rowcount - unchanged, 0)
    cur.execute("SELECT array_agg(DISTINCT student_id) FROM import_records")
    named = cur.fetchone()[0] or []
    cur.execute("DROP TABLE import_records")
    postsecondary.derive(district, named)


STUDENTTRACKER = Kind(
    "studenttracker", "Clearinghouse StudentTracker detail report", [], [], lambda ctx: [], lambda ctx: None,
    run=run, feeds_indicators=False,
    description=("The National Student Clearinghouse's StudentTracker for High Schools detail report (CSV): where "
                 "the district's graduates enrolled in college. It replaces the records of the graduates it names."),
)

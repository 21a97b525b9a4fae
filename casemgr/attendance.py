"""Daily attendance, stored as one row per student and school year (`AttendanceYear`).

Each status is a bit string over the days of the school year (bit i is `first_day + i`).
Writing is set-based: rows of (student, day, status) are folded into bit strings with
`bit_or` (one hash aggregate, whatever their order) and merged into the stored rows in
one statement, where a day in the new rows replaces that day's stored status and every
other stored day is kept. Counting absences is `bit_count` over a prefix of the year.

The importer (`casemgr.importers.attendance`), the seed and the tests all write through
`FOLD_SQL` and `MERGE_SQL` below; readers use `days_of` or the `attendance_days` view.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models.enums import ABSENT_STATUSES, AttendanceStatus

STATUSES: tuple[str, ...] = tuple(str(s) for s in AttendanceStatus)  # also the column names
RECORDED = " | ".join(STATUSES)

# the view of one row per student and recorded day (created by migration 0003)
attendance_days = sa.table(
    "attendance_days", sa.column("student_id"), sa.column("school_year_id"), sa.column("day"), sa.column("status")
)  # the days with any record
ABSENT = " | ".join(str(s) for s in ABSENT_STATUSES)


def year_bits(length: int, positions: Iterable[int]) -> str:
    """A bit string of `length` days as text, with the bits at `positions` set."""
    bits = bytearray(b"0" * length)
    for position in positions:
        bits[position] = ord("1")
    return bits.decode()


def fold_sql(source: str, keys: Sequence[str] = ("student_id",)) -> str:
    """Fold `source` into one row of bit strings per `keys` and school year. `source`
    gives one row per student and day: the keys, school_year_id, first_day, length (days
    in the year), zeros (that many 0 bits), position (the day's bit) and status. `rows`
    counts the source rows: more than the days recorded when a day repeats."""
    folded = ",\n       ".join(
        f"coalesce(bit_or(set_bit(zeros, position, 1)) FILTER (WHERE status = '{status}'),"
        f" repeat('0', length)::varbit) AS {status}"
        for status in STATUSES
    )
    return f"""
SELECT {", ".join(keys)}, school_year_id, first_day, count(*) AS rows,
       {folded}
FROM ({source}) folded
GROUP BY {", ".join(keys)}, school_year_id, first_day, length"""


def merge_sql(new: str) -> str:
    """Merge the folded rows of table `new` into attendance_years: a day `new` records
    takes its new status, every other stored day is kept; rows that would not change
    are not written."""
    kept = "~(" + " | ".join(f"n.{s}" for s in STATUSES) + ")"
    merged = ", ".join(f"{s} = n.{s} | (a.{s} & {kept})" for s in STATUSES)
    unchanged = " AND ".join(f"(n.{s} | (a.{s} & {kept})) = a.{s}" for s in STATUSES)
    columns = ", ".join(STATUSES)
    return f"""
WITH updated AS (
    UPDATE attendance_years a SET {merged}
    FROM {new} n
    WHERE a.student_id = n.student_id AND a.school_year_id = n.school_year_id AND NOT ({unchanged})
    RETURNING a.student_id
)
INSERT INTO attendance_years (student_id, school_year_id, first_day, {columns})
SELECT n.student_id, n.school_year_id, n.first_day, {", ".join(f"n.{s}" for s in STATUSES)}
FROM {new} n
WHERE NOT EXISTS (SELECT 1 FROM attendance_years a
                  WHERE a.student_id = n.student_id AND a.school_year_id = n.school_year_id)"""


def changes_sql(new: str) -> str:
    """Days the merge of `new` would insert (no record before) and update (another
    status before), in one row."""
    recorded_new = " | ".join(f"n.{s}" for s in STATUSES)
    recorded_old = " | ".join(f"a.{s}" for s in STATUSES)
    same = " + ".join(f"coalesce(bit_count(n.{s} & a.{s}), 0)" for s in STATUSES)
    return f"""
SELECT coalesce(sum(CASE WHEN a.student_id IS NULL THEN bit_count({recorded_new})
                         ELSE bit_count(({recorded_new}) & ~({recorded_old})) END), 0)::bigint AS inserted,
       coalesce(sum(CASE WHEN a.student_id IS NULL THEN 0
                         ELSE bit_count(({recorded_new}) & ({recorded_old})) - ({same}) END), 0)::bigint AS updated
FROM {new} n
LEFT JOIN attendance_years a ON a.student_id = n.student_id AND a.school_year_id = n.school_year_id"""


def record(entries: Iterable[tuple[int, date, str]]) -> None:
    """Record (student_id, day, status) entries, merged into the stored year of each
    student; each day must fall in one of the student's district's school years."""
    entries = list(entries)
    if not entries:
        return
    source = """
        SELECT e.student_id, y.id AS school_year_id, y.starts_on AS first_day,
               (y.ends_on - y.starts_on + 1) AS length, repeat('0', y.ends_on - y.starts_on + 1)::varbit AS zeros,
               (e.day - y.starts_on) AS position, e.status
        FROM unnest(CAST(:students AS int[]), CAST(:days AS date[]), CAST(:statuses AS text[])) AS e(student_id, day, status)
        JOIN students st ON st.id = e.student_id
        JOIN school_years y ON y.district_id = st.district_id AND e.day BETWEEN y.starts_on AND y.ends_on"""
    session = db.session
    session.flush()
    session.execute(sa.text("DROP TABLE IF EXISTS pg_temp.attendance_new"))
    session.execute(sa.text(f"CREATE TEMP TABLE attendance_new ON COMMIT DROP AS {fold_sql(source)}"), {
        "students": [e[0] for e in entries], "days": [e[1] for e in entries], "statuses": [str(e[2]) for e in entries],
    })
    folded = session.execute(sa.text("SELECT coalesce(sum(rows), 0) FROM attendance_new")).scalar_one()
    if folded != len(entries):
        raise ValueError("every attendance day must fall in a school year of the student's district")
    session.execute(sa.text(merge_sql("attendance_new")))
    session.execute(sa.text("DROP TABLE attendance_new"))


def days_of(student_id: int, statuses: Iterable[str] = STATUSES, limit: int | None = None) -> list[tuple[date, str]]:
    """The student's recorded days with one of `statuses`, newest first."""
    wanted = [str(s) for s in statuses]
    query = sa.text(
        "SELECT day, status FROM attendance_days WHERE student_id = :student AND status = ANY(:wanted)"
        " ORDER BY day DESC" + (" LIMIT :limit" if limit is not None else "")
    )
    return [tuple(row) for row in db.session.execute(query, {"student": student_id, "wanted": wanted, "limit": limit})]


def counts_of(student_id: int) -> dict[str, int]:
    """The number of recorded days per status, over every school year."""
    columns = ", ".join(f"coalesce(sum(bit_count({s})), 0)::int AS {s}" for s in STATUSES)
    row = db.session.execute(
        sa.text(f"SELECT {columns} FROM attendance_years WHERE student_id = :student"), {"student": student_id}
    ).one()
    return dict(row._mapping)

"""The disclosure log's monthly partitions (migration 0013).

The log is partitioned by month on `occurred_at`; the partitions live in the schema
`disclosure_partitions`, where the application role has no privilege (it reads and
appends through `disclosure_log`). A month's partition must exist before its first row:
`ensure_ahead` creates the current month and the next ones, as the owner (creating a
table is the owner's right). `casemgr audit partitions` runs it and lists the
partitions; `casemgr audit digest`, run daily, runs it too. A row of a month not created
yet goes to the DEFAULT partition, so an insert never fails; such a month is then left
to the owner (`casemgr audit partitions` says so) rather than created over the rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from casemgr.extensions import db

SCHEMA = "disclosure_partitions"
MONTHS_AHEAD = 3


@dataclass(frozen=True)
class Partition:
    name: str
    bounds: str  # FOR VALUES FROM (...) TO (...), or DEFAULT
    rows: int  # estimated (the planner's statistics) for all but the DEFAULT partition
    bytes: int  # the partition and its indexes


def months(first: date, count: int) -> list[date]:
    """`count` first days of months from `first`'s."""
    start = first.year * 12 + first.month - 1
    return [date((start + i) // 12, (start + i) % 12 + 1, 1) for i in range(count)]


def ensure_ahead(today: date, ahead: int = MONTHS_AHEAD) -> tuple[list[str], list[date]]:
    """Create the partitions of this month and the `ahead` next months that are missing:
    (names created, months left alone because the DEFAULT partition holds rows of them).
    Runs as whoever is connected: the owner."""
    created, held = [], []
    for month in months(today, ahead + 1):
        outcome = db.session.scalar(sa.text("SELECT casemgr_disclosure_partition(:day)"), {"day": month})
        if outcome == "default":
            held.append(month)
        elif outcome:
            created.append(outcome)
    return created, held


def partitions() -> list[Partition]:
    rows = db.session.execute(sa.text("""
        SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds,
               CASE WHEN c.relname = 'disclosure_log_default' THEN (SELECT count(*) FROM disclosure_partitions.disclosure_log_default)
                    ELSE greatest(c.reltuples, 0)::bigint END AS rows,
               pg_total_relation_size(c.oid) AS bytes
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'disclosure_log'::regclass
         ORDER BY c.relname
    """))
    return [Partition(r.name, r.bounds, r.rows, r.bytes) for r in rows]

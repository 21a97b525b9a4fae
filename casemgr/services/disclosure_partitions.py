"""The disclosure log's monthly partitions (migration 0013).

The log is partitioned by month on `occurred_at`; the partitions live in the schema
`disclosure_partitions`, where the application role has no privilege (it reads and
appends through `disclosure_log`). A month's partition must exist before its first row:
`ensure_ahead` creates the current month and the next ones, as the owner (creating a
table is the owner's right). `casemgr audit partitions` runs it and lists the
partitions; `casemgr audit digest`, run daily, runs it too. A row of a month not created
yet goes to the DEFAULT partition, so an insert never fails; such a month is then left
to the owner (`casemgr audit partitions` says so) rather than created over the rows.

The record of disclosures is kept as long as the education record (FERPA, 34 CFR
99.32): old months are archived, never deleted: `archive` writes a month's partition to
a file and detaches it from the log, and records where each chain stood at the end of
it, so that `casemgr audit verify` walks the chains on from there. A row's month is the
time its transaction began, so a row of the next month can come before the archived
month's last row in its chain; the archive records those rows, which verify checks.
A month is archived only when its chains hold up to its last row.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from casemgr import backup
from casemgr.extensions import db
from casemgr.models import DisclosureArchive
from casemgr.services import disclosure_chain

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


def _left_in_log(month: date, last_seqs: dict[int, int]) -> dict[int, list[dict]]:
    """{chain: its rows outside `month` with a lower seq than the month's last row of the
    chain, as {"seq", "hash"}}: rows of a later month whose transaction began after that
    of a row of `month` but took the chain's head before it (models.DisclosureArchive)."""
    following = months(month, 2)[1]
    found: dict[int, list[dict]] = {}
    for row in db.session.execute(sa.text("""
        SELECT c.chain, d.seq, d.hash
          FROM unnest(CAST(:chains AS integer[]), CAST(:last_seqs AS bigint[])) AS c(chain, last_seq)
          JOIN disclosure_log d ON d.chain_district_id = c.chain AND d.seq < c.last_seq
         WHERE d.occurred_at < CAST(:month AS date)::timestamp AT TIME ZONE 'UTC'
            OR d.occurred_at >= CAST(:following AS date)::timestamp AT TIME ZONE 'UTC'
         ORDER BY 1, 2
    """), {"chains": list(last_seqs), "last_seqs": list(last_seqs.values()), "month": month, "following": following}):
        found.setdefault(row.chain, []).append({"seq": row.seq, "hash": row.hash.hex()})
    return found


class ArchiveError(RuntimeError):
    """A month that cannot be archived, in one line."""


def archive(month: date, target: Path, today: date) -> list[DisclosureArchive]:
    """Archive a month of the log: its partition written to `target` (pg_dump, custom
    format), a row per chain in `disclosure_archives` (the month's last row of the chain,
    from which `verify` walks on), and the partition detached from the log. Nothing is
    deleted: the detached table stays in the schema until the owner drops it, once the
    file is stored and a restore of it tried. Months are archived oldest first, and only
    months before the current one. Runs as the owner."""
    month = month.replace(day=1)
    name = f"disclosure_log_{month:%Y_%m}"
    if month >= today.replace(day=1):
        raise ArchiveError(f"{month:%Y-%m} is not over yet: only earlier months can be archived")
    attached = {p.name for p in partitions()}
    if name not in attached:
        raise ArchiveError(f"the log has no partition for {month:%Y-%m} (archived already, or never made)")
    older = sorted(p for p in attached if p != "disclosure_log_default" and p < name)
    if older:
        raise ArchiveError(f"archive the older months first: {older[0].removeprefix('disclosure_log_').replace('_', '-')}")
    if target.exists():
        raise ArchiveError(f"{target} exists already: choose a new file for the archive")
    chains = db.session.execute(sa.text(f"""
        SELECT DISTINCT ON (chain_district_id) chain_district_id AS chain, seq, hash,
               count(*) OVER (PARTITION BY chain_district_id) AS rows
          FROM {SCHEMA}.{name} ORDER BY chain_district_id, seq DESC
    """)).all()
    broken = disclosure_chain.breaks_up_to({c.chain: c.seq for c in chains})
    if broken:
        raise ArchiveError(f"{broken[0].label}'s chain does not hold at {broken[0].broken.describe()}: a month is "
                           "archived only once its chains verify (casemgr audit verify)")
    left = _left_in_log(month, {c.chain: c.seq for c in chains})
    url = db.engine.url
    args, env = backup.connection_arguments(url)
    partial = target.with_name(target.name + ".partial")
    backup._run([backup.tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 "--table", f"{SCHEMA}.{name}", "--file", str(partial), *args, url.database or "postgres"],
                env, "pg_dump")
    partial.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    records = [DisclosureArchive(month=month, district_id=c.chain, rows=c.rows, last_seq=c.seq, last_hash=c.hash,
                                 file_name=target.name[:255], file_sha256=digest, left_in_log=left.get(c.chain, []))
               for c in chains]
    db.session.add_all(records)
    db.session.execute(sa.text(f"ALTER TABLE disclosure_log DETACH PARTITION {SCHEMA}.{name}"))
    db.session.flush()
    return records

"""The disclosure log's hash chains: verifying them and recording their daily digests.

The database chains every row as it is written (migration 0012, the trigger
`disclosure_log_chain`): one chain per district, the district of the row's student or,
for a row without a student, of its organization; chain 0 holds the rows of no district;
a list row's students are all of one district (migration 0013). Each row's `hash` is casemgr_disclosure_hash() over its fields and `prev_hash`, the hash
of the row before it (32 zero bytes before the first).

`verify` recomputes every hash in one set-based query per call (the database walks each
chain in `seq` order on its (chain, seq) index; only the first broken row of each chain
comes back) and checks the chain heads and the recorded digests. After an archived month
(services/disclosure_partitions.py) it walks on from the month's last row, and checks the
rows the archive recorded as left in the log before it. The log grows for
years, so two cheaper walks cover a stretch of it: `verify_day` the rows of one day
(from the hash of the row before the first of them), `verify_since_digests` the rows
after each chain's latest digest (the admin's page, on every load). Someone able to rewrite rows
and recompute every later hash can make the rows agree with each other again, but not
with a digest already exported or printed: `casemgr audit digest`, run daily, records
each chain's head in the append-only `disclosure_digests`, and the district admin's
disclosure log page shows them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on, insert

from casemgr.extensions import db
from casemgr.models import DisclosureArchive, DisclosureChainHead, DisclosureDigest, DisclosureEntry, Organization

GENESIS = bytes(32)
NO_DISTRICT = 0

MAX_SEQ = 2**63 - 1

# a log row `d` still has the hash of its fields
_HASH_OK = """d.hash = casemgr_disclosure_hash(
                   d.id, d.chain_district_id, d.seq, d.occurred_at, d.user_id, d.organization_id, d.student_id,
                   d.student_ids, d.action, d.categories, d.basis, d.allowed, d.reason, d.request_path,
                   d.prev_hash)"""

# the walk of a stretch of each chain: from the row after `from_seq` (whose prev_hash
# must be `start_hash`, the genesis before seq 1) to `to_seq`; one row per chain comes
# back, its first broken row if it has one, with the number of rows walked
_WALK = sa.text(f"""
    WITH bounds AS (
        SELECT * FROM unnest(CAST(:chains AS integer[]), CAST(:from_seqs AS bigint[]), CAST(:to_seqs AS bigint[]),
                             CAST(:start_hashes AS bytea[])) AS b(chain, from_seq, to_seq, start_hash)
    ), walked AS (
        SELECT d.id, b.chain, d.seq, d.occurred_at,
               {_HASH_OK} AS hash_ok,
               d.prev_hash = lag(d.hash, 1, b.start_hash) OVER w AS link_ok,
               lag(d.seq, 1, b.from_seq) OVER w AS prior_seq,
               count(*) OVER (PARTITION BY b.chain) AS walked
          FROM bounds b
          JOIN disclosure_log d ON d.chain_district_id = b.chain AND d.seq > b.from_seq AND d.seq <= b.to_seq
        WINDOW w AS (PARTITION BY b.chain ORDER BY d.seq)
    )
    SELECT DISTINCT ON (chain) chain, id, seq, occurred_at, prior_seq, hash_ok, link_ok, walked,
           seq <> prior_seq + 1 OR NOT link_ok OR NOT hash_ok AS broken
      FROM walked
     ORDER BY chain, (seq <> prior_seq + 1 OR NOT link_ok OR NOT hash_ok) DESC, seq
""")

# each chain's head and the last row of its chain in the log (found on the (chain, seq) index)
_HEADS = sa.text("""
    SELECT c.chain, h.seq AS head_seq, h.hash AS head_hash,
           last.id AS last_id, last.seq AS last_seq, last.hash AS last_hash, last.occurred_at AS last_at
      FROM (SELECT district_id AS chain FROM disclosure_chain_heads
            UNION SELECT district_id FROM disclosure_digests) c
      LEFT JOIN disclosure_chain_heads h ON h.district_id = c.chain
      LEFT JOIN LATERAL (SELECT d.id, d.seq, d.hash, d.occurred_at FROM disclosure_log d
                          WHERE d.chain_district_id = c.chain ORDER BY d.seq DESC LIMIT 1) last ON true
     WHERE CAST(:chain AS integer) IS NULL OR c.chain = :chain
     ORDER BY 1
""")

# the rows of a day (UTC bounds given) per chain: the first and last seq
_DAY = sa.text("""
    SELECT chain_district_id AS chain, min(seq) AS first_seq, max(seq) AS last_seq
      FROM disclosure_log
     WHERE occurred_at >= :start AND occurred_at < :end
       AND (CAST(:chain AS integer) IS NULL OR chain_district_id = :chain)
     GROUP BY chain_district_id
""")

# the rows of each chain in the log up to its archive's last row, against the rows the
# archive recorded as left in the log: any row missing, unexpected, or with another hash
_LEFT_IN_LOG = sa.text(f"""
    WITH expected AS (
        SELECT a.district_id AS chain, r.seq, decode(r.hash, 'hex') AS hash
          FROM disclosure_archives a CROSS JOIN jsonb_to_recordset(a.left_in_log) AS r(seq bigint, hash text)
         WHERE a.id = ANY(:archives)
    ), found AS (
        SELECT a.district_id AS chain, a.last_seq, d.id, d.seq, d.occurred_at, d.hash, {_HASH_OK} AS hash_ok
          FROM disclosure_archives a
          JOIN disclosure_log d ON d.chain_district_id = a.district_id AND d.seq <= a.last_seq
         WHERE a.id = ANY(:archives)
    )
    SELECT coalesce(f.chain, e.chain) AS chain, f.id, coalesce(f.seq, e.seq) AS seq, f.occurred_at, f.last_seq,
           e.seq IS NOT NULL AS expected, f.hash = e.hash AS same_hash, f.hash_ok
      FROM found f FULL JOIN expected e ON e.chain = f.chain AND e.seq = f.seq
     ORDER BY 1, 3
""")

_ROW_HASH = sa.text("SELECT hash FROM disclosure_log WHERE chain_district_id = :chain AND seq = :seq")


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold."""

    row_id: int | None
    seq: int | None
    occurred_at: datetime | None
    problem: str

    def describe(self) -> str:
        if self.row_id is None:
            return self.problem
        return f"row {self.row_id} (seq {self.seq}, {self.occurred_at:%Y-%m-%d %H:%M:%S %Z}): {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    district_id: int
    label: str
    rows: int  # the rows walked
    broken: Break | None
    total: int = 0  # the rows of the chain (its last seq)


@dataclass(frozen=True)
class DigestCheck:
    digest: DisclosureDigest
    matches: bool  # the log's row at the digest's seq still has the digest's hash

    @property
    def hash_hex(self) -> str:
        return self.digest.hash.hex()


def _labels(district_ids: set[int]) -> dict[int, str]:
    codes = dict(db.session.execute(
        sa.select(Organization.id, Organization.code).where(Organization.id.in_(district_ids))
    ).all())
    return {i: codes.get(i, f"#{i}") if i != NO_DISTRICT else "(no district)" for i in district_ids}


def _row_problem(row) -> str:
    if row.seq <= row.prior_seq:
        return "another row has the same seq (a row was put into the chain after the fact)"
    if row.seq != row.prior_seq + 1:
        missing = f"row {row.prior_seq + 1}" if row.seq == row.prior_seq + 2 else \
            f"rows {row.prior_seq + 1} to {row.seq - 1}"
        return f"{missing} of the chain are missing before it (deleted?)"
    if not row.hash_ok:
        return "its fields no longer match its hash (changed after it was written)"
    return "its prev_hash is not the hash of the row before it (a row before it was changed or replaced)"


def _digest_breaks(chain: int | None) -> dict[int, Break]:
    """The earliest digest of each chain whose row no longer has the recorded hash."""
    query = (
        sa.select(DisclosureDigest, DisclosureEntry.id, DisclosureEntry.occurred_at)
        .outerjoin(DisclosureEntry, _digest_row())
        .where(DisclosureEntry.hash.is_distinct_from(DisclosureDigest.hash))
        # a digest of a month archived since: its row is in the archive
        .where(~sa.exists().where(DisclosureArchive.district_id == DisclosureDigest.district_id,
                                  DisclosureArchive.last_seq >= DisclosureDigest.seq))
        .order_by(DisclosureDigest.district_id, DisclosureDigest.seq)
    )
    if chain is not None:
        query = query.where(DisclosureDigest.district_id == chain)
    found: dict[int, Break] = {}
    for digest, row_id, occurred_at in db.session.execute(query):
        if digest.district_id in found:
            continue
        problem = (f"the digest of {digest.day} recorded hash {digest.hash.hex()} for seq {digest.seq}, "
                   + ("and that row is gone" if row_id is None else "and the row now has another"))
        found[digest.district_id] = Break(row_id, digest.seq, occurred_at, problem)
    return found


def _digest_row() -> sa.ColumnElement[bool]:
    return sa.and_(DisclosureEntry.chain_district_id == DisclosureDigest.district_id,
                   DisclosureEntry.seq == DisclosureDigest.seq)


@dataclass(frozen=True)
class Stretch:
    """The rows of a chain to walk: after `from_seq` (whose hash is `start_hash`) up to `to_seq`."""

    chain: int
    from_seq: int = 0
    start_hash: bytes = GENESIS
    to_seq: int = MAX_SEQ


def _walk(stretches: list[Stretch]) -> dict[int, tuple[int, Break | None]]:
    """{chain: (rows walked, first broken row or None)}."""
    if not stretches:
        return {}
    params = {"chains": [s.chain for s in stretches], "from_seqs": [s.from_seq for s in stretches],
              "to_seqs": [s.to_seq for s in stretches], "start_hashes": [s.start_hash for s in stretches]}
    return {r.chain: (r.walked, Break(r.id, r.seq, r.occurred_at, _row_problem(r)) if r.broken else None)
            for r in db.session.execute(_WALK, params)}


def _left_problem(row) -> str | None:
    if row.id is None:
        return (f"row {row.seq} of the chain is missing (deleted?): it was in the log when the month before it "
                "was archived")
    if not row.expected:
        return (f"its seq is not after the last archived row's (seq {row.last_seq}), and it was not in the log "
                "when that month was archived (a row was put into the chain after the fact)")
    if not row.hash_ok:
        return "its fields no longer match its hash (changed after it was written)"
    if not row.same_hash:
        return "its hash is not the one it had when the month before it was archived (the row was replaced)"
    return None


def _left_in_log(archived: dict[int, DisclosureArchive]) -> dict[int, tuple[int, Break | None]]:
    """{chain: (rows checked, first broken row or None)} for the rows each chain's last
    archive left in the log with a lower seq than its last row (models.DisclosureArchive)."""
    checked: dict[int, tuple[int, Break | None]] = {}
    if not archived:
        return checked
    for row in db.session.execute(_LEFT_IN_LOG, {"archives": [a.id for a in archived.values()]}):
        rows, broken = checked.get(row.chain, (0, None))
        problem = None if broken else _left_problem(row)
        if problem:
            broken = Break(row.id, row.seq, row.occurred_at, problem)
        checked[row.chain] = (rows + (row.id is not None), broken)
    return checked


def _with_left_in_log(walked: dict[int, tuple[int, Break | None]],
                      archived: dict[int, DisclosureArchive]) -> dict[int, tuple[int, Break | None]]:
    """The walk's figures with the rows left in the log before it: counted, and their
    break first (they come before the walked rows)."""
    combined = dict(walked)
    for chain, (rows, broken) in _left_in_log(archived).items():
        walked_rows, walked_broken = walked.get(chain, (0, None))
        combined[chain] = (rows + walked_rows, broken or walked_broken)
    return combined


def _heads(district_id: int | None) -> list:
    return db.session.execute(_HEADS, {"chain": district_id}).all()


def _tail_break(head, archived: DisclosureArchive | None = None) -> Break | None:
    """A chain whose head does not stand on its last row (in the log, else the last
    archived): rows cut from its end, or the head moved."""
    last_seq, last_hash = head.last_seq, head.last_hash
    if last_seq is None and archived is not None:
        last_seq, last_hash = archived.last_seq, archived.last_hash
    if (head.head_seq or 0) != (last_seq or 0):
        return Break(head.last_id, last_seq, head.last_at,
                     f"the chain's head is at seq {head.head_seq or 0} but its last row is seq {last_seq or 0} "
                     "(rows at its end are missing, or the head was moved)")
    if last_seq and head.head_hash != last_hash:
        return Break(head.last_id, last_seq, head.last_at, "the chain's head records another hash for this row")
    return None


def _reports(heads: list, walked: dict[int, tuple[int, Break | None]],
             digests: dict[int, Break] | None = None,
             archived: dict[int, DisclosureArchive] | None = None) -> list[ChainReport]:
    labels = _labels({h.chain for h in heads})
    reports = []
    for head in heads:
        rows, broken = walked.get(head.chain, (0, None))
        broken = broken or (digests or {}).get(head.chain) or _tail_break(head, (archived or {}).get(head.chain))
        reports.append(ChainReport(head.chain, labels[head.chain], rows, broken, head.head_seq or 0))
    return reports


def _latest_by_chain(model, newest: sa.ColumnElement, district_id: int | None) -> dict:
    """{chain: its newest row of `model` (a digest or an archive) by `newest`}, of every
    chain or the district's."""
    return {row.district_id: row for row in db.session.scalars(
        sa.select(model).ext(distinct_on(model.district_id))
        .where(sa.or_(sa.literal(district_id is None), model.district_id == district_id))
        .order_by(model.district_id, newest.desc()))}


def _archived(district_id: int | None) -> dict[int, DisclosureArchive]:
    """The last archived month of each chain (services/disclosure_partitions.py)."""
    return _latest_by_chain(DisclosureArchive, DisclosureArchive.last_seq, district_id)


def _stretches(heads: list, *known: dict[int, tuple[int, bytes]]) -> list[Stretch]:
    """Each chain walked on from the latest of its known rows ({chain: (seq, hash)}: its
    last archived row, its latest digest), else from its first row."""
    return [Stretch(head.chain, *max((points[head.chain] for points in known if head.chain in points),
                                     key=lambda point: point[0], default=(0, GENESIS)))
            for head in heads]


def verify(district_id: int | None = None) -> list[ChainReport]:
    """Every chain (or the district's), walked from its first row (after its archived
    months, from the last archived row's hash), with the first place it does not hold,
    and every digest recorded checked against the log."""
    heads = _heads(district_id)
    archived = _archived(district_id)
    walked = _walk(_stretches(heads, _archive_points(archived)))
    return _reports(heads, _with_left_in_log(walked, archived), _digest_breaks(district_id), archived)


def _archive_points(archived: dict[int, DisclosureArchive]) -> dict[int, tuple[int, bytes]]:
    return {chain: (a.last_seq, a.last_hash) for chain, a in archived.items()}


def breaks_up_to(last_seqs: dict[int, int]) -> list[ChainReport]:
    """The chains (of `last_seqs`, {chain: seq}) that do not hold from their last archived
    row (or their first row) up to the seq given, with the rows their last archive left in
    the log; a chain that holds is left out. Run before a month is archived."""
    archived = {chain: a for chain, a in _archived(None).items() if chain in last_seqs}
    points = _archive_points(archived)
    walked = _walk([Stretch(chain, *points.get(chain, (0, GENESIS)), to_seq=last_seq)
                    for chain, last_seq in last_seqs.items()])
    found = _with_left_in_log(walked, archived)
    labels = _labels(set(last_seqs))
    return [ChainReport(chain, labels[chain], rows, broken)
            for chain, (rows, broken) in sorted(found.items()) if broken is not None]


def verify_day(day: date, district_id: int | None = None) -> list[ChainReport]:
    """The rows written on `day` (a UTC day) of every chain (or the district's), from the
    first of them, whose prev_hash must be the hash of the row before it in the log, to
    the last; the chains' heads are checked too. Chains without a row that day walk none."""
    start = datetime.combine(day, time.min, timezone.utc)
    found = db.session.execute(_DAY, {"start": start, "end": start + timedelta(days=1), "chain": district_id}).all()
    stretches, missing = [], {}
    for row in found:
        before = row.first_seq - 1
        start_hash = GENESIS if before == 0 else db.session.scalar(_ROW_HASH, {"chain": row.chain, "seq": before})
        if start_hash is None:
            missing[row.chain] = Break(None, before, None, f"row {before} of the chain, before the day's first, is missing")
            continue
        stretches.append(Stretch(row.chain, before, start_hash, row.last_seq))
    walked = _walk(stretches)
    for chain, broken in missing.items():
        walked[chain] = (0, broken)
    return _reports(_heads(district_id), walked, archived=_archived(district_id))


def verify_since_digests(district_id: int | None = None) -> list[tuple[ChainReport, DisclosureDigest | None]]:
    """Every chain's (or the district's) rows after its latest digest (or its last
    archived row, when that is later), walked from that row's hash: cheap enough for every
    load of the admin's page. The digest's own row is checked by `recent_digests`; the
    rows before it were walked when `casemgr audit digest` recorded it, and `casemgr audit
    verify` walks them all again. A chain with neither is walked whole."""
    latest = _latest_by_chain(DisclosureDigest, DisclosureDigest.day, district_id)
    archived = _archived(district_id)
    heads = _heads(district_id)
    stretches = _stretches(heads, _archive_points(archived), {chain: (d.seq, d.hash) for chain, d in latest.items()})
    return [(report, latest.get(report.district_id)) for report in _reports(heads, _walk(stretches), archived=archived)]


def record_digests(day: date) -> list[tuple[str, DisclosureDigest, bool]]:
    """Record each chain's head as the digest of `day`: (label, digest, newly recorded).
    A day already recorded keeps its first digest (the table is append-only)."""
    heads = sa.select(sa.literal(day, sa.Date), DisclosureChainHead.district_id, DisclosureChainHead.seq,
                      DisclosureChainHead.hash)
    added = set(db.session.scalars(
        insert(DisclosureDigest)
        .from_select(["day", "district_id", "seq", "hash"], heads)
        .on_conflict_do_nothing(index_elements=["district_id", "day"])
        .returning(DisclosureDigest.id)
    ))
    digests = db.session.scalars(
        sa.select(DisclosureDigest).where(DisclosureDigest.day == day).order_by(DisclosureDigest.district_id)
    ).all()
    labels = _labels({d.district_id for d in digests})
    return [(labels[d.district_id], d, d.id in added) for d in digests]


def digest_break(check: DigestCheck) -> Break:
    """The break a digest that no longer matches its row shows."""
    digest = check.digest
    return Break(None, digest.seq, None, f"the digest of {digest.day} recorded hash {digest.hash.hex()} for seq "
                 f"{digest.seq}, and the log's row there no longer has it (or is gone)")


def recent_digests(district_id: int, limit: int = 14) -> list[DigestCheck]:
    """The district's latest digests, newest first, each checked against the log."""
    current = sa.select(DisclosureEntry.hash).where(_digest_row()).scalar_subquery()
    found = db.session.execute(
        sa.select(DisclosureDigest, current.label("current"))
        .where(DisclosureDigest.district_id == district_id)
        .order_by(DisclosureDigest.day.desc())
        .limit(limit)
    ).all()
    return [DigestCheck(digest, current_hash == digest.hash) for digest, current_hash in found]

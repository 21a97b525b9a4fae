"""The disclosure log's hash chains: verifying them and recording their daily digests.

The database chains every row as it is written (migration 0012, the trigger
`disclosure_log_chain`): one chain per district, the district of the row's student or,
for a row without a student, of its organization; chain 0 holds the rows of no district.
Each row's `hash` is casemgr_disclosure_hash() over its fields and `prev_hash`, the hash
of the row before it (32 zero bytes before the first).

`verify` recomputes every hash in one set-based query per call (the database walks each
chain in `seq` order on its unique index; only the first broken row of each chain comes
back) and checks the chain heads and the recorded digests. Someone able to rewrite rows
and recompute every later hash can make the rows agree with each other again, but not
with a digest already exported or printed: `casemgr audit digest`, run daily, records
each chain's head in the append-only `disclosure_digests`, and the district admin's
disclosure log page shows them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from casemgr.extensions import db
from casemgr.models import DisclosureChainHead, DisclosureDigest, DisclosureEntry, Organization

GENESIS = bytes(32)
NO_DISTRICT = 0

_FIRST_BROKEN_ROWS = sa.text("""
    WITH walked AS (
        SELECT d.id, d.chain_district_id AS chain, d.seq, d.occurred_at,
               d.hash = casemgr_disclosure_hash(
                   d.id, d.chain_district_id, d.seq, d.occurred_at, d.user_id, d.organization_id, d.student_id,
                   d.action, d.categories, d.basis, d.allowed, d.reason, d.request_path, d.prev_hash) AS hash_ok,
               d.prev_hash = lag(d.hash, 1, :genesis) OVER w AS link_ok,
               lag(d.seq, 1, 0::bigint) OVER w AS prior_seq
          FROM disclosure_log d
         WHERE CAST(:chain AS integer) IS NULL OR d.chain_district_id = :chain
        WINDOW w AS (PARTITION BY d.chain_district_id ORDER BY d.seq)
    )
    SELECT DISTINCT ON (chain) chain, id, seq, occurred_at, prior_seq, hash_ok, link_ok
      FROM walked
     WHERE seq <> prior_seq + 1 OR NOT link_ok OR NOT hash_ok
     ORDER BY chain, seq
""")

_CHAINS = sa.text("""
    SELECT coalesce(h.district_id, r.chain) AS chain, coalesce(r.rows, 0) AS rows, r.last_seq,
           h.seq AS head_seq, h.hash AS head_hash, last.hash AS last_hash, last.id AS last_id,
           last.occurred_at AS last_at
      FROM disclosure_chain_heads h
      FULL JOIN (SELECT chain_district_id AS chain, count(*) AS rows, max(seq) AS last_seq
                   FROM disclosure_log
                  WHERE CAST(:chain AS integer) IS NULL OR chain_district_id = :chain
                  GROUP BY chain_district_id) r ON r.chain = h.district_id
      LEFT JOIN disclosure_log last ON last.chain_district_id = r.chain AND last.seq = r.last_seq
     WHERE CAST(:chain AS integer) IS NULL OR coalesce(h.district_id, r.chain) = :chain
     ORDER BY 1
""")


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
    rows: int
    broken: Break | None


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


def verify(district_id: int | None = None) -> list[ChainReport]:
    """Every chain (or the district's), with the first place it does not hold."""
    params = {"chain": district_id, "genesis": GENESIS}
    rows = {r.chain: Break(r.id, r.seq, r.occurred_at, _row_problem(r))
            for r in db.session.execute(_FIRST_BROKEN_ROWS, params)}
    digests = _digest_breaks(district_id)
    chains = db.session.execute(_CHAINS, params).all()
    labels = _labels({c.chain for c in chains})
    reports = []
    for c in chains:
        broken = rows.get(c.chain) or digests.get(c.chain)
        if broken is None and (c.head_seq or 0) != (c.last_seq or 0):
            broken = Break(c.last_id, c.last_seq, c.last_at,
                           f"the chain's head is at seq {c.head_seq or 0} but its last row is seq {c.last_seq or 0} "
                           "(rows at its end are missing, or the head was moved)")
        elif broken is None and c.rows and c.head_hash != c.last_hash:
            broken = Break(c.last_id, c.last_seq, c.last_at, "the chain's head records another hash for this row")
        reports.append(ChainReport(c.chain, labels[c.chain], c.rows, broken))
    return reports


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

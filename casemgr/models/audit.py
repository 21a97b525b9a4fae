"""The disclosure log (FERPA 34 CFR 99.32) and the record of imports."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, array
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.extensions import db
from casemgr.models.base import PublicId, one_of
from casemgr.models.enums import DisclosureAction, ImportStatus
from casemgr.models.people import Organization, User
from casemgr.models.students import Student


class DisclosureEntry(db.Model):
    """Who saw (or was refused) which categories of which student, on what basis.

    Append-only in the database: UPDATE, DELETE and TRUNCATE raise (SPEC §4 rule 6).
    Tamper-evident: the database's BEFORE INSERT trigger (migration 0012) puts each row
    in its district's chain, `seq` one more than the row before it, `hash` a SHA-256
    over the row's fields and that row's hash (`prev_hash`); casemgr never sets them.

    A view of one record names its student in `student_id`; a list view is one row
    naming every student listed in `student_ids` (all of one district, so the row is in
    that district's chain). Every row about a student: `names(student_id)`.

    Partitioned by month on `occurred_at` (migration 0013); the partitions live in the
    schema `disclosure_partitions`, reached through this table only
    (services/disclosure_partitions.py).
    """

    __tablename__ = "disclosure_log"
    __table_args__ = (
        one_of("action", DisclosureAction),
        sa.Index("ix_disclosure_log_student_at", "student_id", "occurred_at",
                 postgresql_where=sa.text("student_id IS NOT NULL")),
        sa.Index("ix_disclosure_log_student_ids", "student_ids", postgresql_using="gin",
                 postgresql_with={"fastupdate": "off"}, postgresql_where=sa.text("student_ids IS NOT NULL")),
        sa.Index("ix_disclosure_log_user_at", "user_id", "occurred_at"),
        sa.Index("ix_disclosure_log_org_at", "organization_id", "occurred_at"),
        # not unique: a unique index of a partitioned table must hold the partition key;
        # the chain trigger gives each row its own seq and `audit verify` names a repeat
        sa.Index("ix_disclosure_log_chain_seq", "chain_district_id", "seq"),
        # a district's log, newest first (the admin's search without a student or user)
        sa.Index("ix_disclosure_log_chain_at", "chain_district_id", "occurred_at"),
        sa.Index("ix_disclosure_log_occurred_at", "occurred_at", postgresql_using="brin"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    # the sentinel of the ORM's batched INSERT … RETURNING: the key is (id, occurred_at),
    # and the identity alone tells which returned row is which entry
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True, insert_sentinel=True)
    occurred_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), primary_key=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    student_id: Mapped[int | None] = mapped_column(sa.ForeignKey("students.id"))
    # a list view's students (student_id is then null)
    student_ids: Mapped[list[int] | None] = mapped_column(ARRAY(sa.Integer))
    action: Mapped[str] = mapped_column(sa.String(16))
    categories: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list, server_default="{}")
    # the legal ground per category, e.g. {"attendance": "consent:<uuid>"}
    basis: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    allowed: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why a request was denied
    request_path: Mapped[str | None] = mapped_column(sa.String(500))
    # the chain (services/disclosure_chain.py): written by the database, never by casemgr;
    # chain 0 holds the rows of no district
    chain_district_id: Mapped[int] = mapped_column(server_default=sa.FetchedValue())
    seq: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.FetchedValue())
    prev_hash: Mapped[bytes] = mapped_column(BYTEA, server_default=sa.FetchedValue())
    hash: Mapped[bytes] = mapped_column(BYTEA, server_default=sa.FetchedValue())

    user: Mapped[User | None] = relationship()
    organization: Mapped[Organization | None] = relationship()
    student: Mapped[Student | None] = relationship()

    @classmethod
    def names(cls, student_id: int | sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        """The rows about a student: views of their record and lists that named them."""
        listed = sa.cast(array([student_id]), ARRAY(sa.Integer))
        return sa.or_(cls.student_id == student_id, cls.student_ids.contains(listed))


class DisclosureChainHead(db.Model):
    """The last row of each district's chain, locked by the insert trigger while it
    chains a row, so that concurrent writers take their turns."""

    __tablename__ = "disclosure_chain_heads"

    district_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[bytes] = mapped_column(BYTEA)


class DisclosureDigest(db.Model):
    """A district chain's head as it stood when `casemgr audit digest` ran that day.
    Append-only; exported or printed, it shows any later rewrite of the rows before it."""

    __tablename__ = "disclosure_digests"
    __table_args__ = (sa.UniqueConstraint("district_id", "day"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    day: Mapped[date]
    district_id: Mapped[int]  # 0: the rows of no district
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[bytes] = mapped_column(BYTEA)
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class DisclosureArchive(db.Model):
    """A month of the disclosure log archived (`casemgr audit archive`): the partition
    written to a file with pg_dump and detached from the log. One row per chain that had
    rows that month, with the last of them, from which `casemgr audit verify` walks the
    chain on. Append-only.

    `left_in_log` lists the chain's rows that stayed in the log with a seq before that
    last row, each {"seq": n, "hash": hex}: a row's month is the time its transaction
    began, so a transaction begun just before midnight at the month's end can chain its
    row after one begun just after it. `verify` checks that exactly these rows, with
    these hashes, come before the last archived row."""

    __tablename__ = "disclosure_archives"
    __table_args__ = (sa.UniqueConstraint("month", "district_id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    month: Mapped[date]  # the first day of the month archived
    district_id: Mapped[int]  # the chain (0: the rows of no district)
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger)
    last_hash: Mapped[bytes] = mapped_column(BYTEA)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    left_in_log: Mapped[list[dict]] = mapped_column(JSONB, default=list, server_default=sa.text("'[]'::jsonb"))
    archived_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ImportBatch(PublicId, db.Model):
    """One import of one file: who, when, what, and how it ended."""

    __tablename__ = "import_batches"
    __table_args__ = (one_of("status", ImportStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    filename: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    dry_run: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[str] = mapped_column(sa.String(12))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    rows_read: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_inserted: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_updated: Mapped[int] = mapped_column(default=0, server_default="0")
    # rows read but not imported (roles casemgr does not use, deletions of rows it never saw)
    rows_skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    error_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # the errors of a refused file; on a successful import, its warnings ({..., "warning": true})
    errors: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    # a bundle's counts per file: {"users.csv": {"read": 9, "inserted": 2, "updated": 1, "skipped": 3}, ...}
    file_counts: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    # progress while running, written from a connection of its own (importers/progress.py):
    # bytes of the file read, rows staged, the step under way, and the last sign of life
    bytes_total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    bytes_done: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    rows_done: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    phase: Mapped[str | None] = mapped_column(sa.String(20))
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

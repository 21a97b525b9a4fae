"""Benchmark of the disclosure log at scale: 50 million rows.

    python -m tests.perf.bench_log [--rows 50000000] [--months 24] [--runs 20] [--no-full-verify]

Seeds (once) the 50,000-student district of tests/perf/common.py, then (once) the log:
`--rows` rows spread evenly over the last `--months` months, in time order, a realistic
mix (85 % views of one record by staff, 15 % list views naming 20 to 50 students of one
district, a few refusals), written with COPY into the monthly partitions. The rows are
chained as the database's trigger would chain them (the chain trigger is off during the
COPY; each row's hash is computed here with the definition of casemgr_disclosure_hash,
the chain heads moved to the last rows), so `casemgr audit verify` passes on them; the
log's secondary indexes are dropped for the COPY and built again after it, and the
COPY runs without the per-row foreign-key checks (the perf database's superuser sets
session_replication_role; every id is taken from its table).

Then it measures, as a parent, a district admin and the command line would see them:
the family's log of a child (Flask test client, signed in as the child's parent), the
district's search of the log by student and by user (htmx fragment and full page, with
a digest recorded so the page walks only the rows since), `audit verify` of one day, and
(unless --no-full-verify) the walk of every chain. Run by hand; figures are printed.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import random
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from casemgr.clock import today
from casemgr.extensions import db
from casemgr.services import disclosure_chain, disclosure_partitions
from tests.perf.bench_policy import signed_in_client
from tests.perf.common import median_ms, perf_app, print_table

COLUMNS = ("id", "occurred_at", "user_id", "organization_id", "student_id", "student_ids", "action", "categories",
           "basis", "allowed", "reason", "request_path", "chain_district_id", "seq", "prev_hash", "hash")
STAFF = ("counselor", "teacher", "principal", "district_admin", "youth_worker")
SINGLE_CATEGORIES = ["assessments", "attendance", "behavior", "grades", "identity", "notes"]
LIST_CATEGORIES = ["attendance", "grades", "identity"]
PATHS = ["/students/{}", "/caseload", "/caseload?page=2", "/referrals", "/partner/roster"]


def _quote(value) -> str:
    """quote_nullable / quote_literal of a value whose text has no quote or backslash."""
    return "NULL" if value is None else f"'{value}'"


class Chains:
    """The heads of the chains as the rows are generated: (seq, hash) per district."""

    def __init__(self, heads: dict[int, tuple[int, bytes]]):
        self.heads = heads

    def chain(self, district: int, row: dict) -> None:
        seq, prev = self.heads.get(district, (0, bytes(32)))
        seq += 1
        students = row["student_ids"]
        fields = [
            str(row["id"]), str(district), str(seq), f"{row['occurred_at']:%Y-%m-%dT%H:%M:%S.%f}Z",
            _quote(row["user_id"]), _quote(row["organization_id"]), _quote(row["student_id"]),
        ]
        if students is not None:
            fields.append("students:'{" + ",".join(map(str, students)) + "}'")
        fields += [
            f"'{row['action']}'", "'{" + ",".join(row["categories"]) + "}'", f"'{row['basis_text']}'",
            "t" if row["allowed"] else "f", _quote(row["reason"]), _quote(row["request_path"]), prev.hex(),
        ]
        digest = hashlib.sha256("|".join(fields).encode()).digest()
        row.update(chain_district_id=district, seq=seq, prev_hash=prev, hash=digest)
        self.heads[district] = (seq, digest)


def _copy_line(row: dict) -> str:
    students = row["student_ids"]
    values = [
        str(row["id"]), f"{row['occurred_at']:%Y-%m-%d %H:%M:%S.%f}+00",
        str(row["user_id"]) if row["user_id"] is not None else r"\N",
        str(row["organization_id"]) if row["organization_id"] is not None else r"\N",
        str(row["student_id"]) if row["student_id"] is not None else r"\N",
        "{" + ",".join(map(str, students)) + "}" if students is not None else r"\N",
        row["action"], "{" + ",".join(row["categories"]) + "}", row["basis_text"],
        "t" if row["allowed"] else "f", row["reason"] if row["reason"] is not None else r"\N",
        row["request_path"], str(row["chain_district_id"]), str(row["seq"]),
        "\\\\x" + row["prev_hash"].hex(), "\\\\x" + row["hash"].hex(),
    ]
    return "\t".join(values) + "\n"


def _jsonb_text(conn, basis: dict) -> str:
    """The text of a basis as jsonb prints it (the order of its keys), which the hash covers."""
    return conn.execute(sa.text("SELECT CAST(CAST(:b AS jsonb) AS text)"),
                        {"b": __import__("json").dumps(basis)}).scalar_one()


def seed_log(rows: int, months: int) -> None:
    engine = db.engine
    with engine.connect() as conn:
        students = conn.execute(sa.text("SELECT id, district_id FROM students ORDER BY id")).all()
        staff = conn.execute(sa.text(
            "SELECT id, organization_id FROM users WHERE role = ANY(:roles) AND organization_id IS NOT NULL ORDER BY id"
        ), {"roles": list(STAFF)}).all()
        heads = {r.district_id: (r.seq, bytes(r.hash)) for r in conn.execute(
            sa.text("SELECT district_id, seq, hash FROM disclosure_chain_heads"))}
        first_id = conn.execute(sa.text("SELECT coalesce(max(id), 0) + 1 FROM disclosure_log")).scalar_one()
        basis_single = {c: _jsonb_text(conn, {k: "school_official" for k in SINGLE_CATEGORIES[:i]})
                        for i, c in enumerate(SINGLE_CATEGORIES, start=1)}
        basis_list = _jsonb_text(conn, {k: "school_official" for k in LIST_CATEGORIES})
    by_district: dict[int, list[int]] = {}
    for s in students:
        by_district.setdefault(s.district_id, []).append(s.id)
    district_of = {s.id: s.district_id for s in students}
    student_ids = [s.id for s in students]
    rng = random.Random(13)
    end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=30.44 * months)
    step = (end - start) / rows
    chains = Chains(heads)

    with engine.begin() as conn:
        first_month = start.date().replace(day=1)
        for month in disclosure_partitions.months(first_month, months + 2):
            conn.execute(sa.text("SELECT casemgr_disclosure_partition(:d)"), {"d": month})
        indexes = conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'disclosure_log' "
            "AND indexname <> 'pk_disclosure_log'")).all()
        for index in indexes:
            conn.execute(sa.text(f"DROP INDEX {index.indexname}"))
        conn.execute(sa.text("ALTER TABLE disclosure_log DISABLE TRIGGER disclosure_log_chain"))

    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # the rows' users, organizations and students are taken from their tables: no
        # foreign-key check per row (50 million of them would take longer than the COPY)
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(f"COPY disclosure_log ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for n in range(rows):
                actor = staff[rng.randrange(len(staff))]
                kind = rng.random()
                row = {"id": first_id + n, "occurred_at": start + step * n, "user_id": actor.id,
                       "organization_id": actor.organization_id, "allowed": True, "reason": None,
                       "student_id": None, "student_ids": None, "action": "view"}
                if kind < 0.15:
                    district = rng.choice(list(by_district))
                    listed = sorted(rng.sample(by_district[district], rng.randint(20, 50)))
                    row.update(student_ids=listed, categories=LIST_CATEGORIES, basis_text=basis_list,
                               request_path=PATHS[1 + n % 4])
                else:
                    student = student_ids[rng.randrange(len(student_ids))]
                    district = district_of[student]
                    row.update(student_id=student, request_path=f"/students/{student}")
                    if kind < 0.16:
                        row.update(action="denied", allowed=False, reason="no access to this student",
                                   categories=[], basis_text="{}")
                    else:
                        shown = SINGLE_CATEGORIES[: 1 + n % len(SINGLE_CATEGORIES)]
                        row.update(categories=shown, basis_text=basis_single[shown[-1]])
                chains.chain(district, row)
                buffer.write(_copy_line(row))
                if n % 20_000 == 19_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
                if n % 1_000_000 == 999_999:
                    print(f"  {n + 1:,} rows written ({time.perf_counter() - started:.0f} s)", flush=True)
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    print(f"COPY of {rows:,} rows: {time.perf_counter() - started:.0f} s", flush=True)

    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE disclosure_log ENABLE TRIGGER disclosure_log_chain"))
        for district, (seq, digest) in chains.heads.items():
            conn.execute(sa.text(
                "INSERT INTO disclosure_chain_heads (district_id, seq, hash) VALUES (:d, :s, :h) "
                "ON CONFLICT (district_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash"
            ), {"d": district, "s": seq, "h": digest})
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('disclosure_log', 'id'), "
                             "(SELECT max(id) FROM disclosure_log))"))
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.text("SET maintenance_work_mem = '1GB'"))
        for index in indexes:
            built = time.perf_counter()
            # pg_indexes shows a partitioned index as made ON ONLY the parent (then attached
            # partition by partition): made ON the log, it is built on every partition
            conn.execute(sa.text(index.indexdef.replace(" ON ONLY ", " ON ", 1)))
            print(f"  {index.indexname} built in {time.perf_counter() - built:.0f} s", flush=True)
        built = time.perf_counter()
        conn.execute(sa.text("VACUUM ANALYZE disclosure_log"))
        print(f"  VACUUM ANALYZE in {time.perf_counter() - built:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--no-full-verify", action="store_true")
    args = parser.parse_args()
    app = perf_app(args.students, args.database_url)
    table = []
    with app.app_context():
        present = db.session.scalar(sa.text("SELECT count(*) FROM disclosure_log"))
        if present < args.rows // 2:
            print(f"seeding {args.rows:,} log rows over {args.months} months (once) ...", flush=True)
            db.session.remove()
            started = time.perf_counter()
            seed_log(args.rows, args.months)
            print(f"log seeded in {time.perf_counter() - started:.0f} s", flush=True)
        count = db.session.scalar(sa.text("SELECT count(*) FROM disclosure_log"))
        size = db.session.scalar(sa.text(
            "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('disclosure_log')"))
        partitions = db.session.scalar(sa.text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'disclosure_log'::regclass"))
        table.append(("log rows", f"{count:,}", "50,000,000"))
        table.append(("log size (table + indexes)", f"{float(size) / 1e9:.2f} GB", f"{partitions} partitions"))
        # a child of a seeded parent, their parent, a district admin, a counselor with rows
        child = db.session.execute(sa.text(
            "SELECT s.uuid, u.email FROM guardian_links l JOIN guardians g ON g.id = l.guardian_id "
            "JOIN students s ON s.id = l.student_id JOIN users u ON u.id = g.user_id "
            "WHERE u.role = 'parent' AND l.educational_rights ORDER BY s.id LIMIT 1")).one()
        child_id = db.session.scalar(sa.text("SELECT id FROM students WHERE uuid = :u"), {"u": child.uuid})
        mentions = db.session.scalar(sa.text(
            "SELECT count(*) FROM disclosure_log WHERE student_id = :s OR student_ids @> ARRAY[CAST(:s AS integer)]"), {"s": child_id})
        admin = db.session.execute(sa.text(
            "SELECT u.email, u.organization_id FROM users u WHERE u.role = 'district_admin' ORDER BY u.id LIMIT 1")).one()
        state_id = db.session.scalar(sa.text("SELECT state_id FROM students WHERE id = :s"), {"s": child_id})
        busy = db.session.execute(sa.text(
            "SELECT u.email, count(*) AS n FROM disclosure_log d JOIN users u ON u.id = d.user_id "
            "WHERE d.occurred_at > now() - interval '7 days' GROUP BY u.email ORDER BY n DESC LIMIT 1")).one()
        disclosure_chain.record_digests(today())
        db.session.commit()

    parent = signed_in_client(app, child.email)
    family_log = f"/family/children/{child.uuid}/log"
    assert parent.get(family_log).status_code == 200
    table.append((f"family log, first page ({mentions:,} rows name the child)",
                  f"{median_ms(lambda: parent.get(family_log), args.runs):.1f} ms", "<= 30 ms"))
    table.append(("family log, page 10",
                  f"{median_ms(lambda: parent.get(family_log + '?page=10'), args.runs):.1f} ms", "<= 30 ms"))
    district_admin = signed_in_client(app, admin.email)
    fragment = {"HX-Request": "true"}
    for label, query in (("by student", f"?student={state_id}"), ("by user", f"?user={busy.email}")):
        url = "/admin/disclosures" + query
        assert district_admin.get(url, headers=fragment).status_code == 200
        table.append((f"district search {label} (htmx fragment)",
                      f"{median_ms(lambda: district_admin.get(url, headers=fragment), args.runs):.1f} ms", ""))
        table.append((f"district search {label} (full page, chain since digest)",
                      f"{median_ms(lambda: district_admin.get(url), args.runs):.1f} ms", ""))

    with app.app_context():
        day = today() - timedelta(days=30)
        started = time.perf_counter()
        reports = disclosure_chain.verify_day(day)
        took = time.perf_counter() - started
        assert all(r.broken is None for r in reports), [r.broken for r in reports if r.broken]
        table.append((f"audit verify --day {day} ({sum(r.rows for r in reports):,} rows)", f"{took * 1000:.0f} ms", ""))
        if not args.no_full_verify:
            started = time.perf_counter()
            reports = disclosure_chain.verify()
            took = time.perf_counter() - started
            broken = [r.broken.describe() for r in reports if r.broken]
            table.append((f"audit verify, every chain ({sum(r.rows for r in reports):,} rows)",
                          f"{took:.0f} s", "passes" if not broken else f"BROKEN: {broken}"))
    print_table("The disclosure log at scale", table)


if __name__ == "__main__":
    main()

"""The tamper-evident disclosure log: each row chained by a hash to the row before it in
its district's chain, written by the database; `casemgr audit verify` names the first
broken row; the daily digest records each chain's head and the district admin sees it."""
from __future__ import annotations

import subprocess
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from casemgr import backup
from casemgr.models.enums import Category, Role
from casemgr.services import disclosure, disclosure_chain
from tests.factories import create_school, create_student, create_user
from tests.helpers import login
from tests.test_migrations import casemgr, empty_database  # noqa: F401  (the fixture)

RECOMPUTED = """casemgr_disclosure_hash(id, chain_district_id, seq, occurred_at, user_id, organization_id, student_id,
    student_ids, action, categories, basis, allowed, reason, request_path, prev_hash)"""


def chain_rows(session, district_id: int) -> list:
    return session.execute(sa.text(
        "SELECT id, seq, prev_hash, hash FROM disclosure_log WHERE chain_district_id = :d ORDER BY seq"
    ), {"d": district_id}).all()


def assert_linked(rows) -> None:
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == bytes(32)
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.hash
    assert len({r.hash for r in rows}) == len(rows)


def rewrite(session, statement: str, params: dict) -> None:
    """What a superuser can do: switch off the append-only trigger, change the log, switch it on."""
    session.execute(sa.text("ALTER TABLE disclosure_log DISABLE TRIGGER disclosure_log_append_only"))
    session.execute(sa.text(statement), params)
    session.execute(sa.text("ALTER TABLE disclosure_log ENABLE TRIGGER disclosure_log_append_only"))


def district_report(district_id: int):
    (report,) = disclosure_chain.verify(district_id)
    return report


def logged_district(db):
    school = create_school()
    counselor = create_user(Role.COUNSELOR, school)
    students = [create_student(school) for _ in range(5)]
    for student in students:
        disclosure.log_view(counselor, student, {Category.IDENTITY: "school_official"})
    db.session.flush()
    return school, counselor, students


def test_list_view_of_fifty_students_is_one_row_naming_them_all_chained_in_order(db):
    school = create_school()
    counselor = create_user(Role.COUNSELOR, school)
    students = [create_student(school) for _ in range(50)]
    disclosure.log_view(counselor, students[0], {Category.IDENTITY: "school_official"})
    db.session.flush()
    disclosure.log_list_view(counselor, [s.id for s in reversed(students)], [Category.IDENTITY, Category.ATTENDANCE],
                             "school_official")
    disclosure.log_view(counselor, students[1], {Category.IDENTITY: "school_official"})
    db.session.flush()

    rows = chain_rows(db.session, school.district_id)
    assert len(rows) == 3
    assert_linked(rows)
    listed = db.session.execute(sa.text("SELECT student_id, student_ids, categories, basis FROM disclosure_log "
                                        "WHERE id = :id"), {"id": rows[1].id}).one()
    assert listed.student_id is None and listed.student_ids == sorted(s.id for s in students)
    assert listed.categories == ["attendance", "identity"]
    assert listed.basis == {"attendance": "school_official", "identity": "school_official"}
    head = db.session.execute(sa.text("SELECT seq, hash FROM disclosure_chain_heads WHERE district_id = :d"),
                              {"d": school.district_id}).one()
    assert (head.seq, head.hash) == (3, rows[-1].hash)
    report = district_report(school.district_id)
    assert report.broken is None and report.rows == 3


def test_a_list_across_two_districts_is_one_row_in_each_districts_chain_in_one_order(db):
    """A partner's list can name students of two districts: one row per district, each in
    its district's chain, written district by district, so that two such lists lock the
    chain heads in the same order."""
    north, south = create_school(), create_school()
    students = [create_student(school) for _ in range(4) for school in (north, south)]
    youth_worker = create_user(Role.YOUTH_WORKER)
    listed = sorted((s.id for s in students), reverse=True)
    disclosure.log_list_view(youth_worker, listed, [Category.IDENTITY], "consent")
    disclosure.log_names_shown(youth_worker, listed)
    db.session.flush()

    order = db.session.execute(sa.text(
        "SELECT chain_district_id, student_id, student_ids FROM disclosure_log WHERE user_id = :u ORDER BY id"
    ), {"u": youth_worker.id}).all()
    by_district = sorted({s.district_id for s in students})
    named = [(d, None, sorted(s.id for s in students if s.district_id == d)) for d in by_district]
    assert [tuple(r) for r in order] == named + named
    for school in (north, south):
        rows = chain_rows(db.session, school.district_id)
        assert len(rows) == 2
        assert_linked(rows)


def test_the_chain_refuses_a_list_row_across_districts_or_naming_no_such_student(db):
    north, south = create_school(), create_school()
    a, b = create_student(north), create_student(south)
    db.session.flush()
    insert = ("INSERT INTO disclosure_log (organization_id, student_ids, action, allowed) "
              "VALUES (:o, CAST(:ids AS integer[]), 'view', true)")
    for ids in ([a.id, b.id], [a.id, a.id], [a.id, 2_000_000_000], []):
        with pytest.raises(sa.exc.IntegrityError, match="names existing students of one district"), \
                db.session.begin_nested():
            db.session.execute(sa.text(insert), {"o": north.id, "ids": ids})
    assert db.session.scalar(sa.text("SELECT count(*) FROM disclosure_log WHERE student_ids IS NOT NULL")) == 0


def test_verify_names_a_list_row_whose_students_were_changed(db):
    school = create_school()
    counselor = create_user(Role.COUNSELOR, school)
    students = [create_student(school) for _ in range(3)]
    disclosure.log_list_view(counselor, [s.id for s in students], [Category.IDENTITY], "school_official")
    disclosure.log_view(counselor, students[0], {Category.IDENTITY: "school_official"})
    db.session.flush()
    listed = chain_rows(db.session, school.district_id)[0]
    assert district_report(school.district_id).broken is None
    rewrite(db.session, "UPDATE disclosure_log SET student_ids = :ids WHERE id = :id",
            {"ids": [students[0].id, students[1].id], "id": listed.id})
    broken = district_report(school.district_id).broken
    assert broken.row_id == listed.id and "fields no longer match its hash" in broken.problem


def test_verify_of_a_day_walks_that_days_rows_from_the_row_before_them(db):
    school, counselor, students = logged_district(db)
    rows = chain_rows(db.session, school.district_id)
    # the rows of this test are all of the transaction's day; move the first two to the day before
    rewrite(db.session, "UPDATE disclosure_log SET occurred_at = occurred_at - interval '1 day' "
                        "WHERE chain_district_id = :d AND seq <= 2", {"d": school.district_id})
    day = db.session.scalar(sa.text("SELECT (now() AT TIME ZONE 'UTC')::date"))
    (report,) = disclosure_chain.verify_day(day, school.district_id)
    # the day's rows hold; they start from the hash of row 2, which itself no longer matches its fields,
    # but that row is the day before's: the whole walk finds it
    assert report.broken is None and report.rows == 3 and report.total == 5
    assert district_report(school.district_id).broken.seq == 1
    rewrite(db.session, "UPDATE disclosure_log SET reason = 'changed' WHERE id = :id", {"id": rows[3].id})
    (report,) = disclosure_chain.verify_day(day, school.district_id)
    assert report.broken.row_id == rows[3].id
    before = day - timedelta(days=1)
    (report,) = disclosure_chain.verify_day(before, school.district_id)
    assert report.broken.seq == 1 and report.rows == 2


def test_verify_since_digests_walks_only_the_rows_after_the_latest_digest(db):
    school, counselor, students = logged_district(db)
    disclosure_chain.record_digests(date(2026, 12, 1))
    for student in students[:2]:
        disclosure.log_view(counselor, student, {Category.IDENTITY: "school_official"})
    db.session.flush()
    ((report, since),) = disclosure_chain.verify_since_digests(school.district_id)
    assert since.seq == 5 and report.rows == 2 and report.total == 7 and report.broken is None
    rows = chain_rows(db.session, school.district_id)
    rewrite(db.session, "UPDATE disclosure_log SET reason = 'changed' WHERE id = :id", {"id": rows[5].id})
    ((report, since),) = disclosure_chain.verify_since_digests(school.district_id)
    assert report.broken.row_id == rows[5].id
    # a row before the digest is left to the digest's check and the whole walk
    rewrite(db.session, "UPDATE disclosure_log SET reason = 'changed' WHERE id = :id", {"id": rows[1].id})
    assert district_report(school.district_id).broken.row_id == rows[1].id


def test_a_row_without_a_student_goes_to_its_organizations_district_or_to_chain_zero(db):
    school = create_school()
    counselor = create_user(Role.COUNSELOR, school)
    youth_worker = create_user(Role.YOUTH_WORKER)
    at_school = disclosure.log_denied(counselor, None, "no such student")
    at_partner = disclosure.log_denied(youth_worker, None, "no such student")
    db.session.flush()
    assert at_school.chain_district_id == school.district_id
    assert at_partner.chain_district_id == disclosure_chain.NO_DISTRICT
    assert all(r.broken is None for r in disclosure_chain.verify())


def test_verify_names_a_row_edited_by_a_superuser(db):
    school, counselor, students = logged_district(db)
    assert district_report(school.district_id).broken is None
    third = chain_rows(db.session, school.district_id)[2]
    rewrite(db.session, "UPDATE disclosure_log SET reason = 'nothing to see' WHERE id = :id", {"id": third.id})

    report = district_report(school.district_id)
    assert report.broken.row_id == third.id and report.broken.seq == 3
    assert "fields no longer match its hash" in report.broken.describe()
    assert f"row {third.id} (seq 3, " in report.broken.describe()


def test_verify_names_the_gap_a_deleted_row_leaves(db):
    school, counselor, students = logged_district(db)
    rows = chain_rows(db.session, school.district_id)
    rewrite(db.session, "DELETE FROM disclosure_log WHERE id = :id", {"id": rows[1].id})

    broken = district_report(school.district_id).broken
    assert broken.row_id == rows[2].id and broken.seq == 3
    assert "row 2 of the chain are missing before it" in broken.problem


def test_verify_names_rows_deleted_from_the_end_of_a_chain(db):
    school, counselor, students = logged_district(db)
    rows = chain_rows(db.session, school.district_id)
    rewrite(db.session, "DELETE FROM disclosure_log WHERE id = :id", {"id": rows[-1].id})

    broken = district_report(school.district_id).broken
    assert broken.row_id == rows[-2].id
    assert "head is at seq 5 but its last row is seq 4" in broken.problem


def recompute_chain(session, district_id: int) -> None:
    """A rewrite that covers its tracks: every hash from the first row recomputed, and the head moved."""
    session.execute(sa.text("ALTER TABLE disclosure_log DISABLE TRIGGER disclosure_log_append_only"))
    for row in chain_rows(session, district_id):
        session.execute(sa.text(
            "UPDATE disclosure_log SET prev_hash = coalesce((SELECT hash FROM disclosure_log p "
            "WHERE p.chain_district_id = :d AND p.seq = :seq - 1), :zero) WHERE id = :id"
        ), {"d": district_id, "seq": row.seq, "id": row.id, "zero": bytes(32)})
        session.execute(sa.text(f"UPDATE disclosure_log SET hash = {RECOMPUTED} WHERE id = :id"), {"id": row.id})
    session.execute(sa.text(
        "UPDATE disclosure_chain_heads h SET hash = d.hash FROM disclosure_log d "
        "WHERE h.district_id = :d AND d.chain_district_id = :d AND d.seq = h.seq"
    ), {"d": district_id})
    session.execute(sa.text("ALTER TABLE disclosure_log ENABLE TRIGGER disclosure_log_append_only"))


def test_a_rewrite_that_recomputes_the_chain_is_caught_by_the_digest_and_shown_to_the_admin(client, db):
    school, counselor, students = logged_district(db)
    recorded = disclosure_chain.record_digests(date(2026, 12, 1))
    (label, digest, new), = [r for r in recorded if r[1].district_id == school.district_id]
    assert new and digest.seq == 5 and digest.hash == chain_rows(db.session, school.district_id)[-1].hash
    again = [r for r in disclosure_chain.record_digests(date(2026, 12, 1)) if r[1].district_id == school.district_id]
    assert again[0][2] is False  # a day keeps its first digest
    admin = create_user(Role.DISTRICT_ADMIN, db.session.get(type(school), school.district_id))
    login(client, admin)
    page = client.get("/admin/disclosures").get_data(as_text=True)
    assert "Verified" in page and "5 entries: every fingerprint matches" in page
    assert digest.hash.hex() in page and "Matches" in page and "Does not match" not in page
    fragment = client.get("/admin/disclosures?student=nobody", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "fingerprint" not in fragment

    second = chain_rows(db.session, school.district_id)[1]
    rewrite(db.session, "UPDATE disclosure_log SET reason = 'nothing to see' WHERE id = :id", {"id": second.id})
    recompute_chain(db.session, school.district_id)
    assert_linked(chain_rows(db.session, school.district_id))  # the rows agree with each other again

    broken = district_report(school.district_id).broken
    assert broken.seq == 5 and "the digest of 2026-12-01 recorded hash" in broken.problem
    page = client.get("/admin/disclosures").get_data(as_text=True)
    assert "Broken" in page and "Does not match" in page and digest.hash.hex() in page


def test_the_admin_page_says_when_no_digest_is_recorded_yet(client, db):
    admin = create_user(Role.DISTRICT_ADMIN)
    login(client, admin)
    page = client.get("/admin/disclosures").get_data(as_text=True)
    assert "No digest recorded yet" in page and "No entries yet." in page


# --- against a database of its own, where two connections commit at once ---

FIXTURE = """
    INSERT INTO organizations (id, kind, code, name) VALUES (1, 'district', 'NORTH', 'North'), (3, 'district', 'SOUTH', 'South');
    INSERT INTO organizations (id, kind, code, name, district_id, level)
        VALUES (2, 'school', 'N1', 'North High', 1, 'high'), (4, 'school', 'S1', 'South High', 3, 'high');
    INSERT INTO organizations (id, kind, code, name) VALUES (5, 'partner', 'P', 'Partner');
    INSERT INTO students (id, district_id, school_id, state_id, local_id, first_name, last_name, birth_date, grade)
    SELECT i, CASE WHEN i % 2 = 0 THEN 1 ELSE 3 END, CASE WHEN i % 2 = 0 THEN 2 ELSE 4 END,
           'ST' || i, 'L' || i, 'First' || i, 'Last' || i, '2010-01-01', 9
      FROM generate_series(1, 40) i;
"""
VIEW = "INSERT INTO disclosure_log (organization_id, student_id, action, allowed, reason) VALUES (2, :s, 'view', true, :why)"
LIST_VIEW = """INSERT INTO disclosure_log (organization_id, student_id, action, allowed, categories)
    SELECT 2, i, 'view', true, '{identity}' FROM generate_series(2, 40, 2) i"""


def test_concurrent_writers_chain_correctly_and_the_command_line_verifies_and_digests(empty_database):
    assert casemgr("db", "upgrade", url=empty_database).returncode == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(sa.text(FIXTURE))

    # one writer holds North's chain in an open transaction; the other must wait for it
    first = engine.connect()
    first.begin()
    first.execute(sa.text(VIEW), {"s": 2, "why": "first"})
    waiting = threading.Event()

    def second_writer():
        with engine.begin() as conn:
            waiting.set()
            conn.execute(sa.text(VIEW), {"s": 4, "why": "second"})

    second = threading.Thread(target=second_writer)
    second.start()
    waiting.wait()
    second.join(timeout=0.5)
    assert second.is_alive()  # blocked on the chain's head
    first.commit()
    first.close()
    second.join()

    # then two writers at once, single rows and list views, each in many transactions
    start = threading.Barrier(2)
    failures = []

    def writer(k: int):
        try:
            start.wait()
            for i in range(15):
                with engine.begin() as conn:
                    conn.execute(sa.text(LIST_VIEW if i % 5 == k else VIEW), {"s": 2 + 2 * (i % 10), "why": f"{k}"})
                    conn.execute(sa.text(VIEW.replace("(2,", "(4,")), {"s": 1 + 2 * (i % 10), "why": f"{k}"})
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []

    with engine.connect() as conn:
        north, south = chain_rows(conn, 1), chain_rows(conn, 3)
        assert [r.seq for r in chain_rows(conn, 1)][:2] == [1, 2]
        assert conn.execute(sa.text("SELECT reason FROM disclosure_log WHERE seq <= 2 AND chain_district_id = 1 "
                                    "ORDER BY seq")).scalars().all() == ["first", "second"]
    assert len(north) == 2 + 2 * (3 * 20 + 12) and len(south) == 30
    assert_linked(north)
    assert_linked(south)

    verified = casemgr("audit", "verify", url=empty_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"NORTH: {len(north):,} rows verified." in verified.stdout
    assert "SOUTH: 30 rows verified." in verified.stdout
    one = casemgr("audit", "verify", "--district", "SOUTH", url=empty_database)
    assert one.returncode == 0 and one.stdout.strip() == "SOUTH: 30 rows verified."
    unknown = casemgr("audit", "verify", "--district", "WEST", url=empty_database)
    assert unknown.returncode != 0 and "no district has the code 'WEST'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    digest = casemgr("audit", "digest", url=empty_database)
    assert digest.returncode == 0, digest.stderr
    assert f"NORTH seq {len(north)} sha256 {north[-1].hash.hex()}" in digest.stdout
    assert f"SOUTH seq 30 sha256 {south[-1].hash.hex()}" in digest.stdout

    edited = south[10]
    with engine.begin() as conn:
        rewrite(conn, "UPDATE disclosure_log SET student_id = 3 WHERE id = :id", {"id": edited.id})
        occurred_at = conn.execute(sa.text("SELECT occurred_at FROM disclosure_log WHERE id = :id"),
                                   {"id": edited.id}).scalar_one()
    broken = casemgr("audit", "verify", url=empty_database)
    assert broken.returncode == 1
    assert f"NORTH: {len(north):,} rows verified." in broken.stdout
    assert f"SOUTH: BROKEN at row {edited.id} (seq 11, {occurred_at:%Y-%m-%d %H:%M:%S}" in broken.stdout
    assert "fields no longer match its hash" in broken.stdout
    engine.dispose()


def test_the_migration_chains_the_rows_already_logged(empty_database):
    assert casemgr("db", "upgrade", "0011", url=empty_database).returncode == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(sa.text(FIXTURE))
        conn.execute(sa.text(LIST_VIEW))
        conn.execute(sa.text("INSERT INTO disclosure_log (organization_id, action, allowed) VALUES (5, 'denied', false)"))
        conn.execute(sa.text(VIEW.replace("(2,", "(4,")), {"s": 1, "why": None})
    upgraded = casemgr("db", "upgrade", url=empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    with engine.connect() as conn:
        north = chain_rows(conn, 1)
        assert [r.id for r in north] == sorted(r.id for r in north) and len(north) == 20
        assert_linked(north)
        assert len(chain_rows(conn, 3)) == 1 and len(chain_rows(conn, 0)) == 1
    with engine.begin() as conn:
        conn.execute(sa.text(VIEW), {"s": 2, "why": "after"})
        assert chain_rows(conn, 1)[-1].seq == 21
    verified = casemgr("audit", "verify", url=empty_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "NORTH: 21 rows verified." in verified.stdout and "(no district): 1 rows verified." in verified.stdout
    engine.dispose()


def test_rows_chained_before_the_log_was_partitioned_keep_their_hashes_and_verify(empty_database):
    """0013 moves the rows into the monthly partitions as they are, and the new hash
    function, which covers a list's students, hashes a row without a list as before."""
    assert casemgr("db", "upgrade", "0012", url=empty_database).returncode == 0
    engine = sa.create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(sa.text(FIXTURE))
        conn.execute(sa.text(LIST_VIEW))
        conn.execute(sa.text(VIEW.replace("(2,", "(4,")), {"s": 1, "why": None})
        # a row of a month long gone, chained like the others
        conn.execute(sa.text("INSERT INTO disclosure_log (occurred_at, organization_id, student_id, action, allowed) "
                             "VALUES ('2025-01-15 12:00+00', 2, 2, 'view', true)"))
        before = conn.execute(sa.text("SELECT id, seq, prev_hash, hash FROM disclosure_log ORDER BY id")).all()
    upgraded = casemgr("db", "upgrade", url=empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT id, seq, prev_hash, hash FROM disclosure_log ORDER BY id")).all() == before
        assert conn.execute(sa.text("SELECT tableoid::regclass::text FROM disclosure_log WHERE occurred_at < '2025-02-01'"
                                    )).scalar_one() == "disclosure_partitions.disclosure_log_2025_01"
        conn.execute(sa.text(VIEW), {"s": 2, "why": "after"})
        conn.execute(sa.text("INSERT INTO disclosure_log (organization_id, student_ids, action, allowed) "
                             "VALUES (2, '{2,4,6}', 'view', true)"))
        # a month without a partition yet goes to the DEFAULT partition: the insert never fails
        conn.execute(sa.text("INSERT INTO disclosure_log (occurred_at, organization_id, student_id, action, allowed) "
                             "VALUES (now() + interval '3 years', 2, 2, 'view', true)"))
        assert chain_rows(conn, 1)[-1].seq == 24
    verified = casemgr("audit", "verify", url=empty_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "NORTH: 24 rows verified." in verified.stdout and "SOUTH: 1 rows verified." in verified.stdout

    listed = casemgr("audit", "partitions", url=empty_database)
    assert listed.returncode == 0, listed.stderr
    assert "disclosure_log_2025_01" in listed.stdout and "disclosure_log_default" in listed.stdout
    with engine.begin() as conn:
        # a month whose rows wait in the DEFAULT partition is not created over them
        far = conn.execute(sa.text("SELECT to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY_MM') FROM "
                                   "disclosure_partitions.disclosure_log_default")).scalar_one()
        assert conn.execute(sa.text("SELECT casemgr_disclosure_partition((now() + interval '3 years')::date)")
                            ).scalar_one() == "default"
        assert conn.execute(sa.text("SELECT to_regclass(:name)"), {"name": f"disclosure_partitions.disclosure_log_{far}"}
                            ).scalar_one() is None

    downgraded = casemgr("db", "downgrade", "0012", url=empty_database)
    assert downgraded.returncode != 0 and "rows that name a list of students" in downgraded.stderr
    engine.dispose()


def logged_months(url: sa.URL, views: tuple[tuple[str, int], ...]) -> sa.Engine:
    """A migrated database of its own, as a log in use for years: the partitions of
    January and February 2025, the views given ((occurred_at, student)) in that order,
    then a view of today."""
    assert casemgr("db", "upgrade", url=url).returncode == 0
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(FIXTURE))
        conn.execute(sa.text("SELECT casemgr_disclosure_partition('2025-01-01'), casemgr_disclosure_partition('2025-02-01')"))
        for at, s in views:
            conn.execute(sa.text("INSERT INTO disclosure_log (occurred_at, organization_id, student_id, action, allowed) "
                                 "VALUES (:at, 2, :s, 'view', true)"), {"at": at, "s": s})
        conn.execute(sa.text(VIEW), {"s": 2, "why": "today"})
    return engine


def test_an_archived_month_leaves_the_log_and_the_chains_verify_from_its_last_row(empty_database, tmp_path):
    engine = logged_months(empty_database, (("2025-01-10 10:00+00", 2), ("2025-01-20 10:00+00", 1),
                                            ("2025-01-25 10:00+00", 4), ("2025-02-03 10:00+00", 2)))
    assert casemgr("audit", "digest", url=empty_database).returncode == 0

    refused = casemgr("audit", "archive", "2025-02", "--to", str(tmp_path / "feb.dump"), url=empty_database)
    assert refused.returncode == 1 and "archive the older months first: 2025-01" in refused.stderr
    assert "Traceback" not in refused.stderr
    future = casemgr("audit", "archive", "2999-01", "--to", str(tmp_path / "x.dump"), url=empty_database)
    assert future.returncode == 1 and "is not over yet" in future.stderr

    archived = casemgr("audit", "archive", "2025-01", "--to", str(tmp_path / "jan.dump"), url=empty_database)
    assert archived.returncode == 0, archived.stdout + archived.stderr
    assert "2025-01: 3 rows written to" in archived.stdout and "DROP TABLE" in archived.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM disclosure_log")).scalar_one() == 2
        # not deleted: detached, in the schema, until the owner drops it
        assert conn.execute(sa.text("SELECT count(*) FROM disclosure_partitions.disclosure_log_2025_01")).scalar_one() == 3
        recorded = conn.execute(sa.text("SELECT district_id, rows, last_seq FROM disclosure_archives "
                                        "ORDER BY district_id")).all()
        assert [tuple(r) for r in recorded] == [(1, 2, 2), (3, 1, 1)]
    listing = subprocess.run([backup.tool("pg_restore"), "--list", str(tmp_path / "jan.dump")],
                             capture_output=True, text=True)
    assert "disclosure_log_2025_01" in listing.stdout
    verified = casemgr("audit", "verify", url=empty_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "NORTH: 2 rows verified." in verified.stdout and "SOUTH: 0 rows verified." in verified.stdout
    again = casemgr("audit", "archive", "2025-01", "--to", str(tmp_path / "jan2.dump"), url=empty_database)
    assert again.returncode == 1 and "no partition for 2025-01" in again.stderr
    engine.dispose()


def test_the_walk_since_digests_starts_after_archived_months_when_no_digest_is_later(empty_database, tmp_path):
    """A chain whose rows were archived before any digest was recorded is walked from the
    last archived row, not from its first row (which is no longer in the log)."""
    engine = logged_months(empty_database, (("2025-01-10 10:00+00", 2), ("2025-01-20 10:00+00", 1)))
    archived = casemgr("audit", "archive", "2025-01", "--to", str(tmp_path / "jan.dump"), url=empty_database)
    assert archived.returncode == 0, archived.stdout + archived.stderr
    digest = casemgr("audit", "digest", url=empty_database)
    assert digest.returncode == 0, digest.stdout + digest.stderr
    assert "BROKEN" not in digest.stdout
    engine.dispose()


def test_a_row_of_the_next_month_chained_before_the_archived_months_last_row_is_still_verified(
        empty_database, tmp_path):
    """A transaction that began just before midnight at a month's end writes its row after
    one that began just after midnight: the row of the next month has the lower seq. Once
    the month is archived, that row is still walked, so a change to it, its deletion or a
    row slipped in below the archived month's last seq is named."""
    # occurred_at is the time its transaction began: February's row took the chain's head first
    engine = logged_months(empty_database, (("2025-01-10 10:00+00", 2), ("2025-02-01 00:00:00.2+00", 4),
                                            ("2025-01-31 23:59:59.9+00", 6), ("2025-02-03 10:00+00", 8)))
    with engine.connect() as conn:
        early = conn.execute(sa.text("SELECT id, seq, occurred_at FROM disclosure_log "
                                     "WHERE occurred_at = '2025-02-01 00:00:00.2+00'")).one()
    assert early.seq == 2

    archived = casemgr("audit", "archive", "2025-01", "--to", str(tmp_path / "jan.dump"), url=empty_database)
    assert archived.returncode == 0, archived.stdout + archived.stderr
    assert "2025-01: 2 rows written to" in archived.stdout
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT left_in_log FROM disclosure_archives WHERE district_id = 1")).scalar_one()
        assert left == [{"seq": 2, "hash": conn.execute(sa.text("SELECT encode(hash, 'hex') FROM disclosure_log "
                                                                "WHERE id = :id"), {"id": early.id}).scalar_one()}]
    verified = casemgr("audit", "verify", url=empty_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "NORTH: 3 rows verified." in verified.stdout  # seq 2, 4 and 5

    with engine.begin() as conn:
        rewrite(conn, "UPDATE disclosure_log SET student_id = 10 WHERE id = :id", {"id": early.id})
    changed = casemgr("audit", "verify", url=empty_database)
    assert changed.returncode == 1
    assert f"NORTH: BROKEN at row {early.id} (seq 2, 2025-02-01 00:00:00" in changed.stdout
    assert "fields no longer match its hash" in changed.stdout

    with engine.begin() as conn:
        rewrite(conn, "DELETE FROM disclosure_log WHERE id = :id", {"id": early.id})
    deleted = casemgr("audit", "verify", url=empty_database)
    assert deleted.returncode == 1
    assert "NORTH: BROKEN at row 2 of the chain is missing" in deleted.stdout

    with engine.begin() as conn:  # a row given a seq the archive had passed
        conn.execute(sa.text("ALTER TABLE disclosure_log DISABLE TRIGGER disclosure_log_chain"))
        forged = conn.execute(sa.text(
            "INSERT INTO disclosure_log (occurred_at, organization_id, student_id, action, allowed, chain_district_id, "
            "seq, prev_hash, hash) VALUES ('2025-02-02 10:00+00', 2, 12, 'view', true, 1, 1, :zero, :zero) "
            "RETURNING id"), {"zero": bytes(32)}).scalar_one()
        conn.execute(sa.text("ALTER TABLE disclosure_log ENABLE TRIGGER disclosure_log_chain"))
    slipped = casemgr("audit", "verify", url=empty_database)
    assert slipped.returncode == 1
    assert f"NORTH: BROKEN at row {forged} (seq 1," in slipped.stdout
    assert "not after the last archived row's (seq 3)" in slipped.stdout

    # a month whose chain does not hold is not archived
    refused = casemgr("audit", "archive", "2025-02", "--to", str(tmp_path / "feb.dump"), url=empty_database)
    assert refused.returncode == 1
    assert f"NORTH's chain does not hold at row {forged} (seq 1," in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "feb.dump").exists()
    engine.dispose()


def test_the_month_after_takes_the_rows_left_in_the_log_with_it_and_the_chain_verifies_on(empty_database, tmp_path):
    engine = logged_months(empty_database, (("2025-01-10 10:00+00", 2), ("2025-02-01 00:00:00.2+00", 4),
                                            ("2025-01-31 23:59:59.9+00", 6), ("2025-02-03 10:00+00", 8)))
    for month in ("2025-01", "2025-02"):
        archived = casemgr("audit", "archive", month, "--to", str(tmp_path / f"{month}.dump"), url=empty_database)
        assert archived.returncode == 0, archived.stdout + archived.stderr
    with engine.connect() as conn:
        recorded = conn.execute(sa.text("SELECT to_char(month, 'YYYY-MM'), rows, last_seq, jsonb_array_length(left_in_log) "
                                        "FROM disclosure_archives ORDER BY month")).all()
        assert [tuple(r) for r in recorded] == [("2025-01", 2, 3, 1), ("2025-02", 2, 4, 0)]
    verified = casemgr("audit", "verify", url=empty_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == "NORTH: 1 rows verified."  # today's, seq 5
    engine.dispose()

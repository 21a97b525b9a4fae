"""Integrity lives in the database: append-only tables, checks, unique natural keys."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from casemgr.models import ConsentRevocation, DisclosureEntry, Note, Student
from casemgr.models.enums import Role
from tests.factories import (
    create_consent,
    create_partner,
    create_school,
    create_student,
    create_user,
)


def _log_entry(db, user, student) -> DisclosureEntry:
    entry = DisclosureEntry(
        user_id=user.id, organization_id=user.organization_id, student_id=student.id,
        action="view", categories=["identity"], basis={"identity": "school_official"}, allowed=True,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE disclosure_log SET allowed = false",
        "DELETE FROM disclosure_log",
        "TRUNCATE disclosure_log",
    ],
)
def test_disclosure_log_is_append_only(db, statement):
    user = create_user(Role.COUNSELOR)
    student = create_student()
    _log_entry(db, user, student)
    with pytest.raises(DBAPIError, match="disclosure_log is append-only"):
        with db.session.begin_nested():
            db.session.execute(sa.text(statement))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureEntry))
    assert count == 1


def test_disclosure_log_rows_cannot_be_changed_through_the_orm(db):
    entry = _log_entry(db, create_user(Role.COUNSELOR), create_student())
    entry.allowed = False
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.flush()


@pytest.mark.parametrize("table", ["consents", "consent_revocations", "notes"])
def test_consents_and_notes_are_never_edited_or_deleted(db, table):
    partner = create_partner()
    student = create_student()
    consent = create_consent(student, partner)
    author = create_user(Role.COUNSELOR)
    db.session.add(ConsentRevocation(consent_id=consent.id, revoked_by_id=author.id))
    db.session.add(Note(student_id=student.id, author_id=author.id, organization_id=author.organization_id,
                        audience="shared", topic="attendance", body="Called home."))
    db.session.flush()
    for statement in (f"UPDATE {table} SET created_at = now()", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match=f"{table} is append-only"):
            with db.session.begin_nested():
                db.session.execute(sa.text(statement))


def test_state_id_is_unique_within_a_district_and_links_its_records_across_districts(db):
    """Each district keeps its own record of a student (SPEC §2): one record per state ID
    in a district, and a record in each district the student has been at."""
    first = create_student()
    same_district_school = create_school(first.district, level="middle")
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_student(same_district_school, state_id=first.state_id)
    moved = create_student(create_school(), state_id=first.state_id)
    assert moved.district_id != first.district_id


def test_a_student_school_must_belong_to_the_students_district(db):
    school = create_school()
    elsewhere = create_school()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_student(school, district_id=elsewhere.district_id)


@pytest.mark.parametrize(
    "fields",
    [{"grade": 13}, {"grade": -2}],
)
def test_student_checks(db, fields):
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_student(**fields)


def test_consent_categories_and_dates_are_checked(db):
    partner, student = create_partner(), create_student()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_consent(student, partner, categories=["attendance", "shoe size"])
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_consent(student, partner, categories=[])
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_consent(student, partner, signed_on=date(2026, 9, 1), expires_on=date(2026, 8, 1))


def test_electronic_consent_must_keep_its_statement(db):
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            create_consent(create_student(), create_partner(), method="electronic")


def test_public_ids_are_random_uuids(db):
    a, b = create_student(), create_student()
    assert a.uuid.version == 4 and b.uuid.version == 4 and a.uuid != b.uuid
    assert db.session.scalar(sa.select(Student.uuid).where(Student.id == a.id)) == a.uuid

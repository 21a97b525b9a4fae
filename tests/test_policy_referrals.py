"""The policy's referral and roster rules: each list face agrees with its record face,
and what an organization receives by referral is what its staff would see on the roster
(SPEC §4 rule 3, §6)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from casemgr import policy
from casemgr.clock import today
from casemgr.models import Referral, Student
from casemgr.models.enums import Category, Role
from tests.factories import create_referral, create_user
from tests.test_authorization import build_world

TODAY = today()


def test_basis_columns_agree_with_categories_visible(db):
    world = build_world(db)
    students = list(world.students.values())
    for who, user in world.users.items():
        columns = [policy.basis_column(user, c, TODAY).label(str(c)) for c in Category]
        rows = {row.id: row for row in db.session.execute(
            sa.select(Student.id, *columns).where(Student.id.in_([s.id for s in students])))}
        for student in students:
            listed = {c: rows[student.id]._mapping[str(c)] for c in Category if rows[student.id]._mapping[str(c)]}
            assert listed == policy.categories_visible(user, student, TODAY), (who, student.local_id)


def test_a_referral_shares_what_the_roster_would_show(db):
    """For the students on Northside's roster, what Northside receives by referral is
    exactly what its compliant worker sees; a student off the roster gets the same rule."""
    world = build_world(db)
    northside = world.partners["northside"]
    worker = world.users["youth_worker"]
    for name in ("own", "no_consent", "revoked", "expired", "eligible"):
        student = world.students[name]
        assert policy.organization_categories(northside.id, student, TODAY) == policy.categories_visible(
            worker, student, TODAY), name
    off_roster = world.students["other_child"]
    assert policy.organization_categories(northside.id, off_roster, TODAY) == {}
    consented_off_roster = world.students["agreement_ended"]  # Eastside's student; its agreement ended
    assert policy.organization_categories(world.partners["eastside"].id, consented_off_roster, TODAY) == {}


def test_the_inbox_list_face_agrees_with_the_record_face(db):
    world = build_world(db)
    counselor = world.users["counselor"]
    northside = world.partners["northside"]
    withdrawn = create_referral(world.students["eligible"], northside, counselor, status="awaiting_consent")
    withdrawn.status = "closed"  # withdrawn before any consent: it never reached Northside
    db.session.flush()
    create_referral(world.students["revoked"], northside, counselor, status="accepted")
    lapsed_admin = create_user(Role.PARTNER_ADMIN, northside, confidentiality_signed_on=TODAY - timedelta(days=30),
                               ferpa_trained_on=TODAY - timedelta(days=400))
    users = [world.users["partner_admin"], world.users["youth_worker"], lapsed_admin, world.users["eastside_worker"],
             counselor]
    for user in users:
        columns = [policy.referral_basis_column(user, c, TODAY).label(str(c)) for c in Category]
        rows = db.session.execute(sa.select(Referral, Student, *columns).join(Student, Student.id == Referral.student_id))
        for row in rows:
            referral, student = row[0], row[1]
            listed = {c: row._mapping[str(c)] for c in Category if row._mapping[str(c)]}
            assert listed == policy.referral_shared(user, referral, student, TODAY), (user.role, referral.status)
    admin = world.users["partner_admin"]
    assert policy.referral_shared(admin, world.referrals["own"], world.students["own"], TODAY) == {
        Category.IDENTITY: policy.categories_visible(admin, world.students["own"], TODAY)[Category.IDENTITY],
        Category.ATTENDANCE: policy.categories_visible(admin, world.students["own"], TODAY)[Category.ATTENDANCE],
    }
    assert policy.referral_shared(admin, world.referrals["no_consent"], world.students["no_consent"], TODAY) == {}
    assert policy.referral_shared(admin, withdrawn, world.students["eligible"], TODAY) == {}
    assert policy.referral_shared(lapsed_admin, world.referrals["own"], world.students["own"], TODAY) == {}
    assert policy.in_referral_inbox(admin, world.referrals["own"], TODAY)
    assert not policy.in_referral_inbox(admin, world.referrals["other_school"], TODAY)
    assert not policy.in_referral_inbox(lapsed_admin, world.referrals["own"], TODAY)
    assert not policy.in_referral_inbox(world.users["youth_worker"], world.referrals["own"], TODAY)


def test_roster_rules(db):
    world = build_world(db)
    admin, worker = world.users["partner_admin"], world.users["youth_worker"]
    assert policy.manages_roster(admin, TODAY) and not policy.manages_roster(worker, TODAY)
    northside, eastside = world.partners["northside"], world.partners["eastside"]
    assert policy.may_join_roster(northside.id, world.students["other_child"], TODAY)
    assert not policy.may_join_roster(northside.id, world.students["other_district"], TODAY)
    assert not policy.may_join_roster(eastside.id, world.students["own"], TODAY)  # its agreement ended
    on_roster = set(db.session.scalars(sa.select(Student.local_id).where(policy.roster_scope(worker, TODAY))))
    assert on_roster == {"LIDMARK1", "LIDMARK3", "LIDMARK4", "LIDMARK5", "LIDMARK7"}
    lapsed = world.users["noncompliant_worker"]
    assert db.session.scalars(sa.select(Student.id).where(policy.roster_scope(lapsed, TODAY))).all() == []

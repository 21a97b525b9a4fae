"""Statements built once and reused (casemgr/statement_cache.py): reused only under a key
that names everything they are built from."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from casemgr import statement_cache
from casemgr.models.enums import Role
from tests.factories import create_school, create_user

TODAY = date(2026, 10, 1)


def test_a_statement_is_built_once_per_key_and_the_least_used_go_first(monkeypatch):
    monkeypatch.setattr(statement_cache, "MAX_STATEMENTS", 2)
    statement_cache.clear()
    first = statement_cache.reuse("a", lambda: sa.select(sa.literal(1)))
    assert statement_cache.reuse("a", lambda: sa.select(sa.literal(2))) is first
    statement_cache.reuse("b", lambda: sa.select(sa.literal(3)))
    statement_cache.reuse("a", lambda: sa.select(sa.literal(4)))  # "a" used last: "b" goes first
    statement_cache.reuse("c", lambda: sa.select(sa.literal(5)))
    assert statement_cache.reuse("a", lambda: sa.select(sa.literal(6))) is first
    rebuilt = statement_cache.reuse("b", lambda: sa.select(sa.literal(7)))
    assert rebuilt is not first and "7" in str(rebuilt.compile(compile_kwargs={"literal_binds": True}))
    statement_cache.clear()


def test_columns_with_other_values_have_other_keys():
    def key(value, name="x"):
        return statement_cache.columns_key([sa.literal(value).label(name)])

    assert key(1) == key(1)
    assert key(1) != key(2) and key(1) != key(1, "y") and key([1, 2]) != key([1, 3])
    assert statement_cache.columns_key([]) == ()


def test_the_users_facts_change_with_their_row_and_their_organization(db):
    school = create_school()
    user = create_user(Role.COUNSELOR, school)
    facts = statement_cache.user_facts(user, TODAY)
    assert statement_cache.user_facts(user, TODAY) == facts
    user.ferpa_trained_on = date(2020, 1, 1)
    assert statement_cache.user_facts(user, TODAY) != facts
    facts = statement_cache.user_facts(user, TODAY)
    school.name = "Renamed High"
    assert statement_cache.user_facts(user, TODAY) != facts


def test_a_partners_facts_hold_the_agreements_in_force(db):
    from tests.factories import create_agreement, create_district, create_partner

    district = create_district()
    partner = create_partner()
    agreement = create_agreement(partner, district, categories=["attendance"], starts_on=date(2026, 8, 1),
                                 ends_on=date(2027, 7, 31))
    worker = create_user(Role.YOUTH_WORKER, partner)
    facts = statement_cache.user_facts(worker, TODAY)
    assert statement_cache.user_facts(worker, TODAY) == facts
    agreement.ended_on = TODAY
    db.session.flush()
    assert statement_cache.user_facts(worker, TODAY) != facts

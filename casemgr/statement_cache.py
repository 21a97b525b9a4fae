"""Statements built once and reused, for the pages people open many times a day.

Building a large SELECT (a home's work queue: every section, each over the students the
policy lets the user see) and computing the key SQLAlchemy compiles it under costs more
than PostgreSQL takes to run it. A statement object keeps its key once computed, so
reusing the object costs neither.

A statement is reused only under a key that names everything it is built from: the
user's row and their organization's row as they are now, and the data-sharing agreements
in force that the policy reads for a partner's staff (`user_facts`: a new role, a
training date, a move to another school, an agreement ended make another key), the day,
and the builder's own arguments. Everything else a statement depends on it reads in SQL
when it runs (consents, rosters, caseloads, the time), never in Python while it is
built: the tests that count a page's statements see a statement read while building
as one more on the first visit than on the next.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from typing import TypeVar

import sqlalchemy as sa

from casemgr.clock import district_zone
from casemgr.models import User
from casemgr.models.enums import PARTNER_STAFF

MAX_STATEMENTS = 1024  # a home keeps from one (a counselor) to seven (a partner admin)

S = TypeVar("S")

_statements: OrderedDict[Hashable, object] = OrderedDict()
_column_keys: OrderedDict[int, tuple[sa.ColumnElement, Hashable]] = OrderedDict()
_lock = threading.Lock()


def reuse(key: Hashable, build: Callable[[], S]) -> S:
    """The statement (or columns, or what else SQL is made of) built for `key`, built by
    `build` the first time (the least recently used ones go past MAX_STATEMENTS)."""
    with _lock:
        statement = _statements.get(key)
        if statement is not None:
            _statements.move_to_end(key)
            return statement
    statement = build()
    with _lock:
        _statements[key] = statement
        while len(_statements) > MAX_STATEMENTS:
            _statements.popitem(last=False)
    return statement


def clear() -> None:
    with _lock:
        _statements.clear()
        _column_keys.clear()


def user_facts(user: User, today: date) -> str:
    """A digest of every column of the user's row and of their organization's, as they
    are now, the organization's data-sharing agreements in force `today` (read once per
    request), the day and the district's time zone (days become moments in it)."""
    from casemgr import policy

    organization = user.organization
    agreements = tuple(_row(a) for a in policy.active_agreements(user.organization_id, today)) \
        if user.role_enum in PARTNER_STAFF else ()
    facts = (_row(user), _row(organization) if organization is not None else None, today, agreements,
             str(district_zone()))
    # kept as a digest: no password hash or second-factor secret stays in the process
    return hashlib.sha256(repr(facts).encode()).hexdigest()


def _row(instance) -> tuple:
    mapper = sa.inspect(instance).mapper
    return tuple(_hashable(getattr(instance, column.key)) for column in mapper.column_attrs)


def columns_key(columns: Sequence[sa.ColumnElement]) -> Hashable:
    """What a few columns built elsewhere say, SQL and values: two lists with the same key
    render the same SQL with the same parameters. A column built once and reused (by
    `reuse`) is read once: its key is kept with the column itself."""
    keys = []
    for column in columns:
        with _lock:
            known = _column_keys.get(id(column))
        if known is not None and known[0] is column:
            keys.append(known[1])
            continue
        cache_key = column._generate_cache_key()
        if cache_key is None:  # not cacheable: never the same as another
            return object()
        key = (cache_key.key, tuple(_hashable(b.effective_value) for b in cache_key.bindparams))
        with _lock:
            _column_keys[id(column)] = (column, key)  # the column kept: its id is not reused
            while len(_column_keys) > MAX_STATEMENTS:
                _column_keys.popitem(last=False)
        keys.append(key)
    return tuple(keys)


def _hashable(value) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value

"""Statements built once and reused, for the pages people open many times a day.

Building a large SELECT (a home's work queue: every section, each over the students the
policy lets the user see) and computing the key SQLAlchemy compiles it under costs more
than PostgreSQL takes to run it. A statement object keeps its key once computed, so
reusing the object costs neither.

A statement is reused only under a key that names everything it is built from: the
user's row and their organization's row as they are now (`user_facts`: a new role, a
training date, a move to another school make another key), the day, and the builder's
own arguments. Everything else a statement depends on it reads in SQL when it runs
(consents, rosters, caseloads, the time), never in Python while it is built.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import sqlalchemy as sa

from casemgr.models import User

MAX_STATEMENTS = 256

S = TypeVar("S", bound=sa.Executable)

_statements: OrderedDict[Hashable, sa.Executable] = OrderedDict()
_lock = threading.Lock()


def reuse(key: Hashable, build: Callable[[], S]) -> S:
    """The statement built for `key`, built by `build` the first time (the least recently
    used ones go past MAX_STATEMENTS)."""
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


def user_facts(user: User) -> tuple:
    """Every column of the user's row and of their organization's, as they are now."""
    organization = user.organization
    return (_row(user), _row(organization) if organization is not None else None)


def _row(instance) -> tuple:
    mapper = sa.inspect(instance).mapper
    return tuple(_hashable(getattr(instance, column.key)) for column in mapper.column_attrs)


def columns_key(columns: Sequence[sa.ColumnElement]) -> Hashable:
    """What a few columns built elsewhere say, SQL and values: two lists with the same key
    render the same SQL with the same parameters."""
    keys = []
    for column in columns:
        cache_key = column._generate_cache_key()
        if cache_key is None:  # not cacheable: never the same as another
            return object()
        keys.append((cache_key.key, tuple(_hashable(b.effective_value) for b in cache_key.bindparams)))
    return tuple(keys)


def _hashable(value) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value

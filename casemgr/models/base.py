"""Pieces every model file uses."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


def one_of(column: str, values: Iterable[str] | type[StrEnum], name: str | None = None) -> sa.CheckConstraint:
    """CHECK that `column` holds one of `values` (a closed vocabulary kept as text)."""
    listed = ", ".join(f"'{str(v)}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_valid")


def all_of(column: str, values: Iterable[str] | type[StrEnum], name: str | None = None) -> sa.CheckConstraint:
    """CHECK that the text[] `column` is non-empty and drawn from `values`."""
    listed = ", ".join(f"'{str(v)}'" for v in values)
    return sa.CheckConstraint(
        f"cardinality({column}) > 0 AND {column} <@ ARRAY[{listed}]::text[]",
        name=name or f"{column}_valid",
    )


class PublicId:
    """A random UUID, the only identifier that appears in URLs."""

    uuid: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, unique=True, default=uuid.uuid4, server_default=sa.text("gen_random_uuid()")
    )


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )

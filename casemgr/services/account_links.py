"""Single-use emailed links (invitations, password resets): the token travels in the
link, only its SHA-256 is stored. A new link of a purpose revokes the account's earlier
ones of that purpose."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.models import AccountToken, User
from casemgr.models.enums import TokenPurpose

MAX_TOKEN_LENGTH = 100


class LinkState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def revoke(user: User, purpose: TokenPurpose) -> None:
    """The account's open links of `purpose` stop working."""
    db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == str(purpose),
               AccountToken.used_at.is_(None), AccountToken.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    )


def issue(user: User, purpose: TokenPurpose, lifetime: timedelta, created_by: User | None) -> str:
    """A new link's token for `user`; earlier ones of the same purpose are revoked."""
    revoke(user, purpose)
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(
        user_id=user.id, purpose=str(purpose), token_hash=token_hash(token),
        expires_at=datetime.now(UTC) + lifetime, created_by_id=created_by.id if created_by else None,
    ))
    db.session.flush()
    return token


def find(token: str, purpose: TokenPurpose) -> AccountToken | None:
    """The link `token` names, locked for the rest of the transaction, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        sa.select(AccountToken)
        .where(AccountToken.token_hash == token_hash(token), AccountToken.purpose == str(purpose))
        .with_for_update()
    )


def state(link: AccountToken) -> LinkState:
    if link.used_at is not None:
        return LinkState.USED
    if link.revoked_at is not None or not link.user.active:
        return LinkState.REVOKED
    if link.expires_at <= datetime.now(UTC):
        return LinkState.EXPIRED
    return LinkState.VALID


def use(link: AccountToken) -> None:
    link.used_at = datetime.now(UTC)


def has_been_invited(user: User) -> bool:
    return db.session.scalar(
        sa.select(sa.exists().where(AccountToken.user_id == user.id, AccountToken.purpose == str(TokenPurpose.INVITATION)))
    )

"""The secrets of the links we e-mail (verify an address, reset a password, confirm an
application): single use, short-lived, and worthless if the database leaks.

A token is 256 random bits; the table keeps only its SHA-256, so that reading the table
gives no working link (as API keys). It needs no signature of its own: a token is valid
only if its hash is found here, unused and unexpired, which nobody can forge. Using it
marks it used in the caller's transaction, so that the change it allows and its use
commit together: a link works once, even clicked twice at the same moment.
"""

import hashlib
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.errors import AppError
from app.core.types import UTCDateTime, utcnow

TOKEN_BYTES = 32


class EmailToken(SQLModel, table=True):
    __tablename__ = "email_token"

    token_hash: str = Column(sa_type=sa.String(64), primary_key=True)
    purpose: str = Column(sa_type=sa.String(32))
    # What the link acts on; the data (an address, a password hash) rides with the token,
    # so that nothing changes before the link is used.
    candidate_id: uuid.UUID | None = Column(default=None, index=True)
    application_id: uuid.UUID | None = Column(default=None, index=True)
    data: str = Column(default="{}", sa_type=sa.Text)
    expires_at: datetime = Column(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def values(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded


class InvalidLink(AppError):
    """Unknown, used and expired links get this one answer: which of the three it is
    would tell a stranger holding a guessed or stolen token nothing useful, and the owner
    asks for a new link in every case."""

    status, title, slug = 400, "Invalid Link", "invalid-link"

    def __init__(self) -> None:
        super().__init__(
            "This link is not valid: it was already used, it has expired, or it is "
            "incomplete. Ask for a new one."
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    session: AsyncSession,
    purpose: str,
    *,
    lifetime: timedelta,
    data: dict[str, Any] | None = None,
    candidate_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
) -> str:
    """A new token, added to the caller's transaction; the token itself is returned once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        EmailToken(
            token_hash=_hash(token),
            purpose=purpose,
            candidate_id=candidate_id,
            application_id=application_id,
            data=json.dumps(data or {}, ensure_ascii=False),
            expires_at=utcnow() + lifetime,
        )
    )
    return token


def _usable(token: str, purpose: str) -> Any:
    return sa.select(EmailToken).where(
        EmailToken.token_hash == _hash(token),  # type: ignore[arg-type]
        EmailToken.purpose == purpose,  # type: ignore[arg-type]
        EmailToken.used_at.is_(None),  # type: ignore[union-attr]
        EmailToken.expires_at > utcnow(),  # type: ignore[arg-type]
    )


async def peek(session: AsyncSession, token: str, purpose: str) -> EmailToken:
    """The token, if it would work now, without using it (the page a link opens)."""
    if not token or len(token) > 200:
        raise InvalidLink()
    found = (await session.execute(_usable(token, purpose))).scalar_one_or_none()
    if not isinstance(found, EmailToken):
        raise InvalidLink()
    return found


async def consume(session: AsyncSession, token: str, purpose: str) -> EmailToken:
    """Use the token in the caller's transaction. Marking it used is a conditional update,
    so that of two uses at once only one finds it unused (on both engines)."""
    found = await peek(session, token, purpose)
    now = utcnow()
    marked = await session.execute(
        sa.update(EmailToken)
        .where(
            EmailToken.token_hash == found.token_hash,  # type: ignore[arg-type]
            EmailToken.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=now)
    )
    if getattr(marked, "rowcount", 0) != 1:
        raise InvalidLink()
    found.used_at = now
    return found


async def revoke(
    session: AsyncSession,
    purpose: str,
    *,
    candidate_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
) -> None:
    """Make the unused tokens of a subject unusable (a new reset link replaces the old)."""
    statement = sa.update(EmailToken).where(
        EmailToken.purpose == purpose,  # type: ignore[arg-type]
        EmailToken.used_at.is_(None),  # type: ignore[union-attr]
    )
    if candidate_id is not None:
        statement = statement.where(EmailToken.candidate_id == candidate_id)  # type: ignore[arg-type]
    if application_id is not None:
        statement = statement.where(EmailToken.application_id == application_id)  # type: ignore[arg-type]
    await session.execute(statement.values(used_at=utcnow()))


async def delete_expired(session: AsyncSession, before: datetime) -> int:
    """Expired and used tokens serve nobody (purge)."""
    result = await session.execute(
        sa.delete(EmailToken).where(
            sa.or_(EmailToken.expires_at < before, EmailToken.used_at.is_not(None))  # type: ignore[arg-type,union-attr]
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)

"""API keys: the table, and issuing and revoking keys (used by the CLI and the tests)."""

import hashlib
import secrets
import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, select

from app.core.types import UTCDateTime, utcnow

KEY_PREFIX = "voc_"


class Role(StrEnum):
    admin = "admin"
    recruiter = "recruiter"
    partner = "partner"


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced and lets us
    # find the key with one indexed lookup; Argon2 is for low-entropy passwords.
    key_hash: str = Field(sa_type=sa.String(64), unique=True)
    display_prefix: str = Field(sa_type=sa.String(16))
    role: str = Field(sa_type=sa.String(16))
    organisation_id: uuid.UUID | None = Field(
        default=None, foreign_key="organisation.id", ondelete="CASCADE", index=True
    )
    label: str | None = Field(default=None, sa_type=sa.String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX) and 20 <= len(token) <= 100 and token.isascii()


async def issue_key(
    session: AsyncSession,
    role: Role,
    organisation_id: uuid.UUID | None = None,
    label: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never stored and never shown again."""
    if role is Role.recruiter and organisation_id is None:
        raise ValueError("a recruiter key is bound to one organisation")
    if role is not Role.recruiter and organisation_id is not None:
        raise ValueError("only recruiter keys are bound to an organisation")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        key_hash=hash_key(secret),
        display_prefix=secret[:12],
        role=role.value,
        organisation_id=organisation_id,
        label=label,
    )
    session.add(key)
    await session.commit()
    return key, secret


class AmbiguousPrefix(Exception):
    """Two keys share the prefix given: the id (or the key) tells them apart."""


async def revoke_key(session: AsyncSession, given: str) -> ApiKey | None:
    """Revoke the key named by the key itself, its id, or its display prefix (as listed,
    with or without its trailing "…")."""
    given = given.strip()
    statement = select(ApiKey)
    try:
        statement = statement.where(ApiKey.id == uuid.UUID(given))
    except ValueError:
        prefix = given.removesuffix("…").removesuffix("...")
        # A prefix holds at most 16 characters (its column's size); a key is longer.
        if looks_like_key(given) and len(given) > 16:
            statement = statement.where(ApiKey.key_hash == hash_key(given))
        else:
            statement = statement.where(ApiKey.display_prefix == prefix)
    found = (await session.execute(statement.limit(2))).scalars().all()
    if len(found) > 1:
        raise AmbiguousPrefix(f"several keys start with {given!r}: give the key's id")
    if not found:
        return None
    key = found[0]
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.commit()
    return key

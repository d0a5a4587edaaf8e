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


async def revoke_key(session: AsyncSession, key_id_or_prefix: str) -> ApiKey | None:
    statement = select(ApiKey)
    try:
        statement = statement.where(ApiKey.id == uuid.UUID(key_id_or_prefix))
    except ValueError:
        statement = statement.where(ApiKey.display_prefix == key_id_or_prefix)
    key = (await session.execute(statement)).scalars().first()
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.commit()
    return key

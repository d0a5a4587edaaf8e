"""Candidate accounts: password checks, erasure."""

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates import lockout, tokens
from app.candidates.guard import Guard
from app.candidates.models import Candidate
from app.core.email import account_email
from app.core.email_tokens import EmailToken
from app.core.errors import Unauthorized
from app.core.security import bearer_challenge
from app.core.types import utcnow

_CREDENTIALS = select(
    col(Candidate.id),
    col(Candidate.password_hash),
    col(Candidate.failed_sign_ins),
    col(Candidate.locked_until),
)


async def authenticate(
    session: AsyncSession, email: str, password: str, guard: Guard
) -> uuid.UUID | None:
    """The account these credentials open, or None; as slow either way. Throttled (429) and
    locked (429) accounts, and a full hashing queue (503), are refused before any hash."""
    email = account_email(email)
    await guard.throttle(email)
    row = (await session.execute(_CREDENTIALS.where(col(Candidate.email) == email))).first()
    # No connection is held while the hash waits for its turn.
    await session.rollback()
    if row is not None:
        lockout.refuse_if_locked(row.locked_until, utcnow())
    matches = await guard.hashing.verify(row.password_hash if row else None, password)
    if row is None:
        return None
    if not matches:
        await lockout.record_failure(session, row.id, guard.lockout, utcnow())
        return None
    if row.failed_sign_ins or row.locked_until is not None:
        await lockout.clear(session, row.id)
    candidate_id: uuid.UUID = row.id
    return candidate_id


async def get(session: AsyncSession, candidate_id: uuid.UUID) -> Candidate:
    candidate = await session.get(Candidate, candidate_id)
    if candidate is None:
        raise Unauthorized(
            "This account no longer exists.",
            headers=bearer_challenge("invalid_token", "This account no longer exists."),
        )
    return candidate


async def delete_account(session: AsyncSession, candidate_id: uuid.UUID) -> None:
    await tokens.delete_all_of(session, candidate_id)
    # Their links hold the address (and a reset link would open nothing any more).
    await session.execute(delete(EmailToken).where(col(EmailToken.candidate_id) == candidate_id))
    await session.execute(delete(Candidate).where(col(Candidate.id) == candidate_id))

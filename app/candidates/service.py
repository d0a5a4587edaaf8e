"""Candidate accounts: sign-up, password checks, erasure."""

import asyncio
import functools
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates import tokens
from app.candidates.models import Candidate, CandidateCreate
from app.core.errors import Conflict, Unauthorized
from app.core.security import bearer_challenge

T = TypeVar("T")
_hasher = PasswordHasher()
# Each hash takes ~64 MiB and tens of milliseconds: a small pool of its own, so a burst of
# sign-ins queues here instead of starving the default pool that file storage uses.
_password_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")


async def _in_password_pool(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_password_pool, function, *args)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both answers take as long. Made on
    first use: an Argon2 hash costs 64 MiB, which start-up need not pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create(session: AsyncSession, data: CandidateCreate) -> Candidate:
    # Argon2 is deliberately slow: off the event loop.
    password_hash = await _in_password_pool(_hasher.hash, data.password)
    candidate = Candidate(email=normalise_email(data.email), password_hash=password_hash)
    session.add(candidate)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("An account with this e-mail exists; sign in instead.") from None
    return candidate


async def authenticate(session: AsyncSession, email: str, password: str) -> Candidate | None:
    """The account these credentials open, or None; as slow either way."""
    candidate = (
        await session.execute(
            select(Candidate).where(col(Candidate.email) == normalise_email(email))
        )
    ).scalar_one_or_none()
    stored = candidate.password_hash if candidate else await _in_password_pool(_dummy_hash)
    try:
        await _in_password_pool(_hasher.verify, stored, password)
    except VerificationError:
        return None
    return candidate


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
    await session.execute(delete(Candidate).where(col(Candidate.id) == candidate_id))

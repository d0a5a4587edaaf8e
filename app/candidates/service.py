"""Candidate accounts: sign-up, sign-in (short-lived tokens), and token resolution."""

import asyncio
import functools
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from app.candidates.models import Candidate, CandidateCreate, CandidateToken
from app.core.api_keys import hash_key
from app.core.errors import Conflict, Unauthorized
from app.core.security import CANDIDATE, Principal
from app.core.types import utcnow

T = TypeVar("T")
TOKEN_PREFIX = "cnd_"  # noqa: S105 - a prefix, not a secret
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


_TOKEN_LOOKUP = select(col(CandidateToken.candidate_id), col(CandidateToken.expires_at)).where(
    col(CandidateToken.token_hash) == bindparam("token_hash")
)


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


async def sign_in(
    session: AsyncSession, email: str, password: str, lifetime: timedelta
) -> tuple[str, datetime]:
    candidate = (
        await session.execute(
            select(Candidate).where(col(Candidate.email) == normalise_email(email))
        )
    ).scalar_one_or_none()
    stored = candidate.password_hash if candidate else await _in_password_pool(_dummy_hash)
    try:
        await _in_password_pool(_hasher.verify, stored, password)
    except VerificationError:
        candidate = None
    if candidate is None:
        raise Unauthorized(
            "Wrong e-mail or password.", headers={"WWW-Authenticate": 'Bearer realm="vocation"'}
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + lifetime
    session.add(
        CandidateToken(token_hash=hash_key(token), candidate_id=candidate.id, expires_at=expires_at)
    )
    await session.commit()
    return token, expires_at


async def resolve_token(connection: AsyncConnection, token: str) -> Principal | None:
    row = (await connection.execute(_TOKEN_LOOKUP, {"token_hash": hash_key(token)})).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return Principal(role=CANDIDATE, candidate_id=row.candidate_id)


async def get(session: AsyncSession, candidate_id: uuid.UUID) -> Candidate:
    candidate = await session.get(Candidate, candidate_id)
    if candidate is None:
        raise Unauthorized("This account no longer exists.")
    return candidate


async def delete_account(session: AsyncSession, candidate_id: uuid.UUID) -> None:
    await session.execute(
        delete(CandidateToken).where(col(CandidateToken.candidate_id) == candidate_id)
    )
    await session.execute(delete(Candidate).where(col(Candidate.id) == candidate_id))


async def purge_expired_tokens(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(CandidateToken).where(col(CandidateToken.expires_at) <= now)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)

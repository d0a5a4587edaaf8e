"""Candidates' tokens: access tokens, refresh tokens rotated within a sign-in's family, and
their revocation. All are opaque and stored as SHA-256 hashes only."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from app.candidates.models import CandidateRefreshToken, CandidateToken, TokenResponse
from app.candidates.oauth import OAuthError
from app.core.api_keys import hash_key
from app.core.security import CANDIDATE, Principal
from app.core.types import utcnow

ACCESS_PREFIX = "cnd_"
# Its own prefix: a refresh token sent as a bearer token is refused as malformed, and
# revocation knows which kind it holds without a hint.
REFRESH_PREFIX = "cnr_"


@dataclass(frozen=True, slots=True)
class Lifetimes:
    access: timedelta
    refresh: timedelta


_ACCESS_LOOKUP = select(col(CandidateToken.candidate_id), col(CandidateToken.expires_at)).where(
    col(CandidateToken.token_hash) == bindparam("token_hash")
)


async def resolve_access_token(connection: AsyncConnection, token: str) -> Principal | None:
    row = (await connection.execute(_ACCESS_LOOKUP, {"token_hash": hash_key(token)})).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return Principal(role=CANDIDATE, candidate_id=row.candidate_id)


async def sign_in(
    session: AsyncSession, candidate_id: uuid.UUID, lifetimes: Lifetimes
) -> TokenResponse:
    return await _issue(session, candidate_id, uuid.uuid4(), lifetimes)


async def refresh(session: AsyncSession, refresh_token: str, lifetimes: Lifetimes) -> TokenResponse:
    """The next tokens of the family, once per refresh token."""
    token_hash = hash_key(refresh_token)
    now = utcnow()
    # Claimed by one conditional UPDATE: of two concurrent uses, exactly one wins.
    claimed = await session.execute(
        update(CandidateRefreshToken)
        .where(
            col(CandidateRefreshToken.token_hash) == token_hash,
            col(CandidateRefreshToken.used_at).is_(None),
            col(CandidateRefreshToken.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = (
        await session.execute(
            select(
                col(CandidateRefreshToken.family_id),
                col(CandidateRefreshToken.candidate_id),
                col(CandidateRefreshToken.used_at),
            ).where(col(CandidateRefreshToken.token_hash) == token_hash)
        )
    ).first()
    if getattr(claimed, "rowcount", 0) == 1 and row is not None:
        return await _issue(session, row.candidate_id, row.family_id, lifetimes)
    if row is not None and row.used_at is not None:
        # A used token again: the client and someone else both hold the chain, and which
        # is which cannot be told. Ending the family signs both out (RFC 9700 §4.14).
        await _revoke_family(session, row.family_id)
    await session.commit()
    raise OAuthError("invalid_grant", "The refresh token is unknown, expired, revoked or used.")


async def revoke(session: AsyncSession, token: str) -> None:
    """RFC 7009: a refresh token ends its whole sign-in; an access token ends itself.
    Anything else is ignored, since the caller's goal (the token is unusable) holds."""
    token_hash = hash_key(token)
    if token.startswith(REFRESH_PREFIX):
        family_id = (
            await session.execute(
                select(col(CandidateRefreshToken.family_id)).where(
                    col(CandidateRefreshToken.token_hash) == token_hash
                )
            )
        ).scalar_one_or_none()
        if family_id is not None:
            await _revoke_family(session, family_id)
    elif token.startswith(ACCESS_PREFIX):
        await session.execute(
            delete(CandidateToken).where(col(CandidateToken.token_hash) == token_hash)
        )
    await session.commit()


async def delete_all_of(session: AsyncSession, candidate_id: uuid.UUID) -> None:
    for model in (CandidateToken, CandidateRefreshToken):
        await session.execute(delete(model).where(col(model.candidate_id) == candidate_id))


async def purge_expired_tokens(session: AsyncSession, now: datetime) -> int:
    """Expired access and refresh tokens; a used refresh token is kept until its own end,
    so that its reuse is caught until then."""
    deleted = 0
    for model in (CandidateToken, CandidateRefreshToken):
        result = await session.execute(delete(model).where(col(model.expires_at) <= now))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    await session.commit()
    return deleted


async def _issue(
    session: AsyncSession, candidate_id: uuid.UUID, family_id: uuid.UUID, lifetimes: Lifetimes
) -> TokenResponse:
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        CandidateToken(
            token_hash=hash_key(access),
            candidate_id=candidate_id,
            family_id=family_id,
            expires_at=now + lifetimes.access,
        )
    )
    session.add(
        CandidateRefreshToken(
            token_hash=hash_key(refresh_token),
            family_id=family_id,
            candidate_id=candidate_id,
            expires_at=now + lifetimes.refresh,
        )
    )
    await session.commit()
    return TokenResponse(
        access_token=access,
        expires_in=int(lifetimes.access.total_seconds()),
        refresh_token=refresh_token,
    )


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    for model in (CandidateToken, CandidateRefreshToken):
        await session.execute(delete(model).where(col(model.family_id) == family_id))

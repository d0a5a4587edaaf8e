"""Whether an application's address is proven as it is made: only a signed-in candidate
whose account's address was verified, applying with that very address. Anyone else
(anonymous, a partner site, an unverified account, another address) may have typed
someone else's address, so the application waits for the link sent to it."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates.models import Candidate
from app.core.email import account_email
from app.core.security import CANDIDATE, Principal


async def address_is_proven(session: AsyncSession, principal: Principal | None, email: str) -> bool:
    if principal is None or principal.role != CANDIDATE or principal.candidate_id is None:
        return False
    row = (
        await session.execute(
            select(col(Candidate.email), col(Candidate.email_verified_at)).where(
                col(Candidate.id) == principal.candidate_id
            )
        )
    ).first()
    if row is None or row.email_verified_at is None:
        return False
    return bool(account_email(email) == account_email(row.email))

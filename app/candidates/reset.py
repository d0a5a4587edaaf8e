"""Password reset: a link to the account's address, then a new password. The request
answers the same whatever the address; using the link proves the address, and ends every
sign-in and lockout of the account, since whoever knew the old password is shut out."""

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates import links, lockout, strength, tokens
from app.candidates.guard import Guard
from app.candidates.links import Links, password_stamp
from app.candidates.models import Candidate
from app.candidates.schemas import NewPassword
from app.core import email_tokens
from app.core.email_tokens import InvalidLink
from app.core.types import utcnow
from app.mail import queue_mail


async def request_reset(session: AsyncSession, guard: Guard, email: str, urls: Links) -> None:
    # Counted with sign-ins: a reset sends a mail, and must not flood a mailbox.
    await guard.throttle(email)
    account = (
        await session.execute(
            select(col(Candidate.id), col(Candidate.password_hash)).where(
                col(Candidate.email) == email
            )
        )
    ).first()
    # Past the address's quota, the same answer and no mail: a reset asked from many client
    # addresses must not flood a mailbox, nor the relay's reputation.
    if not await guard.mail_quota.allows(email):
        return
    if account is None:
        # Someone who forgot which address they signed up with learns it here, and only
        # the address's owner reads it. One message either way, as on the other path.
        await queue_mail(session, to=email, template="candidate_reset_unknown", context={})
    else:
        token = await email_tokens.issue(
            session,
            links.RESET,
            lifetime=links.RESET_LIFETIME,
            candidate_id=account.id,
            data={"email": email, "stamp": password_stamp(account.password_hash)},
        )
        await queue_mail(
            session, to=email, template="candidate_reset", context={"link": urls.reset(token)}
        )
    await session.commit()


async def reset_password(session: AsyncSession, guard: Guard, data: NewPassword) -> Candidate:
    token = await email_tokens.peek(session, data.token, links.RESET)
    values = token.values
    candidate = await session.get(Candidate, token.candidate_id) if token.candidate_id else None
    # The password or the address changed since the link was sent: it has lost its object.
    if (
        candidate is None
        or candidate.email != values["email"]
        or password_stamp(candidate.password_hash) != values["stamp"]
    ):
        raise InvalidLink()
    # Checked before the link is used: a refused password leaves the link working.
    strength.check(data.password, candidate.email, guard.min_strength)
    candidate_id, email, old_hash = candidate.id, candidate.email, candidate.password_hash
    # No connection is held while the hash waits for its turn.
    await session.rollback()
    new_hash = await guard.hashing.hash(data.password)
    await email_tokens.consume(session, data.token, links.RESET)
    # Conditional on the password it replaces: of two links used at once, one wins.
    replaced = await session.execute(
        update(Candidate)
        .where(
            col(Candidate.id) == candidate_id,
            col(Candidate.email) == email,
            col(Candidate.password_hash) == old_hash,
        )
        .values(
            password_hash=new_hash,
            email_verified_at=func.coalesce(col(Candidate.email_verified_at), utcnow()),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(replaced, "rowcount", 0) != 1:
        await session.rollback()
        raise InvalidLink()
    await tokens.delete_all_of(session, candidate_id)
    await lockout.clear(session, lockout.address_key(email))
    await queue_mail(session, to=email, template="candidate_password_changed", context={})
    await session.commit()
    changed = await session.get(Candidate, candidate_id, populate_existing=True)
    assert changed is not None
    return changed

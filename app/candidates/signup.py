"""Sign-up by a proven address. Asking for an account creates nothing: the link sent to the
address carries the address and the password's hash, and the account is made, proven, when
the link is used. An address that has an account gets a warning instead, and the asker the
same answer, so that sign-up tells nobody whether an address has an account."""

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates import links, strength
from app.candidates.guard import Guard
from app.candidates.links import Links
from app.candidates.models import Candidate, CandidateCreate
from app.candidates.proof import require_password
from app.candidates.schemas import ProveAddress
from app.core import email_tokens
from app.core.email_tokens import InvalidLink
from app.core.errors import Conflict
from app.core.types import utcnow
from app.mail import queue_mail


async def request_account(
    session: AsyncSession, guard: Guard, data: CandidateCreate, urls: Links
) -> None:
    # data.email is canonical already (CanonicalEmailAddress).
    await guard.throttle(data.email)
    # A weak password is refused whether or not the address has an account: the 422
    # tells nothing either way.
    strength.check(data.password, data.email, guard.min_strength)
    # Hashed on both paths, before the database is read, so that both take as long and
    # no connection waits for the hashing queue.
    password_hash = await guard.hashing.hash(data.password)
    account = (
        await session.execute(
            select(col(Candidate.id), col(Candidate.password_hash)).where(
                col(Candidate.email) == data.email
            )
        )
    ).first()
    # Past the address's quota, the same answer and no mail (nor link).
    if not await guard.mail_quota.allows(data.email):
        return
    if account is None:
        token = await email_tokens.issue(
            session,
            links.VERIFY,
            lifetime=links.VERIFY_LIFETIME,
            data={"email": data.email, "password_hash": password_hash},
        )
        await queue_mail(
            session,
            to=data.email,
            template="candidate_verify",
            context={"link": urls.verify(token), "new_account": True},
        )
    else:
        # The owner may be the one who forgot having an account: the warning carries a
        # reset link, so that it is of use either way. Work of the same shape as above.
        token = await email_tokens.issue(
            session,
            links.RESET,
            lifetime=links.RESET_LIFETIME,
            candidate_id=account.id,
            data={"email": data.email, "stamp": links.password_stamp(account.password_hash)},
        )
        await queue_mail(
            session,
            to=data.email,
            template="candidate_signup_existing",
            context={"reset_link": urls.reset(token)},
        )
    await session.commit()


async def prove_address(session: AsyncSession, guard: Guard, data: ProveAddress) -> Candidate:
    """Use a verification link: make the account it asks for, proven, or prove the address
    of an account made before sign-up asked for it."""
    token = await email_tokens.peek(session, data.token, links.VERIFY)
    values = token.values
    email: str = values["email"]
    if token.candidate_id is None:
        stored_hash: str = values["password_hash"]
        # Another link of the same address was used first: the account exists.
        if await _account_of(session, email) is not None:
            raise InvalidLink()
    else:
        candidate = await session.get(Candidate, token.candidate_id)
        # The address changed since the link was sent: it proves the old one only.
        if candidate is None or candidate.email != email:
            raise InvalidLink()
        stored_hash = candidate.password_hash
    # No connection is held while the hash waits for its turn.
    await session.rollback()
    await require_password(guard, stored_hash, data.password)
    used = await email_tokens.consume(session, data.token, links.VERIFY)
    if used.candidate_id is None:
        return await _create(session, email, stored_hash)
    return await _mark_proven(session, used.candidate_id, email)


async def _account_of(session: AsyncSession, email: str) -> uuid.UUID | None:
    found: uuid.UUID | None = (
        await session.execute(select(col(Candidate.id)).where(col(Candidate.email) == email))
    ).scalar_one_or_none()
    return found


async def _create(session: AsyncSession, email: str, password_hash: str) -> Candidate:
    candidate = Candidate(email=email, password_hash=password_hash, email_verified_at=utcnow())
    session.add(candidate)
    try:
        await session.commit()
    except IntegrityError:
        # Made meanwhile by another link of the same address: this one has served.
        await session.rollback()
        raise InvalidLink() from None
    return candidate


async def _mark_proven(session: AsyncSession, candidate_id: uuid.UUID, email: str) -> Candidate:
    # Conditional, so that an address changed between the check and now is not proven.
    proven = await session.execute(
        update(Candidate)
        .where(col(Candidate.id) == candidate_id, col(Candidate.email) == email)
        # The first proof's date stays.
        .values(email_verified_at=func.coalesce(col(Candidate.email_verified_at), utcnow()))
        .execution_options(synchronize_session=False)
    )
    if getattr(proven, "rowcount", 0) != 1:
        await session.rollback()
        raise InvalidLink()
    await session.commit()
    candidate = await session.get(Candidate, candidate_id, populate_existing=True)
    assert candidate is not None
    return candidate


async def send_proof_again(
    session: AsyncSession, guard: Guard, candidate_id: uuid.UUID, urls: Links
) -> None:
    """A new verification link for an account made before sign-up asked for one."""
    candidate = await session.get(Candidate, candidate_id)
    assert candidate is not None, "the bearer token's account exists"
    if candidate.email_verified_at is not None:
        raise Conflict("This account's address is proven already.")
    # Counted as an attempt on the account: the link goes to a mailbox, and must not
    # flood it.
    await guard.throttle(candidate.email)
    if not await guard.mail_quota.allows(candidate.email):
        return
    token = await email_tokens.issue(
        session,
        links.VERIFY,
        lifetime=links.VERIFY_LIFETIME,
        candidate_id=candidate.id,
        data={"email": candidate.email},
    )
    await queue_mail(
        session,
        to=candidate.email,
        template="candidate_verify",
        context={"link": urls.verify(token), "new_account": False},
    )
    await session.commit()

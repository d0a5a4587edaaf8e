"""Changing an account's address: asked with the password, confirmed by a link sent to the
new address, and told to the old one. Until the link is used nothing changes; the answer
never says whether the new address has an account (its owner is told, in a mail)."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates import links, lockout
from app.candidates.guard import Guard
from app.candidates.links import Links
from app.candidates.models import Candidate
from app.candidates.proof import WrongPassword, require_password
from app.candidates.schemas import EmailChangeRequest, ProveAddress
from app.core import email_tokens
from app.core.email_tokens import InvalidLink
from app.core.errors import FieldError, Unprocessable
from app.core.types import utcnow
from app.mail import queue_mail


async def request_change(
    session: AsyncSession,
    guard: Guard,
    candidate_id: uuid.UUID,
    data: EmailChangeRequest,
    urls: Links,
) -> None:
    candidate = await session.get(Candidate, candidate_id)
    assert candidate is not None, "the bearer token's account exists"
    current, stored_hash = candidate.email, candidate.password_hash
    if data.new_email == current:
        raise Unprocessable(
            "This is the account's address already.",
            errors=[FieldError(field="new_email", message="the account's address already")],
        )
    # A stolen access token must not let its holder guess the password here faster than
    # at sign-in: the same per-account limit and lockout.
    await guard.throttle(current)
    key = lockout.address_key(current)
    until = await lockout.locked_until(session, key)
    await session.rollback()
    lockout.refuse_if_locked(until, utcnow())
    try:
        await require_password(guard, stored_hash, data.password)
    except WrongPassword:
        await lockout.record_failure(session, key, guard.lockout, utcnow())
        raise
    # The new address is anyone's: past its quota, the same answer and no mail.
    if not await guard.mail_quota.allows(data.new_email):
        return
    taken = (
        await session.execute(
            select(col(Candidate.id)).where(col(Candidate.email) == data.new_email)
        )
    ).first()
    if taken is not None:
        await queue_mail(session, to=data.new_email, template="candidate_email_taken", context={})
    else:
        token = await email_tokens.issue(
            session,
            links.EMAIL_CHANGE,
            lifetime=links.EMAIL_CHANGE_LIFETIME,
            candidate_id=candidate_id,
            data={"email": current, "new_email": data.new_email},
        )
        await queue_mail(
            session,
            to=data.new_email,
            template="candidate_email_change",
            context={"link": urls.email_change(token)},
        )
    await session.commit()


async def confirm_change(session: AsyncSession, guard: Guard, data: ProveAddress) -> Candidate:
    token = await email_tokens.peek(session, data.token, links.EMAIL_CHANGE)
    values = token.values
    old, new = values["email"], values["new_email"]
    candidate = await session.get(Candidate, token.candidate_id) if token.candidate_id else None
    # Changed again since the link was sent: it asks for a change from an address the
    # account no longer has.
    if candidate is None or candidate.email != old:
        raise InvalidLink()
    candidate_id, stored_hash = candidate.id, candidate.password_hash
    await session.rollback()
    # The password too, or someone could send another person a link that ties that
    # person's address to an account the sender holds.
    await require_password(guard, stored_hash, data.password)
    await email_tokens.consume(session, data.token, links.EMAIL_CHANGE)
    try:
        changed = await session.execute(
            update(Candidate)
            .where(col(Candidate.id) == candidate_id, col(Candidate.email) == old)
            .values(email=new, email_verified_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(changed, "rowcount", 0) != 1:
            raise InvalidLink()
        await queue_mail(
            session,
            to=old,
            template="candidate_email_changed",
            context={"new_email": masked(new)},
        )
        await session.commit()
    except IntegrityError:
        # The new address got an account meanwhile: the same answer as any spent link.
        await session.rollback()
        raise InvalidLink() from None
    except InvalidLink:
        await session.rollback()
        raise
    candidate = await session.get(Candidate, candidate_id, populate_existing=True)
    assert candidate is not None
    return candidate


def masked(address: str) -> str:
    """Enough of the new address for its owner to recognise it, not for a stranger who
    reads the old mailbox to write to it: « c•••@example.org »."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}"

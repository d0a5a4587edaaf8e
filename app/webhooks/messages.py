"""A subscription's messages in the outbox: a ping, a redelivery, and failing those still
waiting when the subscription stops."""

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.types import utcnow
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.queue import QUEUED, enqueue
from app.webhooks import payloads
from app.webhooks.schemas import PING

CHANNEL = "webhook"

_messages = OutboxMessage.__table__  # type: ignore[attr-defined]


async def queue_ping(session: AsyncSession, subscription_id: uuid.UUID) -> uuid.UUID:
    return await enqueue(
        session,
        channel=CHANNEL,
        topic=PING,
        payload=payloads.envelope(PING, utcnow(), payloads.ping_data(subscription_id)),
        target_id=subscription_id,
    )


async def redeliver(
    session: AsyncSession, subscription_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    """Send a message again, as it was (same `webhook-id`, same payload, a new signature),
    with the whole schedule of retries ahead of it.

    Only once it has been sent or has failed: while it is pending a dispatcher may be
    sending it right now, and would overwrite the reset with its attempt's result, or
    another process would send it at the same time. Conflict then."""
    this = (
        _messages.c.id == message_id,
        _messages.c.channel == CHANNEL,
        _messages.c.target_id == subscription_id,
    )
    found = await session.execute(
        sa.update(_messages)
        .where(*this, _messages.c.status != MessageStatus.pending.value)
        .values(
            status=MessageStatus.pending.value,
            attempts=0,
            next_attempt_at=utcnow(),
            last_error=None,
            sent_at=None,
        )
    )
    if getattr(found, "rowcount", 0) != 1:
        if await session.scalar(sa.select(_messages.c.id).where(*this)) is not None:
            raise Conflict(
                "This message is still being delivered (or waits for its next retry): "
                "redeliver it once it has been sent or has failed."
            )
        # Never sent to this webhook, or past the outbox's retention.
        raise NotFound("No message with this id for this webhook.")
    # The commit wakes the dispatcher, as for a message just queued.
    session.info[QUEUED] = True


async def fail_pending(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    reason: str,
    *,
    but: uuid.UUID | None = None,
) -> None:
    """The subscription's waiting messages fail now, rather than one by one at their next
    attempt; ``but``, the one being sent, is left to the dispatcher to record."""
    statement = sa.update(_messages).where(
        _messages.c.channel == CHANNEL,
        _messages.c.target_id == subscription_id,
        _messages.c.status == MessageStatus.pending.value,
    )
    if but is not None:
        statement = statement.where(_messages.c.id != but)
    await session.execute(
        statement.values(status=MessageStatus.failed.value, last_error=reason[:1000])
    )

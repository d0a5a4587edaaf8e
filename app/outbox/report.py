"""`vocation outbox`: what the outbox holds, for an operator; and sending failed messages
again once the cause (a relay's password, a receiver's outage) is fixed."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.models import MessageStatus, OutboxMessage

_messages = OutboxMessage.__table__  # type: ignore[attr-defined]


async def summary(session: AsyncSession, now: datetime) -> list[str]:
    rows = (
        await session.execute(
            sa.select(
                _messages.c.channel,
                _messages.c.status,
                sa.func.count(),
                sa.func.min(_messages.c.created_at),
            )
            .group_by(_messages.c.channel, _messages.c.status)
            .order_by(_messages.c.channel, _messages.c.status)
        )
    ).all()
    lines = ["channel   status    messages  oldest"]
    for channel, status, count, oldest in rows:
        lines.append(f"{channel:<9} {status:<9} {count:>8}  {oldest:%Y-%m-%d %H:%M} UTC")
    overdue = (
        await session.execute(
            sa.select(sa.func.count()).where(
                _messages.c.status == MessageStatus.pending.value,
                _messages.c.attempts > 0,
            )
        )
    ).scalar_one()
    lines.append(f"pending after a failed attempt: {overdue}")
    failed = (
        await session.execute(
            sa.select(_messages.c.id, _messages.c.topic, _messages.c.last_error)
            .where(_messages.c.status == MessageStatus.failed.value)
            .order_by(_messages.c.created_at.desc())
            .limit(10)
        )
    ).all()
    for message_id, topic, error in failed:
        lines.append(f"failed {message_id} {topic}: {error}")
    return lines


async def retry_failed(session: AsyncSession, now: datetime) -> int:
    """Failed messages become due now, with a fresh count of attempts and the same id;
    not those whose content was erased when they failed (e-mails: personal data)."""
    result = await session.execute(
        sa.update(_messages)
        .where(_messages.c.status == MessageStatus.failed.value, _messages.c.payload != "{}")
        .values(status=MessageStatus.pending.value, attempts=0, next_attempt_at=now)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)

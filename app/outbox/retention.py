"""What `vocation purge` deletes of the outbox: finished messages past their retention,
and the tokens of e-mailed links that expired or served."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import email_tokens
from app.outbox.models import MessageStatus, OutboxMessage

_messages = OutboxMessage.__table__  # type: ignore[attr-defined]


async def purge(session: AsyncSession, now: datetime, retention_days: int) -> list[str]:
    finished = await session.execute(
        sa.delete(_messages).where(
            _messages.c.status.in_([MessageStatus.sent.value, MessageStatus.failed.value]),
            _messages.c.created_at < now - timedelta(days=retention_days),
        )
    )
    tokens = await email_tokens.delete_expired(session, now)
    await session.commit()
    return [
        f"finished messages deleted: {int(getattr(finished, 'rowcount', 0) or 0)}",
        f"used or expired e-mail links deleted: {tokens}",
    ]

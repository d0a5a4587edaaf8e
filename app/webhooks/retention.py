"""What `vocation purge` deletes of webhooks: attempts older than the outbox keeps its
messages, so that the deliveries listed are those a redelivery can still send."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.webhooks.models import WebhookDelivery

_deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]


async def purge(session: AsyncSession, now: datetime, retention_days: int) -> list[str]:
    deleted = await session.execute(
        sa.delete(_deliveries).where(_deliveries.c.at < now - timedelta(days=retention_days))
    )
    await session.commit()
    return [f"webhook delivery attempts deleted: {int(getattr(deleted, 'rowcount', 0) or 0)}"]

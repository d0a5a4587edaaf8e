"""E-mail: queued in the outbox with the change that causes it, rendered from French
templates (text and HTML) and sent to an SMTP relay, or written to a folder without one."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.queue import enqueue

CHANNEL = "email"


async def queue_mail(
    session: AsyncSession, *, to: str, template: str, context: dict[str, Any]
) -> uuid.UUID:
    """Send ``template`` to ``to`` once the caller's transaction commits. The context is
    rendered at send time; it must be JSON (texts, numbers, lists, mappings)."""
    return await enqueue(
        session,
        channel=CHANNEL,
        topic=template,
        payload={"to": to, "template": template, "context": context},
    )

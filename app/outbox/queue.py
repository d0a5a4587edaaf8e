"""Writing a message: in the caller's transaction, so that it exists if and only if the
change that causes it was committed."""

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.types import utcnow
from app.outbox.models import OutboxMessage

# session.info keys: set when a message was added, so that the commit wakes the
# dispatcher, which the serving process puts in its sessions' info.
QUEUED = "outbox_queued"
WAKE = "outbox_wake"


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    topic: str,
    payload: dict[str, Any],
    target_id: uuid.UUID | None = None,
    not_before: datetime | None = None,
) -> uuid.UUID:
    message = OutboxMessage(
        channel=channel,
        topic=topic,
        payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        target_id=target_id,
        next_attempt_at=not_before or utcnow(),
    )
    session.add(message)
    session.info[QUEUED] = True
    return message.id


@event.listens_for(Session, "after_commit")
def _wake_dispatcher(session: Session) -> None:
    # Called inside the commit, on the event loop's thread: waking only schedules a task.
    if session.info.pop(QUEUED, False) and (wake := session.info.get(WAKE)) is not None:
        wake()


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction: object) -> None:
    session.info.pop(QUEUED, None)

"""The outbox table: one row a message to send, whatever carries it."""

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.types import UTCDateTime, utcnow


class MessageStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxMessage(SQLModel, table=True):
    """``id`` is the message's identity for its receivers (the e-mail's Message-ID, the
    webhook's ``webhook-id``): every attempt, and a redelivery, carries the same one, so a
    receiver that got it twice can tell.

    ``next_attempt_at`` is also the claim: a dispatcher that takes a message pushes it a
    lease ahead, so that a process killed while sending leaves it to be taken again once the
    lease has run out, and no other process takes it meanwhile."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    channel: str = Column(sa_type=sa.String(16))
    topic: str = Column(sa_type=sa.String(64))
    payload: str = Column(sa_type=sa.Text)
    # The webhook subscription it goes to; None for e-mail.
    target_id: uuid.UUID | None = Column(default=None, index=True)
    status: str = Column(default=MessageStatus.pending.value, sa_type=sa.String(8))
    attempts: int = Column(default=0)
    next_attempt_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Column(default=None, sa_type=sa.String(1000))
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Column(default=None, sa_type=UTCDateTime)

    @property
    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.payload)
        return loaded

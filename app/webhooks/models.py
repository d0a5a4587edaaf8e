"""The webhook tables: subscriptions, and one row per delivery attempt."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.types import UTCDateTime, utcnow


class SubscriptionStatus(StrEnum):
    active = "active"
    disabled = "disabled"


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    # The key that made it sees and manages it; revoking or deleting the key ends it.
    api_key_id: uuid.UUID = Column(foreign_key="api_key.id", ondelete="CASCADE", index=True)
    # The key's role when it subscribed: it decides which events the subscription may take,
    # whoever (an admin) changes it later.
    role: str = Column(sa_type=sa.String(16))
    # A recruiter key's organisation: its application events, and no other's.
    organisation_id: uuid.UUID | None = Column(
        default=None, foreign_key="organisation.id", ondelete="CASCADE", index=True
    )
    url: str = Column(sa_type=sa.String(2000))
    description: str | None = Column(default=None, sa_type=sa.String(200))
    events: list[str] = Column(default_factory=list, sa_type=sa.JSON)
    # The offer list's query parameters, as validated (app.webhooks.filters).
    filters: dict[str, Any] = Column(default_factory=dict, sa_type=sa.JSON)
    # Receivers verify with it, so it is kept as it is (a hash could not sign).
    secret: str = Column(sa_type=sa.String(100))
    # After a rotation the old secret signs beside the new one for a while, so that a
    # receiver can switch without losing a message.
    previous_secret: str | None = Column(default=None, sa_type=sa.String(100))
    previous_secret_expires_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    status: str = Column(default=SubscriptionStatus.active.value, sa_type=sa.String(16))
    disabled_reason: str | None = Column(default=None, sa_type=sa.String(500))
    disabled_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    # The first failed attempt since the last success, or since a quiet spell without
    # failed attempts (app.webhooks.sender): three days of failures disable it.
    failing_since: datetime | None = Column(default=None, sa_type=UTCDateTime)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one message: what the owner reads to see why a receiver
    fails. Nothing in it is personal: payloads carry ids and links only."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_listing", "subscription_id", "at", "id"),)

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    subscription_id: uuid.UUID = Column(foreign_key="webhook_subscription.id", ondelete="CASCADE")
    # The outbox message (and the `webhook-id` header); no foreign key, so that the
    # outbox may be pruned while the history of attempts stays.
    message_id: uuid.UUID = Column(index=True)
    event: str = Column(sa_type=sa.String(64))
    attempt: int
    status_code: int | None = Column(default=None)
    succeeded: bool = Column(default=False)
    # At most 1 KiB of what the receiver answered, decoded as UTF-8.
    response_body: str | None = Column(default=None, sa_type=sa.Text)
    error: str | None = Column(default=None, sa_type=sa.String(1000))
    duration_ms: int = Column(default=0)
    at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)

"""What a channel's sender answers for one attempt."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from app.outbox.models import OutboxMessage


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    # Short and free of personal data: it is stored and shown (webhook deliveries).
    error: str | None = None
    # The receiver can never take it (a refused address, a deleted subscription): no retry.
    give_up: bool = False
    # The receiver asked for a later try (Retry-After), sooner or later than the backoff.
    retry_at: datetime | None = None


Sender = Callable[[OutboxMessage], Awaitable[Outcome]]

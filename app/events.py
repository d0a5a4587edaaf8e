"""Domain events: what happened, said by the code that made it happen, in its transaction.

Writers call ``emit`` before they commit; the handlers the service installed on its
sessions (``app.wiring``) turn each event into outbox messages (webhooks, e-mail) in the
same transaction. Writers know nothing of who listens, and a session made without
handlers (a migration, a bare script) emits into the void.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

HANDLERS = "event_handlers"


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    # Ids and links only for applications: whatever is here may leave the service.
    data: dict[str, Any] = field(default_factory=dict)
    organisation_id: uuid.UUID | None = None
    offer_id: uuid.UUID | None = None


Handler = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]


async def emit(session: AsyncSession, *events: Event) -> None:
    if not events:
        return
    handlers: Sequence[Handler] = session.info.get(HANDLERS, ())
    for handler in handlers:
        await handler(session, events)

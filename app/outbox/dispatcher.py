"""Sending what the outbox holds: claim due messages, send them outside any transaction,
record each outcome.

Delivery is at least once. A message is claimed by pushing its ``next_attempt_at`` a lease
ahead, in a transaction of its own: on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so that
the dispatchers of several processes each take different messages; on SQLite the claim
takes the database's single write lock. A process killed after the commit that wrote a
message, or in the middle of sending it, loses nothing: the message is due (at once, or
when its lease runs out) for whichever process looks next. The one duplicate this allows
(killed after the receiver took it, before the outcome was recorded) carries the same
message id.
"""

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

import sqlalchemy as sa

from app.core.db import Database
from app.core.types import utcnow
from app.core.workers import Drainer
from app.outbox.backoff import delay_after
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.sending import Outcome, Sender

_log = logging.getLogger("vocation.outbox")

_messages = OutboxMessage.__table__  # type: ignore[attr-defined]

# Messages claimed at once, all sent at once: a slow receiver (10 s for a webhook) does not
# hold up the others, and none waits for its turn while its lease runs out.
BATCH_SIZE = 10
# Of the lease, what one send may take: past it, the message would be another process's.
SEND_SHARE_OF_LEASE = 0.75


class Outbox(Drainer):
    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        *,
        poll_seconds: float,
        lease_seconds: float,
        private_channels: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__("sending the outbox", self.drain, poll_seconds, _log)
        self._database = database
        self._senders = senders
        self._lease = timedelta(seconds=lease_seconds)
        # Channels whose content is personal (an e-mail's address, names, a follow-up
        # token): blanked as soon as the message is done with, sent or failed for good,
        # rather than kept until the purge.
        self._private_channels = private_channels
        self._started = False

    def start(self) -> None:
        self._started = True
        super().start()

    def wake(self) -> None:
        # Only a serving process sends by itself; elsewhere (tests through ASGI, the CLI)
        # whoever wants messages sent calls ``drain``.
        if self._started:
            super().wake()

    async def drain(self) -> int:
        """Send every message due now; returns how many were tried."""
        tried = 0
        while claimed := await self._claim():
            await asyncio.gather(*(self._attempt(message) for message in claimed))
            tried += len(claimed)
        return tried

    async def _claim(self) -> list[OutboxMessage]:
        now = utcnow()
        due = (
            sa.select(_messages.c.id)
            .where(
                _messages.c.status == MessageStatus.pending.value,
                _messages.c.next_attempt_at <= now,
            )
            .order_by(_messages.c.next_attempt_at)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True)
        )
        claim = (
            sa.update(_messages)
            .where(_messages.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + self._lease)
            .returning(*_messages.c)
        )
        async with self._database.sessions() as session:
            rows = (await session.execute(claim)).all()
            await session.commit()
        return [OutboxMessage.model_validate(row._mapping) for row in rows]

    async def _attempt(self, message: OutboxMessage) -> None:
        sender = self._senders.get(message.channel)
        try:
            if sender is None:
                outcome = Outcome(False, f"no sender for channel {message.channel}", give_up=True)
            else:
                async with asyncio.timeout(self._lease.total_seconds() * SEND_SHARE_OF_LEASE):
                    outcome = await sender(message)
        except TimeoutError:
            outcome = Outcome(False, "took longer than its lease allows")
        except Exception as error:
            # The sender's own bug or an unforeseen failure: retried like any other.
            _log.exception("message %s (%s) raised", message.id, message.topic)
            outcome = Outcome(False, type(error).__name__)
        await self._record(message, outcome)

    async def _record(self, message: OutboxMessage, outcome: Outcome) -> None:
        now = utcnow()
        attempts = message.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "last_error": outcome.error}
        if outcome.delivered:
            values |= {"status": MessageStatus.sent.value, "sent_at": now, "last_error": None}
            _log.info("message %s (%s) sent", message.id, message.topic)
        else:
            wait = None if outcome.give_up else delay_after(attempts)
            if wait is None:
                values["status"] = MessageStatus.failed.value
                _log.warning(
                    "message %s (%s) failed for good after %d attempts: %s",
                    message.id,
                    message.topic,
                    attempts,
                    outcome.error,
                )
            else:
                values["next_attempt_at"] = outcome.retry_at or now + wait
                _log.info(
                    "message %s (%s) attempt %d failed: %s",
                    message.id,
                    message.topic,
                    attempts,
                    outcome.error,
                )
        if values.get("status") and message.channel in self._private_channels:
            values["payload"] = "{}"
        if values.get("last_error"):
            values["last_error"] = str(values["last_error"])[:1000]
        async with self._database.sessions() as session:
            # Still pending: a redelivery asked meanwhile, or a subscription disabled
            # meanwhile, is not overwritten.
            await session.execute(
                sa.update(_messages)
                .where(
                    _messages.c.id == message.id,
                    _messages.c.status == MessageStatus.pending.value,
                )
                .values(**values)
            )
            await session.commit()

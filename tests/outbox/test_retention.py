"""What the outbox keeps: a sent e-mail keeps no content; finished messages and used or
expired links go at the purge."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import time_machine

from app.core import email_tokens
from app.core.email_tokens import EmailToken
from app.mail import queue_mail
from app.mail.sender import mail_sender
from app.outbox.dispatcher import Outbox
from app.outbox.models import OutboxMessage
from app.outbox.queue import enqueue
from app.outbox.report import retry_failed
from app.outbox.retention import purge
from app.outbox.sending import Outcome


async def test_a_sent_email_keeps_its_id_and_outcome_but_not_its_content(
    app: Any, tmp_path: Path
) -> None:
    settings = app.state.settings.model_copy(update={"mail_dir": tmp_path})
    outbox = Outbox(
        app.state.database,
        {"email": mail_sender(settings)},
        poll_seconds=0,
        lease_seconds=60,
        private_channels=frozenset({"email"}),
    )
    async with app.state.database.sessions() as session:
        message_id = await queue_mail(
            session, to="élise@example.org", template="_transport_check", context={"name": "É"}
        )
        await session.commit()
    assert await outbox.drain() == 1
    async with app.state.database.sessions() as session:
        row = await session.get(OutboxMessage, message_id)
    assert row is not None
    assert (row.status, row.payload) == ("sent", "{}")
    assert "élise@example.org" in (tmp_path / f"{message_id.hex}.eml").read_text()


async def test_an_email_that_failed_for_good_keeps_no_content_and_is_not_sent_again(
    app: Any,
) -> None:
    async def refusing(message: OutboxMessage) -> Outcome:
        return Outcome(False, "SMTP 550", give_up=True)

    outbox = Outbox(
        app.state.database,
        {"email": refusing},
        poll_seconds=0,
        lease_seconds=60,
        private_channels=frozenset({"email"}),
    )
    async with app.state.database.sessions() as session:
        message_id = await queue_mail(
            session, to="élise@example.org", template="_transport_check", context={"name": "É"}
        )
        await session.commit()
    assert await outbox.drain() == 1
    async with app.state.database.sessions() as session:
        row = await session.get(OutboxMessage, message_id)
        assert row is not None
        assert (row.status, row.payload, row.last_error) == ("failed", "{}", "SMTP 550")
        assert await retry_failed(session, datetime.now(UTC)) == 0


async def test_the_purge_deletes_finished_messages_past_retention_and_dead_links(
    app: Any,
) -> None:
    start = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    database = app.state.database
    with time_machine.travel(start, tick=False) as clock:
        async with database.sessions() as session:
            old_sent = await enqueue(session, channel="x", topic="t", payload={})
            old_pending = await enqueue(session, channel="x", topic="t", payload={})
            used = await email_tokens.issue(session, "p", lifetime=timedelta(days=1))
            await email_tokens.issue(session, "p", lifetime=timedelta(days=1))  # expires
            await session.commit()
            await email_tokens.consume(session, used, "p")
            await session.commit()
        async with database.sessions() as session:
            sent = await session.get(OutboxMessage, old_sent)
            assert sent is not None
            sent.status = "sent"
            await session.commit()
        clock.shift(timedelta(days=31))
        async with database.sessions() as session:
            recent_sent = await enqueue(session, channel="x", topic="t", payload={})
            await session.commit()
            lines = await purge(session, datetime.now(UTC), retention_days=30)
        assert lines == [
            "finished messages deleted: 1",
            "used or expired e-mail links deleted: 2",
        ]
        async with database.sessions() as session:
            assert await session.get(OutboxMessage, old_sent) is None
            # Never a message still to send, however old.
            assert await session.get(OutboxMessage, old_pending) is not None
            assert await session.get(OutboxMessage, recent_sent) is not None
            left = (
                await session.execute(sa.select(sa.func.count()).select_from(EmailToken))
            ).scalar_one()
            assert left == 0

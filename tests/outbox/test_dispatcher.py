"""The outbox's dispatcher: what is committed is sent, once; failures come back later and
later, then fail; several dispatchers share the work."""

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from app.outbox.backoff import schedule
from app.outbox.dispatcher import Outbox
from app.outbox.models import MessageStatus, OutboxMessage
from app.outbox.queue import enqueue
from app.outbox.sending import Outcome, Sender


class Receiver:
    """A channel's far end: records what reaches it, answers as told."""

    def __init__(self) -> None:
        self.received: list[uuid.UUID] = []
        self.answers: list[Outcome | Exception] = []

    async def __call__(self, message: OutboxMessage) -> Outcome:
        await asyncio.sleep(0)
        answer = self.answers.pop(0) if self.answers else Outcome(True)
        if isinstance(answer, Exception):
            raise answer
        if answer.delivered:
            self.received.append(message.id)
        return answer


def dispatcher(app: Any, sender: Sender) -> Outbox:
    return Outbox(app.state.database, {"test": sender}, poll_seconds=0, lease_seconds=60)


async def queue(app: Any, count: int = 1, *, commit: bool = True) -> list[uuid.UUID]:
    async with app.state.database.sessions() as session:
        ids = [
            await enqueue(session, channel="test", topic="t", payload={"n": n})
            for n in range(count)
        ]
        if commit:
            await session.commit()
        else:
            await session.rollback()
    return ids


async def row(app: Any, message_id: uuid.UUID) -> OutboxMessage:
    async with app.state.database.sessions() as session:
        found = await session.get(OutboxMessage, message_id)
        assert found is not None
        return found


async def test_what_commits_is_sent_once_and_what_rolls_back_never(app: Any) -> None:
    receiver = Receiver()
    outbox = dispatcher(app, receiver)
    sent = await queue(app, 3)
    await queue(app, 2, commit=False)

    assert await outbox.drain() == 3
    assert await outbox.drain() == 0
    assert sorted(receiver.received) == sorted(sent)
    for message_id in sent:
        message = await row(app, message_id)
        assert (message.status, message.attempts) == (MessageStatus.sent, 1)
        assert message.sent_at is not None


async def test_failures_come_back_after_growing_waits_then_fail_for_good(app: Any) -> None:
    receiver = Receiver()
    outbox = dispatcher(app, receiver)
    waits = schedule()
    assert (waits[0], waits[-1]) == (5, 24 * 3600)
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))
    start = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        [message_id] = await queue(app)
        receiver.answers = [Outcome(False, "HTTP 500")] * (len(waits) + 1)
        seen_waits = []
        for attempt in range(1, len(waits) + 2):
            assert await outbox.drain() == 1
            message = await row(app, message_id)
            assert message.attempts == attempt
            if attempt <= len(waits):
                assert message.status == MessageStatus.pending
                wait = (message.next_attempt_at - datetime.now(UTC)).total_seconds()
                seen_waits.append(wait)
                # Not due before its time…
                clock.shift(timedelta(seconds=wait * 0.5))
                assert await outbox.drain() == 0
                clock.shift(timedelta(seconds=wait * 0.5 + 1))
        message = await row(app, message_id)
        assert message.status == MessageStatus.failed
        assert message.last_error == "HTTP 500"
    for seen, planned in zip(seen_waits, waits, strict=True):
        assert planned * 0.89 <= seen <= planned * 1.11
    assert receiver.received == []


async def test_a_refusal_fails_at_once_and_a_crash_of_the_sender_is_retried(app: Any) -> None:
    receiver = Receiver()
    outbox = dispatcher(app, receiver)
    refused, crashed = await queue(app, 2)
    receiver.answers = [Outcome(False, "refused", give_up=True), RuntimeError("bug")]
    assert await outbox.drain() == 2
    statuses = {(await row(app, m)).status for m in (refused, crashed)}
    assert statuses == {MessageStatus.failed, MessageStatus.pending}


async def test_two_dispatchers_at_once_send_each_message_once(app: Any) -> None:
    receiver = Receiver()
    sent = await queue(app, 120)
    first, second = dispatcher(app, receiver), dispatcher(app, receiver)
    counts = await asyncio.gather(first.drain(), second.drain())
    assert sum(counts) == 120
    assert sorted(receiver.received) == sorted(sent)


async def test_a_message_taken_by_a_process_that_died_is_taken_again_after_the_lease(
    app: Any,
) -> None:
    [message_id] = await queue(app)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        # A process claims it, then dies before sending: its claim is all that remains.
        dead = Outbox(app.state.database, {}, poll_seconds=0, lease_seconds=30)
        assert [m.id for m in await dead._claim()] == [message_id]
        receiver = Receiver()
        alive = dispatcher(app, receiver)
        assert await alive.drain() == 0
        clock.shift(timedelta(seconds=31))
        assert await alive.drain() == 1
    assert receiver.received == [message_id]


async def test_a_started_dispatcher_sends_after_the_commit_by_itself(app: Any) -> None:
    receiver = Receiver()
    outbox = Outbox(app.state.database, {"test": receiver}, poll_seconds=60, lease_seconds=60)
    async with app.state.database.sessions() as session:
        session.info["outbox_wake"] = outbox.wake
        outbox.start()
        try:
            message_id = await enqueue(session, channel="test", topic="t", payload={})
            await session.commit()
            for _ in range(100):
                if receiver.received:
                    break
                await asyncio.sleep(0.02)
        finally:
            await outbox.stop()
    assert receiver.received == [message_id]


async def test_a_send_longer_than_its_lease_is_cut_short_and_retried(app: Any) -> None:
    """Past its lease another process may take the message: a send never runs that long."""

    async def hanging(message: OutboxMessage) -> Outcome:
        await asyncio.sleep(30)
        return Outcome(True)

    [message_id] = await queue(app)
    outbox = Outbox(app.state.database, {"test": hanging}, poll_seconds=0, lease_seconds=0.4)
    assert await asyncio.wait_for(outbox.drain(), timeout=5) == 1
    message = await row(app, message_id)
    assert (message.status, message.attempts) == (MessageStatus.pending, 1)
    assert message.last_error == "took longer than its lease allows"

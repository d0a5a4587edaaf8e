"""Failures: a 500 and a receiver that never answers are tried again after growing waits,
with the same `webhook-id`; three days of failures disable the webhook; a message can be
delivered again on request; a rotated secret signs beside the new one for a day."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from standardwebhooks.webhooks import WebhookVerificationError

from app.core.api_keys import ApiKey
from app.outbox.models import OutboxMessage
from app.webhooks.models import WebhookSubscription
from tests.webhooks.conftest import Keys, deliveries, drain, publish, subscribe
from tests.webhooks.receiver import HANG, Receiver

START = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def at(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


async def test_a_500_is_tried_again_after_growing_waits_with_the_same_id(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    receiver.answer("/hooks", 500, 500)
    with time_machine.travel(START, tick=False) as clock:
        hook = await subscribe(client, keys.partner, f"{receiver.url}/hooks", ["offer.published"])
        await publish(client, keys.recruiter)
        assert await drain(app) == 1
        failing = await client.get(f"/v1/webhooks/{hook['id']}", headers=keys.partner)
        assert failing.json()["failing_since"] is not None
        # First wait: 5 s (± a tenth).
        clock.move_to(at(START, 4))
        assert await drain(app) == 0
        clock.move_to(at(START, 6))
        assert await drain(app) == 1
        # Second wait: 15 s.
        clock.move_to(at(START, 6 + 13))
        assert await drain(app) == 0
        clock.move_to(at(START, 6 + 17))
        assert await drain(app) == 1
        for request in receiver.on("/hooks"):
            request.verified(hook["secret"])

    requests = receiver.on("/hooks")
    assert len(requests) == 3
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    # Each attempt is signed at its own time, and verifies at that time.
    stamps = [int(request.headers["webhook-timestamp"]) for request in requests]
    assert stamps == sorted(stamps)
    attempts = await deliveries(client, keys.partner, hook["id"])
    assert [(a["attempt"], a["status_code"], a["succeeded"]) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert attempts[0]["error"] == "HTTP 500"
    moments = [datetime.fromisoformat(a["at"]) for a in attempts]
    waits = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments)]
    assert waits[0] < waits[1]
    # A success ends the failing streak.
    recovered = await client.get(f"/v1/webhooks/{hook['id']}", headers=keys.partner)
    assert recovered.json()["failing_since"] is None


async def test_a_receiver_that_never_answers_times_out_and_is_tried_again(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, session: AsyncSession
) -> None:
    receiver.answer("/slow", HANG, HANG)
    waits: list[float] = []
    with time_machine.travel(START, tick=False) as clock:
        hook = await subscribe(client, keys.partner, f"{receiver.url}/slow", ["offer.published"])
        await publish(client, keys.recruiter)
        [message] = (await session.execute(select(OutboxMessage))).scalars().all()
        for _timeout in range(2):
            now = datetime.now(UTC)
            assert await drain(app) == 1
            await session.refresh(message)
            # The wait the dispatcher chose after this attempt timed out.
            waits.append((message.next_attempt_at - now).total_seconds())
            clock.move_to(message.next_attempt_at - timedelta(seconds=1))
            assert await drain(app) == 0
            clock.move_to(message.next_attempt_at)
        assert await drain(app) == 1
        for request in receiver.on("/slow"):
            request.verified(hook["secret"])
    attempts = await deliveries(client, keys.partner, hook["id"])
    assert [(a["status_code"], a["succeeded"]) for a in attempts] == [
        (None, False),
        (None, False),
        (200, True),
    ]
    # The settings of these tests allow a second (10 by default), reading included.
    assert attempts[0]["error"] == "no complete answer within 1 s"
    assert all(900 <= a["duration_ms"] < 5000 for a in attempts[:2])
    assert len({r.headers["webhook-id"] for r in receiver.on("/slow")}) == 1
    # Growing waits, as after a 500: 5 s, then 15 s (± a tenth), each longer than the last.
    assert 4.5 <= waits[0] <= 5.5
    assert 13.5 <= waits[1] <= 16.5
    assert waits[0] < waits[1]


async def test_three_days_of_failures_disable_the_webhook_until_it_is_re_enabled(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, session: AsyncSession
) -> None:
    receiver.answer("/down", *([500] * 100))
    with time_machine.travel(START, tick=False) as clock:
        hook = await subscribe(client, keys.partner, f"{receiver.url}/down", ["offer.published"])
        await publish(client, keys.recruiter)
        await drain(app)
        # Failing all along: never more than a day between two failed attempts.
        clock.move_to(START + timedelta(days=1))
        assert await drain(app) == 1
        clock.move_to(START + timedelta(days=2))
        await publish(client, keys.recruiter)
        await drain(app)
        still = await client.get(f"/v1/webhooks/{hook['id']}", headers=keys.partner)
        assert still.json()["status"] == "active"
        clock.move_to(START + timedelta(days=3, minutes=1))
        await drain(app)

        disabled = (await client.get(f"/v1/webhooks/{hook['id']}", headers=keys.partner)).json()
        assert disabled["status"] == "disabled"
        assert disabled["disabled_reason"].startswith("disabled after failing for 3 days")
        assert "HTTP 500" in disabled["disabled_reason"]
        # Nothing waits for it any more, and nothing new is queued for it.
        statuses = (await session.execute(select(col(OutboxMessage.status)))).scalars().all()
        assert set(statuses) == {"failed"}
        tried = len(receiver.on("/down"))
        await publish(client, keys.recruiter)
        clock.move_to(START + timedelta(days=5))
        assert await drain(app) == 0
        assert len(receiver.on("/down")) == tried
        refused = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=keys.partner)
        assert refused.status_code == 409

        enabled = await client.patch(
            f"/v1/webhooks/{hook['id']}", json={"status": "active"}, headers=keys.partner
        )
        assert enabled.json()["status"] == "active"
        assert enabled.json()["failing_since"] is None
        offer = await publish(client, keys.recruiter)
        await drain(app)
        last = receiver.on("/down")[-1].verified(hook["secret"])
        assert last["data"]["id"] == offer["id"]


async def test_a_failure_days_after_the_last_one_starts_a_new_streak(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, session: AsyncSession
) -> None:
    receiver.answer("/gap", *([500] * 100))
    with time_machine.travel(START, tick=False) as clock:
        hook = await subscribe(client, keys.partner, f"{receiver.url}/gap", ["offer.published"])
        await publish(client, keys.recruiter)
        # Every attempt fails, until the message fails for good (1.6 days, ± its jitter).
        while True:
            await drain(app)
            [message] = (await session.execute(select(OutboxMessage))).scalars().all()
            await session.refresh(message)
            if message.status != "pending":
                break
            clock.move_to(message.next_attempt_at)
        assert message.status == "failed"
        assert START + timedelta(days=1.4) < datetime.now(UTC) < START + timedelta(days=1.8)

        # Quiet until day 4, then one transient 500: a new streak, not a fourth day.
        clock.move_to(START + timedelta(days=4))
        await publish(client, keys.recruiter)
        await publish(client, keys.recruiter)
        assert await drain(app) == 2
        after = (await client.get(f"/v1/webhooks/{hook['id']}", headers=keys.partner)).json()
        assert after["status"] == "active"
        assert datetime.fromisoformat(after["failing_since"]) == START + timedelta(days=4)
        statuses = (await session.execute(select(col(OutboxMessage.status)))).scalars().all()
        assert sorted(statuses) == ["failed", "pending", "pending"]


async def test_a_revoked_keys_queued_messages_and_retries_are_given_up(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, session: AsyncSession
) -> None:
    receiver.answer("/revoked", 500)
    with time_machine.travel(START, tick=False) as clock:
        hook = await subscribe(client, keys.partner, f"{receiver.url}/revoked", ["offer.published"])
        await publish(client, keys.recruiter)
        assert await drain(app) == 1
        # One message waits for its retry, another for its first attempt.
        await publish(client, keys.recruiter)
        subscription = await session.get(WebhookSubscription, uuid.UUID(hook["id"]))
        assert subscription is not None
        await session.execute(
            update(ApiKey).where(col(ApiKey.id) == subscription.api_key_id).values(revoked_at=START)
        )
        await session.commit()

        clock.move_to(at(START, 60))
        assert await drain(app) == 2
    assert len(receiver.on("/revoked")) == 1
    waiting = (await session.execute(select(OutboxMessage))).scalars().all()
    for message in waiting:
        await session.refresh(message)
    assert [(m.status, m.last_error) for m in waiting] == [
        ("failed", "the webhook's key was revoked")
    ] * 2


async def test_redelivery_sends_the_same_message_again(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    hook = await subscribe(client, keys.recruiter, f"{receiver.url}/again", ["application.erased"])
    await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=keys.recruiter)
    await drain(app)
    [first] = receiver.on("/again")
    message_id = first.headers["webhook-id"]

    again = await client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{message_id}/redeliver", headers=keys.recruiter
    )
    assert again.status_code == 202, again.text
    assert again.json() == {"message_id": message_id}
    assert await drain(app) == 1
    second = receiver.on("/again")[1]
    assert second.headers["webhook-id"] == message_id
    assert second.body == first.body
    assert second.verified(hook["secret"]) == first.verified(hook["secret"])
    attempts = await deliveries(client, keys.recruiter, hook["id"])
    assert [a["attempt"] for a in attempts] == [1, 2]

    # Only this webhook's messages, by their id.
    other = await subscribe(client, keys.admin, f"{receiver.url}/other", ["offer.closed"])
    for path, headers in [
        (f"/v1/webhooks/{other['id']}/deliveries/{message_id}/redeliver", keys.admin),
        (f"/v1/webhooks/{hook['id']}/deliveries/msg_{'0' * 32}/redeliver", keys.recruiter),
        (f"/v1/webhooks/{hook['id']}/deliveries/{message_id}/redeliver", keys.other_recruiter),
    ]:
        assert (await client.post(path, headers=headers)).status_code == 404


async def test_a_message_still_pending_is_not_redelivered(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, session: AsyncSession
) -> None:
    receiver.answer("/busy", 500)
    with time_machine.travel(START, tick=False):
        hook = await subscribe(client, keys.partner, f"{receiver.url}/busy", ["offer.published"])
        await publish(client, keys.recruiter)
        assert await drain(app) == 1
        [request] = receiver.on("/busy")
        message_id = request.headers["webhook-id"]
        [message] = (await session.execute(select(OutboxMessage))).scalars().all()
        retry_at = message.next_attempt_at

        # Waiting for its retry (or being sent by a dispatcher right now): a redelivery
        # would race the attempt in flight.
        refused = await client.post(
            f"/v1/webhooks/{hook['id']}/deliveries/{message_id}/redeliver", headers=keys.partner
        )
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "this message is still being delivered" in refused.json()["detail"].lower()
        await session.refresh(message)
        assert (message.status, message.attempts, message.next_attempt_at) == (
            "pending",
            1,
            retry_at,
        )


async def test_after_a_rotation_both_secrets_verify_for_a_day(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        hook = await subscribe(client, keys.partner, f"{receiver.url}/rot", ["offer.published"])
        rotated = await client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret", headers=keys.partner
        )
        old, new = hook["secret"], rotated.json()["secret"]
        await publish(client, keys.recruiter)
        await drain(app)
        [during] = receiver.on("/rot")
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert during.verified(old) == during.verified(new)

        clock.move_to(START + timedelta(hours=24, minutes=1))
        await publish(client, keys.recruiter)
        await drain(app)
        after = receiver.on("/rot")[1]
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        after.verified(new)
        with pytest.raises(WebhookVerificationError):
            after.verified(old)

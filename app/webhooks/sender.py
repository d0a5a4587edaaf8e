"""The outbox's sender for channel "webhook": sign, POST, record the attempt.

Each attempt is signed afresh (its own `webhook-timestamp`), with the current secret and,
for a day after a rotation, the previous one too. Its result is kept in the
subscription's deliveries. A subscription whose deliveries have all failed for three days
is disabled, with the reason, and its waiting messages fail: a receiver gone for good
does not keep the dispatcher busy with retries for ever. A message whose subscription is
gone, disabled or whose key was revoked is given up, not sent. A failure after a quiet spell
(no failed attempt for longer than any wait between two tries) starts a new streak: the
failures of days ago, whose messages have failed for good, do not count against it.
"""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.api_keys import ApiKey
from app.core.config import Settings
from app.core.db import Database
from app.core.types import utcnow
from app.outbox.models import OutboxMessage
from app.outbox.sending import Outcome, Sender
from app.webhooks import messages, transport
from app.webhooks.models import SubscriptionStatus, WebhookDelivery, WebhookSubscription
from app.webhooks.signing import signed_headers

DISABLE_AFTER = timedelta(days=3)
# Longer than the longest wait between two tries of a message (a day, a tenth of jitter,
# a Retry-After capped at a day): no failed attempt for this long, and the streak is over.
STREAK_GAP = timedelta(hours=30)
# A receiver's Retry-After is followed within these bounds.
_SOONEST = timedelta(seconds=1)
_LATEST = timedelta(days=1)

_subscriptions = WebhookSubscription.__table__  # type: ignore[attr-defined]
_deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]


def webhook_sender(database: Database, settings: Settings) -> Sender:
    rules = transport.Rules.of(settings)

    async def send(message: OutboxMessage) -> Outcome:
        # Its key with it: a revoked key's webhooks get nothing more, queued or retried.
        async with database.sessions() as session:
            found = (
                await session.execute(
                    select(WebhookSubscription, col(ApiKey.revoked_at))
                    .join(ApiKey, col(ApiKey.id) == col(WebhookSubscription.api_key_id))
                    .where(col(WebhookSubscription.id) == message.target_id)
                )
            ).first()
        if found is None:
            return Outcome(False, "the webhook was deleted", give_up=True)
        subscription, revoked_at = found
        if revoked_at is not None:
            return Outcome(False, "the webhook's key was revoked", give_up=True)
        if subscription.status != SubscriptionStatus.active:
            return Outcome(False, "the webhook is disabled", give_up=True)
        now = utcnow()
        keys = [subscription.secret]
        expires = subscription.previous_secret_expires_at
        if subscription.previous_secret and expires is not None and expires > now:
            keys.append(subscription.previous_secret)
        body = message.payload.encode()
        headers = signed_headers(message.id, body, now, keys)
        answer = await transport.post(subscription.url, body, headers, rules)
        return await _record(database, message, subscription, answer, now)

    return send


async def _record(
    database: Database,
    message: OutboxMessage,
    subscription: WebhookSubscription,
    answer: transport.Answer,
    now: datetime,
) -> Outcome:
    async with database.sessions() as session:
        if not answer.delivered:
            await _continue_streak(session, subscription.id, now)
        earlier = await session.execute(
            select(func.count()).where(col(WebhookDelivery.message_id) == message.id)
        )
        session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                message_id=message.id,
                event=message.topic,
                attempt=int(earlier.scalar_one()) + 1,
                status_code=answer.status_code,
                succeeded=answer.delivered,
                response_body=answer.body,
                error=answer.error,
                duration_ms=answer.duration_ms,
                at=now,
            )
        )
        this = _subscriptions.c.id == subscription.id
        if answer.delivered:
            await session.execute(
                sa.update(_subscriptions)
                .where(this, _subscriptions.c.failing_since.is_not(None))
                .values(failing_since=None)
            )
            await session.commit()
            return Outcome(True)
        # Each failure asks whether its streak (_continue_streak) has run for three days.
        failing_since = (
            await session.execute(select(_subscriptions.c.failing_since).where(this))
        ).scalar_one_or_none()
        disabled = False
        if failing_since is not None and now - failing_since >= DISABLE_AFTER:
            reason = (
                f"disabled after failing for 3 days (since {failing_since:%Y-%m-%d %H:%M} "
                f"UTC); last error: {answer.error}"
            )[:500]
            result = await session.execute(
                sa.update(_subscriptions)
                .where(this, _subscriptions.c.status == SubscriptionStatus.active.value)
                .values(
                    status=SubscriptionStatus.disabled.value,
                    disabled_reason=reason,
                    disabled_at=now,
                )
            )
            disabled = getattr(result, "rowcount", 0) == 1
            if disabled:
                await messages.fail_pending(
                    session, subscription.id, "the webhook was disabled", but=message.id
                )
        await session.commit()
    return Outcome(False, answer.error, give_up=disabled, retry_at=_retry_at(answer, now))


async def _continue_streak(
    session: AsyncSession, subscription_id: uuid.UUID, now: datetime
) -> None:
    """A failure starts the clock when none is running (the first since the last success)
    or when the last failed attempt is older than STREAK_GAP. Called before this attempt
    is recorded, so that only earlier ones are looked at."""
    recent_failure = (
        select(_deliveries.c.id)
        .where(
            _deliveries.c.subscription_id == subscription_id,
            _deliveries.c.succeeded.is_(False),
            _deliveries.c.at > now - STREAK_GAP,
        )
        .exists()
    )
    await session.execute(
        sa.update(_subscriptions)
        .where(
            _subscriptions.c.id == subscription_id,
            sa.or_(_subscriptions.c.failing_since.is_(None), ~recent_failure),
        )
        .values(failing_since=now)
    )


def _retry_at(answer: transport.Answer, now: datetime) -> datetime | None:
    if answer.retry_after_seconds is None:
        return None
    wait = timedelta(seconds=answer.retry_after_seconds)
    return now + min(max(wait, _SOONEST), _LATEST)

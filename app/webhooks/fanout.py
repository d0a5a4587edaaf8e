"""Events to webhook messages: one outbox message per event and active subscription that
takes it, written in the transaction of the change (app.events).

- Offer events go to partner and admin subscriptions. Filters are matched by the offer
  list's own statement narrowed to the events' offers, once per subscription and kind of
  event, however many offers an upload changed. A closed offer is no longer open, so
  `offer.closed` is matched on the filters alone.
- Application events go to the recruiter subscriptions of the application's organisation,
  and to no one else.
- A revoked key's subscriptions receive nothing.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.api_keys import ApiKey, Role
from app.core.config import Settings
from app.core.types import utcnow
from app.core.urls import message_base
from app.events import Event, Handler
from app.offers.listing import matching_offers
from app.outbox.queue import enqueue
from app.webhooks import filters as webhook_filters
from app.webhooks import payloads
from app.webhooks.messages import CHANNEL
from app.webhooks.models import SubscriptionStatus, WebhookSubscription
from app.webhooks.schemas import APPLICATION_EVENTS, OFFER_EVENTS, EventType

SUBSCRIBABLE = frozenset(event.value for event in EventType)
_OFFER_TYPES = frozenset(event.value for event in OFFER_EVENTS)
_APPLICATION_TYPES = frozenset(event.value for event in APPLICATION_EVENTS)
# Matched while the offer is open; `offer.closed` on the filters alone.
_WHILE_OPEN = {EventType.offer_published.value, EventType.offer_updated.value}
# Offers matched per statement: drivers bind at most some 32,000 values.
_MATCH_BATCH = 1000


def webhook_handler(settings: Settings) -> Handler:
    base = message_base(settings.public_base_url)
    zone = ZoneInfo(settings.timezone)

    async def fan_out(session: AsyncSession, events: Sequence[Event]) -> None:
        wanted = [event for event in events if event.type in SUBSCRIBABLE]
        if not wanted:
            return
        offer_events = [event for event in wanted if event.type in _OFFER_TYPES]
        application_events = [event for event in wanted if event.type in _APPLICATION_TYPES]
        subscriptions = await _active(session, offer_events, application_events)
        if not subscriptions:
            return
        now = utcnow()
        offer_data: dict[uuid.UUID, dict[str, Any]] = {}
        if offer_events and any(sub.role != Role.recruiter for sub in subscriptions):
            ids = [event.offer_id for event in offer_events if event.offer_id is not None]
            offer_data = await payloads.offer_data(session, ids, base)
        for subscription in subscriptions:
            if subscription.role == Role.recruiter:
                await _applications(session, subscription, application_events, base, now)
            else:
                matched = await _matching(session, subscription, offer_events, zone, now)
                for event in matched:
                    assert event.offer_id is not None
                    data = offer_data.get(event.offer_id)
                    if data is not None:
                        await _queue(session, subscription, event.type, data, now)

    return fan_out


async def _active(
    session: AsyncSession, offer_events: Sequence[Event], application_events: Sequence[Event]
) -> list[WebhookSubscription]:
    """The active subscriptions that may take some of these events: partners' and admins'
    for offers, the recruiters' of the applications' organisations."""
    role = col(WebhookSubscription.role)
    audiences = []
    if offer_events:
        audiences.append(role != Role.recruiter.value)
    organisations = {event.organisation_id for event in application_events}
    organisations.discard(None)
    if organisations:
        audiences.append(
            and_(
                role == Role.recruiter.value,
                col(WebhookSubscription.organisation_id).in_(organisations),
            )
        )
    if not audiences:
        return []
    statement = (
        select(WebhookSubscription)
        .join(ApiKey, col(ApiKey.id) == col(WebhookSubscription.api_key_id))
        .where(
            col(WebhookSubscription.status) == SubscriptionStatus.active.value,
            col(ApiKey.revoked_at).is_(None),
            or_(*audiences),
        )
        .order_by(col(WebhookSubscription.created_at), col(WebhookSubscription.id))
    )
    types = {event.type for event in (*offer_events, *application_events)}
    found = (await session.execute(statement)).scalars().all()
    return [sub for sub in found if types.intersection(sub.events)]


async def _applications(
    session: AsyncSession,
    subscription: WebhookSubscription,
    events: Sequence[Event],
    base: str,
    now: datetime,
) -> None:
    for event in events:
        if event.type not in subscription.events:
            continue
        if event.organisation_id is None or event.organisation_id != subscription.organisation_id:
            continue
        data = payloads.application_data(event, base)
        if data is not None:
            await _queue(session, subscription, event.type, data, now)


async def _matching(
    session: AsyncSession,
    subscription: WebhookSubscription,
    events: Sequence[Event],
    zone: ZoneInfo,
    now: datetime,
) -> list[Event]:
    taken = [
        event
        for event in events
        if event.type in subscription.events and event.offer_id is not None
    ]
    if not taken or not subscription.filters:
        return taken
    filters = webhook_filters.offer_filters(subscription.filters)
    today = now.astimezone(zone).date()
    matched: set[uuid.UUID] = set()
    for open_only in (True, False):
        ids = list(
            dict.fromkeys(
                event.offer_id
                for event in taken
                if event.offer_id is not None and (event.type in _WHILE_OPEN) == open_only
            )
        )
        for start in range(0, len(ids), _MATCH_BATCH):
            matched |= await matching_offers(
                session,
                filters,
                ids[start : start + _MATCH_BATCH],
                today=today,
                open_only=open_only,
            )
    return [event for event in taken if event.offer_id in matched]


async def _queue(
    session: AsyncSession,
    subscription: WebhookSubscription,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    await enqueue(
        session,
        channel=CHANNEL,
        topic=event_type,
        payload=payloads.envelope(event_type, now, data),
        target_id=subscription.id,
    )

"""Rules for subscriptions: who may subscribe to what, who sees which, and their changes.

A key sees and manages only the subscriptions it made; an admin key sees them all.
Another key's subscription is "not found", as another organisation's offer is.
"""

import asyncio
import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.api_keys import Role
from app.core.config import Settings
from app.core.errors import Conflict, FieldError, NotFound, Unprocessable
from app.core.pagination import decode_time_cursor, encode_cursor
from app.core.security import Principal
from app.core.types import utcnow
from app.webhooks import filters as webhook_filters
from app.webhooks import messages, signing
from app.webhooks.models import SubscriptionStatus, WebhookDelivery, WebhookSubscription
from app.webhooks.schemas import (
    APPLICATION_EVENTS,
    OFFER_EVENTS,
    DeliveryPage,
    DeliveryPublic,
    EventType,
    WebhookCreate,
    WebhookPage,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.webhooks.transport import Refused, Rules, Unresolved, check_url, resolve

# After a rotation the old secret keeps signing this long: a day for receivers to deploy.
ROTATION_OVERLAP = timedelta(hours=24)
# Each subscription multiplies the work of every event: a key gets a handful, not a fleet.
MAX_PER_KEY = 20
DISABLED_BY_OWNER = "disabled by its owner"


def may_manage(principal: Principal, subscription: WebhookSubscription) -> bool:
    return principal.is_admin or subscription.api_key_id == principal.key_id


async def load_visible(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None or not may_manage(principal, subscription):
        raise NotFound("No webhook with this id.")
    return subscription


def public(subscription: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic.model_validate(subscription, from_attributes=True)


def with_secret(subscription: WebhookSubscription) -> WebhookWithSecret:
    return WebhookWithSecret.model_validate(subscription, from_attributes=True)


def _events_allowed(role: str, events: Collection[EventType]) -> list[str]:
    allowed = APPLICATION_EVENTS if role == Role.recruiter else OFFER_EVENTS
    refused = [event.value for event in events if event not in allowed]
    if refused:
        who = "recruiter keys" if role == Role.recruiter else "partner and admin keys"
        offered = ", ".join(sorted(allowed))
        raise Unprocessable(
            f"{who.capitalize()} subscribe to {offered}; not to {', '.join(refused)}.",
            errors=[FieldError(field="events", message=f"not for {who}")],
        )
    return list(dict.fromkeys(event.value for event in events))


def _filters_allowed(role: str, given: dict[str, Any] | None, zone: ZoneInfo) -> dict[str, Any]:
    if given and role == Role.recruiter:
        raise Unprocessable(
            "Filters narrow offer events; a recruiter key's events are its own "
            "organisation's applications.",
            errors=[FieldError(field="filters", message="offer events only")],
        )
    return webhook_filters.checked(given, zone)


async def checked_url(url: str, settings: Settings) -> str:
    """``url`` when webhooks may reach it now, or 422 saying why not. The same rules run
    again at every delivery, inside the connection: what a host resolves to may change."""
    rules = Rules.of(settings)
    try:
        parsed = check_url(url, rules)
        async with asyncio.timeout(rules.connect_timeout):
            await resolve(parsed.host, parsed.port or 443, rules)
    except (Unresolved, TimeoutError):
        # A receiver still being set up; its deliveries fail (and retry) until it resolves.
        pass
    except Refused as refused:
        raise Unprocessable(
            f"url: {refused}.", errors=[FieldError(field="url", message=str(refused))]
        ) from None
    return url


async def create(
    session: AsyncSession, principal: Principal, data: WebhookCreate, settings: Settings
) -> WebhookSubscription:
    assert principal.key_id is not None
    role = principal.role
    events = _events_allowed(role, data.events)
    filters = _filters_allowed(role, data.filters, ZoneInfo(settings.timezone))
    url = await checked_url(data.url, settings)
    owned = await session.execute(
        select(col(WebhookSubscription.id))
        .where(col(WebhookSubscription.api_key_id) == principal.key_id)
        .limit(MAX_PER_KEY)
    )
    if len(owned.all()) >= MAX_PER_KEY:
        raise Conflict(f"A key has at most {MAX_PER_KEY} webhooks; delete one first.")
    subscription = WebhookSubscription(
        api_key_id=principal.key_id,
        role=role,
        organisation_id=principal.organisation_id if role == Role.recruiter else None,
        url=url,
        description=data.description,
        events=events,
        filters=filters,
        secret=signing.new_secret(),
    )
    session.add(subscription)
    await session.commit()
    return subscription


async def update(
    session: AsyncSession,
    subscription: WebhookSubscription,
    patch: WebhookUpdate,
    settings: Settings,
) -> WebhookSubscription:
    sent = patch.model_fields_set
    role = subscription.role
    if "events" in sent:
        if patch.events is None:
            raise _required("events")
        subscription.events = _events_allowed(role, patch.events)
    if "filters" in sent:
        subscription.filters = _filters_allowed(role, patch.filters, ZoneInfo(settings.timezone))
    if "url" in sent:
        if patch.url is None:
            raise _required("url")
        url = await checked_url(patch.url, settings)
        if url != subscription.url:
            # Another receiver: the old one's failures are not held against it.
            subscription.url = url
            subscription.failing_since = None
    if "description" in sent:
        subscription.description = patch.description
    moved = _set_status(subscription, patch.status) if patch.status is not None else None
    if moved == SubscriptionStatus.disabled:
        await messages.fail_pending(session, subscription.id, DISABLED_BY_OWNER)
    subscription.updated_at = utcnow()
    await session.commit()
    return subscription


def _required(field: str) -> Unprocessable:
    return Unprocessable(
        f"{field} cannot be null.", errors=[FieldError(field=field, message="cannot be null")]
    )


def _set_status(
    subscription: WebhookSubscription, status: SubscriptionStatus
) -> SubscriptionStatus | None:
    """The status it moved to; None when it was already there."""
    if status == subscription.status:
        return None
    subscription.status = status.value
    if status == SubscriptionStatus.active:
        # A fresh start: three more days before failures disable it again.
        subscription.disabled_reason = None
        subscription.disabled_at = None
        subscription.failing_since = None
    else:
        subscription.disabled_reason = DISABLED_BY_OWNER
        subscription.disabled_at = utcnow()
    return status


async def rotate_secret(
    session: AsyncSession, subscription: WebhookSubscription
) -> WebhookSubscription:
    """A new secret; the current one signs beside it for a day. A rotation during that day
    drops the older one: a message carries at most two signatures."""
    now = utcnow()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + ROTATION_OVERLAP
    subscription.secret = signing.new_secret()
    subscription.updated_at = now
    await session.commit()
    return subscription


async def delete(session: AsyncSession, subscription: WebhookSubscription) -> None:
    await messages.fail_pending(session, subscription.id, "the webhook was deleted")
    await session.delete(subscription)
    await session.commit()


async def ping(session: AsyncSession, subscription: WebhookSubscription) -> uuid.UUID:
    require_active(subscription)
    message_id = await messages.queue_ping(session, subscription.id)
    await session.commit()
    return message_id


async def redeliver(
    session: AsyncSession, subscription: WebhookSubscription, message: str
) -> uuid.UUID:
    require_active(subscription)
    message_id = signing.message_uuid(message)
    if message_id is None:
        raise NotFound("No message with this id for this webhook.")
    await messages.redeliver(session, subscription.id, message_id)
    await session.commit()
    return message_id


def require_active(subscription: WebhookSubscription) -> None:
    if subscription.status != SubscriptionStatus.active:
        raise Conflict(
            "This webhook is disabled: re-enable it (PATCH with `status: active`) first."
        )


async def list_for(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> WebhookPage:
    statement = select(WebhookSubscription).order_by(
        col(WebhookSubscription.created_at).desc(), col(WebhookSubscription.id).desc()
    )
    if not principal.is_admin:
        statement = statement.where(col(WebhookSubscription.api_key_id) == principal.key_id)
    if cursor:
        created_at, last_id = decode_time_cursor(cursor)
        statement = statement.where(
            tuple_(col(WebhookSubscription.created_at), col(WebhookSubscription.id))
            < tuple_(created_at, last_id)
        )
    rows = (await session.execute(statement.limit(limit + 1))).scalars().all()
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id)
    return WebhookPage(items=[public(row) for row in rows[:limit]], next_cursor=next_cursor)


async def list_deliveries(
    session: AsyncSession,
    subscription: WebhookSubscription,
    *,
    limit: int,
    cursor: str | None,
) -> DeliveryPage:
    """The attempts, newest first."""
    statement = (
        select(WebhookDelivery)
        .where(col(WebhookDelivery.subscription_id) == subscription.id)
        .order_by(col(WebhookDelivery.at).desc(), col(WebhookDelivery.id).desc())
    )
    if cursor:
        at, last_id = decode_time_cursor(cursor)
        statement = statement.where(
            tuple_(col(WebhookDelivery.at), col(WebhookDelivery.id)) < tuple_(at, last_id)
        )
    rows = (await session.execute(statement.limit(limit + 1))).scalars().all()
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(rows[limit - 1].at, rows[limit - 1].id)
    items = [
        DeliveryPublic(
            id=row.id,
            message_id=signing.webhook_id(row.message_id),
            event=row.event,
            attempt=row.attempt,
            status_code=row.status_code,
            succeeded=row.succeeded,
            response_body=row.response_body,
            error=row.error,
            duration_ms=row.duration_ms,
            at=row.at,
        )
        for row in rows[:limit]
    ]
    return DeliveryPage(items=items, next_cursor=next_cursor)

"""What the webhook routes take and answer."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import Page
from app.webhooks.filters import FilterValue
from app.webhooks.models import SubscriptionStatus


class EventType(StrEnum):
    """What a subscription may ask for."""

    offer_published = "offer.published"
    offer_updated = "offer.updated"
    offer_closed = "offer.closed"
    application_received = "application.received"
    application_withdrawn = "application.withdrawn"
    application_erased = "application.erased"


OFFER_EVENTS = frozenset(
    {EventType.offer_published, EventType.offer_updated, EventType.offer_closed}
)
APPLICATION_EVENTS = frozenset(
    {
        EventType.application_received,
        EventType.application_withdrawn,
        EventType.application_erased,
    }
)
PING = "webhook.ping"

Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="Where events are POSTed: https only (http where the server allows it "
        "for development). The host is resolved at each delivery; loopback, private, "
        "link-local, site-local, NAT64, reserved and cloud metadata addresses are refused. "
        "Redirects are not followed.",
        examples=["https://partner.example.org/hooks/vocation"],
    ),
]
Events = Annotated[
    list[EventType],
    Field(
        min_length=1,
        max_length=len(EventType),
        description="Partner and admin keys: `offer.published`, `offer.updated`, "
        "`offer.closed`. Recruiter keys: `application.received`, `application.withdrawn`, "
        "`application.erased`, for their own organisation.",
    ),
]
Filters = Annotated[
    dict[str, FilterValue],
    Field(
        max_length=20,
        description="Offer events only: the offer list's query parameters (`GET /v1/offers`), "
        "a name to a value or a list of values, checked as the list checks them, e.g. "
        '`{"departement": ["75"], "contract_type": ["cdd", "cdi"]}`. Only offers the list '
        "would show under these filters are sent (for `offer.closed`, offers it showed). "
        "`q`, `sort`, `limit`, `cursor` and `facets` are not filters.",
        examples=[{"departement": ["75"]}],
    ),
]
Description = Annotated[str, Field(max_length=200, description="Your own label.")]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events
    filters: Filters | None = None
    description: Description | None = None


class WebhookUpdate(BaseModel):
    """Send only what changes. `status: active` re-enables a disabled subscription."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    filters: Filters | None = None
    description: Description | None = None
    status: SubscriptionStatus | None = Field(
        default=None,
        description="`active` re-enables a subscription (disabled by failures or by you); "
        "`disabled` pauses it: nothing is sent to it meanwhile, nor later.",
    )


class WebhookPublic(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    events: list[EventType]
    filters: dict[str, FilterValue]
    organisation_id: uuid.UUID | None = Field(
        description="A recruiter key's organisation, whose application events it receives."
    )
    status: SubscriptionStatus
    disabled_reason: str | None = Field(
        description="Why it is disabled: by its owner, or after failing for three days."
    )
    disabled_at: datetime | None
    failing_since: datetime | None = Field(
        description="The first failed delivery since the last success (or since 30 hours "
        "without any failed delivery); after three days of failures the subscription is "
        "disabled, and its pending messages fail."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation: until then, the previous secret signs too."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str = Field(
        description="The signing secret (`whsec_…`), shown only when made: at creation and "
        "at each rotation. Verify deliveries with it (Standard Webhooks).",
    )


class MessageQueued(BaseModel):
    message_id: str = Field(description="The message's `webhook-id`.")


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    message_id: str = Field(description="The message's `webhook-id`: the same on each attempt.")
    event: str
    attempt: int = Field(description="1 for the first attempt at this message, and so on.")
    status_code: int | None = Field(description="The receiver's answer; null when none came.")
    succeeded: bool = Field(description="A 2xx answer.")
    response_body: str | None = Field(description="At most 1 KiB of the receiver's answer.")
    error: str | None
    duration_ms: int
    at: datetime


WebhookPage = Page[WebhookPublic]
DeliveryPage = Page[DeliveryPublic]

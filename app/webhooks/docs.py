"""The OpenAPI 3.1 `webhooks` section: what each event's POST to a receiver holds.

These routes are never served: FastAPI reads them (``app.webhooks``) to write the spec,
so that generators and readers see each payload as they see the API's own bodies.
"""

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, Field
from starlette.responses import Response

from app.webhooks.payloads import ApplicationData, OfferData, PingData

TAG = "webhooks"
RECEIVING = (
    "Verify the headers with the `standardwebhooks` library and the webhook's secret "
    "before trusting the body; de-duplicate on `webhook-id` (delivery is at least once). "
    "Answer 2xx within 10 s: anything else, a redirect included, is a failure, tried again "
    "after 5 s, then 3 times longer each time up to a day, then given up."
)
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Received (any 2xx): this message is not sent again."},
    "default": {"description": "Not received: sent again later, with the same `webhook-id`."},
}


class SignatureHeaders(BaseModel):
    """The Standard Webhooks headers of every delivery."""

    webhook_id: str = Field(
        description="The message's id (`msg_…`), the same on every attempt and redelivery.",
        examples=["msg_0f6c8b5a2e1d4c3b9a8f7e6d5c4b3a21"],
    )
    webhook_timestamp: str = Field(
        description="When this attempt was signed, in seconds since the Unix epoch. "
        "Refuse a message too far from now (the library allows 5 minutes).",
        examples=["1796720400"],
    )
    webhook_signature: str = Field(
        description="`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}."
        "{body}` with the secret; after a rotation, for 24 hours, two such signatures "
        "separated by a space (the new secret's and the previous one's).",
    )


class OfferEventType(StrEnum):
    published = "offer.published"
    updated = "offer.updated"
    closed = "offer.closed"


class ApplicationEventType(StrEnum):
    received = "application.received"
    withdrawn = "application.withdrawn"
    erased = "application.erased"


class PingEventType(StrEnum):
    ping = "webhook.ping"


Timestamp = Annotated[datetime, Field(description="When the event happened (UTC).")]


class OfferEvent(BaseModel):
    type: OfferEventType
    timestamp: Timestamp
    data: OfferData


class ApplicationEvent(BaseModel):
    type: ApplicationEventType
    timestamp: Timestamp
    data: ApplicationData


class PingEvent(BaseModel):
    type: PingEventType
    timestamp: Timestamp
    data: PingData


Signed = Annotated[SignatureHeaders, Header()]

router = APIRouter(tags=[TAG])


def _webhook(
    name: str, summary: str, description: str
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    return router.post(
        name,
        response_class=Response,
        operation_id="".join(
            part if index == 0 else part.capitalize() for index, part in enumerate(name.split("."))
        ),
        summary=summary,
        description=f"{description}\n\n{RECEIVING}",
        responses=ANSWERS,
    )


@_webhook(
    "offer.published",
    "An offer was published",
    "Partner and admin subscriptions: an offer became visible in the list (created "
    "published, or a draft published), and matches the subscription's filters.",
)
async def offer_published(headers: Signed, event: Annotated[OfferEvent, Body()]) -> None:
    """Never called."""


@_webhook(
    "offer.updated",
    "A published offer changed",
    "Partner and admin subscriptions: a published offer matching the filters changed. "
    "Read it again from `data.links.self`.",
)
async def offer_updated(headers: Signed, event: Annotated[OfferEvent, Body()]) -> None:
    """Never called."""


@_webhook(
    "offer.closed",
    "An offer was closed",
    "Partner and admin subscriptions: a published offer matching the filters was closed "
    "by its recruiter, by a `sync` upload, or because its deadline or `expires_at` passed.",
)
async def offer_closed(headers: Signed, event: Annotated[OfferEvent, Body()]) -> None:
    """Never called."""


@_webhook(
    "application.received",
    "An application was received",
    "Recruiter subscriptions, for their own organisation's offers: an application is "
    "received (confirmed by its candidate). Ids and links only: read it with the key.",
)
async def application_received(headers: Signed, event: Annotated[ApplicationEvent, Body()]) -> None:
    """Never called."""


@_webhook(
    "application.withdrawn",
    "An application was withdrawn",
    "Recruiter subscriptions: its candidate withdrew an application to one of the "
    "organisation's offers.",
)
async def application_withdrawn(
    headers: Signed, event: Annotated[ApplicationEvent, Body()]
) -> None:
    """Never called."""


@_webhook(
    "application.erased",
    "An application was erased",
    "Recruiter subscriptions: its candidate erased an application (or their account); "
    "its personal data and files are gone, and a copy you hold should go too.",
)
async def application_erased(headers: Signed, event: Annotated[ApplicationEvent, Body()]) -> None:
    """Never called."""


@_webhook(
    "webhook.ping",
    "A test event",
    "Sent on request (`POST /v1/webhooks/{id}/ping`), to any subscription.",
)
async def webhook_ping(headers: Signed, event: Annotated[PingEvent, Body()]) -> None:
    """Never called."""

"""What a webhook carries: `{type, timestamp, data}` as the Standard Webhooks
specification shapes it, with small `data`: ids, a few facts and links to read the rest.

Application events carry ids and links only, built here from the event's ids alone:
whatever else a writer put in the event never leaves the service.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import Event
from app.offers.reads import offers, organisations
from app.referentials.enums import OfferStatus

# Offers read per statement: an upload's events come by the thousand.
_BATCH = 500


def timestamp(moment: datetime) -> str:
    """The specification's example form: ISO 8601 in UTC with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(event_type: str, moment: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": timestamp(moment), "data": data}


async def offer_data(
    session: AsyncSession, offer_ids: Iterable[uuid.UUID], base: str
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each offer's `data`, as it is in this transaction."""
    wanted = list(dict.fromkeys(offer_ids))
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for start in range(0, len(wanted), _BATCH):
        rows = await session.execute(
            select(
                offers.c.id,
                offers.c.title,
                offers.c.status,
                organisations.c.id.label("organisation_id"),
                organisations.c.slug,
            )
            .select_from(offers.join(organisations, offers.c.organisation_id == organisations.c.id))
            .where(offers.c.id.in_(wanted[start : start + _BATCH]))
        )
        for row in rows:
            found[row.id] = {
                "id": str(row.id),
                "title": row.title,
                "status": row.status,
                "organisation": {"id": str(row.organisation_id), "slug": row.slug},
                "links": {"self": f"{base}/v1/offers/{row.id}"},
            }
    return found


def application_data(event: Event, base: str) -> dict[str, Any] | None:
    """An application event's `data`: its ids and links, nothing else; None when the
    event lacks them."""
    application_id = event.data.get("application_id") or event.data.get("id")
    offer_id = event.offer_id or event.data.get("offer_id")
    if application_id is None or offer_id is None or event.organisation_id is None:
        return None
    return {
        "id": str(application_id),
        "offer_id": str(offer_id),
        "organisation_id": str(event.organisation_id),
        "links": {
            "self": f"{base}/v1/applications/{application_id}",
            "offer": f"{base}/v1/offers/{offer_id}",
        },
    }


def ping_data(subscription_id: uuid.UUID) -> dict[str, Any]:
    return {"webhook_id": str(subscription_id)}


# The payloads as the OpenAPI `webhooks` section documents them (app.webhooks.docs).


class Links(BaseModel):
    self: str = Field(description="The resource in the JSON API.")


class OrganisationRef(BaseModel):
    id: uuid.UUID
    slug: str


class OfferData(BaseModel):
    id: uuid.UUID
    title: str
    status: OfferStatus = Field(description="`closed` for `offer.closed`, else `published`.")
    organisation: OrganisationRef
    links: Links = Field(description="`self`: the offer, `GET /v1/offers/{id}`.")


class ApplicationLinks(BaseModel):
    self: str = Field(description="The application, `GET /v1/applications/{id}`.")
    offer: str = Field(description="Its offer, `GET /v1/offers/{id}`.")


class ApplicationData(BaseModel):
    """Ids and links only: read the application with the recruiter key."""

    id: uuid.UUID
    offer_id: uuid.UUID
    organisation_id: uuid.UUID
    links: ApplicationLinks


class PingData(BaseModel):
    webhook_id: uuid.UUID = Field(description="The webhook pinged.")

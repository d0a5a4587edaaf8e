"""`vocation demo`: the seed organisations and offers, dated so they are open today, plus
generated offers."""

import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.generated import ORGANISATIONS as GENERATED_ORGANISATIONS
from app.demo.generated import generated_offers
from app.offers import writer
from app.offers.models import OfferFields
from app.organisations.models import Organisation, OrganisationCreate

SEED_FILE = Path(__file__).with_name("seed_offers.json")
GENERATED_COUNT = 36


def load_seed_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    return data


def shift_to_today(offer: dict[str, Any], today: date) -> dict[str, Any]:
    """Move an offer's dates so that it is open ``today``, keeping the intervals between
    publication, deadline, start, end and expiry.

    Published a third of its application window ago (a week ago without a deadline), so
    the deadline still lies ahead.
    """
    published = datetime.fromisoformat(offer["published_at"])
    deadline = date.fromisoformat(offer["deadline"]) if offer.get("deadline") else None
    window = (deadline - published.date()).days if deadline else 21
    age = max(1, window // 3)
    delta = (today - timedelta(days=age)) - published.date()
    shifted = dict(offer)
    shifted["published_at"] = (published + delta).isoformat()
    for field in ("deadline", "start_date", "end_date"):
        if offer.get(field):
            shifted[field] = (date.fromisoformat(offer[field]) + delta).isoformat()
    if offer.get("expires_at"):
        # Left in the past, it would close the offer the moment it is loaded.
        shifted["expires_at"] = (datetime.fromisoformat(offer["expires_at"]) + delta).isoformat()
    if offer.get("start_date"):
        # "début septembre 2020" names the original date, which no longer holds.
        shifted["start_text"] = None
    return shifted


async def database_is_empty(session: AsyncSession) -> bool:
    count = (await session.execute(select(func.count()).select_from(Organisation))).scalar_one()
    return count == 0


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Null in the file means "not stated": let the schema's default apply."""
    return {key: value for key, value in values.items() if value is not None}


async def load_demo(session: AsyncSession, today: date) -> tuple[int, int]:
    seed = load_seed_file()
    organisation_ids: dict[str, uuid.UUID] = {}
    for raw in [*seed["organisations"], *GENERATED_ORGANISATIONS]:
        data = OrganisationCreate.model_validate(_present(raw))
        organisation = Organisation(**data.model_dump())
        session.add(organisation)
        organisation_ids[data.slug] = organisation.id
    # No ORM relationship orders the inserts: organisations must exist before their offers.
    await session.flush()
    offers = [shift_to_today(offer, today) for offer in seed["offers"]]
    offers += generated_offers(GENERATED_COUNT, today)
    offers_writer = writer.OfferWriter(session)
    for raw in offers:
        values = _present(raw)
        fields = OfferFields.model_validate(
            {key: value for key, value in values.items() if key in OfferFields.model_fields}
        )
        stored = [*fields.model_dump().values(), values.get("status", "published")]
        published_at = datetime.fromisoformat(values["published_at"])
        await offers_writer.create(
            organisation_ids[values["organisation"]],
            [writer.NewOffer(uuid.uuid4(), stored, published_at)],
        )
    await offers_writer.finish()
    await session.commit()
    return len(organisation_ids), len(offers)

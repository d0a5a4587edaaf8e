"""A write that changes nothing writes nothing (no version, no feed entry), whatever the
field's type: PATCH, PUT, and a CSV upload after the same offers in JSON."""

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.offers.changes import OfferChange
from app.offers.models import Offer
from tests.factories import bearer, make_key, make_organisation, offer_body


async def _state(session: AsyncSession, offer_id: str) -> tuple[int, int]:
    session.expire_all()
    offer = await session.get(Offer, uuid.UUID(offer_id))
    assert offer is not None
    feed = (
        await session.execute(
            select(col(OfferChange.seq)).where(col(OfferChange.offer_id) == offer.id)
        )
    ).all()
    return offer.version, len(feed)


FULL = {
    "missions": "Des missions.",
    "profile": None,
    "salary_min": 2500,
    "salary_max": 3000,
    "salary_period": "month",
    "salary_basis": "gross",
    "working_time": "part_time",
    "working_time_percent": 80,
    "remote": "partial",
    "remote_days_per_week": 2,
    "apply_via": "email",
    "apply_email": "Recrutement@Example.ORG",
    "apply_url": "https://example.org/postuler",
    "open_to_contractuels": False,
    "country": "FR",
    "language": "fr",
}

SAME_VALUES = [
    {"deadline": None},
    {"start_date": None},
    {"open_to_contractuels": False},
    {"apply_email": "Recrutement@Example.ORG"},
    {"apply_url": "https://example.org/postuler"},
    {"apply_url": " https://example.org/postuler "},
    {"remote": "partial"},
    {"salary_period": "month"},
    {"country": "fr"},
    {"language": "FR"},
    {"profile": None},
    {"region": "52"},
    {"departement": "44"},
    {"status": "published"},
    {"status": None},
    {"title": "  Chef de projets innovation et transformation publique H/F  "},
]


@pytest.mark.parametrize(
    "fields", SAME_VALUES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items())
)
async def test_patch_no_op_by_type(
    client: httpx.AsyncClient, session: AsyncSession, fields: dict[str, Any]
) -> None:
    organisation = await make_organisation(session)
    key = bearer(await make_key(session, "recruiter", organisation))
    body = offer_body(**FULL, deadline=None, start_date=None)
    created = await client.post("/v1/offers", json=body, headers=key)
    assert created.status_code == 201, created.text
    offer_id = created.json()["id"]
    before = await _state(session, offer_id)
    response = await client.patch(f"/v1/offers/{offer_id}", json=fields, headers=key)
    assert response.status_code == 200, response.text
    assert await _state(session, offer_id) == before


@pytest.mark.parametrize(
    "fields", SAME_VALUES[:-4], ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items())
)
async def test_put_no_op_by_type(
    client: httpx.AsyncClient, session: AsyncSession, fields: dict[str, Any]
) -> None:
    organisation = await make_organisation(session, slug="org-x")
    key = bearer(await make_key(session, "recruiter", organisation))
    body = offer_body(**FULL, deadline=None, start_date=None, reference=None)
    url = "/v1/organisations/org-x/offers/R-1"
    created = await client.put(url, json=body, headers=key)
    assert created.status_code == 201, created.text
    offer_id = created.json()["id"]
    before = await _state(session, offer_id)
    response = await client.put(url, json={**body, **fields}, headers=key)
    assert response.status_code == 200, response.text
    assert await _state(session, offer_id) == before


async def test_csv_bulk_after_json_is_a_no_op(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session, slug="org-y")
    key = bearer(await make_key(session, "recruiter", organisation))
    body = offer_body(**FULL, reference="C-1")
    first = await client.post(
        "/v1/offers/bulk",
        content=json.dumps([body]).encode(),
        headers={**key, "Content-Type": "application/json"},
    )
    assert first.json()["created"] == 1, first.text
    offer_id = first and (await session.execute(select(col(Offer.id)))).scalar_one()
    before = await _state(session, str(offer_id))
    columns = [k for k, v in body.items() if v is not None]

    def cell(v: Any) -> str:
        if isinstance(v, bool):
            return "oui" if v else "non"
        return str(v)

    csv = ";".join(columns) + "\n" + ";".join(cell(body[c]) for c in columns) + "\n"
    second = await client.post(
        "/v1/offers/bulk", content=csv.encode(), headers={**key, "Content-Type": "text/csv"}
    )
    assert second.status_code == 200, second.text
    assert second.json()["unchanged"] == 1, second.text
    assert await _state(session, str(offer_id)) == before

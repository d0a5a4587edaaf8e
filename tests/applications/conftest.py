from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import Offer
from app.organisations.models import Organisation
from tests.applications.files import docx, pdf
from tests.factories import PASSWORD, make_candidate, make_key, make_offer, make_organisation


@dataclass
class World:
    organisation: Organisation
    offer: Offer
    recruiter: str
    other_recruiter: str
    partner: str
    admin: str


@pytest.fixture
async def world(session: AsyncSession) -> World:
    organisation = await make_organisation(session, slug="etat-lin")
    other = await make_organisation(session, slug="le-labo")
    offer = await make_offer(session, organisation, apply_via="platform")
    return World(
        organisation=organisation,
        offer=offer,
        recruiter=await make_key(session, "recruiter", organisation),
        other_recruiter=await make_key(session, "recruiter", other),
        partner=await make_key(session, "partner"),
        admin=await make_key(session, "admin"),
    )


def form(**overrides: Any) -> dict[str, str]:
    fields = {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "consent": "true",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


async def apply(
    client: httpx.AsyncClient,
    offer_id: object,
    *,
    cv: tuple[str, bytes, str] | None = ("cv.pdf", pdf(), "application/pdf"),
    cover_letter: tuple[str, bytes, str] | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> httpx.Response:
    files: dict[str, tuple[str, bytes, str]] = {}
    if cv is not None:
        files["cv"] = cv
    if cover_letter is not None:
        files["cover_letter"] = cover_letter
    return await client.post(
        f"/v1/offers/{offer_id}/applications",
        data=form(**fields),
        files=files,
        headers=headers or {},
    )


def letter() -> tuple[str, bytes, str]:
    return ("lettre de motivation.docx", docx(), "application/octet-stream")


async def candidate_token(client: httpx.AsyncClient, email: str, *, verified: bool = True) -> str:
    """A signed-in candidate's access token. The account is written straight to the
    database (tests/accounts/ goes through sign-up's e-mail): the app behind the client."""
    app = client._transport.app  # type: ignore[attr-defined]
    async with app.state.database.sessions() as session:
        await make_candidate(session, email, PASSWORD, verified=verified)
    token = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])

"""A draft closed without ever being published is nobody's business but its organisation's:
GET answers 404 for it (issue 12), and so must applying to it, rather than a 409 that
tells the offer exists and is closed."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.applications.conftest import World, apply, candidate_token, letter
from tests.factories import bearer, offer_body


async def test_applying_to_a_draft_closed_unpublished_is_404_like_reading_it(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    key = bearer(world.recruiter)
    body = offer_body(status="draft", apply_via="platform", apply_url=None)
    created = await client.post("/v1/offers", json=body, headers=key)
    assert created.status_code == 201, created.text
    offer_id = created.json()["id"]
    assert (await client.delete(f"/v1/offers/{offer_id}", headers=key)).status_code == 204
    assert (await client.get(f"/v1/offers/{offer_id}")).status_code == 404

    token = await candidate_token(client, "camille.durand@example.org")
    applied = await apply(client, offer_id, cover_letter=letter(), headers=bearer(token))
    assert applied.status_code == 404, applied.text

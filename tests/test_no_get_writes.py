"""No `GET` writes: every `GET` (and `HEAD`) route the API documents, called anonymously
and with each kind of credential, against a database holding offers past their deadline,
leaves every row of every table as it was. Offers past their deadline are closed by the
expiry worker (app.offers.expiry), never by a read.

One table is appended to by reads, on purpose: `audit_event`, the log of who read a
candidate's documents or exported applications (RGPD accountability). It changes no row;
the test checks that reads of personal data add to it and nothing else does."""

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import metadata
from tests.applications.conftest import World, apply, candidate_token, letter
from tests.applications.conftest import world as world
from tests.factories import bearer, make_offer, paris_today

# Query strings that take the list and the feeds down their other paths too.
_VARIANTS = {
    "/v1/offers": [
        "",
        "?q=projet&facets=contract_type,departement,region,remote,organisation_kind",
        "?sort=deadline&deadline_after=2020-01-01",
    ],
    "/v1/offers/changes": ["", "?limit=1"],
}


AUDIT_LOG = "audit_event"
PERSONAL_READS = {"document.download", "applications.export"}


async def snapshot(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    session.expire_all()
    tables = {}
    for table in metadata.sorted_tables:
        rows = (await session.execute(select(table))).all()
        tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def test_no_get_route_writes(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    yesterday = paris_today() - timedelta(days=1)
    expired = await make_offer(session, world.organisation, deadline=yesterday)
    draft = await make_offer(session, world.organisation, status="draft", published_at=None)
    token = await candidate_token(client, "camille.durand@example.org")
    applied = await apply(client, world.offer.id, cover_letter=letter(), headers=bearer(token))
    assert applied.status_code == 201, applied.text
    application = (
        await client.get(
            f"/v1/applications/{applied.json()['id']}", headers=bearer(world.recruiter)
        )
    ).json()
    document_id = application["documents"][0]["id"]
    webhook = await client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.partner.invalid/", "events": ["offer.closed"]},
        headers=bearer(world.partner),
    )
    assert webhook.status_code == 201, webhook.text

    values = {
        "offer_id": [str(expired.id), str(world.offer.id), str(draft.id)],
        "id_or_slug": [world.organisation.slug],
        "application_id": [applied.json()["id"]],
        "document_id": [document_id],
        "subscription_id": [webhook.json()["id"]],
    }
    credentials = [{}, *(bearer(key) for key in (world.recruiter, world.admin, world.partner))]
    credentials.append(bearer(token))

    before = await snapshot(session)
    assert any(row for row in before["offer"]), "the database holds offers"
    called = 0
    for path, operations in app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        for url in _urls(path, values):
            for headers in credentials:
                for method in ("GET", "HEAD"):
                    response = await client.request(method, url, headers=headers)
                    assert response.status_code < 500, (url, response.text)
                    called += 1
    assert called > 100
    after = await snapshot(session)
    audit = after.pop(AUDIT_LOG)
    assert before.pop(AUDIT_LOG) == []
    assert after == before
    assert {row[2] for row in audit} == PERSONAL_READS


def _urls(path: str, values: dict[str, list[str]]) -> list[str]:
    urls = [path]
    for name in re.findall(r"{(\w+)(?::\w+)?}", path):
        urls = [
            re.sub(r"{" + name + r"(:\w+)?}", value, url) for url in urls for value in values[name]
        ]
    return [url + variant for url in urls for variant in _VARIANTS.get(path, [""])]

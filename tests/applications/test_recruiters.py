import csv
import io

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import AuditEvent
from tests.applications.confirming import apply_confirmed
from tests.applications.conftest import World, letter
from tests.applications.files import pdf
from tests.factories import bearer, make_offer


async def test_status_moves_forward_with_history(client: httpx.AsyncClient, world: World) -> None:
    created = await apply_confirmed(client, world.offer.id)
    url = f"/v1/applications/{created.json()['id']}"
    key = bearer(world.recruiter)
    for status in ("in_review", "interview"):
        response = await client.patch(url, json={"status": status}, headers=key)
        assert response.status_code == 200, response.text
    backwards = await client.patch(url, json={"status": "received"}, headers=key)
    assert backwards.status_code == 409
    rejected = await client.patch(
        url, json={"status": "rejected", "note": "Profil trop junior"}, headers=key
    )
    assert rejected.status_code == 200
    history = rejected.json()["history"]
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        (None, "received"),
        ("received", "in_review"),
        ("in_review", "interview"),
        ("interview", "rejected"),
    ]
    assert history[-1]["note"] == "Profil trop junior"
    assert history[-1]["actor"] == "recruiter"
    final = await client.patch(url, json={"status": "offer"}, headers=key)
    assert final.status_code == 409
    assert (await client.patch(url, json={"status": "nope"}, headers=key)).status_code == 422


async def test_list_filters_and_pages(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    second_offer = await make_offer(session, world.organisation, apply_via="platform")
    ids = []
    for index in range(5):
        ids.append(
            (await apply_confirmed(client, world.offer.id, email=f"p{index}@example.org")).json()[
                "id"
            ]
        )
    other = await apply_confirmed(client, second_offer.id, email="q@example.org")
    key = bearer(world.recruiter)
    await client.patch(f"/v1/applications/{ids[0]}", json={"status": "in_review"}, headers=key)

    seen: list[str] = []
    url: str | None = "/v1/applications?limit=2"
    while url:
        page = await client.get(url, headers=key)
        assert page.headers["cache-control"] == "private, no-store"
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        url = f"/v1/applications?limit=2&cursor={cursor}" if cursor else None
    assert sorted(seen) == sorted([*ids, other.json()["id"]])
    assert len(seen) == len(set(seen))

    by_offer = await client.get(f"/v1/applications?offer_id={second_offer.id}", headers=key)
    assert [item["id"] for item in by_offer.json()["items"]] == [other.json()["id"]]
    by_status = await client.get("/v1/applications?status=in_review", headers=key)
    assert [item["id"] for item in by_status.json()["items"]] == [ids[0]]


async def test_download_is_an_audited_attachment(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    cv = pdf(200_000)
    created = await apply_confirmed(
        client, world.offer.id, cv=("Mon CV été.pdf", cv, "application/pdf"), cover_letter=letter()
    )
    url = f"/v1/applications/{created.json()['id']}"
    detail = (await client.get(url, headers=bearer(world.recruiter))).json()
    document = next(d for d in detail["documents"] if d["kind"] == "cv")
    response = await client.get(
        f"{url}/documents/{document['id']}", headers=bearer(world.recruiter)
    )
    assert response.status_code == 200
    assert response.content == cv
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Mon%20CV%20%C3%A9t%C3%A9.pdf" in disposition

    audit = (await session.execute(select(AuditEvent))).scalars().all()
    assert [(a.action, a.actor, str(a.document_id)) for a in audit] == [
        ("document.download", "recruiter", document["id"])
    ]
    # The audit log holds ids, never the candidate's data.
    assert "Camille" not in repr([vars(a) for a in audit])

    # The candidate reading their own file is not a recruiter read: not audited.
    token = created.json()["follow_up_token"]
    mine = await client.get(f"{url}/documents/{document['id']}", headers=bearer(token))
    assert mine.status_code == 200
    assert len((await session.execute(select(AuditEvent))).scalars().all()) == 1


async def test_csv_export(client: httpx.AsyncClient, session: AsyncSession, world: World) -> None:
    await apply_confirmed(
        client, world.offer.id, first_name='=HYPERLINK("x")', email="a@example.org"
    )
    await apply_confirmed(
        client, world.offer.id, first_name="Élodie", email="e@example.org", cover_letter=letter()
    )
    response = await client.get(
        f"/v1/offers/{world.offer.id}/applications.csv", headers=bearer(world.recruiter)
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    audit = (await session.execute(select(AuditEvent))).scalars().all()
    assert [(a.action, a.organisation_id) for a in audit] == [
        ("applications.export", world.organisation.id)
    ]
    assert [row["first_name"] for row in rows] == ['\'=HYPERLINK("x")', "Élodie"]
    assert [row["documents"] for row in rows] == ["1", "2"]
    assert rows[1]["email"] == "e@example.org"

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import QueryCounter
from tests.factories import bearer, make_key, make_offer, make_organisation, paris_today


async def test_list_shows_only_open_published_offers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    listed = await make_offer(session, organisation, title="Ouverte")
    await make_offer(session, organisation, title="Brouillon", status="draft", published_at=None)
    await make_offer(session, organisation, title="Clôturée", status="closed")
    await make_offer(
        session, organisation, title="Échue", deadline=paris_today() - timedelta(days=2)
    )
    last_day = await make_offer(session, organisation, title="Dernier jour", deadline=paris_today())

    response = await client.get("/v1/offers")

    assert response.status_code == 200
    titles = {item["title"] for item in response.json()["items"]}
    assert titles == {listed.title, last_day.title}
    assert response.headers["content-type"] == "application/json"


async def test_each_filter_alone_and_combined(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    nantes = await make_organisation(session, slug="etat-lin")
    paris = await make_organisation(session, slug="le-labo", departement="75", region="11")
    a = await make_offer(session, nantes, contract_type="fonctionnaire", remote="partial")
    b = await make_offer(session, paris, contract_type="cdd", departement="75", region="11")
    c = await make_offer(
        session,
        paris,
        contract_type="stage",
        remote="full",
        departement="75",
        region="11",
        duration_months=6,
    )

    async def ids(query: str) -> set[str]:
        response = await client.get(f"/v1/offers?{query}")
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids("contract_type=cdd") == {str(b.id)}
    assert await ids("contract_type=cdd&contract_type=stage") == {str(b.id), str(c.id)}
    assert await ids("departement=44") == {str(a.id)}
    assert await ids("departement=75") == {str(b.id), str(c.id)}
    assert await ids("remote=full") == {str(c.id)}
    assert await ids("remote=partial&remote=full") == {str(a.id), str(c.id)}
    assert await ids("organisation=etat-lin") == {str(a.id)}
    assert await ids(f"organisation={paris.id}") == {str(b.id), str(c.id)}
    assert await ids("departement=75&contract_type=stage&remote=full") == {str(c.id)}
    assert await ids("organisation=le-labo&contract_type=fonctionnaire") == set()
    assert await ids("organisation=nobody") == set()


async def test_unknown_filter_values_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    for query, field in [
        ("contract_type=freelance", "contract_type.0"),
        ("departement=99", "departement.0"),
        ("remote=sometimes", "remote.0"),
    ]:
        response = await client.get(f"/v1/offers?{query}")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field


async def test_pages_cover_every_offer_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    same_time = datetime.now(UTC) - timedelta(days=1)
    created = [
        # Ties on published_at must still page without duplicate or gap.
        await make_offer(
            session,
            organisation,
            published_at=same_time if i % 3 else same_time - timedelta(minutes=i),
        )
        for i in range(23)
    ]
    seen: list[str] = []
    url: str | None = "/v1/offers?limit=5"
    pages = 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert len(body["items"]) <= 5
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if body["next_cursor"]:
            assert 'rel="next"' in response.headers["link"]
            url = response.headers["link"].split(";")[0].strip("<>")
        else:
            assert "link" not in response.headers
            url = None
    assert pages == 5
    assert len(seen) == len(set(seen)) == len(created)
    assert set(seen) == {str(offer.id) for offer in created}
    published = [
        next(o.published_at for o in created if str(o.id) == offer_id) for offer_id in seen
    ]
    assert published == sorted(published, reverse=True)


async def test_limit_bounds(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    for _ in range(3):
        await make_offer(session, organisation)
    assert len((await client.get("/v1/offers?limit=2")).json()["items"]) == 2
    too_many = await client.get("/v1/offers?limit=1000")
    assert too_many.status_code == 422
    assert too_many.json()["errors"] == [{"field": "limit", "message": "at most 100"}]
    assert (await client.get("/v1/offers?limit=0")).status_code == 422
    assert (await client.get("/v1/offers?limit=100")).status_code == 200


async def test_a_forged_cursor_is_422(client: httpx.AsyncClient) -> None:
    for cursor in ["garbage", "W10", "WyJ4IiwieSJd", "%00"]:
        response = await client.get(f"/v1/offers?cursor={cursor}")
        assert response.status_code == 422, cursor
        assert response.json()["errors"][0]["field"] == "cursor"


async def test_list_runs_one_query_whatever_the_page_size(
    client: httpx.AsyncClient, session: AsyncSession, queries: QueryCounter
) -> None:
    for index in range(3):
        organisation = await make_organisation(session)
        for _ in range(5):
            await make_offer(session, organisation, title=f"Offre {index}")
    queries.reset()
    response = await client.get("/v1/offers?limit=15")
    assert len(response.json()["items"]) == 15
    assert queries.count == 1


async def test_detail_etag_and_304(
    client: httpx.AsyncClient, session: AsyncSession, queries: QueryCounter
) -> None:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation)
    queries.reset()
    first = await client.get(f"/v1/offers/{offer.id}")
    assert first.status_code == 200
    assert queries.count == 1
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert first.json()["organisation"]["slug"] == organisation.slug

    again = await client.get(f"/v1/offers/{offer.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    stale = await client.get(f"/v1/offers/{offer.id}", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


async def test_list_etag_and_304(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    await make_offer(session, organisation)
    first = await client.get("/v1/offers")
    second = await client.get("/v1/offers", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 304
    await make_offer(session, organisation)
    third = await client.get("/v1/offers", headers={"If-None-Match": first.headers["etag"]})
    assert third.status_code == 200


async def test_closed_and_expired_offers_stay_readable_as_closed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    closed = await make_offer(session, organisation, status="closed", closed_at=datetime.now(UTC))
    expired = await make_offer(session, organisation, deadline=paris_today() - timedelta(days=1))
    for offer in (closed, expired):
        response = await client.get(f"/v1/offers/{offer.id}")
        assert response.status_code == 200
        assert response.json()["status"] == "closed"


async def test_drafts_are_visible_only_to_their_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_organisation(session)
    other = await make_organisation(session)
    draft = await make_offer(session, owner, status="draft", published_at=None)
    own_key = await make_key(session, "recruiter", owner)
    other_key = await make_key(session, "recruiter", other)

    assert (await client.get(f"/v1/offers/{draft.id}")).status_code == 404
    assert (
        await client.get(f"/v1/offers/{draft.id}", headers=bearer(other_key))
    ).status_code == 404
    mine = await client.get(f"/v1/offers/{draft.id}", headers=bearer(own_key))
    assert mine.status_code == 200
    assert mine.json()["status"] == "draft"
    assert mine.headers["cache-control"].startswith("private")


async def test_unknown_offer_is_a_problem_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/offers/6f1c4d5e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    # Offer ids are UUIDs: anything else names no route at all.
    assert (await client.get("/v1/offers/not-a-uuid")).status_code == 404


async def test_head_answers_like_get_without_a_body(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation)
    get = await client.get(f"/v1/offers/{offer.id}")
    head = await client.head(f"/v1/offers/{offer.id}")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]
    cached = await client.head(
        f"/v1/offers/{offer.id}", headers={"If-None-Match": get.headers["etag"]}
    )
    assert cached.status_code == 304


async def test_detail_carries_last_modified(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation)
    stamp = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    offer.updated_at = stamp
    organisation.updated_at = stamp - timedelta(days=1)
    await session.commit()

    response = await client.get(f"/v1/offers/{offer.id}")
    assert response.headers["Last-Modified"] == "Mon, 02 Mar 2026 09:30:00 GMT"
    as_jsonld = await client.get(
        f"/v1/offers/{offer.id}", headers={"Accept": "application/ld+json"}
    )
    assert as_jsonld.headers["Last-Modified"] == "Mon, 02 Mar 2026 09:30:00 GMT"

    # The organisation's name is part of the offer as read.
    organisation.updated_at = stamp + timedelta(hours=2)
    await session.commit()
    response = await client.get(f"/v1/offers/{offer.id}")
    assert response.headers["Last-Modified"] == "Mon, 02 Mar 2026 11:30:00 GMT"


async def test_an_expired_offer_was_last_modified_when_its_deadline_ended(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation, deadline=date(2026, 1, 15))
    offer.updated_at = datetime(2025, 12, 1, tzinfo=UTC)
    organisation.updated_at = datetime(2025, 12, 1, tzinfo=UTC)
    await session.commit()

    response = await client.get(f"/v1/offers/{offer.id}")

    assert response.json()["status"] == "closed"
    # Midnight in Paris (UTC+1 in winter) after the last day to apply.
    assert response.headers["Last-Modified"] == "Thu, 15 Jan 2026 23:00:00 GMT"

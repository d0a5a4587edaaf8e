"""If-Modified-Since answers 304 wherever Last-Modified is sent, after If-None-Match."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.core.http import not_modified
from app.offers.hot import HotReads
from app.offers.models import Offer
from tests.factories import bearer, make_key, make_offer, make_organisation

# Half a second past noon: HTTP dates have no fractions, so the Last-Modified sent is noon.
CHANGED = datetime(2026, 3, 2, 12, 0, 0, 500_000, tzinfo=UTC)
NOON = "Mon, 02 Mar 2026 12:00:00 GMT"
A_SECOND_BEFORE = "Mon, 02 Mar 2026 11:59:59 GMT"
VALIDATORS = ("etag", "last-modified", "cache-control", "vary")


async def _offer_changed_at_noon(session: AsyncSession) -> Offer:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation)
    offer.updated_at = CHANGED
    organisation.updated_at = CHANGED - timedelta(days=1)
    await session.commit()
    return offer


async def _lane(session: AsyncSession, lane: str) -> dict[str, str]:
    """Headers that send the detail down one lane: the pure-ASGI one, the FastAPI route
    (credentials), or the JSON-LD rendering."""
    if lane == "route":
        return bearer(await make_key(session, "partner"))
    if lane == "jsonld":
        return {"Accept": "application/ld+json"}
    return {}


def _same_validators(not_modified: httpx.Response, full: httpx.Response) -> None:
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    for name in VALIDATORS:
        assert not_modified.headers.get(name) == full.headers.get(name), name


async def _check_conditionals(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], *, head: bool = False
) -> None:
    """The rules every route sending Last-Modified follows; its Last-Modified is NOON."""
    get = client.head if head else client.get
    full = await get(path, headers=headers)
    assert full.status_code == 200
    assert full.headers["last-modified"] == NOON

    # The date received, sent back: 304, although the change was at 12:00:00.5.
    same = await get(path, headers={**headers, "If-Modified-Since": NOON})
    _same_validators(same, full)
    later = await get(
        path, headers={**headers, "If-Modified-Since": "Tue, 03 Mar 2026 08:00:00 GMT"}
    )
    assert later.status_code == 304
    # The obsolete formats HTTP still requires recipients to read, and an offset.
    for moment in (
        "Monday, 02-Mar-26 12:00:00 GMT",
        "Mon Mar  2 12:00:00 2026",
        "Mon, 02 Mar 2026 13:00:00 +0100",
    ):
        again = await get(path, headers={**headers, "If-Modified-Since": moment})
        assert again.status_code == 304, moment

    earlier = await get(path, headers={**headers, "If-Modified-Since": A_SECOND_BEFORE})
    assert earlier.status_code == 200
    invalid = await get(path, headers={**headers, "If-Modified-Since": "yesterday"})
    assert invalid.status_code == 200

    # If-None-Match decides alone (RFC 9110 §13.2.2), both ways.
    other_tag = await get(
        path, headers={**headers, "If-None-Match": '"other"', "If-Modified-Since": NOON}
    )
    assert other_tag.status_code == 200
    same_tag = await get(
        path,
        headers={
            **headers,
            "If-None-Match": full.headers["etag"],
            "If-Modified-Since": A_SECOND_BEFORE,
        },
    )
    _same_validators(same_tag, full)


@pytest.mark.parametrize("lane", ["hot", "route", "jsonld"])
async def test_offer_detail(
    client: httpx.AsyncClient,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    lane: str,
) -> None:
    offer = await _offer_changed_at_noon(session)
    headers = await _lane(session, lane)
    answered: list[bool] = []
    original = HotReads._detail

    async def spy(self: HotReads, *args: Any) -> Any:
        response = await original(self, *args)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(HotReads, "_detail", spy)

    await _check_conditionals(client, f"/v1/offers/{offer.id}", headers)

    # Each lane is the one meant: the rules hold on the fast path and on the route alike.
    assert set(answered) == {lane == "hot"}


async def test_offer_detail_head(client: httpx.AsyncClient, session: AsyncSession) -> None:
    offer = await _offer_changed_at_noon(session)
    await _check_conditionals(client, f"/v1/offers/{offer.id}", {}, head=True)


@pytest.mark.parametrize("kind", ["rss", "atom", "xml", "jsonld"])
@pytest.mark.parametrize("head", [False, True])
async def test_feeds(
    client: httpx.AsyncClient, session: AsyncSession, kind: str, head: bool
) -> None:
    await _offer_changed_at_noon(session)
    await _check_conditionals(client, f"/v1/feeds/offers.{kind}", {}, head=head)


async def test_an_offer_changed_within_the_second_is_not_modified(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The case the one-second resolution exists for, spelt out: the client read the offer
    during the second of its change, and holds what was sent then."""
    offer = await _offer_changed_at_noon(session)
    path = f"/v1/offers/{offer.id}"
    assert (await client.get(path, headers={"If-Modified-Since": NOON})).status_code == 304
    offer.updated_at = CHANGED + timedelta(seconds=1)
    await session.commit()
    assert (await client.get(path, headers={"If-Modified-Since": NOON})).status_code == 200


async def test_without_last_modified_if_modified_since_is_ignored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The list and the organisations send an ETag only: a date cannot vouch for them."""
    organisation = await make_organisation(session)
    await make_offer(session, organisation)
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    for path in ("/v1/offers", f"/v1/organisations/{organisation.slug}", "/v1/organisations"):
        response = await client.get(path, headers={"If-Modified-Since": future})
        assert response.status_code == 200, path
        assert "last-modified" not in response.headers, path


def _request(method: str, headers: dict[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": method, "headers": raw, "query_string": b""})


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {"If-Modified-Since": NOON}, True),
        ("HEAD", {"If-Modified-Since": NOON}, True),
        # Only reads are conditional on a date (RFC 9110 §13.1.3).
        ("POST", {"If-Modified-Since": NOON}, False),
        ("GET", {"If-Modified-Since": A_SECOND_BEFORE}, False),
        ("GET", {"If-Modified-Since": ""}, False),
        ("GET", {"If-Modified-Since": "Mon, 32 Mar 2026 12:00:00 GMT"}, False),
        ("GET", {"If-None-Match": '"tag"', "If-Modified-Since": A_SECOND_BEFORE}, True),
        ("GET", {"If-None-Match": '"nope"', "If-Modified-Since": NOON}, False),
        # An empty If-None-Match is no field value at all: the date decides.
        ("GET", {"If-None-Match": "", "If-Modified-Since": NOON}, True),
        ("GET", {}, False),
    ],
)
def test_not_modified(method: str, headers: dict[str, str], expected: bool) -> None:
    validators = {"ETag": '"tag"', "Last-Modified": NOON}
    assert not_modified(_request(method, headers), validators) is expected


def test_no_last_modified_no_date_comparison() -> None:
    request = _request("GET", {"If-Modified-Since": NOON})
    assert not not_modified(request, {"ETag": '"tag"'})

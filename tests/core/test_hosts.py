"""The Host header: only configured hosts are answered, and with a public base URL set,
every link the service writes uses that base alone (issue 15, security item 7)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_offer, make_organisation, offer_body

FORGED = "evil.example"
PUBLIC = "https://emplois.example.org/api"
MISDIRECTED = "urn:vocation:problem:misdirected-request"


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: Any = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await application.state.database.dispose()


@pytest.fixture
async def organisation(session: AsyncSession) -> Organisation:
    organisation = await make_organisation(session)
    # Two offers: a page of one has a next page, hence a Link header.
    await make_offer(session, organisation)
    await make_offer(session, organisation)
    return organisation


async def _offer_id(client: httpx.AsyncClient) -> str:
    return str((await client.get("/v1/offers?limit=1")).json()["items"][0]["id"])


def _links(response: httpx.Response) -> str:
    """Everything in an answer that may hold a URL: its headers and its body."""
    return " ".join(f"{name}: {value}" for name, value in response.headers.items()) + (
        response.text
    )


# (what, path, headers): each way a request's host used to reach a cached link.
LINKED = {
    "list Link": ("/v1/offers?limit=1", {}),
    "JSON-LD url": ("/v1/offers/{id}", {"Accept": "application/ld+json"}),
    "RSS link": ("/v1/feeds/offers.rss", {}),
    "redirect": ("/v1/offers/", {}),
}


@pytest.mark.parametrize("what", LINKED)
async def test_a_forged_host_is_refused_not_reflected(
    client: httpx.AsyncClient, organisation: Organisation, what: str
) -> None:
    path, headers = LINKED[what]
    path = path.format(id=await _offer_id(client))

    honest = await client.get(path, headers=headers)
    forged = await client.get(path, headers={**headers, "Host": FORGED})

    # The same request from an allowed host links to that host...
    assert honest.status_code in {200, 307}
    assert "http://testserver/v1/" in _links(honest)
    # ...and from any other host, is refused, as a problem, with nothing of the host in it.
    assert forged.status_code == 421
    assert forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["type"] == MISDIRECTED
    assert FORGED not in _links(forged)


async def test_a_port_does_not_matter_and_case_neither(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/offers", headers={"Host": "TestServer:8080"})

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_probes_answer_any_host(client: httpx.AsyncClient, path: str) -> None:
    # An orchestrator calls the pod's address, never the public name.
    response = await client.get(path, headers={"Host": "10.42.0.17:8000"})

    assert response.status_code == 200


async def test_the_default_answers_loopback_names_only(settings: Settings) -> None:
    default = Settings(database_url=settings.database_url, upload_dir=settings.upload_dir)
    async with client_for(default) as client:
        local = await client.get("/v1/offers", headers={"Host": "localhost:8000"})
        loopback = await client.get("/v1/offers", headers={"Host": "127.0.0.1:8000"})
        named = await client.get("/v1/offers", headers={"Host": "emplois.example.org"})

    assert local.status_code == loopback.status_code == 200
    assert named.status_code == 421


async def test_the_public_base_urls_host_is_answered(settings: Settings) -> None:
    public = settings.model_copy(update={"allowed_hosts": [], "public_base_url": PUBLIC})
    public = Settings.model_validate(public.model_dump())
    async with client_for(public) as client:
        ours = await client.get("/v1/offers", headers={"Host": "emplois.example.org"})
        other = await client.get("/v1/offers", headers={"Host": "testserver"})

    assert ours.status_code == 200
    assert other.status_code == 421


def test_any_host_needs_a_public_base_url() -> None:
    with pytest.raises(ValidationError, match="public_base_url"):
        Settings(allowed_hosts=["*"])
    with pytest.raises(ValidationError, match="allowed_hosts"):
        Settings(allowed_hosts=["emplois.*.org"])

    assert Settings(allowed_hosts=["*"], public_base_url=PUBLIC).allowed_hosts == ["*"]


# With a public base URL: an allowed host that is not the public one never shows.


@pytest.fixture
async def public_client(
    settings: Settings, organisation: Organisation
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings.model_copy(update={"public_base_url": PUBLIC})) as client:
        yield client


def _urls(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>;,]+", text))


def _assert_public_only(response: httpx.Response) -> None:
    urls = _urls(_links(response))
    assert urls, "no link in the answer"
    ours = {url for url in urls if "/v1/" in url}
    assert ours, urls
    assert all(url.startswith(PUBLIC + "/v1/") for url in ours), ours


@pytest.mark.parametrize("what", LINKED)
async def test_the_public_base_alone_is_used_in_links(
    public_client: httpx.AsyncClient, what: str
) -> None:
    path, headers = LINKED[what]
    path = path.format(id=await _offer_id(public_client))

    response = await public_client.get(path, headers={**headers, "Host": "localhost:8000"})

    assert response.status_code in {200, 307}
    _assert_public_only(response)


async def test_atom_feed_links_use_the_public_base(public_client: httpx.AsyncClient) -> None:
    response = await public_client.get("/v1/feeds/offers.atom")

    _assert_public_only(response)
    assert f"{PUBLIC}/v1/feeds/offers.atom" in response.text


async def test_a_redirect_keeps_the_query(public_client: httpx.AsyncClient) -> None:
    response = await public_client.get("/v1/offers/?limit=1")

    assert response.status_code == 307
    assert response.headers["location"] == f"{PUBLIC}/v1/offers?limit=1"


async def test_location_of_a_created_offer_uses_the_public_base(
    public_client: httpx.AsyncClient, session: AsyncSession, organisation: Organisation
) -> None:
    key = await make_key(session, "recruiter", organisation)

    created = await public_client.post("/v1/offers", json=offer_body(), headers=bearer(key))

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{PUBLIC}/v1/offers/{created.json()['id']}"


async def test_location_of_a_created_organisation_uses_the_public_base(
    public_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_key(session, "admin")
    body = {
        "slug": "la-cantine",
        "name": "La Cantine",
        "kind": "association",
        "city": "Nantes",
        "postcode": "44000",
        "departement": "44",
    }

    created = await public_client.post("/v1/organisations", json=body, headers=bearer(admin))

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{PUBLIC}/v1/organisations/la-cantine"

"""Lists and feeds refuse a query parameter they do not declare, naming it; every one they
declare (read from the OpenAPI spec, so a new one cannot be forgotten here) is accepted."""

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.strict_query import UNKNOWN
from app.main import create_app
from app.offers.hot import HotReads
from tests.applications.conftest import candidate_token
from tests.factories import bearer, make_key, make_offer, make_organisation

# The lists the issue names; the spec may add more, never fewer.
KNOWN_LISTS = {
    "/v1/offers",
    "/v1/offers/changes",
    "/v1/organisations",
    "/v1/applications",
    "/v1/me/applications",
    *(f"/v1/feeds/offers.{kind}" for kind in ("rss", "atom", "xml", "jsonld")),
}


def _spec(app: Any) -> dict[str, Any]:
    spec: dict[str, Any] = app.openapi()
    return spec


def _query_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [param for param in operation.get("parameters", []) if param["in"] == "query"]


def _lists(spec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every GET that pages (it declares `limit`) or is a feed, with its query parameters."""
    found = {}
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        params = _query_parameters(operations["get"])
        if path.startswith("/v1/feeds/") or any(param["name"] == "limit" for param in params):
            found[path] = params
    return found


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        schema = next(option for option in schema["anyOf"] if option.get("type") != "null")
        return _resolve(spec, schema)
    return schema


def _values(spec: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Valid values for a parameter, from its schema: two for a repeatable one, so that
    the name is sent twice."""
    if "examples" in schema:
        return [str(schema["examples"][0])]
    schema = _resolve(spec, schema)
    if schema.get("type") == "array":
        return _values(spec, schema["items"])[:1] * 2
    if "enum" in schema:
        return [str(schema["enum"][0])]
    if schema.get("type") == "integer":
        return [str(max(schema.get("minimum", 1), 1))]
    if schema.get("type") == "boolean":
        return ["true"]
    if schema.get("format") == "uuid":
        return [str(uuid.uuid4())]
    pattern = schema.get("pattern")
    for candidate in ("2026-01-01", "x"):
        if pattern is None or re.search(pattern, candidate):
            return [candidate]
    raise AssertionError(f"no value for {schema}")


@pytest.fixture
async def credentials(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, str]:
    """Per path, what lets the list answer 200; public lists need none."""
    organisation = await make_organisation(session)
    await make_offer(session, organisation)
    recruiter = await make_key(session, "recruiter", organisation)
    candidate = await candidate_token(client, "camille.dupont@example.org")
    partner = await make_key(session, "partner")
    return {
        "/v1/applications": recruiter,
        "/v1/me/applications": candidate,
        "/v1/webhooks": partner,
        "/v1/webhooks/{subscription_id}/deliveries": partner,
    }


@pytest.fixture
async def in_path(client: httpx.AsyncClient, credentials: dict[str, str]) -> dict[str, str]:
    """Values of the lists' path parameters: a webhook of the partner's."""
    created = await client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.partner.invalid/", "events": ["offer.closed"]},
        headers=bearer(credentials["/v1/webhooks"]),
    )
    assert created.status_code == 201, created.text
    return {"subscription_id": created.json()["id"]}


def _url(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda name: values[name.group(1)], path)


def _unknown(response: httpx.Response) -> list[str]:
    if response.status_code != 422:
        return []
    errors = response.json().get("errors", [])
    return [error["field"] for error in errors if error["message"] == UNKNOWN]


async def test_the_lists_are_found(app: Any) -> None:
    assert set(_lists(_spec(app))) >= KNOWN_LISTS


async def test_a_misspelt_filter_is_refused_by_name(
    app: Any, client: httpx.AsyncClient, credentials: dict[str, str], in_path: dict[str, str]
) -> None:
    for path in _lists(_spec(app)):
        headers = bearer(credentials[path]) if path in credentials else {}
        url = _url(path, in_path)
        response = await client.get(url, params={"department": "75"}, headers=headers)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json", path
        problem = response.json()
        assert problem["type"] == "urn:vocation:problem:validation", path
        assert "department" in problem["detail"], path
        assert problem["errors"] == [{"field": "department", "message": UNKNOWN}], path


async def test_every_unknown_name_is_named_once_next_to_known_ones(
    app: Any, client: httpx.AsyncClient, credentials: dict[str, str], in_path: dict[str, str]
) -> None:
    query = [("limit", "5"), ("department", "75"), ("department", "44"), ("Limit", "2")]
    for path in _lists(_spec(app)):
        headers = bearer(credentials[path]) if path in credentials else {}
        response = await client.get(_url(path, in_path), params=query, headers=headers)
        # Names are case-sensitive, as FastAPI reads them: `Limit` is not `limit`.
        assert _unknown(response) == ["department", "Limit"], path


async def test_even_a_credentialless_request_learns_of_its_typo(
    app: Any, client: httpx.AsyncClient
) -> None:
    """The declared names are public (the spec): naming an unknown one leaks nothing."""
    response = await client.get("/v1/applications", params={"statut": "received"})
    assert _unknown(response) == ["statut"]


async def test_every_declared_parameter_is_accepted(
    app: Any, client: httpx.AsyncClient, credentials: dict[str, str], in_path: dict[str, str]
) -> None:
    spec = _spec(app)
    for path, params in _lists(spec).items():
        headers = bearer(credentials[path]) if path in credentials else {}
        # A cursor is valid only with the query that issued it: it is checked alone.
        query = [
            (param["name"], value)
            for param in params
            if param["name"] != "cursor"
            for value in _values(spec, param["schema"])
        ]
        url = _url(path, in_path)
        response = await client.get(url, params=query, headers=headers)
        assert response.status_code == 200, (path, query, response.text)
        for param in params:
            for value in _values(spec, param["schema"]):
                alone = await client.get(url, params={param["name"]: value}, headers=headers)
                assert _unknown(alone) == [], (path, param["name"])
                assert alone.status_code in (200, 422), (path, param["name"])


async def test_the_fast_path_refuses_as_the_route_does(
    settings: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[bool] = []
    original = HotReads._list

    async def spy(self: HotReads, *args: Any) -> Any:
        response = await original(self, *args)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(HotReads, "_list", spy)
    routes_only = create_app(settings)
    routes_only.user_middleware = [
        middleware for middleware in routes_only.user_middleware if middleware.cls is not HotReads
    ]
    queries = ["department=75", "department=75&limit=2", "facets=remote&departement=44&x=1"]
    try:
        transport = httpx.ASGITransport(app=routes_only)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as routed:
            for query in queries:
                lane = await client.get(f"/v1/offers?{query}")
                route = await routed.get(f"/v1/offers?{query}")
                assert lane.status_code == route.status_code == 422, query
                assert lane.headers == route.headers, query
                assert lane.content == route.content, query
    finally:
        await routes_only.state.database.dispose()
    # The fast path answered the typos itself, facets or not: no name it reads is left over.
    assert answered == [True, True, True]

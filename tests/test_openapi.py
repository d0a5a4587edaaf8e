"""The committed spec is the served spec, and every route documents its errors."""

import json
from pathlib import Path
from typing import Any

import httpx

from app.cli import openapi_document

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
PROBLEM = "application/problem+json"
# OAuth2 clients parse RFC 6749's own error JSON from these, not problem+json.
OAUTH_ENDPOINTS = {"/v1/auth/token", "/v1/auth/revoke"}


def test_committed_spec_matches_the_app() -> None:
    assert SPEC.read_text(encoding="utf-8") == openapi_document(), (
        "openapi/openapi.json is out of date: run `vocation openapi` (or `make openapi`)"
    )


async def test_served_spec_is_the_committed_one(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert served == json.loads(SPEC.read_text(encoding="utf-8"))


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_declares_its_errors_as_problems() -> None:
    for path, method, operation in _operations():
        responses = operation["responses"]
        has_input = bool(operation.get("parameters") or operation.get("requestBody"))
        if has_input:
            assert "422" in responses, (method, path)
        if operation.get("security"):
            assert "401" in responses, (method, path)
        if method in {"post", "patch", "put", "delete"} and operation.get("security"):
            assert {"401", "403"} <= responses.keys(), (method, path)
        if method in {"post", "patch", "put"}:
            assert "413" in responses, (method, path)
        for status, response in responses.items():
            if status == "400" and path in OAUTH_ENDPOINTS:
                assert list(response["content"]) == ["application/json"], (method, path)
            elif status.startswith(("4", "5")) and path != "/readyz":
                assert list(response["content"]) == [PROBLEM], (method, path, status)


def test_the_problem_schema_is_defined() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= problem["properties"].keys()
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself: through a $ref, into an array's items, past `anyOf [x, null]`."""
    if "$ref" in schema:
        return _resolve(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if schema.get("type") == "array":
        return _resolve(spec, schema["items"])
    alternatives = [part for part in schema.get("anyOf", []) if part.get("type") != "null"]
    if len(alternatives) == 1:
        return _resolve(spec, alternatives[0])
    return schema


def test_search_and_feeds_document_every_parameter_and_its_values() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    enumerated = {
        "contract_type",
        "departement",
        "region",
        "organisation_kind",
        "remote",
        "versant",
        "categorie",
        "sort",
    }
    routes = ["/v1/offers"] + [
        f"/v1/feeds/offers.{kind}" for kind in ("rss", "atom", "xml", "jsonld")
    ]
    for path in routes:
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        for name, parameter in parameters.items():
            assert parameter.get("description"), (path, name)
        for name in enumerated & parameters.keys():
            assert _resolve(spec, parameters[name]["schema"]).get("enum"), (path, name)
    listing = {p["name"]: p for p in spec["paths"]["/v1/offers"]["get"]["parameters"]}
    assert {"q", "salary_min", "published_since", "deadline_after", "facets", "sort"} <= (
        listing.keys()
    )
    facet_names = ["contract_type", "departement", "remote", "organisation_kind"]
    pattern = _resolve(spec, listing["facets"]["schema"])["pattern"]
    assert all(name in pattern for name in facet_names)


def test_facets_shape_and_feed_media_types_are_documented() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    page = spec["paths"]["/v1/offers"]["get"]["responses"]["200"]["content"]["application/json"]
    page_schema = _resolve(spec, page["schema"])
    facets = _resolve(spec, page_schema["properties"]["facets"])
    contract_types = _resolve(spec, facets["properties"]["contract_type"])
    assert contract_types["additionalProperties"] == {"type": "integer"}
    assert _resolve(spec, contract_types["propertyNames"])["enum"]
    for kind, media_type in {
        "rss": "application/rss+xml",
        "atom": "application/atom+xml",
        "xml": "application/xml",
        "jsonld": "application/ld+json",
    }.items():
        content = spec["paths"][f"/v1/feeds/offers.{kind}"]["get"]["responses"]["200"]["content"]
        assert list(content) == [media_type], kind
    detail = spec["paths"]["/v1/offers/{offer_id}"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "application/ld+json"} <= detail.keys()

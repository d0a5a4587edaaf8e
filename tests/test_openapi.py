"""The committed spec is the served spec, and every route documents its errors."""

import json
import re
from pathlib import Path
from typing import Any

import httpx

from app.cli import openapi_document

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
PROBLEM = "application/problem+json"
HTML = "text/html"
CONDITIONS = {"If-None-Match", "If-Modified-Since", "If-Match"}
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
    return _operations_of(json.loads(SPEC.read_text(encoding="utf-8")))


def _operations_of(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_declares_its_errors_as_problems() -> None:
    for path, method, operation in _operations():
        responses = operation["responses"]
        # Conditional headers are compared, never validated: they need no 422.
        parameters = [p for p in operation.get("parameters", []) if p["name"] not in CONDITIONS]
        has_input = bool(parameters or operation.get("requestBody"))
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
            elif status.startswith(("4", "5")) and _is_page(operation):
                # An e-mailed link's page, and the form it posts: a person gets a page.
                assert set(response["content"]) <= {PROBLEM, HTML}, (method, path, status)
            elif status.startswith(("4", "5")) and path != "/readyz":
                assert list(response["content"]) == [PROBLEM], (method, path, status)


def _is_page(operation: dict[str, Any]) -> bool:
    return HTML in operation["responses"].get("200", {}).get("content", {})


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
        parameters = {name: p for name, p in parameters.items() if name not in CONDITIONS}
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


def test_every_operation_has_a_hand_written_camel_case_id() -> None:
    # Generated clients name their methods after these ids: FastAPI's defaults
    # (`list_offers_v1_offers_get`) would make every client repeat path and method.
    ids = [operation.get("operationId") for _path, _method, operation in _operations()]
    assert all(ids), "an operation has no operationId"
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for path, method, operation in _operations():
        operation_id = operation["operationId"]
        assert re.fullmatch(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*", operation_id), operation_id
        assert not operation_id.lower().endswith(f"_{method}"), (method, path, operation_id)
    assert {"listOffers", "getOffer", "applyToOffer", "createCandidate"} <= set(ids)


def _multipart_properties(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path, method, operation in _operations_of(spec):
        content = operation.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:
            body = _resolve(spec, content["multipart/form-data"]["schema"])
            for name, schema in body["properties"].items():
                found[(f"{method} {path}", name)] = schema
    return found


async def test_uploaded_files_are_binary_strings(client: httpx.AsyncClient) -> None:
    # Generators tell a file from a text by `format: binary`; without it they send text.
    spec = (await client.get("/openapi.json")).json()
    parts = _multipart_properties(spec)
    files = {key: schema for key, schema in parts.items() if key[1] in {"cv", "cover_letter"}}
    assert len(files) == 2
    for key, schema in parts.items():
        alternatives = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
        is_file = key in files or any("contentMediaType" in s for s in alternatives)
        if is_file:
            assert len(alternatives) == 1, key
            assert alternatives[0]["type"] == "string", key
            assert alternatives[0]["format"] == "binary", key


def _spec() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text(encoding="utf-8")))


def _header_names(spec: dict[str, Any], response: dict[str, Any]) -> set[str]:
    return set(response.get("headers", {}))


def _parameter_names(spec: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    return {parameter["name"] for parameter in operation.get("parameters", [])}


def test_headers_the_app_sends_are_declared() -> None:
    spec = _spec()
    paths = spec["paths"]
    for path, method, operation in _operations_of(spec):
        responses = operation["responses"]
        for status in ("429", "503"):
            if status in responses:
                assert "Retry-After" in _header_names(spec, responses[status]), (path, status)
        if "304" in responses:
            assert "ETag" in _header_names(spec, responses["200"]), (method, path)
            assert "If-None-Match" in _parameter_names(spec, operation), (method, path)
        if "412" in responses:
            assert "If-Match" in _parameter_names(spec, operation), (method, path)
    for path in ("/v1/offers", "/v1/organisations", "/v1/applications"):
        assert "Link" in _header_names(spec, paths[path]["get"]["responses"]["200"]), path
    detail = paths["/v1/offers/{offer_id}"]
    assert {"ETag", "Last-Modified"} <= _header_names(spec, detail["get"]["responses"]["200"])
    assert "If-Modified-Since" in _parameter_names(spec, detail["get"])
    for method in ("patch", "delete"):
        assert "If-Match" in _parameter_names(spec, detail[method]), method
    put = paths["/v1/organisations/{id_or_slug}/offers/{reference}"]["put"]
    assert "If-Match" in _parameter_names(spec, put)
    assert "ETag" in _header_names(spec, paths["/v1/offers"]["post"]["responses"]["201"])


def test_security_schemes_and_public_routes() -> None:
    spec = _spec()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == schemes["HTTPBearer"] | {"type": "http", "scheme": "bearer"}
    password = schemes["CandidateSignIn"]["flows"]["password"]
    assert password["tokenUrl"] == password["refreshUrl"] == "/v1/auth/token"
    assert "/v1/auth/token" in spec["paths"]
    for path, method, operation in _operations_of(spec):
        assert "security" in operation, (method, path)
    paths = spec["paths"]
    assert paths["/v1/offers"]["get"]["security"] == []
    assert {"CandidateSignIn": []} in paths["/v1/me"]["get"]["security"]
    assert {"CandidateSignIn": []} in paths["/v1/offers/{offer_id}/applications"]["post"][
        "security"
    ]
    assert {"CandidateSignIn": []} not in paths["/v1/offers"]["post"]["security"]


def test_info_servers_and_tags() -> None:
    spec = _spec()
    assert spec["info"]["license"]["identifier"] == "MIT"
    assert spec["info"]["contact"]["name"]
    assert spec["servers"]
    described = {tag["name"] for tag in spec["tags"] if tag.get("description")}
    used = {tag for _p, _m, operation in _operations_of(spec) for tag in operation["tags"]}
    assert used <= described
    assert "<script" not in SPEC.read_text(encoding="utf-8").lower()


def test_enum_members_have_names_valid_in_python_and_typescript() -> None:
    spec = _spec()
    categorie = spec["components"]["schemas"]["Categorie"]
    assert categorie["enum"] == ["A+", "A", "B", "C"]  # the wire values do not change
    assert categorie["x-enum-varnames"] == ["A_PLUS", "A", "B", "C"]

    def enums(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list) and all(isinstance(v, str) for v in node["enum"]):
                yield node
            for value in node.values():
                yield from enums(value)
        elif isinstance(node, list):
            for value in node:
                yield from enums(value)

    found = list(enums(spec))
    assert found
    for schema in found:
        names = schema["x-enum-varnames"]
        assert len(names) == len(schema["enum"]) == len(set(names)), schema
        assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) for name in names), names

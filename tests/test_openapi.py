"""The committed spec is the served spec, and every route documents its errors."""

import json
from pathlib import Path
from typing import Any

import httpx

from app.cli import openapi_document

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
PROBLEM = "application/problem+json"


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
            if status.startswith(("4", "5")) and path != "/readyz":
                assert list(response["content"]) == [PROBLEM], (method, path, status)


def test_the_problem_schema_is_defined() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= problem["properties"].keys()
    assert "HTTPValidationError" not in spec["components"]["schemas"]

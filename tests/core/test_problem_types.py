"""Issue 15, operator item 7: every problem the API answers has a `type` of ours, a URN,
never `about:blank`, whichever part of the stack answered it."""

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import AppError, Problem, problem_type
from app.main import create_app
from tests.applications.confirming import apply_confirmed, confirm
from tests.applications.files import pdf
from tests.factories import bearer, make_key, make_offer, make_organisation

PREFIX = "urn:vocation:problem:"
SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@dataclass
class Setting:
    client: httpx.AsyncClient
    settings: Settings
    offer_id: uuid.UUID
    recruiter: str
    partner: str


@pytest.fixture
async def setting(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> Setting:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation)
    return Setting(
        client=client,
        settings=settings,
        offer_id=offer.id,
        recruiter=await make_key(session, "recruiter", organisation),
        partner=await make_key(session, "partner"),
    )


def application(cv: bytes = b"", email: str = "camille@example.org") -> dict[str, Any]:
    return {
        "data": {"first_name": "Camille", "last_name": "Durand", "email": email, "consent": "true"},
        "files": {"cv": ("cv.pdf", cv or pdf(), "application/pdf")},
    }


async def apply(client: httpx.AsyncClient, offer_id: uuid.UUID, **kwargs: Any) -> httpx.Response:
    return await client.post(f"/v1/offers/{offer_id}/applications", **application(**kwargs))


async def own_app(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    application_ = create_app(settings.model_copy(update=changes))
    transport = httpx.ASGITransport(app=application_, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = application_  # type: ignore[attr-defined]
            yield http
    finally:
        await application_.state.database.dispose()


async def unauthorized(s: Setting) -> httpx.Response:
    return await s.client.get("/v1/applications")


async def forbidden(s: Setting) -> httpx.Response:
    return await s.client.get("/v1/applications", headers=bearer(s.partner))


async def missing_resource(s: Setting) -> httpx.Response:
    return await s.client.get(f"/v1/offers/{uuid.uuid4()}")


async def missing_route(s: Setting) -> httpx.Response:
    return await s.client.get("/v1/nowhere")


async def method_not_allowed(s: Setting) -> httpx.Response:
    return await s.client.put("/v1/offers", json={})


async def conflict(s: Setting) -> httpx.Response:
    # One address applies once: its second application's confirmation is the conflict.
    address = "camille@example.org"
    await apply_confirmed(s.client, s.offer_id, email=address)
    return await confirm(s.client, await apply(s.client, s.offer_id, email=address))


async def precondition_failed(s: Setting) -> httpx.Response:
    return await s.client.patch(
        f"/v1/offers/{s.offer_id}",
        json={"title": "Un autre titre"},
        headers={**bearer(s.recruiter), "If-Match": '"stale"'},
    )


async def too_large(s: Setting) -> httpx.Response:
    body = b'{"title": "' + b"x" * (s.settings.max_body_bytes + 1) + b'"}'
    return await s.client.post(
        "/v1/offers",
        content=body,
        headers={**bearer(s.recruiter), "Content-Type": "application/json"},
    )


async def unsupported_type(s: Setting) -> httpx.Response:
    return await apply(s.client, s.offer_id, cv=b"GIF89a" + bytes(64))


async def invalid_query(s: Setting) -> httpx.Response:
    return await s.client.get("/v1/offers?limit=100000")


async def invalid_body(s: Setting) -> httpx.Response:
    return await s.client.post(
        "/v1/offers",
        content=b"{not json",
        headers={**bearer(s.recruiter), "Content-Type": "application/json"},
    )


async def rate_limited(s: Setting) -> httpx.Response:
    async for client in own_app(s.settings, rate_limit_default="1/minute"):
        await client.get("/v1/offers")
        return await client.get("/v1/offers")
    raise AssertionError("unreachable")


async def internal_error(s: Setting) -> httpx.Response:
    async for client in own_app(s.settings):

        async def broken() -> None:
            raise RuntimeError("a bug")

        client.app.add_api_route("/v1/broken", broken, operation_id="broken")  # type: ignore[attr-defined]
        return await client.get("/v1/broken")
    raise AssertionError("unreachable")


async def storage_unavailable(s: Setting) -> httpx.Response:
    # The upload folder cannot be made: a file stands where its parent should be.
    blocker = s.settings.upload_dir.parent / "not-a-folder"
    blocker.write_bytes(b"")
    async for client in own_app(s.settings, upload_dir=blocker / "uploads"):
        return await apply(client, s.offer_id, email="other@example.org")
    raise AssertionError("unreachable")


PROVOKED: dict[str, tuple[int, Callable[[Setting], Awaitable[httpx.Response]]]] = {
    "unauthorized": (401, unauthorized),
    "forbidden": (403, forbidden),
    "not-found": (404, missing_resource),
    "not-found-route": (404, missing_route),
    "method-not-allowed": (405, method_not_allowed),
    "conflict": (409, conflict),
    "precondition-failed": (412, precondition_failed),
    "payload-too-large": (413, too_large),
    "unsupported-media-type": (415, unsupported_type),
    "validation-query": (422, invalid_query),
    "validation-body": (422, invalid_body),
    "rate-limited": (429, rate_limited),
    "internal": (500, internal_error),
    "unavailable": (503, storage_unavailable),
}


@pytest.mark.parametrize("kind", list(PROVOKED))
async def test_every_problem_has_our_urn(setting: Setting, kind: str) -> None:
    status, provoke = PROVOKED[kind]
    response = await provoke(setting)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] != "about:blank"
    assert problem["type"].startswith(PREFIX)
    assert problem["type"] == problem_type(status)
    assert problem["status"] == status


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "bad-request"),
        (421, "misdirected-request"),
        (431, "request-header-fields-too-large"),
        (503, "unavailable"),
    ],
)
def test_a_problem_made_without_a_type_gets_the_urn_of_its_status(
    status: int, expected: str
) -> None:
    """What another part of the code gets when it answers a status no route answered yet."""
    assert Problem(title="t", status=status).type == PREFIX + expected

    class NewError(AppError):
        pass

    NewError.status = status
    assert NewError().problem().type == PREFIX + expected


def test_a_problem_cannot_be_about_blank() -> None:
    with pytest.raises(ValueError, match="pattern"):
        Problem(type="about:blank", title="Not Found", status=404)


def test_the_spec_never_says_about_blank(app: Any) -> None:
    for spec in (app.openapi(), json.loads(SPEC.read_text())):
        assert "about:blank" not in json.dumps(spec)
        problem = spec["components"]["schemas"]["Problem"]
        assert "type" in problem["required"]
        assert problem["properties"]["type"]["pattern"].startswith("^" + PREFIX)
        assert problem["example"]["type"].startswith(PREFIX)

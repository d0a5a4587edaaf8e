"""The whole flow on the S3 backend: apply, download, erase, against moto's real server."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.core.config import Settings
from app.main import create_app
from tests.applications.conftest import World, apply, candidate_token, letter
from tests.applications.files import pdf
from tests.factories import bearer
from tests.s3 import BUCKET, REGION, s3_client


@pytest.fixture
async def s3_app(settings: Settings, s3_endpoint: str) -> AsyncIterator[tuple[Any, str]]:
    prefix = f"flow/{uuid.uuid4().hex}"
    s3_settings = settings.model_copy(
        update={
            "storage_url": f"s3://{BUCKET}/{prefix}",
            "s3_endpoint_url": s3_endpoint,
            "s3_access_key_id": "testing",
            "s3_secret_access_key": SecretStr("testing"),
            "s3_region": REGION,
        }
    )
    application = create_app(s3_settings)
    yield application, prefix
    await application.state.database.dispose()


def _objects(endpoint: str, prefix: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return [item["Key"] for item in listing.get("Contents", [])]


async def test_apply_download_and_erase_on_s3(
    s3_app: tuple[Any, str], world: World, s3_endpoint: str
) -> None:
    app, prefix = s3_app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = await candidate_token(client, "camille.durand@example.org")
        cv = pdf(300_000)
        created = await apply(
            client,
            world.offer.id,
            cv=("cv.pdf", cv, "application/pdf"),
            cover_letter=letter(),
            headers=bearer(token),
        )
        assert created.status_code == 201, created.text
        assert len(_objects(s3_endpoint, prefix)) == 2

        url = f"/v1/applications/{created.json()['id']}"
        detail = (await client.get(url, headers=bearer(world.recruiter))).json()
        cv_id = next(d["id"] for d in detail["documents"] if d["kind"] == "cv")
        download = await client.get(f"{url}/documents/{cv_id}", headers=bearer(world.recruiter))
        assert download.content == cv

        assert (await client.delete("/v1/me", headers=bearer(token))).status_code == 204
        assert _objects(s3_endpoint, prefix) == []

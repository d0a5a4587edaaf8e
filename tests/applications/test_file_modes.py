"""Uploaded documents are readable by the service's own user only: every folder the
local storage creates is 0700 and every document 0600."""

import stat
from pathlib import Path

import httpx

from app.core.config import Settings
from app.main import create_app
from tests.applications.conftest import World, apply, letter


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


async def test_the_uploads_folder_and_documents_are_private(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    # Two levels that do not exist yet: the storage creates both.
    top = tmp_path / "donnees"
    app = create_app(settings.model_copy(update={"upload_dir": top / "televersements"}))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            created = await apply(client, world.offer.id, cover_letter=letter())
            assert created.status_code == 202, created.text
    finally:
        await app.state.database.dispose()
    paths = [top, *top.rglob("*")]
    files = [path for path in paths if path.is_file()]
    assert len(files) == 2
    assert {path: _mode(path) for path in paths} == {
        path: 0o600 if path in files else 0o700 for path in paths
    }

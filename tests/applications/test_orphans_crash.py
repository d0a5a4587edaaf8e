"""The server is killed (SIGKILL) while applications upload their files: what it stored
for them has no row, so neither erasure nor retention can reach it. Once older than the
grace period, `vocation purge` and the next start-up delete it, on both storage backends,
and leave every recorded document as it was."""

import asyncio
import re
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.applications.confirming import CONFIRM, confirmation_token
from tests.applications.conftest import World, apply
from tests.applications.crash import (
    Backend,
    digests,
    recorded_documents,
    run_cli,
    server_env,
    start_server,
    stop,
)
from tests.applications.files import pdf
from tests.factories import bearer
from tests.mail import SmtpServer

IN_FLIGHT = 8
LETTER_BYTES = 8_000_000


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, upload_dir: Path) -> Backend:
    if request.param == "local":
        return Backend("local", upload_dir)
    endpoint = request.getfixturevalue("s3_endpoint")
    return Backend("s3", upload_dir, endpoint, f"crash/{uuid.uuid4().hex}")


async def _crash_during_uploads(
    database_url: str, backend: Backend, world: World, session: AsyncSession, smtp: SmtpServer
) -> tuple[list[str], dict[str, bytes]]:
    """Two applications go through (applied, then confirmed by their e-mailed link), then
    the server is killed while others upload. Returns the ids of the two, and what storage
    holds after the crash."""
    process, base_url = await start_server(server_env(database_url, backend, smtp_url=smtp.url))
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            kept = []
            for number in range(2):
                created = await apply(
                    client,
                    world.offer.id,
                    cv=("cv.pdf", pdf(30_000 + number), "application/pdf"),
                    cover_letter=("lettre.pdf", pdf(200_000 + number), "application/pdf"),
                    email=f"gardee-{number}@example.org",
                )
                mails = smtp.wait_for(len(kept) * 2 + 1)
                token = await confirmation_token(session, created.json()["id"], mails)
                confirmed = await client.post(CONFIRM, json={"token": token})
                assert confirmed.status_code == 200, confirmed.text
                kept.append(created.json()["id"])
            uploads = [
                asyncio.create_task(
                    apply(
                        client,
                        world.offer.id,
                        cv=("cv.pdf", pdf(20_000 + number), "application/pdf"),
                        cover_letter=("lettre.pdf", pdf(LETTER_BYTES + number), "application/pdf"),
                        email=f"coupee-{number}@example.org",
                    )
                )
                for number in range(IN_FLIGHT)
            ]
            deadline = time.monotonic() + 60
            while not backend.mid_upload(recorded=4):
                assert time.monotonic() < deadline, "no upload was ever caught half-way"
                await asyncio.sleep(0.002)
            process.send_signal(signal.SIGKILL)
            outcomes = await asyncio.gather(*uploads, return_exceptions=True)
    finally:
        await stop(process)
    # The cut uploads got no answer, so their candidates cannot know they failed.
    assert any(isinstance(outcome, httpx.TransportError) for outcome in outcomes), outcomes
    return kept, backend.objects()


def _orphans_removed(output: str) -> int:
    found = re.search(r"orphaned documents deleted: (\d+)", output)
    assert found, output
    return int(found.group(1))


@pytest.mark.parametrize("remover", ["purge", "restart"])
async def test_what_a_crash_left_without_a_row_is_deleted_after_the_grace_period(
    session: AsyncSession,
    database_url: str,
    world: World,
    backend: Backend,
    remover: str,
    smtp_server: SmtpServer,
) -> None:
    kept, after_crash = await _crash_during_uploads(
        database_url, backend, world, session, smtp_server
    )
    recorded = await recorded_documents(session)
    assert len(recorded) == 4
    # The kept applications' documents are intact, and beside them lie objects no row
    # points to: CVs stored whole, and (locally) the .part files of cut cover letters.
    assert {key: digests(after_crash)[key] for key in recorded} == recorded
    orphans = set(after_crash) - set(recorded)
    assert any(".part-" not in key for key in orphans), sorted(after_crash)
    if backend.name == "local":
        assert any(".part-" in key for key in orphans), sorted(after_crash)

    if remover == "purge":
        # Younger than the default grace: an upload could still be under way.
        code, output = await run_cli(server_env(database_url, backend), "purge")
        assert code == 0, output
        assert _orphans_removed(output) == 0
        assert backend.keys() == after_crash.keys()
        # Two purges at once, as two cron jobs on two machines would.
        env = server_env(database_url, backend, orphan_grace_minutes="0")
        results = await asyncio.gather(run_cli(env, "purge"), run_cli(env, "purge"))
        for code, output in results:
            assert code == 0, output
            assert _orphans_removed(output) <= len(orphans)
        assert sum(_orphans_removed(output) for _, output in results) >= len(orphans)
    else:
        process, _ = await start_server(server_env(database_url, backend))
        await asyncio.sleep(2)  # the start-up sweep runs beside the first requests
        await stop(process)
        assert backend.keys() == after_crash.keys()
        env = server_env(database_url, backend, orphan_grace_minutes="0")
        process, base_url = await start_server(env)
        try:
            deadline = time.monotonic() + 30
            while backend.keys() != recorded.keys():
                assert time.monotonic() < deadline, sorted(backend.keys())
                await asyncio.sleep(0.1)
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                for application_id in kept:
                    url = f"/v1/applications/{application_id}"
                    detail = await client.get(url, headers=bearer(world.recruiter))
                    for document in detail.json()["documents"]:
                        download = await client.get(
                            f"{url}/documents/{document['id']}", headers=bearer(world.recruiter)
                        )
                        assert download.status_code == 200
                        assert document["size"] == len(download.content)
        finally:
            await stop(process)

    assert digests(backend.objects()) == recorded
    assert await recorded_documents(session) == recorded

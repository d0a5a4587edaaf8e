"""`vocation outbox`, as an operator runs it."""

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.outbox.models import OutboxMessage
from app.outbox.queue import enqueue


async def test_the_operator_sees_counts_and_failures_and_sends_them_again(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    async with app.state.database.sessions() as session:
        failed = await enqueue(
            session, channel="email", topic="status_changed", payload={"template": "t"}
        )
        await enqueue(session, channel="webhook", topic="offer.closed", payload={})
        await session.commit()
        row = await session.get(OutboxMessage, failed)
        assert row is not None
        row.status, row.last_error, row.attempts = "failed", "SMTP 550", 11
        await session.commit()

    def run(*arguments: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own command
            [str(Path(sys.executable).with_name("vocation")), "outbox", *arguments],
            env={
                "VOCATION_DATABASE_URL": database_url,
                "VOCATION_HOME": str(tmp_path),
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    shown = await asyncio.to_thread(run)
    assert "email     failed           1" in shown
    assert "webhook   pending          1" in shown
    assert f"failed {failed} status_changed: SMTP 550" in shown
    again = await asyncio.to_thread(run, "--retry-failed")
    assert "failed messages due again: 1" in again
    async with app.state.database.sessions() as session:
        row = await session.get(OutboxMessage, failed)
        assert row is not None
        assert (row.status, row.attempts) == ("pending", 0)

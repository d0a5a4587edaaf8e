"""The outbox under faults, with real server processes: killed with SIGKILL after the
commit and before the message went out; two processes sharing the work, one of them
killed half-way. Nothing is lost, and a message sent twice keeps its Message-ID."""

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import async_url
from app.mail import queue_mail
from tests.databases import engine_name
from tests.live_server import ServerProcess, serve_process
from tests.mail import SmtpServer, start_smtp

LEASE_SECONDS = "2"


def server_env(database_url: str, smtp: SmtpServer, home: Path) -> dict[str, str]:
    return {
        "VOCATION_DATABASE_URL": database_url,
        "VOCATION_HOME": str(home),
        "VOCATION_SMTP_URL": smtp.url,
        "VOCATION_MAIL_FROM": "Vocation <ne-pas-repondre@vocation.test>",
        "VOCATION_OUTBOX_LEASE_SECONDS": LEASE_SECONDS,
        "VOCATION_OUTBOX_POLL_SECONDS": "0.5",
        "VOCATION_SMTP_TIMEOUT_SECONDS": "30",
        "VOCATION_ALLOWED_HOSTS": "127.0.0.1",
    }


def kill(server: ServerProcess) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def message_ids(smtp: SmtpServer) -> Counter[str]:
    return Counter(str(message["Message-ID"]) for message in smtp.messages)


async def queue_messages(database_url: str, count: int) -> set[str]:
    """Messages queued as the service queues them, committed before any server runs."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    engine = create_async_engine(async_url(database_url))
    try:
        async with async_sessionmaker(engine)() as session:
            ids = [
                await queue_mail(
                    session,
                    to=f"personne{n}@example.org",
                    template="_transport_check",
                    context={"name": f"Personne {n}"},
                )
                for n in range(count)
            ]
            await session.commit()
    finally:
        await engine.dispose()
    return {f"<{message_id.hex}@vocation.test>" for message_id in ids}


async def test_two_processes_deliver_500_messages_none_lost_even_one_killed_midway(
    database_url: str, tmp_path: Path
) -> None:
    # SQLite takes one writer at a time: fewer messages prove the same there, faster.
    total = 500 if engine_name() == "postgres" else 150
    expected = await queue_messages(database_url, total)
    smtp, controller = start_smtp()
    env = server_env(database_url, smtp, tmp_path)
    try:
        with (
            serve_process(["serve", "--workers", "1"], env, tmp_path / "a.log") as first,
            serve_process(["serve", "--workers", "1"], env, tmp_path / "b.log") as second,
        ):
            smtp.wait_for(total // 5, timeout=60)
            kill(first)
            smtp.wait_for(total, timeout=120)
            # Anything the killed process had taken comes back after its lease.
            await _settle(smtp)
            assert second.process.poll() is None
    finally:
        controller.stop()
    received = message_ids(smtp)
    assert set(received) == expected
    # Only the messages the killed process was sending may come twice, with one id.
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= 50


async def _settle(smtp: SmtpServer) -> None:
    """Wait until no message has arrived for a while longer than a lease."""
    count = -1
    while count != len(smtp.messages):
        count = len(smtp.messages)
        await asyncio.sleep(float(LEASE_SECONDS) + 1.5)

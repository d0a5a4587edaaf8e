"""`vocation purge` deletes delivery attempts as old as the messages the outbox deletes."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import time_machine

from app.webhooks.retention import purge
from tests.webhooks.conftest import Keys, deliveries, drain, subscribe
from tests.webhooks.receiver import Receiver


async def test_attempts_past_retention_are_deleted(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    start = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        hook = await subscribe(client, keys.partner, receiver.url, ["offer.closed"])
        await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=keys.partner)
        await drain(app)
        clock.shift(timedelta(days=29))
        await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=keys.partner)
        await drain(app)
        clock.shift(timedelta(days=2))
        async with app.state.database.sessions() as session:
            lines = await purge(session, datetime.now(UTC), retention_days=30)
    assert lines == ["webhook delivery attempts deleted: 1"]
    assert len(await deliveries(client, keys.partner, hook["id"])) == 1

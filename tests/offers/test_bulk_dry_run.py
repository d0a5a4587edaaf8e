"""A dry run answers what the real run would: the same status and the same counts, on
the same upload, on both engines."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation
from tests.factories import make_offer
from tests.offers.test_bulk import key, labo, row, stored, upload

__all__ = ["key", "labo"]  # the fixtures of test_bulk: Le Labo de l'ESS and its key

GOOD = [row(1), row(2), row(3)]
ONE_BAD = [row(1), row(2, contract_type="cdx"), row(3)]
COMPARED = ("created", "updated", "unchanged", "closed", "failed", "errors")


@pytest.mark.parametrize(
    ("offers", "params", "status"),
    [
        (GOOD, {"mode": "atomic"}, 200),
        (ONE_BAD, {"mode": "atomic"}, 422),
        (ONE_BAD, {"mode": "partial"}, 200),
        (GOOD, {"mode": "atomic", "sync": True}, 200),
        (ONE_BAD, {"mode": "atomic", "sync": True}, 422),
        (ONE_BAD, {"mode": "partial", "sync": True}, 200),
    ],
    ids=["good", "atomic-bad", "partial-bad", "sync-good", "sync-atomic-bad", "sync-partial-bad"],
)
async def test_a_dry_run_answers_what_the_real_run_does(
    client: httpx.AsyncClient,
    session: AsyncSession,
    labo: Organisation,
    key: str,
    offers: list[dict[str, Any]],
    params: dict[str, Any],
    status: int,
) -> None:
    # One offer the upload updates, one it leaves alone (sync closes it).
    await make_offer(session, labo, reference="LABO-0001", title="Ancienne", status="published")
    await make_offer(session, labo, reference="LABO-0099", status="published")
    before = await stored(session, labo)

    dry = await upload(client, key, offers, dry_run=True, **params)
    assert await stored(session, labo) == before
    real = await upload(client, key, offers, **params)

    assert (dry.status_code, real.status_code) == (status, status)
    assert dry.headers["content-type"] == real.headers["content-type"]
    dry_report, real_report = dry.json(), real.json()
    assert {name: dry_report[name] for name in COMPARED} == {
        name: real_report[name] for name in COMPARED
    }
    assert (dry_report["dry_run"], dry_report["written"]) == (True, False)
    if status == 422:
        assert dry_report["created"] == dry_report["updated"] == dry_report["closed"] == 0
        assert "would" in dry_report["detail"]
        assert await stored(session, labo) == before
    else:
        assert real_report["created"] == (2 if offers is GOOD else 1)

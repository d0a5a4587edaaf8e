"""Bulk upload and PUT: what a broken file, an empty export or a crossing writer must not
do to a recruiter's offers (found in review), on both engines."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.changes import OfferChange
from app.offers.models import Offer
from app.organisations.models import Organisation
from tests.databases import engine_name
from tests.factories import bearer, make_offer
from tests.offers import test_bulk
from tests.offers.test_bulk import row, stored, upload

# The bulk tests' organisation (the seeds' Labo de l'ESS) and its recruiter key.
labo, key = test_bulk.labo, test_bulk.key

CSV = "text/csv"
NDJSON = "application/x-ndjson"
HEADER = "reference;title;description;contract_type;duration_months\n"


def csv_line(number: int, description: str = "Animer le réseau.") -> str:
    return f"R-{number:04d};Chargé·e de mission {number};{description};cdd;12\n"


async def published(session: AsyncSession, labo: Organisation, *numbers: int) -> None:
    for number in numbers:
        await make_offer(session, labo, reference=f"R-{number:04d}", status="published")


async def statuses(session: AsyncSession, labo: Organisation) -> dict[str, str]:
    offers = await stored(session, labo)
    return {reference: status for reference, (status, _, _) in offers.items()}


# Reading a CSV ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["atomic", "partial"])
async def test_a_csv_that_is_not_utf8_is_refused_whole_naming_its_first_such_row(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str, mode: str
) -> None:
    # A Windows-1252 export with an ASCII header: its first accent is past the decoder's
    # first 8 KiB block, and rows without accents must not be written alone.
    lines = [csv_line(number) for number in range(1, 201)]
    lines[149] = csv_line(150, "Café")
    body = (HEADER + "".join(lines)).encode().replace("Café".encode(), "Café".encode("cp1252"))

    response = await upload(client, key, body, CSV, mode=mode)

    assert response.status_code == 422
    assert response.json()["detail"] == "The CSV is not UTF-8 (row 150): save it as « CSV UTF-8 »."
    assert await stored(session, labo) == {}


async def test_a_csv_cell_longer_than_csv_s_default_limit_is_read_whole(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    lines = [csv_line(number) for number in range(1, 11)]
    lines[2] = csv_line(3, "x" * 140_000)  # the stdlib's limit is 131,072

    response = await upload(client, key, (HEADER + "".join(lines)).encode(), CSV, mode="partial")

    report = response.json()
    assert (report["created"], report["failed"]) == (9, 1)
    assert [(error["row"], error["field"]) for error in report["errors"]] == [(3, "description")]


async def test_a_quote_left_open_refuses_the_csv_and_sync_closes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    await published(session, labo, 1, 2, 3)
    body = (HEADER + csv_line(1).replace("Animer", '"Animer') + csv_line(2) + csv_line(3)).encode()

    response = await upload(client, key, body, CSV, sync=True, mode="partial")

    assert response.status_code == 422
    assert "Row 1 is not CSV" in response.json()["detail"]
    unchanged = dict.fromkeys(("R-0001", "R-0002", "R-0003"), "published")
    assert await statuses(session, labo) == unchanged


async def test_a_body_declared_in_a_charset_other_than_utf8_is_refused_at_once(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    body = (HEADER + csv_line(1)).encode("cp1252")

    latin = await upload(client, key, body, "text/csv; charset=windows-1252")
    utf8 = await upload(client, key, (HEADER + csv_line(1)).encode(), 'text/csv; charset="UTF-8"')
    ascii_ = await upload(
        client, key, (HEADER + csv_line(2)).encode(), "text/csv; charset=us-ascii"
    )

    assert latin.status_code == 415
    assert "must be UTF-8, not windows-1252" in latin.json()["detail"]
    assert utf8.status_code == 200, utf8.text
    assert ascii_.status_code == 200, ascii_.text


async def test_yes_and_no_words_and_french_dates_are_read_only_in_their_columns(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    body = (
        "référence;intitulé;description;contrat;versant;catégorie;open_to_contractuels;"
        "salary_text;date limite\n"
        "R-0001;Juriste;Non;cdd;fpe;A;oui;Non;31/12/2026\n"
        "R-0002;Comptable;Oui;cdd;fpe;B;non;Oui;31/02/2027\n"
    ).encode()

    response = await upload(client, key, body, CSV, mode="partial")

    report = response.json()
    assert report["created"] == 1
    assert [(error["row"], error["field"]) for error in report["errors"]] == [(2, "deadline")]
    offer = (await session.execute(select(Offer).where(Offer.reference == "R-0001"))).scalar_one()
    assert (offer.description, offer.salary_text) == ("Non", "Non")
    assert offer.open_to_contractuels is True
    assert offer.deadline is not None
    assert offer.deadline.isoformat() == "2026-12-31"


# sync=true ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "media_type"),
    [(b"", NDJSON), (b"\n\n", NDJSON), (b"[]", "application/json"), (HEADER.encode(), CSV)],
)
async def test_sync_with_an_upload_holding_no_offer_is_refused_and_closes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    labo: Organisation,
    key: str,
    body: bytes,
    media_type: str,
) -> None:
    await published(session, labo, 1, 2)

    response = await upload(client, key, body, media_type, sync=True)

    assert response.status_code == 422
    assert "holds no offer" in response.json()["detail"]
    assert await statuses(session, labo) == {"R-0001": "published", "R-0002": "published"}
    without_sync = await upload(client, key, body, media_type)
    assert without_sync.status_code == 200
    assert without_sync.json()["created"] == 0


@pytest.mark.parametrize(
    ("failing", "field"),
    [
        (row(2, reference=" R-0002 ", contract_type="cdx"), "contract_type"),
        (row(2, reference="R-0002", organisation="autre-asso"), "organisation"),
    ],
    ids=["spaces around an invalid row's reference", "a row of another organisation"],
)
async def test_a_failed_row_protects_the_offer_it_names_from_sync(
    client: httpx.AsyncClient,
    session: AsyncSession,
    labo: Organisation,
    key: str,
    failing: dict[str, Any],
    field: str,
) -> None:
    await published(session, labo, 1, 2)

    response = await upload(
        client, key, [row(1, reference="R-0001"), failing], sync=True, mode="partial"
    )

    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert response.json()["closed"] == 0
    assert await statuses(session, labo) == {"R-0001": "published", "R-0002": "published"}


async def test_an_ndjson_line_over_the_bound_of_one_offer_is_refused_without_reading_it_whole(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    huge = json.dumps(row(2, description="x" * (1024 * 1024)))
    body = (json.dumps(row(1)) + "\n" + huge + "\n" + json.dumps(row(3)) + "\n").encode()

    response = await upload(client, key, body, NDJSON, mode="partial")

    assert response.status_code == 422
    assert response.json()["detail"].startswith("Row 2 is over 1 MiB")
    assert await stored(session, labo) == {}


async def test_rows_whose_references_cannot_be_references_make_sync_close_nothing(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    await published(session, labo, 1, 2)
    rows = [row(1, reference="OFFRE 1"), row(2, reference="OFFRE 2")]

    response = await upload(client, key, rows, sync=True, mode="partial")

    report = response.json()
    assert (report["failed"], report["closed"]) == (2, 0)
    assert {error["message"] for error in report["errors"] if error["field"] == "reference"} >= {
        "no reference could be read from this row, so sync=true closed no offer"
    }
    assert await statuses(session, labo) == {"R-0001": "published", "R-0002": "published"}


# Status ---------------------------------------------------------------------------------


async def test_a_published_offer_does_not_go_back_to_draft_by_upload_or_put(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    assert (await upload(client, key, [row(1), row(2, status="draft")])).status_code == 200
    feed_before = len((await session.execute(select(OfferChange))).all())

    response = await upload(
        client, key, [row(1, status="draft"), row(2, title="Brouillon revu", status="draft")]
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "row": 1,
            "reference": "LABO-0001",
            "field": "status",
            "message": "this offer is published and cannot go back to draft; close it instead",
        }
    ]
    body: dict[str, Any] = row(1, status="draft")
    del body["reference"]
    put = await client.put(
        f"/v1/organisations/{labo.slug}/offers/LABO-0001", json=body, headers=bearer(key)
    )
    assert put.status_code == 409
    assert "not published → draft" in put.json()["detail"]
    assert (await statuses(session, labo))["LABO-0001"] == "published"
    assert len((await session.execute(select(OfferChange))).all()) == feed_before
    # A draft stays a draft, and may change.
    draft = await upload(client, key, [row(2, title="Brouillon revu", status="draft")])
    assert draft.json()["updated"] == 1


# Crossing writers (PostgreSQL's row locks) ----------------------------------------------


@asynccontextmanager
async def other_writer(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, Any]]:
    """Another client's connection, in a transaction the caller commits or rolls back."""
    url = make_url(database_url)
    connection: asyncpg.Connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        writing = connection.transaction()
        await writing.start()
        yield connection, writing
    finally:
        await connection.close()


@pytest.mark.skipif(engine_name() != "postgres", reason="PostgreSQL's row locks")
async def test_a_put_crossed_by_another_writer_without_if_match_is_a_409_to_retry(
    client: httpx.AsyncClient,
    session: AsyncSession,
    labo: Organisation,
    key: str,
    database_url: str,
) -> None:
    assert (await upload(client, key, [row(1)])).status_code == 200
    async with other_writer(database_url) as (other, writing):
        await other.execute(
            "UPDATE offer SET title = 'Autre', version = version + 1 WHERE reference = 'LABO-0001'"
        )
        body = row(1, title="Mon titre")
        del body["reference"]
        put = asyncio.create_task(
            client.put(
                f"/v1/organisations/{labo.slug}/offers/LABO-0001", json=body, headers=bearer(key)
            )
        )
        await asyncio.sleep(0.5)  # the PUT now waits for the other writer's row lock
        await writing.commit()
        response = await put

    assert response.status_code == 409, response.text
    assert response.headers["Retry-After"] == "1"


@pytest.mark.skipif(engine_name() != "postgres", reason="PostgreSQL's deadlock detection")
async def test_an_upload_in_a_deadlock_answers_409_to_retry_not_500(
    client: httpx.AsyncClient,
    session: AsyncSession,
    labo: Organisation,
    key: str,
    database_url: str,
) -> None:
    assert (await upload(client, key, [row(1), row(2)])).status_code == 200
    first_id, last_id = (await session.execute(select(Offer.id).order_by(Offer.id))).scalars()
    async with other_writer(database_url) as (other, writing):
        # The other writer holds the offer the upload updates last...
        await other.execute("UPDATE offer SET title = 'Autre' WHERE id = $1", last_id)
        changed = [row(1, title="Nouveau titre 1"), row(2, title="Nouveau titre 2")]
        uploading = asyncio.create_task(upload(client, key, changed))
        await asyncio.sleep(0.5)  # the upload holds the first offer and waits for the last
        # ...and now waits for the one the upload holds: PostgreSQL aborts the upload,
        # which waited first (deadlock_timeout), and this writer goes on.
        await other.execute("UPDATE offer SET title = 'Autre' WHERE id = $1", first_id)
        response = await uploading
        await writing.rollback()

    assert response.status_code == 409, response.text
    assert response.headers["Retry-After"] == "1"
    retried = await upload(client, key, changed)
    assert retried.json()["updated"] == 2


@pytest.mark.skipif(engine_name() != "postgres", reason="PostgreSQL's row locks")
async def test_a_sync_crossed_by_the_expiry_worker_closes_around_it_instead_of_failing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    labo: Organisation,
    key: str,
    database_url: str,
) -> None:
    """The expiry worker of another process closes an expired offer while a nightly
    `sync` upload runs: the upload waits for it, then leaves that offer out, instead of
    failing with 409."""
    assert (await upload(client, key, [row(1), row(2), row(3)])).status_code == 200
    async with other_writer(database_url) as (other, writing):
        # As the worker does: lock the offer, close it, commit later.
        await other.execute(
            "UPDATE offer SET status = 'closed', version = version + 1 "
            "WHERE reference = 'LABO-0003'"
        )
        syncing = asyncio.create_task(upload(client, key, [row(1)], sync=True))
        await asyncio.sleep(0.5)  # the upload now waits for the worker's row lock
        assert not syncing.done()
        await writing.commit()
        response = await syncing

    assert response.status_code == 200, response.text
    assert response.json()["closed"] == 1
    assert await statuses(session, labo) == {
        "LABO-0001": "published",
        "LABO-0002": "closed",
        "LABO-0003": "closed",
    }

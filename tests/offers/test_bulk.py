"""Bulk upload and PUT by reference, on both engines."""

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.idempotency import IdempotencyRecord
from app.main import create_app
from app.offers.bulk import formats
from app.offers.bulk import upload as bulk_upload
from app.offers.bulk.checks import CheckPool
from app.offers.bulk.service import upload_fingerprint
from app.offers.bulk.upload import BulkMode
from app.offers.changes import OfferChange
from app.offers.models import Offer
from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_offer, make_organisation, paris_today

BULK = "/v1/offers/bulk"


def row(number: int, **overrides: Any) -> dict[str, Any]:
    """An offer of the upload, shaped like the seeds' Labo de l'ESS offer."""
    values: dict[str, Any] = {
        "reference": f"LABO-{number:04d}",
        "title": f"Chargé·e des projets collectifs {number}",
        "description": "Animer les dynamiques collectives de l'économie sociale et solidaire.",
        "contract_type": "cdd",
        "duration_months": 12,
        "city": "Paris",
        "postcode": "75011",
        "departement": "75",
        "remote": "partial",
        "deadline": (paris_today() + timedelta(days=30)).isoformat(),
    }
    values.update(overrides)
    return values


@pytest.fixture
async def labo(session: AsyncSession) -> Organisation:
    return await make_organisation(
        session,
        slug="le-labo-de-l-ess",
        name="Le Labo de l'ESS",
        kind="think_tank",
        departement="75",
        region="11",
    )


@pytest.fixture
async def key(session: AsyncSession, labo: Organisation) -> str:
    return await make_key(session, "recruiter", labo)


async def upload(
    client: httpx.AsyncClient,
    key: str,
    body: Any,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        BULK,
        content=content,
        params={name: str(value).lower() for name, value in params.items()},
        headers={**bearer(key), "Content-Type": media_type, **(headers or {})},
    )


async def stored(session: AsyncSession, organisation: Organisation) -> dict[str, tuple[Any, ...]]:
    """Each offer of the organisation by reference: (status, title, version)."""
    # By identity: reading an attribute of an expired object would need I/O.
    organisation_id = inspect(organisation).identity[0]
    session.expire_all()
    rows = await session.execute(
        select(Offer.reference, Offer.status, Offer.title, Offer.version).where(
            Offer.organisation_id == organisation_id  # type: ignore[arg-type]
        )
    )
    return {reference: (status, title, version) for reference, status, title, version in rows}


async def feed_length(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(OfferChange))).scalar_one())


async def test_a_json_array_creates_then_a_second_upload_changes_nothing(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    offers = [row(number) for number in range(1, 4)]

    first = await upload(client, key, offers)

    assert first.status_code == 200, first.text
    assert first.json() | {"errors": []} == {
        "dry_run": False,
        "mode": "atomic",
        "written": True,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "closed": 0,
        "failed": 0,
        "errors": [],
    }
    assert {ref: status for ref, (status, _, _) in (await stored(session, labo)).items()} == {
        "LABO-0001": "published",
        "LABO-0002": "published",
        "LABO-0003": "published",
    }
    listed = await client.get("/v1/offers", params={"organisation": "le-labo-de-l-ess"})
    assert len(listed.json()["items"]) == 3
    await app.state.search_worker.idle()  # uploads are indexed after their commit
    assert (await client.get("/v1/offers", params={"q": "projets collectifs 2"})).json()["items"][
        0
    ]["reference"] == "LABO-0002"
    changes_before = await feed_length(session)
    versions_before = await stored(session, labo)

    again = await upload(client, key, offers)

    assert again.status_code == 200
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    assert await feed_length(session) == changes_before
    assert await stored(session, labo) == versions_before


async def test_ndjson_and_an_update(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    lines = [json.dumps(row(number)) for number in (1, 2)]
    body = ("\n".join(lines) + "\n\n").encode()
    created = await upload(client, key, body, "application/x-ndjson")
    assert created.status_code == 200, created.text
    assert created.json()["created"] == 2

    changed = [row(1), row(2, title="Chargé·e de plaidoyer")]
    body = "\n".join(json.dumps(item) for item in changed).encode()
    updated = await upload(client, key, body, "application/x-ndjson")

    assert (updated.json()["updated"], updated.json()["unchanged"]) == (1, 1)
    offers = await stored(session, labo)
    assert offers["LABO-0002"][1:] == ("Chargé·e de plaidoyer", 2)
    assert offers["LABO-0001"][2] == 1


async def test_a_french_spreadsheet_csv_with_bom_semicolons_and_accented_headers(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    deadline = (paris_today() + timedelta(days=20)).isoformat()
    csv = (
        "\ufeffRéférence;Intitulé;Description;Type de contrat;Durée (mois);Ville;"
        "Code postal;Département;Télétravail;Salaire min;Salaire max;Salary period;"
        "Date limite;Open to contractuels\r\n"
        f"CSV-1;Chargé·e d'études;Études « statistiques », chiffres; tableaux;cdd;12;"
        f"Paris;75011;75;partial;2600;2900;month;{deadline};oui\r\n"
        f"CSV-2;Stagiaire évaluation;Évaluer des politiques publiques;stage;6;Paris;"
        f"75011;75;none;;;;{deadline};\r\n"
    )
    # The first description holds a ';' of its own: quoted, as spreadsheets write it.
    csv = csv.replace("Études « statistiques », chiffres; tableaux", '"Études ; tableaux"')

    response = await upload(client, key, csv.encode("utf-8"), "text/csv")

    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    await app.state.search_worker.idle()
    offer = (await client.get("/v1/offers", params={"q": "chargée d'études"})).json()["items"][0]
    assert offer["reference"] == "CSV-1"
    assert offer["description"] == "Études ; tableaux"
    assert (offer["salary_min"], offer["salary_max"], offer["region"]) == (2600, 2900, "11")
    assert offer["open_to_contractuels"] is True
    assert offer["deadline"] == deadline


async def test_dry_run_reports_and_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    await make_offer(session, labo, reference="LABO-0001", title="Ancienne")
    before = await stored(session, labo)

    offers = [row(1), row(2), row(3, contract_type="cdx")]
    response = await upload(client, key, offers, dry_run=True, mode="partial")

    assert response.status_code == 200
    report = response.json()
    assert (report["dry_run"], report["written"]) == (True, False)
    assert (report["created"], report["updated"], report["failed"]) == (1, 1, 1)
    assert report["errors"][0]["row"] == 3
    assert await stored(session, labo) == before
    # In mode=atomic the real run would write nothing: so says the dry run (422).
    atomic = await upload(client, key, offers, dry_run=True)
    assert atomic.status_code == 422
    assert (atomic.json()["created"], atomic.json()["failed"]) == (0, 1)
    assert await stored(session, labo) == before


async def test_atomic_with_one_bad_row_at_250_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    offers = [row(number) for number in range(1, 301)]
    offers[249]["salary_min"] = 3000  # without salary_period, and above salary_max
    offers[249]["salary_max"] = 2000
    changes_before = await feed_length(session)

    response = await upload(client, key, offers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["written"], problem["created"], problem["failed"]) == (False, 0, 1)
    assert problem["errors"] == [
        {
            "row": 250,
            "reference": "LABO-0250",
            "field": "row",
            "message": "salary_min is above salary_max; salary_period is required with a "
            "salary amount",
        }
    ]
    assert await stored(session, labo) == {}
    assert await feed_length(session) == changes_before


async def test_partial_writes_the_valid_rows_and_names_the_others(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    offers = [
        row(1),
        row(2, contract_type="freelance"),
        row(3, departement="99"),
        {"title": "Sans référence", "description": "x", "contract_type": "cdi"},
        row(5),
    ]

    response = await upload(client, key, offers, mode="partial")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["failed"]) == (2, 3)
    assert [(e["row"], e["reference"], e["field"]) for e in report["errors"]] == [
        (2, "LABO-0002", "contract_type"),
        (3, "LABO-0003", "departement"),
        (4, None, "reference"),
    ]
    assert "'cdi', 'cdd'" in report["errors"][0]["message"]
    assert set(await stored(session, labo)) == {"LABO-0001", "LABO-0005"}


async def test_sync_closes_exactly_the_published_offers_absent_from_the_upload(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    other = await make_organisation(session)
    await make_offer(session, other, reference="LABO-0009")
    await make_offer(session, labo, reference="LABO-0001")
    await make_offer(session, labo, reference="LABO-0007")
    await make_offer(session, labo, reference=None, title="Sans référence")
    await make_offer(session, labo, reference="LABO-0008", status="draft", published_at=None)

    response = await upload(client, key, [row(1), row(2)], sync=True)

    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    assert response.json()["closed"] == 2
    statuses = {ref: status for ref, (status, _, _) in (await stored(session, labo)).items()}
    assert statuses == {
        "LABO-0001": "published",
        "LABO-0002": "published",
        "LABO-0007": "closed",
        None: "closed",
        "LABO-0008": "draft",
    }
    changes = (await client.get("/v1/offers/changes", params={"limit": 100})).json()["items"]
    assert [item["change"] for item in changes].count("closed") == 2
    # The other organisation's offer with the same reference is untouched.
    assert {status for status, _, _ in (await stored(session, other)).values()} == {"published"}


async def test_sync_closes_nothing_when_a_row_s_reference_cannot_be_read(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    await make_offer(session, labo, reference="LABO-0001")
    await make_offer(session, labo, reference="LABO-0007")
    # A missing comma: the row is not JSON, and may be LABO-0007's.
    broken = b'{"reference": "LABO-0007", "title": "Juriste" "description": "Droit"}'
    body = b"[" + json.dumps(row(1)).encode() + b", " + broken + b"]"

    response = await upload(client, key, body, sync=True, mode="partial")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["unchanged"] + report["updated"], report["closed"], report["failed"]) == (
        1,
        0,
        1,
    )
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, None), (2, "reference")]
    assert "closed no offer" in report["errors"][1]["message"]
    statuses = {ref: status for ref, (status, _, _) in (await stored(session, labo)).items()}
    assert statuses == {"LABO-0001": "published", "LABO-0007": "published"}


async def test_rows_of_another_organisation_duplicates_and_unknown_columns_are_reported(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    offers = [
        row(1, organisation="le-labo-de-l-ess"),
        row(2, organisation="etat-lin"),
        row(1),
        row(4, skills=["tableur"]),
    ]

    response = await upload(client, key, offers, mode="partial")

    assert [(e["row"], e["field"], e["message"]) for e in response.json()["errors"]] == [
        (2, "organisation", "not this key's organisation"),
        (3, "reference", "appears twice in this upload"),
        (4, "skills", "Extra inputs are not permitted"),
    ]
    assert set(await stored(session, labo)) == {"LABO-0001"}

    csv = "reference;title;description;contract_type;colour\nX-1;Juriste;Droit;cdi;bleu\n"
    unknown = await upload(client, key, csv.encode(), "text/csv")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "colour"


async def test_json_rows_are_numbered_and_kept_whatever_their_text_holds(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    """Items are cut out of the array as text (formats._JsonArray): a "}," inside a
    description, a nested object and items that are not offers must not shift the rows."""
    tricky = 'Missions : {voir la fiche}, puis « rendre compte »}] \\ "fin"\n- suite'
    offers: list[Any] = [
        row(1, description=tricky),
        row(2, city={"nom": "Paris", "arrondissement": {"numero": "11e"}}),
        "LABO-0003",
        row(4),
    ]
    body = json.dumps(offers, ensure_ascii=False, indent=2).encode()

    response = await upload(client, key, body, mode="partial")

    assert response.status_code == 200, response.text
    assert [(e["row"], e["reference"], e["field"]) for e in response.json()["errors"]] == [
        (2, "LABO-0002", "city"),
        (3, None, None),
    ]
    assert set(await stored(session, labo)) == {"LABO-0001", "LABO-0004"}
    first = await session.scalar(select(Offer).where(Offer.reference == "LABO-0001"))
    assert first is not None
    assert first.description == tricky

    for broken in (b'{"reference": "LABO-0009"}', b'[{"reference": "LABO-0009"} {}]', b"[{}"):
        unreadable = await upload(client, key, broken, mode="partial")
        assert unreadable.status_code == 422
        assert unreadable.json()["detail"].startswith("The body ")
    assert set(await stored(session, labo)) == {"LABO-0001", "LABO-0004"}


async def test_idempotency_key_replays_refuses_another_body_and_a_running_twin(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    first = await upload(client, key, [row(1)], headers={"Idempotency-Key": "nightly-1"})
    assert first.json()["created"] == 1
    changes_before = await feed_length(session)

    replay = await upload(client, key, [row(1)], headers={"Idempotency-Key": "nightly-1"})
    other_body = await upload(client, key, [row(2)], headers={"Idempotency-Key": "nightly-1"})

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert await feed_length(session) == changes_before
    assert other_body.status_code == 422
    # A failed atomic upload replays as the same problem, with its media type.
    bad = [row(9, contract_type="cdx")]
    failed = await upload(client, key, bad, headers={"Idempotency-Key": "nightly-bad"})
    failed_again = await upload(client, key, bad, headers={"Idempotency-Key": "nightly-bad"})
    assert failed.status_code == failed_again.status_code == 422
    assert failed_again.headers["content-type"] == "application/problem+json"
    assert failed_again.json() == failed.json()
    assert set(await stored(session, labo)) == {"LABO-0001"}

    # A twin request still running holds the key: the same body, claimed, not answered.
    body = json.dumps([row(3)]).encode()
    twin = upload_fingerprint(
        hashlib.sha256(body).hexdigest(), "application/json", BulkMode.atomic, False, False
    )
    session.add(
        IdempotencyRecord(
            scope=f"bulk:{inspect(labo).identity[0]}",
            key="nightly-2",
            request_hash=twin,
            state="in_progress",
        )
    )
    await session.commit()
    running = await upload(client, key, body, headers={"Idempotency-Key": "nightly-2"})
    assert running.status_code == 409
    assert running.headers["Retry-After"] == "1"


@pytest.fixture
async def small_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    limited = settings.model_copy(update={"bulk_max_rows": 5, "bulk_max_bytes": 20_000})
    application: Any = create_app(limited)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await application.state.database.dispose()


async def test_limits_answer_413_and_write_nothing(
    small_client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    too_many = await upload(small_client, key, [row(number) for number in range(1, 7)])
    long_text = "x" * 19_900
    too_big = await upload(small_client, key, [row(1, description=long_text), row(2)])

    assert too_many.status_code == 413
    assert "at most 5 offers" in too_many.json()["detail"]
    assert too_big.status_code == 413
    assert await stored(session, labo) == {}
    within = await upload(small_client, key, [row(number) for number in range(1, 6)])
    assert within.json()["created"] == 5


async def test_who_may_upload_and_in_which_formats(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    admin = await make_key(session, "admin")
    assert (await upload(client, admin, [row(1)])).status_code == 403
    anonymous = await client.post(BULK, json=[row(1)])
    assert anonymous.status_code == 401
    xml = await upload(client, key, b"<offers/>", "application/xml")
    assert xml.status_code == 415
    not_an_array = await upload(client, key, b'{"reference": "X"}')
    assert not_an_array.status_code == 422
    broken = await upload(client, key, b'[{"reference": "X"')
    assert broken.status_code == 422


async def test_put_creates_then_the_same_body_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    url = f"/v1/organisations/{labo.slug}/offers/LABO-0001"
    body = row(1)
    del body["reference"]

    created = await client.put(url, json=body, headers=bearer(key))
    changes_after_create = await feed_length(session)
    again = await client.put(url, json=body, headers=bearer(key))

    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith(f"/v1/offers/{created.json()['id']}")
    assert again.status_code == 200
    assert again.headers["ETag"] == created.headers["ETag"]
    assert again.json() == created.json()
    assert await feed_length(session) == changes_after_create

    changed = await client.put(
        url, json=body | {"title": "Chargé·e de plaidoyer"}, headers=bearer(key)
    )
    assert changed.status_code == 200
    assert changed.headers["ETag"] != created.headers["ETag"]
    assert await feed_length(session) == changes_after_create + 1
    stale = await client.put(
        url, json=body, headers={**bearer(key), "If-Match": created.headers["ETag"]}
    )
    assert stale.status_code == 412


async def test_put_refuses_other_organisations_mismatches_and_closed_offers(
    client: httpx.AsyncClient, session: AsyncSession, labo: Organisation, key: str
) -> None:
    other = await make_organisation(session, slug="etat-lin")
    body = row(1)
    del body["reference"]

    theirs = await client.put(
        f"/v1/organisations/{other.slug}/offers/X-1", json=body, headers=bearer(key)
    )
    mismatch = await client.put(
        f"/v1/organisations/{labo.slug}/offers/X-1",
        json=body | {"reference": "X-2"},
        headers=bearer(key),
    )
    await make_offer(session, labo, reference="OLD-1", status="closed")
    closed = await client.put(
        f"/v1/organisations/{labo.slug}/offers/OLD-1", json=body, headers=bearer(key)
    )

    assert theirs.status_code == 403
    assert mismatch.status_code == 422
    assert closed.status_code == 409


async def test_one_connection_looks_up_and_writes_in_turn(
    session: AsyncSession, labo: Organisation
) -> None:
    """Without a second connection for look-ups, each batch waits for the write before."""
    owner = bulk_upload.Owner(inspect(labo).identity[0], "le-labo-de-l-ess")
    rows = iter([row(number) for number in range(1, 1202)])  # three batches

    report = await bulk_upload.run_upload(
        session,
        owner,
        rows,
        mode=BulkMode.atomic,
        dry_run=False,
        sync=False,
        max_rows=10_000,
        checks=CheckPool(0),  # checked here, in this process
        media_type=formats.CSV,
    )
    await session.commit()

    assert (report.created, report.failed) == (1201, 0)
    assert len(await stored(session, labo)) == 1201
    assert await feed_length(session) == 1201

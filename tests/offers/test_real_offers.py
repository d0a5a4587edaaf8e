"""Real offers that the API refused (issue 13), written through every route: a fixed term
between two dates, a long salary statement, and a draft that does not say its contract
type yet (publishing it asks for one)."""

import csv
import io
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import bearer, make_key, offer_body

# "CDD du 2 mars au 18 septembre": a fixed term given by its two dates.
FIXED_TERM = {
    "contract_type": "cdd",
    "versant": None,
    "categorie": None,
    "start_date": "2027-03-02",
    "end_date": "2027-09-18",
}
# A real statement of pay with its bonus scheme: 241 characters.
SALARY_STATEMENT = (
    "Rémunération statutaire selon la grille des attachés territoriaux, à laquelle "
    "s'ajoutent le régime indemnitaire (IFSE et CIA), une prime de fin d'année, la "
    "participation employeur à la mutuelle et les tickets restaurant, sous conditions (*)."
)


def body(**changes: Any) -> dict[str, Any]:
    return offer_body(**{**FIXED_TERM, "salary_text": SALARY_STATEMENT, **changes})


async def upload(
    client: httpx.AsyncClient, key: dict[str, str], content: bytes, media_type: str
) -> httpx.Response:
    return await client.post(
        "/v1/offers/bulk", content=content, headers={**key, "Content-Type": media_type}
    )


def csv_of(rows: list[dict[str, Any]], headers: dict[str, str] | None = None) -> bytes:
    """Rows as a French spreadsheet exports them: `;`, French headers where given."""
    names = [name for name in rows[0] if rows[0][name] is not None]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([(headers or {}).get(name, name) for name in names])
    for row in rows:
        writer.writerow(["" if row[name] is None else str(row[name]) for name in names])
    return out.getvalue().encode()


async def read(client: httpx.AsyncClient, key: dict[str, str], offer_id: str) -> Any:
    response = await client.get(f"/v1/offers/{offer_id}", headers=key)
    assert response.status_code == 200, response.text
    return response.json()


# A fixed term between two dates, and a long salary statement ---------------------------


async def test_post_patch_and_put_keep_the_end_date_and_the_long_salary_statement(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=body(), headers=key)
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (offer["end_date"], offer["duration_months"]) == ("2027-09-18", None)
    assert offer["salary_text"] == SALARY_STATEMENT
    assert len(SALARY_STATEMENT) == 241

    patched = await client.patch(
        f"/v1/offers/{offer['id']}", json={"end_date": "2027-10-31"}, headers=key
    )
    assert patched.status_code == 200, patched.text
    assert (await read(client, key, offer["id"]))["end_date"] == "2027-10-31"

    put = await client.put(
        "/v1/organisations/le-labo/offers/CDD-2",
        json=body(reference=None, end_date="2027-08-31"),
        headers=key,
    )
    assert put.status_code == 201, put.text
    assert (put.json()["end_date"], put.json()["salary_text"]) == ("2027-08-31", SALARY_STATEMENT)


@pytest.mark.parametrize("media_type", ["application/json", "application/x-ndjson", "text/csv"])
async def test_every_bulk_format_keeps_them(
    client: httpx.AsyncClient, key: dict[str, str], media_type: str
) -> None:
    row = body(reference="BULK-1")
    if media_type == "application/json":
        content = json.dumps([row]).encode()
    elif media_type == "application/x-ndjson":
        content = (json.dumps(row) + "\n").encode()
    else:
        french = {**row, "end_date": "18/09/2027"}
        content = csv_of([french], {"end_date": "Date de fin"})
    report = await upload(client, key, content, media_type)
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1
    items = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    (offer,) = [item for item in items if item["reference"] == "BULK-1"]
    assert (offer["end_date"], offer["salary_text"]) == ("2027-09-18", SALARY_STATEMENT)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"end_date": "2027-03-01"}, "body", "end_date is before start_date"),
        ({"contract_type": "cdi", "duration_months": None}, "body", "a cdi has no end_date"),
        ({"end_date": "18 septembre"}, "end_date", ""),
        ({"salary_text": "x" * 1001}, "salary_text", "1000"),
    ],
)
async def test_their_bounds_are_422_naming_the_field(
    client: httpx.AsyncClient,
    key: dict[str, str],
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = await client.post("/v1/offers", json=body(**changes), headers=key)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert any(error["field"] == field for error in problem["errors"]), problem
    assert words in json.dumps(problem, ensure_ascii=False)


# A draft that does not say its contract type yet -----------------------------------------


async def test_a_draft_may_leave_out_the_contract_type_but_publishing_asks_for_it(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    draft = offer_body(status="draft", versant=None, categorie=None)
    del draft["contract_type"]
    created = await client.post("/v1/offers", json=draft, headers=key)
    assert created.status_code == 201, created.text
    offer_id = created.json()["id"]
    assert created.json()["contract_type"] is None

    url = f"/v1/offers/{offer_id}"
    refused = await client.patch(url, json={"status": "published"}, headers=key)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "contract_type", "message": "required to publish"}
    ]
    assert (await read(client, key, offer_id))["status"] == "draft"

    published = await client.patch(
        url, json={"status": "published", "contract_type": "cdd"}, headers=key
    )
    assert published.status_code == 200, published.text
    assert (published.json()["status"], published.json()["contract_type"]) == (
        "published",
        "cdd",
    )
    cleared = await client.patch(url, json={"contract_type": None}, headers=key)
    assert cleared.status_code == 422
    assert cleared.json()["errors"][0]["field"] == "contract_type"


async def test_publishing_without_a_contract_type_is_refused_on_every_route(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    unsaid = offer_body(versant=None, categorie=None)
    del unsaid["contract_type"]

    posted = await client.post("/v1/offers", json=unsaid, headers=key)
    assert (posted.status_code, posted.json()["errors"][0]["field"]) == (422, "contract_type")

    put = await client.put(
        "/v1/organisations/le-labo/offers/SANS-CONTRAT",
        json={**unsaid, "reference": None},
        headers=key,
    )
    assert (put.status_code, put.json()["errors"][0]["field"]) == (422, "contract_type")

    rows = [{**unsaid, "reference": "SANS-1"}, {**unsaid, "reference": "SANS-2", "status": "draft"}]
    report = await upload(client, key, json.dumps(rows).encode(), "application/json")
    assert report.status_code == 422, report.text
    assert [(e["row"], e["field"]) for e in report.json()["errors"]] == [(1, "contract_type")]
    partial = await client.post(
        "/v1/offers/bulk?mode=partial",
        content=json.dumps(rows).encode(),
        headers={**key, "Content-Type": "application/json"},
    )
    assert (partial.json()["created"], partial.json()["failed"]) == (1, 1)


# A range of months: « une durée de quatre à six mois » (seed 002, la 27e Région) ----------

STAGE = {
    "title": "Stagiaire chargé·e de projets",
    "contract_type": "stage",
    "versant": None,
    "categorie": None,
    "open_to_contractuels": None,
    "education_level": None,
    "city": "Paris",
    "postcode": "75020",
    "departement": "75",
    "duration_months_min": 4,
    "duration_months": 6,
}


async def test_a_range_of_months_is_kept_on_every_route(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=offer_body(**STAGE), headers=key)
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (offer["duration_months_min"], offer["duration_months"]) == (4, 6)
    patched = await client.patch(
        f"/v1/offers/{offer['id']}", json={"duration_months_min": 5}, headers=key
    )
    assert (patched.json()["duration_months_min"], patched.json()["duration_months"]) == (5, 6)
    put = await client.put(
        "/v1/organisations/le-labo/offers/STAGE-2",
        json=offer_body(**{**STAGE, "reference": None}),
        headers=key,
    )
    assert (put.json()["duration_months_min"], put.json()["duration_months"]) == (4, 6)
    row = offer_body(**{**STAGE, "reference": "STAGE-3"})
    spreadsheet = csv_of([row], {"duration_months_min": "Durée mois min"})
    report = await upload(client, key, spreadsheet, "text/csv")
    assert report.json()["created"] == 1, report.text
    items = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    (uploaded,) = [item for item in items if item["reference"] == "STAGE-3"]
    assert (uploaded["duration_months_min"], uploaded["duration_months"]) == (4, 6)


# An hourly stipend with cents: « 3,90 € de l'heure » (seed 002, the legal minimum) -------

STIPEND = {"salary_min": 3.9, "salary_period": "hour", "salary_basis": "gross"}


async def test_an_hourly_stipend_with_cents_is_kept_on_every_route(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=offer_body(**STAGE, **STIPEND), headers=key)
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (offer["salary_min"], offer["salary_period"]) == (3.9, "hour")
    assert '"salary_min":3.9,' in created.text  # a JSON number, not "3.90" nor 3.8999…
    patched = await client.patch(
        f"/v1/offers/{offer['id']}", json={"salary_min": 4.35, "salary_max": 5}, headers=key
    )
    assert (patched.json()["salary_min"], patched.json()["salary_max"]) == (4.35, 5)
    assert '"salary_max":5,' in patched.text  # whole amounts still read as integers
    put = await client.put(
        "/v1/organisations/le-labo/offers/STAGE-2",
        json=offer_body(**{**STAGE, **STIPEND, "reference": None}),
        headers=key,
    )
    assert put.json()["salary_min"] == 3.9
    again = await client.put(
        "/v1/organisations/le-labo/offers/STAGE-2",
        json=offer_body(**{**STAGE, **STIPEND, "reference": None}),
        headers=key,
    )
    assert again.json()["updated_at"] == put.json()["updated_at"]  # the same: no change
    rows = [offer_body(**{**STAGE, **STIPEND, "reference": f"STAGE-{n}"}) for n in (3, 4)]
    ndjson = "\n".join(json.dumps(row) for row in rows).encode()
    report = await upload(client, key, ndjson, "application/x-ndjson")
    assert report.json()["created"] == 2, report.text
    listed = await client.get("/v1/offers", params={"limit": 100})
    amounts = {item["reference"]: item["salary_min"] for item in listed.json()["items"]}
    assert amounts["STAGE-3"] == amounts["STAGE-4"] == 3.9


@pytest.mark.parametrize("amount", [3.905, -1, 10_000_000.01, "trois", True])
async def test_an_amount_beyond_cents_or_bounds_is_422_naming_it(
    client: httpx.AsyncClient, key: dict[str, str], amount: Any
) -> None:
    response = await client.post(
        "/v1/offers", json=offer_body(**STAGE, **{**STIPEND, "salary_min": amount}), headers=key
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["salary_min"]


@pytest.mark.parametrize(
    "months", [{"duration_months_min": 7}, {"duration_months": None}, {"duration_months_min": 0}]
)
async def test_a_range_of_months_upside_down_or_open_is_422(
    client: httpx.AsyncClient, key: dict[str, str], months: dict[str, Any]
) -> None:
    response = await client.post("/v1/offers", json=offer_body(**{**STAGE, **months}), headers=key)
    assert response.status_code == 422, response.text
    assert "duration_months_min" in response.text


# published_at on PUT and bulk rows: a mirror keeps its offers' dates ---------------------

FIRST_PUBLISHED = "2026-11-02T09:30:00+01:00"
FIRST_PUBLISHED_UTC = "2026-11-02T08:30:00Z"


async def test_put_keeps_the_date_an_offer_was_first_published_elsewhere(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    url = "/v1/organisations/le-labo/offers/MIROIR-1"
    mirrored = offer_body(reference=None, published_at=FIRST_PUBLISHED)
    created = await client.put(url, json=mirrored, headers=key)
    assert created.status_code == 201, created.text
    assert created.json()["published_at"] == FIRST_PUBLISHED_UTC
    # Sent again, the same: nothing to write.
    again = await client.put(url, json=mirrored, headers=key)
    assert (again.status_code, again.headers["ETag"]) == (200, created.headers["ETag"])
    # Published once: a later date does not move it.
    later = await client.put(
        url, json={**mirrored, "published_at": "2026-11-20T10:00:00+01:00"}, headers=key
    )
    assert later.json()["published_at"] == FIRST_PUBLISHED_UTC

    draft_url = "/v1/organisations/le-labo/offers/MIROIR-2"
    draft = {**mirrored, "status": "draft"}
    assert (await client.put(draft_url, json=draft, headers=key)).json()["published_at"] is None
    published = await client.put(draft_url, json={**draft, "status": "published"}, headers=key)
    assert published.json()["published_at"] == FIRST_PUBLISHED_UTC


@pytest.mark.parametrize("media_type", ["application/json", "application/x-ndjson", "text/csv"])
async def test_bulk_rows_keep_it_too(
    client: httpx.AsyncClient, key: dict[str, str], media_type: str
) -> None:
    row = offer_body(reference="MIROIR-3", published_at=FIRST_PUBLISHED)
    if media_type == "application/json":
        content = json.dumps([row]).encode()
    elif media_type == "application/x-ndjson":
        content = (json.dumps(row) + "\n").encode()
    else:
        content = csv_of([row])
    report = await upload(client, key, content, media_type)
    assert report.json()["created"] == 1, report.text
    items = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    (offer,) = [item for item in items if item["reference"] == "MIROIR-3"]
    assert offer["published_at"] == FIRST_PUBLISHED_UTC


@pytest.mark.parametrize("moment", ["2099-01-01T00:00:00+01:00", "2026-11-02T09:30:00"])
async def test_a_future_or_zoneless_published_at_is_422(
    client: httpx.AsyncClient, key: dict[str, str], moment: str
) -> None:
    put = await client.put(
        "/v1/organisations/le-labo/offers/MIROIR-4",
        json=offer_body(reference=None, published_at=moment),
        headers=key,
    )
    assert put.status_code == 422, put.text
    assert put.json()["errors"][0]["field"] == "published_at"
    row = offer_body(reference="MIROIR-5", published_at=moment)
    report = await upload(client, key, json.dumps([row]).encode(), "application/json")
    assert [(e["row"], e["field"]) for e in report.json()["errors"]] == [(1, "published_at")]


# Posts, experience range, team, street address, legal basis, source --------------------

FACTS = {
    "positions": 2,
    "experience_years_min": 2,
    "experience_years_max": 5,
    "manages_team": True,
    "address": "20 avenue de Ségur",
    "legal_basis": "L332-8 2°",
    "source_url": "https://choisirleservicepublic.gouv.fr/offre-emploi/2024-1706/",
}


async def test_the_new_facts_are_kept_on_every_route_and_in_json_ld(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=offer_body(**FACTS), headers=key)
    assert created.status_code == 201, created.text
    assert {name: created.json()[name] for name in FACTS} == FACTS
    offer_id = created.json()["id"]
    patched = await client.patch(
        f"/v1/offers/{offer_id}", json={"positions": 3, "manages_team": None}, headers=key
    )
    assert (patched.json()["positions"], patched.json()["manages_team"]) == (3, None)
    posting = (
        await client.get(f"/v1/offers/{offer_id}", headers={"Accept": "application/ld+json"})
    ).json()
    assert posting["totalJobOpenings"] == 3
    assert posting["jobLocation"]["address"]["streetAddress"] == "20 avenue de Ségur"

    put = await client.put(
        "/v1/organisations/le-labo/offers/FAITS-1",
        json=offer_body(**{**FACTS, "reference": None}),
        headers=key,
    )
    assert {name: put.json()[name] for name in FACTS} == FACTS
    report = await upload(
        client, key, csv_of([offer_body(**{**FACTS, "reference": "FAITS-2"})]), "text/csv"
    )
    assert report.json()["created"] == 1, report.text
    items = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    (uploaded,) = [item for item in items if item["reference"] == "FAITS-2"]
    assert {name: uploaded[name] for name in FACTS} == FACTS


async def test_an_offer_that_says_nothing_is_for_one_post(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = (await client.post("/v1/offers", json=offer_body(), headers=key)).json()
    assert (created["positions"], created["manages_team"], created["address"]) == (1, None, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"positions": 0}, "positions"),
        ({"experience_years_max": 51}, "experience_years_max"),
        ({"experience_years_min": 6, "experience_years_max": 5}, "body"),
        ({"source_url": "choisirleservicepublic.gouv.fr"}, "source_url"),
        ({"legal_basis": "x" * 201}, "legal_basis"),
    ],
)
async def test_the_new_facts_bounds_are_422(
    client: httpx.AsyncClient, key: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/offers", json=offer_body(**changes), headers=key)
    assert response.status_code == 422, response.text
    assert any(error["field"] == field for error in response.json()["errors"]), response.text


# Organisation kinds that real offers needed ----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("syndicat_mixte", "Syndicat mixte"),
        ("organisme_international", "Organisme binational ou international"),
    ],
)
async def test_a_syndicat_mixte_and_an_international_body_post_and_are_filtered(
    client: httpx.AsyncClient, session: AsyncSession, kind: str, label: str
) -> None:
    admin = bearer(await make_key(session, "admin"))
    created = await client.post(
        "/v1/organisations",
        json={"slug": "parc-naturel", "name": "Parc naturel régional", "kind": kind},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = offer_body(organisation_id=created.json()["id"])
    offer = await client.post("/v1/offers", json=body, headers=admin)
    assert offer.status_code == 201, offer.text
    listed = (await client.get("/v1/offers", params={"organisation_kind": kind})).json()["items"]
    assert [item["id"] for item in listed] == [offer.json()["id"]]
    kinds = (await client.get("/v1/referentials/organisation-kinds")).json()["items"]
    assert {"code": kind, "label": label} in [
        {"code": item["code"], "label": item["label"]} for item in kinds
    ]

"""Real offers, second part (issue 13): each new field written through every route (POST,
PATCH, PUT, bulk JSON, NDJSON and CSV) and read back as the public reads it; its bounds
refused with 422 naming the field; and CSV cells as French spreadsheets write them."""

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.offers.bulk import labels
from app.offers.bulk.formats import header_name
from app.referentials.data import Entry
from tests.factories import offer_body, paris_today
from tests.offers.test_real_offers import upload

EXPIRES = datetime.combine(paris_today() + timedelta(days=20), time(18), ZoneInfo("Europe/Paris"))
# One value of each new field, as JSON sends it.
FIELDS: dict[str, Any] = {
    "salary_min": 2600,
    "salary_max": 3100.5,
    "salary_period": "month",
    "benefits": ["IFSE", "CIA", "tickets restaurant"],
    "hours_per_week": 17.5,
    "start_precision": "month",
    "contract_reason": "remplacement",
    "grades": ["attaché territorial", "rédacteur territorial"],
    "domain": "numerique",
    "languages": [{"code": "en", "level": "B2"}, {"code": "de", "level": "native"}],
    "contact": {
        "name": "Camille Martin",
        "role": "Responsable RH",
        "email": "rh@le-labo.fr",
        "phone": "01 23 45 67 89",
    },
    "documents_required": ["CV", "lettre de motivation"],
    "expires_at": EXPIRES.isoformat(),
}
READ_BACK = {**FIELDS, "expires_at": EXPIRES.astimezone(UTC).isoformat().replace("+00:00", "Z")}
# The same values as a French spreadsheet writes them, under French headers.
FRENCH_CELLS = {
    "Salaire min": "2 600 €",
    "Salaire max": "3\u202f100,50\u00a0€",
    "salary_period": "Par mois",
    "Avantages": "IFSE; CIA; tickets restaurant",
    "Heures par semaine": "17h30",
    "Précision du début": "dans le mois",
    "Motif du contrat": "Remplacement",
    "Grades": "attaché territorial | rédacteur territorial",
    "Domaine": "Numérique, données, systèmes d'information",
    "Langues": "en:B2; de: Langue maternelle",
    "Contact nom": "Camille Martin",
    "Contact fonction": "Responsable RH",
    "Contact e-mail": "rh@le-labo.fr",
    "Contact téléphone": "01 23 45 67 89",
    "Pièces à fournir": "CV\nlettre de motivation",
    "Fin de publication": EXPIRES.isoformat(),
}
LABO = "/v1/organisations/le-labo/offers"


def spreadsheet(rows: list[dict[str, str]]) -> bytes:
    """Rows of cells as a French spreadsheet saves them: `;`, the first row's columns."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def base_cells(reference: str, **cells: str) -> dict[str, str]:
    """A valid offer's cells, then ``cells`` in place of those of the same field."""
    given = {header_name(column) for column in cells}
    body = offer_body(reference=reference)
    base = {name: "oui" if value is True else str(value) for name, value in body.items()}
    return {**{name: cell for name, cell in base.items() if name not in given}, **cells}


async def public(client: httpx.AsyncClient, reference: str) -> dict[str, Any]:
    """The offer of this reference, as anyone reads it (GET without a key)."""
    items = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    (listed,) = [item for item in items if item["reference"] == reference]
    response = await client.get(f"/v1/offers/{listed['id']}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def write(client: httpx.AsyncClient, key: dict[str, str], route: str, reference: str) -> None:
    body = offer_body(reference=reference, **FIELDS)
    if route == "post":
        response = await client.post("/v1/offers", json=body, headers=key)
    elif route == "patch":
        created = await client.post("/v1/offers", json=offer_body(reference=reference), headers=key)
        response = await client.patch(
            f"/v1/offers/{created.json()['id']}", json=FIELDS, headers=key
        )
    elif route == "put":
        response = await client.put(
            f"{LABO}/{reference}", json={**body, "reference": None}, headers=key
        )
    elif route == "json":
        response = await upload(client, key, json.dumps([body]).encode(), "application/json")
    elif route == "ndjson":
        response = await upload(
            client, key, (json.dumps(body) + "\n").encode(), "application/x-ndjson"
        )
    else:
        content = spreadsheet([base_cells(reference, **FRENCH_CELLS)])
        response = await upload(client, key, content, "text/csv")
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("route", ["post", "patch", "put", "json", "ndjson", "csv"])
async def test_every_new_field_is_written_by_every_route_and_read_back(
    client: httpx.AsyncClient, key: dict[str, str], route: str
) -> None:
    await write(client, key, route, f"NEUF-{route}")
    offer = await public(client, f"NEUF-{route}")
    assert {name: offer[name] for name in READ_BACK} == READ_BACK


LISTS = {"benefits", "grades", "languages", "documents_required"}


async def test_patch_clears_them(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    created = await client.post("/v1/offers", json=offer_body(**FIELDS), headers=key)
    cleared = {
        name: [] if name in LISTS else None
        for name in FIELDS
        if name not in {"salary_period", "expires_at"}
    }
    patched = await client.patch(f"/v1/offers/{created.json()['id']}", json=cleared, headers=key)
    assert patched.status_code == 200, patched.text
    assert {name: patched.json()[name] for name in cleared} == cleared


# Bounds: 422 naming the field, on every route ------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"salary_min": 3.905, "salary_period": "hour"}, "salary_min", "2 decimal places"),
        ({"hours_per_week": 49}, "hours_per_week", "48"),
        ({"hours_per_week": 0.25}, "hours_per_week", "0.5"),
        ({"languages": [{"code": "english", "level": "B2"}]}, "languages.0.code", ""),
        ({"languages": [{"code": "en", "level": "B3"}]}, "languages.0.level", "C2"),
        ({"languages": [{"code": "en", "level": "B2"}] * 2}, "languages", "each language once"),
        ({"contact": {}}, "contact", "at least one"),
        ({"contact": {"email": "rh@"}}, "contact.email", ""),
        ({"benefits": ["x" * 101]}, "benefits.0", "100"),
        ({"benefits": ["IFSE"] * 31}, "benefits", "30"),
        ({"grades": ["attaché"] * 21}, "grades", "20"),
        ({"documents_required": [""]}, "documents_required.0", ""),
        ({"domain": "astronautique"}, "domain", "numerique"),
        ({"contract_reason": "caprice"}, "contract_reason", "remplacement"),
        ({"start_precision": "month", "start_date": None}, "body", "start_precision month"),
        ({"expires_at": "2027-01-15T18:00:00"}, "expires_at", "time zone"),
    ],
)
async def test_their_bounds_are_422_naming_the_field_on_every_route(
    client: httpx.AsyncClient,
    key: dict[str, str],
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    body = offer_body(**changes)
    posted = await client.post("/v1/offers", json=body, headers=key)
    existing = await client.post("/v1/offers", json=offer_body(), headers=key)
    patched = await client.patch(f"/v1/offers/{existing.json()['id']}", json=changes, headers=key)
    put = await client.put(f"{LABO}/BORNE-1", json={**body, "reference": None}, headers=key)
    for response in (posted, patched, put):
        assert response.status_code == 422, response.text
        assert field in [error["field"] for error in response.json()["errors"]], response.text
        assert words in response.text
    report = await upload(client, key, json.dumps([body]).encode(), "application/json")
    assert report.status_code == 422, report.text
    # A rule across fields names the row there, as it names the body above.
    row_field = "row" if field == "body" else field
    assert row_field in [error["field"] for error in report.json()["errors"]], report.text


# CSV as French spreadsheets write it -------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"Type de contrat": "CDD", "duration_months": "12"}, {"contract_type": "cdd"}),
        ({"contrat": "  service CIVIQUE "}, {"contract_type": "service_civique"}),
        ({"contract_type": "Alternance"}, {"contract_type": "alternance"}),
        ({"Télétravail": "Télétravail partiel"}, {"remote": "partial"}),
        ({"remote": "TELETRAVAIL COMPLET"}, {"remote": "full"}),
        ({"working_time": "temps PARTIEL"}, {"working_time": "part_time"}),
        ({"Domaine": "Numerique, donnees, systemes d’information"}, {"domain": "numerique"}),
        ({"versant": "Fonction publique territoriale"}, {"versant": "fpt"}),
        ({"categorie": "catégorie b"}, {"categorie": "B"}),
        ({"education_level": "Niveau 5"}, {"education_level": "niveau_5"}),
        (
            {"Motif du contrat": "accroissement temporaire d'activité"},
            {"contract_reason": "accroissement"},
        ),
        ({"Précision du début": "Dès que possible"}, {"start_precision": "asap"}),
        ({"Statut": "Publiée"}, {"status": "published"}),
        (
            {"salary_basis": "BRUT", "salary_period": "par an", "salaire_min": "32000"},
            {"salary_basis": "gross", "salary_period": "year", "salary_min": 32000},
        ),
        (
            {"apply_via": "Candidature par e-mail", "apply_email": "rh@le-labo.fr"},
            {"apply_via": "email"},
        ),
        (
            {"Langues": "EN:b2 | es:Langue maternelle"},
            {"languages": [{"code": "en", "level": "B2"}, {"code": "es", "level": "native"}]},
        ),
        ({"salary_period": "hour", "salary_min": "3,90"}, {"salary_min": 3.9}),
        ({"salary_period": "month", "Salaire max": "2 600 €"}, {"salary_max": 2600}),
        ({"salary_period": "month", "salary_max": "2\u00a0600,50 EUR"}, {"salary_max": 2600.5}),
        ({"Heures par semaine": "10h30"}, {"hours_per_week": 10.5}),
        ({"hours_per_week": "35h"}, {"hours_per_week": 35}),
        ({"hours_per_week": "17,5"}, {"hours_per_week": 17.5}),
        ({"Contact e-mail": "rh@le-labo.fr"}, {"contact": {"email": "rh@le-labo.fr"}}),
        ({"Avantages": "IFSE;;  CIA ;"}, {"benefits": ["IFSE", "CIA"]}),
    ],
)
async def test_csv_cells_in_french_are_read_as_their_values(
    client: httpx.AsyncClient, key: dict[str, str], cells: dict[str, str], expected: dict[str, Any]
) -> None:
    row = base_cells("FR-1", **cells)
    if "apply_via" in cells:
        del row["apply_url"]
    report = await upload(client, key, spreadsheet([row]), "text/csv")
    assert report.status_code == 200, report.text
    offer = await public(client, "FR-1")
    assert {name: offer[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"contract_type": "Contrat aidé"}, "contract_type"),
        ({"domain": "Numérique et données"}, "domain"),
        ({"salary_period": "month", "salary_min": "2 600 € brut"}, "salary_min"),
        ({"salary_period": "month", "salary_min": "2,605"}, "salary_min"),
        ({"hours_per_week": "10h20"}, "hours_per_week"),
        ({"hours_per_week": "10h75"}, "hours_per_week"),
        ({"hours_per_week": "49h"}, "hours_per_week"),
        ({"languages": "anglais"}, "languages.0.level"),
        ({"languages": "en:B3"}, "languages.0.level"),
        ({"Contact e-mail": "rh@"}, "contact.email"),
        ({"Fin de publication": "15/01/2027"}, "expires_at"),
    ],
)
async def test_csv_cells_that_say_no_value_are_422_naming_the_field(
    client: httpx.AsyncClient, key: dict[str, str], cells: dict[str, str], field: str
) -> None:
    report = await upload(client, key, spreadsheet([base_cells("FR-2", **cells)]), "text/csv")
    assert report.status_code == 422, report.text
    assert field in [error["field"] for error in report.json()["errors"]], report.text


def test_a_label_shared_by_two_values_is_not_guessed() -> None:
    entries = (Entry("a", "Temps"), Entry("b", "Temps (plein)"), Entry("c", "Autre (temps)"))
    assert labels._codes_by_name(entries) == {
        "a": "a",
        "b": "b",
        "temps (plein)": "b",
        "c": "c",
        "autre (temps)": "c",
        "autre": "c",
    }


async def test_patch_with_null_clears_a_list_as_the_schema_says(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=offer_body(**FIELDS), headers=key)
    cleared = dict.fromkeys(LISTS)
    patched = await client.patch(f"/v1/offers/{created.json()['id']}", json=cleared, headers=key)
    assert patched.status_code == 200, patched.text
    assert all(patched.json()[name] == [] for name in LISTS)

"""Issue 15, operator item 6: the applications export opens in a spreadsheet set to French."""

import csv
import io

import httpx

from tests.applications.confirming import apply_confirmed
from tests.applications.conftest import World, letter
from tests.factories import bearer

BOM = b"\xef\xbb\xbf"
HEADER = (
    "id,created_at,status,first_name,last_name,email,phone,keep_for_future_offers,documents,erased"
)


async def export(client: httpx.AsyncClient, world: World, query: str = "") -> httpx.Response:
    return await client.get(
        f"/v1/offers/{world.offer.id}/applications.csv{query}", headers=bearer(world.recruiter)
    )


async def two_applications(client: httpx.AsyncClient, world: World) -> None:
    await apply_confirmed(
        client,
        world.offer.id,
        first_name="Anne;Marie",
        last_name='Dupont "la Grande"',
        email="anne@example.org",
        keep_for_future_offers="true",
    )
    await apply_confirmed(
        client, world.offer.id, first_name="Élodie", email="e@example.org", cover_letter=letter()
    )


async def test_excel_fr_is_semicolons_with_a_bom_and_oui_non(
    client: httpx.AsyncClient, world: World
) -> None:
    await two_applications(client, world)
    response = await export(client, world, "?dialect=excel-fr")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith(BOM)
    lines = body[len(BOM) :].decode("utf-8").split("\r\n")
    assert lines[0] == HEADER.replace(",", ";")
    # The separator inside a field is quoted, and so is a quote (doubled).
    assert ';"Anne;Marie";"Dupont ""la Grande""";anne@example.org;;oui;1;non' in lines[1]
    assert lines[2].endswith(";Élodie;Durand;e@example.org;;non;2;non")

    french = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))
    standard = await export(client, world)
    english = list(csv.reader(io.StringIO(standard.content.decode("utf-8-sig"), newline="")))
    as_french = {"True": "oui", "False": "non"}
    assert french == [[as_french.get(cell, cell) for cell in row] for row in english]
    assert [row[3] for row in french[1:]] == ["Anne;Marie", "Élodie"]


async def test_the_standard_dialect_is_unchanged(client: httpx.AsyncClient, world: World) -> None:
    await two_applications(client, world)
    for query in ("", "?dialect=standard"):
        response = await export(client, world, query)
        assert response.status_code == 200, response.text
        assert response.content.startswith(BOM + HEADER.encode() + b"\r\n")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [row["keep_for_future_offers"] for row in rows] == ["True", "False"]
        assert rows[0]["first_name"] == "Anne;Marie"


async def test_an_unknown_dialect_or_parameter_is_422(
    client: httpx.AsyncClient, world: World
) -> None:
    wrong_value = await export(client, world, "?dialect=excel")
    assert wrong_value.status_code == 422
    assert [error["field"] for error in wrong_value.json()["errors"]] == ["dialect"]
    # A typo must not hand back the comma-separated file as if it were the French one.
    typo = await export(client, world, "?dialet=excel-fr")
    assert typo.status_code == 422
    assert [error["field"] for error in typo.json()["errors"]] == ["dialet"]

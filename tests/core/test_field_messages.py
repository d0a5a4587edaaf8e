"""Text and code checks run as patterns inside pydantic-core (app.core.fields); what a
user reads must still be the plain reason, never the regular expression."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.fields import message_of
from tests.factories import bearer, make_key, make_organisation, offer_body

UNKNOWN_DEPARTEMENT = (
    "unknown département: use an INSEE code such as 44, 75, 2A or 971 "
    "(see /v1/referentials/departements)"
)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": "Chargé\x00e de mission"}, "title", "must not contain control characters"),
        ({"title": "Chargée\nde mission"}, "title", "must be a single line"),
        ({"title": "Chargée\tde mission"}, "title", "must be a single line"),
        ({"city": "Lyon\x1b[31m"}, "city", "must not contain control characters"),
        ({"description": "ok\x00"}, "description", "must not contain control characters"),
        ({"departement": "99"}, "departement", UNKNOWN_DEPARTEMENT),
        ({"departement": "20"}, "departement", UNKNOWN_DEPARTEMENT),
        (
            {"region": "99"},
            "region",
            "unknown région: use an INSEE code (see /v1/referentials/regions)",
        ),
        ({"title": "x" * 201}, "title", "String should have at most 200 characters"),
    ],
)
async def test_a_refused_value_is_explained_in_plain_words(
    client: httpx.AsyncClient,
    session: AsyncSession,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    key = await make_key(session, "recruiter", await make_organisation(session, slug="etat-lin"))
    response = await client.post("/v1/offers", json=offer_body(**change), headers=bearer(key))

    assert response.status_code == 422, response.text
    assert {"field": field, "message": message} in response.json()["errors"]
    assert "\\x" not in response.text  # no pattern shown


async def test_texts_keep_their_line_breaks_and_codes_are_normalised(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    key = await make_key(session, "recruiter", await make_organisation(session, slug="etat-lin"))
    body = offer_body(
        title="  Chargée de mission  ",
        description="Première ligne\r\n\tseconde ligne",
        departement=" 2a ",
        postcode="20000",
        city="Ajaccio",
    )
    response = await client.post("/v1/offers", json=body, headers=bearer(key))

    assert response.status_code == 201, response.text
    offer = response.json()
    assert offer["title"] == "Chargée de mission"
    assert offer["description"] == "Première ligne\r\n\tseconde ligne"
    assert (offer["departement"], offer["region"]) == ("2A", "94")


async def test_a_bulk_row_and_a_query_say_the_same(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    key = await make_key(session, "recruiter", await make_organisation(session, slug="etat-lin"))
    rows = [offer_body(reference="R-1", departement="99", title="Deux\nlignes")]
    upload = await client.post("/v1/offers/bulk?dry_run=true", json=rows, headers=bearer(key))
    # mode=atomic: the dry run answers as the real run would, 422 with the report.
    assert upload.status_code == 422, upload.text
    assert {(error["field"], error["message"]) for error in upload.json()["errors"]} == {
        ("departement", UNKNOWN_DEPARTEMENT),
        ("title", "must be a single line"),
    }

    listing = await client.get("/v1/offers", params={"departement": "2C"})
    assert listing.status_code == 422
    assert listing.json()["errors"] == [{"field": "departement.0", "message": UNKNOWN_DEPARTEMENT}]


def test_no_message_names_a_python_type() -> None:
    upload = {
        "type": "value_error",
        "msg": "Value error, Expected UploadFile, received: <class 'str'>",
    }
    assert message_of(upload) == "must be a file"
    other = {"type": "value_error", "msg": "Value error, Expected Thing, received: <class 'int'>"}
    assert message_of(other) == "has the wrong type"

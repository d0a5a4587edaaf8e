from datetime import date, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.loader import GENERATED_COUNT, load_demo, load_seed_file, shift_to_today
from tests.factories import paris_today

TODAY = date(2026, 11, 22)


def _by_reference(items: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {item["reference"]: item for item in items}


def test_the_demo_file_keeps_the_original_dates() -> None:
    offers = _by_reference(load_seed_file()["offers"])
    ditp = offers["2024-17971"]
    assert ditp["published_at"].startswith("2025-04-18")  # type: ignore[attr-defined]
    assert ditp["deadline"] == "2025-05-22"
    assert ditp["start_date"] == "2025-06-01"
    assert offers["LABOESS-2023-PROJCOLL"]["deadline"] == "2023-07-17"


def test_shifting_keeps_intervals_and_opens_the_offer_today() -> None:
    for offer in load_seed_file()["offers"]:
        shifted = shift_to_today(offer, TODAY)
        before = datetime.fromisoformat(offer["published_at"]).date()
        after = datetime.fromisoformat(shifted["published_at"]).date()
        assert after < TODAY
        delta = after - before
        for field in ("deadline", "start_date"):
            if offer.get(field):
                moved = date.fromisoformat(shifted[field])
                assert moved - date.fromisoformat(offer[field]) == delta
        if offer.get("deadline"):
            assert date.fromisoformat(shifted["deadline"]) >= TODAY


def test_shifting_moves_the_end_and_the_expiry_with_the_rest() -> None:
    offer = {
        "published_at": "2024-03-01T09:00:00+00:00",
        "deadline": "2024-03-31",
        "start_date": "2024-04-15",
        "end_date": "2024-10-14",
        "expires_at": "2024-04-01T00:00:00+02:00",
    }
    shifted = shift_to_today(offer, TODAY)
    delta = datetime.fromisoformat(shifted["published_at"]) - datetime.fromisoformat(
        offer["published_at"]
    )
    assert date.fromisoformat(shifted["end_date"]) - date.fromisoformat("2024-10-14") == delta
    expires_at = datetime.fromisoformat(shifted["expires_at"])
    assert expires_at - datetime.fromisoformat(offer["expires_at"]) == delta
    assert expires_at.date() > TODAY


async def test_the_api_serves_the_seed_offers_with_their_facts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisations, offers = await load_demo(session, paris_today())
    assert organisations == 8
    assert offers == 4 + GENERATED_COUNT >= 34

    items: list[dict[str, object]] = []
    url: str | None = "/v1/offers?limit=100"
    while url:
        body = (await client.get(url)).json()
        items += body["items"]
        url = f"/v1/offers?limit=100&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len(items) == offers
    listed = _by_reference(items)

    nsp = listed["NSP-2025-PREFIG"]
    assert nsp["organisation"]["slug"] == "nos-services-publics"  # type: ignore[index]
    assert (nsp["contract_type"], nsp["duration_months"]) == ("cdd", 6)
    assert (nsp["salary_min"], nsp["salary_period"], nsp["salary_basis"]) == (
        3500,
        "month",
        "gross",
    )
    assert nsp["apply_email"] == "collectif@nosservicespublics.fr"
    assert nsp["remote"] == "partial"

    stage = listed["27R-2020-STAGE-AGP"]
    assert (stage["contract_type"], stage["duration_months"]) == ("stage", 6)
    assert stage["duration_months_min"] == 4
    assert (stage["salary_min"], stage["salary_period"]) == (3.9, "hour")
    assert (stage["postcode"], stage["departement"]) == ("75020", "75")

    ditp = listed["2024-17971"]
    assert (ditp["contract_type"], ditp["versant"], ditp["categorie"]) == (
        "fonctionnaire",
        "fpe",
        "A",
    )
    assert ditp["open_to_contractuels"] is True
    assert (ditp["city"], ditp["departement"], ditp["region"]) == ("Nantes", "44", "52")
    assert ditp["apply_via"] == "url"
    deadline = date.fromisoformat(str(ditp["deadline"]))
    start = date.fromisoformat(str(ditp["start_date"]))
    published = datetime.fromisoformat(str(ditp["published_at"])).date()
    assert (deadline - published, start - deadline) == (timedelta(days=34), timedelta(days=10))
    assert deadline >= paris_today()

    labo = listed["LABOESS-2023-PROJCOLL"]
    assert (labo["contract_type"], labo["duration_months"]) == ("cdd", 12)
    assert (labo["remote"], labo["remote_days_per_week"]) == ("partial", 2)
    assert "négocier" in str(labo["salary_text"])

    contract_types = {item["contract_type"] for item in items}
    departements = {item["departement"] for item in items}
    assert len(contract_types) >= 8
    assert len(departements) >= 10


async def test_a_partner_mirrors_the_demo_through_the_change_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await load_demo(session, paris_today())
    seen: set[str] = set()
    cursor = ""
    while True:
        page = (await client.get(f"/v1/offers/changes?limit=100&cursor={cursor}")).json()
        if not page["items"]:
            break
        seen |= {item["offer_id"] for item in page["items"] if item["change"] == "created"}
        cursor = page["next_cursor"]
    listed = (await client.get("/v1/offers?limit=100")).json()["items"]
    assert seen == {item["id"] for item in listed}

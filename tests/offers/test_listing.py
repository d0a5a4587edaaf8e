"""The list's filters, sort orders and facets, alone and with `q`, on both engines."""

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import Offer
from tests.factories import make_offer, make_organisation, paris_today


async def ids(client: httpx.AsyncClient, **params: Any) -> set[str]:
    response = await client.get("/v1/offers", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def id_set(*offers: Offer) -> set[str]:
    return {str(offer.id) for offer in offers}


@pytest.fixture
async def catalogue(session: AsyncSession) -> dict[str, Offer]:
    """Offers spread over every filtered field, with the seeds' facts where they fit."""
    etat = await make_organisation(
        session, slug="etat-lin", name="Etat'LIN", kind="administration_etat"
    )
    labo = await make_organisation(
        session,
        slug="le-labo-de-l-ess",
        name="Le Labo de l'ESS",
        kind="think_tank",
        departement="75",
        region="11",
    )
    region27 = await make_organisation(
        session, slug="la-27e-region", name="La 27e Région", kind="association"
    )
    now = datetime.now(UTC)
    today = paris_today()
    return {
        # The DITP's offer: fonction publique d'État, catégorie A, Nantes.
        "ditp": await make_offer(
            session,
            etat,
            title="Chef de projets innovation et transformation publique H/F",
            contract_type="fonctionnaire",
            duration_months=None,
            versant="fpe",
            categorie="A",
            remote="partial",
            departement="44",
            region="52",
            published_at=now - timedelta(days=20),
            deadline=today + timedelta(days=3),
        ),
        # Nos services publics: 3,500 € gross a month, remote.
        "nsp": await make_offer(
            session,
            labo,
            title="Chargé·e de préfiguration",
            salary_min=3500,
            salary_max=3500,
            salary_period="month",
            salary_basis="gross",
            remote="full",
            departement=None,
            region=None,
            published_at=now - timedelta(days=2),
        ),
        # La 27e Région's internship: 540 € a month, Paris.
        "stage": await make_offer(
            session,
            region27,
            title="Assistant·e gestion de projet",
            contract_type="stage",
            duration_months=6,
            salary_min=540,
            salary_max=540,
            salary_period="month",
            departement="75",
            region="11",
            published_at=now - timedelta(days=10),
            deadline=today + timedelta(days=40),
        ),
        # Hourly and yearly pay, net and gross, compare as monthly gross.
        "hourly": await make_offer(
            session,
            region27,
            title="Animateur·ice périscolaire",
            salary_min=14,
            salary_max=16,
            salary_period="hour",
            salary_basis="gross",
            departement="35",
            region="53",
            published_at=now - timedelta(days=1),
            deadline=today + timedelta(days=10),
        ),
        "yearly_net": await make_offer(
            session,
            labo,
            title="Chargé·e des projets collectifs",
            contract_type="cdi",
            duration_months=None,
            salary_min=30000,
            salary_max=33000,
            salary_period="year",
            salary_basis="net",
            departement="75",
            region="11",
            remote="partial",
            published_at=now - timedelta(hours=5),
        ),
        "territoriale": await make_offer(
            session,
            etat,
            title="Agent·e de médiation",
            contract_type="fonctionnaire",
            duration_months=None,
            versant="fpt",
            categorie="C",
            departement="2A",
            region="94",
            published_at=now - timedelta(days=40),
            deadline=today,
        ),
    }


async def test_each_new_filter_alone(
    client: httpx.AsyncClient, catalogue: dict[str, Offer]
) -> None:
    c = catalogue
    assert await ids(client, region="11") == id_set(c["stage"], c["yearly_net"])
    assert await ids(client, region=["52", "94"]) == id_set(c["ditp"], c["territoriale"])
    assert await ids(client, organisation_kind="administration_etat") == id_set(
        c["ditp"], c["territoriale"]
    )
    assert await ids(client, organisation_kind=["think_tank", "association"]) == id_set(
        c["nsp"], c["stage"], c["hourly"], c["yearly_net"]
    )
    assert await ids(client, versant="fpe") == id_set(c["ditp"])
    assert await ids(client, versant=["fpe", "fpt"]) == id_set(c["ditp"], c["territoriale"])
    assert await ids(client, categorie="A") == id_set(c["ditp"])
    assert await ids(client, categorie=["A", "C"]) == id_set(c["ditp"], c["territoriale"])


@pytest.mark.parametrize(
    ("salary_min", "expected"),
    [
        # Hourly: 16 € × 151.67 h = 2,426.72 €; yearly net: 33,000 / 12 / 0.78 = 3,525.64 €.
        (0, {"nsp", "stage", "hourly", "yearly_net"}),
        (540, {"nsp", "stage", "hourly", "yearly_net"}),
        (541, {"nsp", "hourly", "yearly_net"}),
        (2426, {"nsp", "hourly", "yearly_net"}),
        (2427, {"nsp", "yearly_net"}),
        (3500, {"nsp", "yearly_net"}),
        (3501, {"yearly_net"}),
        (3525, {"yearly_net"}),
        (3526, set()),
    ],
)
async def test_salary_min_compares_monthly_gross_pay(
    client: httpx.AsyncClient, catalogue: dict[str, Offer], salary_min: int, expected: set[str]
) -> None:
    found = await ids(client, salary_min=salary_min)
    assert found == id_set(*(catalogue[name] for name in expected))


async def test_published_since_and_deadline_after(
    client: httpx.AsyncClient, catalogue: dict[str, Offer]
) -> None:
    c = catalogue
    now = datetime.now(UTC)
    since = (now - timedelta(days=3)).isoformat()
    assert await ids(client, published_since=since) == id_set(
        c["nsp"], c["hourly"], c["yearly_net"]
    )
    # A date alone is midnight in Paris.
    day = (paris_today() - timedelta(days=10)).isoformat()
    assert await ids(client, published_since=day) == id_set(
        c["nsp"], c["stage"], c["hourly"], c["yearly_net"]
    )
    today = paris_today()
    # Still open on that day: deadline on or after it, or no deadline.
    assert await ids(client, deadline_after=(today + timedelta(days=10)).isoformat()) == id_set(
        c["nsp"], c["stage"], c["hourly"], c["yearly_net"]
    )
    assert await ids(client, deadline_after=(today + timedelta(days=11)).isoformat()) == id_set(
        c["nsp"], c["stage"], c["yearly_net"]
    )


async def test_filters_combine_with_each_other_and_with_q(
    client: httpx.AsyncClient, catalogue: dict[str, Offer]
) -> None:
    c = catalogue
    assert await ids(client, region="11", salary_min=1000) == id_set(c["yearly_net"])
    assert await ids(client, organisation_kind="administration_etat", categorie="C") == id_set(
        c["territoriale"]
    )
    assert await ids(client, q="projet") == id_set(c["ditp"], c["stage"], c["yearly_net"])
    assert await ids(client, q="projet", region="11") == id_set(c["stage"], c["yearly_net"])
    assert await ids(client, q="projet", contract_type="cdi", remote="partial") == id_set(
        c["yearly_net"]
    )
    assert await ids(client, q="projet", versant="fpe", deadline_after=date.max.isoformat()) == (
        set()
    )


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("region", "99", "/v1/referentials/regions"),
        ("organisation_kind", "ngo", "association"),
        ("versant", "fpx", "fpe"),
        ("categorie", "D", "A+"),
        ("sort", "salary", "deadline"),
        ("salary_min", "-1", "greater than or equal to 0"),
        ("salary_min", "beaucoup", "integer"),
        ("published_since", "hier", "should match pattern"),
        # Unix times are not dates, whatever lax parsers think.
        ("published_since", "0.5", "should match pattern"),
        ("published_since", "2026-02-30", "datetime"),
        ("deadline_after", "0", "should match pattern"),
        ("published_since", "0001-01-01T00:00:00+14:00", "range"),
        ("deadline_after", "2026-13-01", "date"),
        ("facets", "salary", "contract_type"),
        ("facets", "contract_type,,remote", "contract_type"),
    ],
)
async def test_unknown_values_are_refused_with_the_accepted_ones(
    client: httpx.AsyncClient, name: str, value: str, accepted: str
) -> None:
    response = await client.get("/v1/offers", params={name: value})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert accepted in response.text


async def test_sort_by_deadline_soonest_first_then_offers_without_one(
    client: httpx.AsyncClient, catalogue: dict[str, Offer]
) -> None:
    c = catalogue
    expected = [
        str(offer.id)
        for offer in sorted(
            c.values(), key=lambda offer: (offer.deadline or date.max, str(offer.id))
        )
    ]
    assert [str(c[name].id) for name in ("territoriale", "ditp", "hourly", "stage")] == (
        expected[:4]
    )

    seen: list[str] = []
    params: dict[str, Any] = {"sort": "deadline", "limit": 2}
    while True:
        page = await client.get("/v1/offers", params=params)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == expected


FACETS = ("contract_type", "departement", "region", "remote", "organisation_kind", "versant")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "projet"},
        {"region": "11"},
        {"contract_type": "fonctionnaire", "remote": "partial"},
        {"q": "chargé·e", "organisation_kind": "think_tank"},
    ],
)
async def test_facets_equal_the_counts_of_the_filtered_list(
    client: httpx.AsyncClient, catalogue: dict[str, Offer], params: dict[str, str]
) -> None:
    response = await client.get(
        "/v1/offers", params={**params, "facets": ",".join(FACETS), "limit": 1}
    )
    assert response.status_code == 200, response.text
    facets = response.json()["facets"]
    assert set(facets) == set(FACETS)

    every_offer = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    for facet in FACETS:
        # A facet counts under every filter but its own: each count is the size of the
        # list with that value chosen instead.
        others = {name: value for name, value in params.items() if name != facet}
        possible = {_facet_value(item, facet) for item in every_offer} - {None}
        expected = {}
        for value in possible:
            count = len(await ids(client, **others, **{facet: value}))
            if count:
                expected[value] = count
        assert facets[facet] == expected, facet
        # Largest count first, as a filter panel lists them.
        assert list(facets[facet].values()) == sorted(facets[facet].values(), reverse=True)


def _facet_value(item: dict[str, Any], facet: str) -> str | None:
    if facet == "organisation_kind":
        return str(item["organisation"]["kind"])
    value = item[facet]
    return None if value is None else str(value)


async def test_facets_only_when_asked_and_only_those_asked(
    client: httpx.AsyncClient, catalogue: dict[str, Offer]
) -> None:
    plain = await client.get("/v1/offers")
    assert "facets" not in plain.json()

    some = await client.get("/v1/offers", params={"facets": "remote,contract_type,remote"})
    assert some.status_code == 200
    assert some.json()["facets"] == {
        "remote": {"none": 3, "partial": 2, "full": 1},
        "contract_type": {"cdd": 2, "fonctionnaire": 2, "cdi": 1, "stage": 1},
    }


async def test_many_offers_count_right_in_facets(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    kinds = itertools.cycle(["cdd", "cdd", "cdi", "stage"])
    for _ in range(30):
        contract = next(kinds)
        await make_offer(
            session,
            organisation,
            contract_type=contract,
            duration_months=None if contract == "cdi" else 6,
        )

    facets = (await client.get("/v1/offers", params={"facets": "contract_type"})).json()
    assert facets["facets"] == {"contract_type": {"cdd": 16, "cdi": 7, "stage": 7}}
    assert len(facets["items"]) == 20

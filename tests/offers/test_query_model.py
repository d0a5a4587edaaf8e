"""The query model is the one declaration of the public filters: every field of it is
honoured by the list, by the facets and by every feed. The cases are derived from the model,
so a field added to it without an example here, or without its SQL, fails."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers import listing
from app.offers.models import Offer
from app.offers.query import Facet, OfferFilters, OfferQuery
from tests.factories import make_offer, make_organisation, paris_today
from tests.syndication.test_feeds import FEEDS, feed_ids


@dataclass(frozen=True)
class Case:
    """Two open offers that differ in one filtered field, and the value that keeps only
    the first."""

    value: Callable[[], str]
    matching: Callable[[], dict[str, Any]]
    other: Callable[[], dict[str, Any]] = dict
    matching_organisation: dict[str, Any] = field(default_factory=dict)
    other_organisation: dict[str, Any] = field(default_factory=dict)


def _hours_ago(hours: int) -> dict[str, Any]:
    return {"published_at": datetime.now(UTC) - timedelta(hours=hours)}


# One example per field of OfferFilters: the test below refuses a field without one.
FILTER_CASES: dict[str, Case] = {
    "q": Case(lambda: "jardinier", lambda: {"title": "Jardinier·e des communs"}),
    "contract_type": Case(
        lambda: "stage",
        lambda: {"contract_type": "stage", "duration_months": 6},
        lambda: {"contract_type": "cdd"},
    ),
    "departement": Case(
        lambda: "75",
        lambda: {"departement": "75", "region": "11"},
        lambda: {"departement": "44", "region": "52"},
    ),
    "region": Case(
        lambda: "11",
        lambda: {"departement": None, "region": "11"},
        lambda: {"departement": None, "region": "52"},
    ),
    "organisation": Case(
        lambda: "le-labo",
        dict,
        matching_organisation={"slug": "le-labo"},
        other_organisation={"slug": "etat-lin"},
    ),
    "organisation_kind": Case(
        lambda: "think_tank",
        dict,
        matching_organisation={"kind": "think_tank"},
        other_organisation={"kind": "association"},
    ),
    "remote": Case(lambda: "full", lambda: {"remote": "full"}, lambda: {"remote": "none"}),
    "versant": Case(lambda: "fpt", lambda: {"versant": "fpt"}, lambda: {"versant": "fpe"}),
    "categorie": Case(lambda: "B", lambda: {"categorie": "B"}, lambda: {"categorie": None}),
    "domain": Case(
        lambda: "environnement", lambda: {"domain": "environnement"}, lambda: {"domain": "sante"}
    ),
    "salary_min": Case(
        lambda: "2000",
        lambda: {"salary_min": 2500, "salary_max": 3000, "salary_period": "month"},
        lambda: {"salary_min": 1500, "salary_max": 1800, "salary_period": "month"},
    ),
    "published_since": Case(
        lambda: (paris_today() - timedelta(days=2)).isoformat(),
        lambda: _hours_ago(1),
        lambda: _hours_ago(24 * 10),
    ),
    "deadline_after": Case(
        lambda: (paris_today() + timedelta(days=10)).isoformat(),
        lambda: {"deadline": paris_today() + timedelta(days=30)},
        lambda: {"deadline": paris_today() + timedelta(days=3)},
    ),
}
# The list's own fields, beyond the filters: here the first offer comes first only with
# the value, as the other is the newer one.
LIST_CASES: dict[str, Case] = {
    "sort": Case(
        lambda: "deadline",
        lambda: {"deadline": paris_today() + timedelta(days=3), **_hours_ago(5)},
        lambda: {"deadline": paris_today() + timedelta(days=30), **_hours_ago(1)},
    ),
}


def test_every_field_of_the_query_model_has_a_case() -> None:
    assert set(FILTER_CASES) == set(OfferFilters.model_fields)
    assert set(LIST_CASES) == set(OfferQuery.model_fields) - set(OfferFilters.model_fields)


def test_every_filter_has_its_sql_and_every_facet_is_a_filter() -> None:
    assert set(listing._CONDITIONS) | {listing._SEARCH} == set(OfferFilters.model_fields)
    assert {facet.value for facet in Facet} <= set(OfferFilters.model_fields)


# Facets whose column no offer leaves empty, so that each of both offers counts.
SET_ON_EVERY_OFFER = (Facet.contract_type, Facet.remote, Facet.organisation_kind)


async def _seed(session: AsyncSession, case: Case) -> tuple[Offer, Offer]:
    matching_organisation = await make_organisation(session, **case.matching_organisation)
    other_organisation = await make_organisation(session, **case.other_organisation)
    # The other offer is the newer one, so that order never explains a result.
    matching = await make_offer(session, matching_organisation, **(_hours_ago(3) | case.matching()))
    other = await make_offer(session, other_organisation, **(_hours_ago(2) | case.other()))
    return matching, other


async def _list_ids(client: httpx.AsyncClient, query: dict[str, str]) -> list[str]:
    response = await client.get("/v1/offers", params=query)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def _facet_total(client: httpx.AsyncClient, facet: Facet, query: dict[str, str]) -> int:
    response = await client.get("/v1/offers", params={**query, "facets": facet.value})
    assert response.status_code == 200, response.text
    return sum(response.json()["facets"][facet.value].values())


@pytest.mark.parametrize("name", list(OfferFilters.model_fields))
async def test_each_filter_narrows_the_list_the_facets_and_every_feed(
    client: httpx.AsyncClient, session: AsyncSession, name: str
) -> None:
    case = FILTER_CASES[name]
    matching, other = await _seed(session, case)
    both = {str(matching.id), str(other.id)}
    query = {name: case.value()}

    assert set(await _list_ids(client, {})) == both
    assert await _list_ids(client, query) == [str(matching.id)]

    # Facets count under every filter but their own: another facet narrows to one offer.
    for facet in (facet for facet in SET_ON_EVERY_OFFER if facet.value != name):
        assert await _facet_total(client, facet, {}) == 2, facet
        assert await _facet_total(client, facet, query) == 1, facet

    for kind in FEEDS:
        assert set(await feed_ids(client, kind)) == both, kind
        assert await feed_ids(client, kind, urlencode(query)) == [str(matching.id)], kind


@pytest.mark.parametrize("name", list(LIST_CASES))
async def test_each_list_field_orders_the_list(
    client: httpx.AsyncClient, session: AsyncSession, name: str
) -> None:
    case = LIST_CASES[name]
    matching, other = await _seed(session, case)

    assert await _list_ids(client, {}) == [str(other.id), str(matching.id)]
    assert await _list_ids(client, {name: case.value()}) == [str(matching.id), str(other.id)]

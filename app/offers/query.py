"""What a client asks of the open offers: the filters and the sort, declared once.

``OfferFilters`` is read from the query string, as one model, by the list, its facets and
every feed (and later by saved searches); ``OfferQuery`` adds the list's sort. Each field
is one query parameter: its type, constraints and description here are the OpenAPI spec's.
``listing`` turns each field into SQL through a table keyed by the field's name, and
checks at import that every field has its entry: adding a filter is one field here and one
entry there.
"""

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict

from app.core.clock import zone_of
from app.core.errors import FieldError, Unprocessable
from app.core.fields import ID_OR_SLUG_PATTERN
from app.core.types import in_storable_range
from app.referentials.enums import (
    Categorie,
    ContractType,
    Domain,
    OrganisationKind,
    RemoteMode,
    Versant,
)
from app.referentials.validation import DepartementCode, RegionCode
from app.search import query as search_query

# Salaries compare as monthly gross pay: 35 hours a week is 151.67 hours a month (the
# legal monthly duration in France), and net pay is about 78% of gross in the private
# sector (the usual rule of thumb; the public sector's ratio is a little higher).
HOURS_PER_MONTH = 151.67
NET_TO_GROSS = 0.78

# ISO 8601 only: pydantic's lax parsing would also take « 0.5 » as a Unix time.
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
ISO_MOMENT = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"


class OfferSort(StrEnum):
    relevance = "relevance"
    published_at = "published_at"
    deadline = "deadline"


class Facet(StrEnum):
    """What the list can count per value. Each is a filter of ``OfferFilters`` whose
    values are one column's (``listing`` checks it), and counts under every other filter."""

    contract_type = "contract_type"
    departement = "departement"
    region = "region"
    remote = "remote"
    organisation_kind = "organisation_kind"
    versant = "versant"
    categorie = "categorie"
    domain = "domain"


FACETS_PATTERN = "^({0})(,({0}))*$".format("|".join(facet.value for facet in Facet))


def _refused(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}.", errors=[FieldError(field=field, message=message)])


# Lists default to empty rather than null: `anyOf [array, null]` only adds noise to the
# spec, and clients see no difference.
class OfferFilters(BaseModel):
    """What narrows the open offers. Filters combine with AND; values of one filter with OR.

    Dates stay the strings the client sent (ISO 8601, checked by pattern); ``in_zone``
    checks them as dates and reads a moment without offset in the service's zone.
    """

    model_config = ConfigDict(frozen=True)

    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Words to find in the title, the description, the missions, the "
            "profile and the organisation's name. French-aware: case and accents do not "
            "matter, plurals and feminine forms find each other (« chargee de projets » "
            "finds « Chargé·e de projet »), inclusive spellings (« chargé·e », "
            "« animateur.rice ») match their plain forms. Every word must match; the "
            "last one also matches as the start of a word, for a search box queried as "
            "the person types (unless the text ends with a space). French stop words "
            "(« de », « la », …) are ignored; a `q` made only of them does not narrow "
            "the list.",
            examples=["chargé de projet", "transition ecologique"],
        ),
    ] = None
    contract_type: Annotated[
        Sequence[ContractType], Query(description="Repeatable: any of them.")
    ] = ()
    departement: Annotated[
        Sequence[DepartementCode],
        Query(description="INSEE code of the département; repeatable."),
    ] = ()
    region: Annotated[
        Sequence[RegionCode],
        Query(description="INSEE code of the région; repeatable."),
    ] = ()
    organisation: Annotated[
        Sequence[Annotated[str, Query(min_length=1, max_length=80, pattern=ID_OR_SLUG_PATTERN)]],
        Query(description="The organisation's id or slug; repeatable."),
    ] = ()
    organisation_kind: Annotated[
        Sequence[OrganisationKind],
        Query(description="The organisation's kind; repeatable."),
    ] = ()
    remote: Annotated[Sequence[RemoteMode], Query(description="Repeatable.")] = ()
    versant: Annotated[
        Sequence[Versant],
        Query(
            description="Versant of the fonction publique (État, territoriale, hospitalière); "
            "repeatable. Offers outside the fonction publique have none.",
        ),
    ] = ()
    categorie: Annotated[
        Sequence[Categorie],
        Query(description="Catégorie of the fonction publique; repeatable."),
    ] = ()
    domain: Annotated[
        Sequence[Domain],
        Query(description="Field of work (`/v1/referentials/domains`); repeatable."),
    ] = ()
    salary_min: Annotated[
        int | None,
        Query(
            ge=0,
            le=1_000_000,
            description="Least monthly gross pay, in euros. Offers compare on the top of "
            f"their range (or their only amount) as monthly gross pay: hourly amounts × "
            f"{HOURS_PER_MONTH} (35 hours a week), yearly amounts ÷ 12, net amounts "
            f"÷ {NET_TO_GROSS}. Offers that state no amount are left out.",
        ),
    ] = None
    published_since: Annotated[
        str | None,
        Query(
            pattern=ISO_MOMENT,
            description="Published at or after this moment (ISO 8601). A date alone or a "
            "time without offset is read in the service's time zone (Europe/Paris).",
        ),
    ] = None
    deadline_after: Annotated[
        str | None,
        Query(
            pattern=ISO_DATE,
            description="Still open to applications on this day: deadline on or after it, "
            "or no deadline.",
        ),
    ] = None

    @cached_property
    def search(self) -> search_query.SearchQuery | None:
        """``q`` as the search engines read it; None when it has nothing to search."""
        return search_query.parse(self.q) if self.q else None

    def in_zone(self, zone: ZoneInfo) -> "OfferFilters":
        """Checked as dates, with ``published_since`` as an aware moment (in UTC), so that
        SQL reads both without knowing the zone; 422 on a date that does not exist."""
        update: dict[str, Any] = {}
        if self.published_since is not None:
            try:
                moment = datetime.fromisoformat(self.published_since)
                moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
                update["published_since"] = in_storable_range(moment).isoformat()
            except ValueError as error:
                raise _refused("published_since", f"not a valid datetime ({error})") from None
        if self.deadline_after is not None:
            try:
                date.fromisoformat(self.deadline_after)
            except ValueError as error:
                raise _refused("deadline_after", f"not a valid date ({error})") from None
        return self.model_copy(update=update) if update else self

    def without(self, name: str) -> "OfferFilters":
        """The same filters but one (a facet counts under every filter but its own)."""
        return self.model_copy(update={name: ()})


class OfferQuery(OfferFilters):
    """The list's question: the filters and the order of the answer."""

    sort: Annotated[
        OfferSort | None,
        Query(
            description="`relevance` (the default with `q`; without `q`, the same as "
            "`published_at`), `published_at` (newest first, the default without `q`) or "
            "`deadline` (closest deadline first, offers without one last).",
        ),
    ] = None


def effective_sort(sort: OfferSort | None, filters: OfferFilters) -> OfferSort:
    """Relevance when searching, newest first otherwise; without a query every offer is
    equally relevant, so `relevance` falls back to newest first."""
    if sort is None or sort == OfferSort.relevance:
        return OfferSort.relevance if filters.search is not None else OfferSort.published_at
    return sort


async def offer_filters(
    request: Request, filters: Annotated[OfferFilters, Query()]
) -> OfferFilters:
    """The filters of a feed, from the query string."""
    return filters.in_zone(zone_of(request))


async def offer_query(request: Request, query: Annotated[OfferQuery, Query()]) -> OfferQuery:
    """The filters and sort of the list, from the query string."""
    checked = query.in_zone(zone_of(request))
    assert isinstance(checked, OfferQuery)
    return checked


async def requested_facets(
    facets: Annotated[
        str | None,
        Query(
            pattern=FACETS_PATTERN,
            description="Comma-separated facets to count, among "
            + ", ".join(f"`{facet.value}`" for facet in Facet)
            + ". The body then has `facets`: for each one, the number of open offers per "
            "value under `q` and every other filter (a facet ignores its own filter, so "
            "a panel can show what choosing another value would give).",
            examples=["contract_type,departement,remote,organisation_kind"],
        ),
    ] = None,
) -> list[Facet]:
    if not facets:
        return []
    return list(dict.fromkeys(Facet(name) for name in facets.split(",")))

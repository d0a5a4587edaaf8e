"""A subscription's filters are the offer list's own query parameters (`departement=75`),
checked by the list's model, ``OfferFilters``, and matched by the list's own query
(``listing.matching_offers``): a filter means the same on `GET /v1/offers` and here.

They come as an object, a parameter's name to its value or its values, as the query
string would carry them; they are kept as the model reads them back, so that a later
change of zone or of spelling does not change what a subscription matches.
"""

from collections.abc import Mapping, Sequence
from typing import Any, get_origin
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from app.core.errors import FieldError, Unprocessable
from app.core.strict_query import UNKNOWN
from app.offers.query import OfferFilters

PREFIX = "filters."
# Full-text search is left out: bulk uploads index their offers after the commit (the
# search worker), so at the moment an event is fanned out its words are not yet
# searchable, and a subscription on `q` would miss them.
NOT_FILTERS = frozenset({"q"})
NAMES = [name for name in OfferFilters.model_fields if name not in NOT_FILTERS]
REPEATABLE = frozenset(
    name for name in NAMES if get_origin(OfferFilters.model_fields[name].annotation) is Sequence
)

FilterValue = str | int | list[str | int]


def checked(given: Mapping[str, Any] | None, zone: ZoneInfo) -> dict[str, Any]:
    """The filters as stored, or 422 naming each refused one as the list would."""
    if not given:
        return {}
    unknown = [name for name in given if name not in NAMES]
    if unknown:
        raise Unprocessable(
            "Unknown filter" + ("s" if len(unknown) > 1 else "") + f": {', '.join(unknown)}. "
            "Filters are the offer list's query parameters (GET /v1/offers), but for "
            "`q`, `sort`, `limit`, `cursor` and `facets`.",
            errors=[FieldError(field=PREFIX + name, message=UNKNOWN) for name in unknown],
        )
    values: dict[str, Any] = {}
    for name, value in given.items():
        # As they would come in a query string: text, one item per repetition; a filter
        # of one value given several times keeps the last, as the list does.
        texts = [str(item) for item in (value if isinstance(value, list) else [value])]
        if not texts:
            continue
        values[name] = texts if name in REPEATABLE else texts[-1]
    try:
        filters = OfferFilters.model_validate(values)
    except ValidationError as error:
        raise Unprocessable.from_validation(error, prefix=PREFIX) from None
    try:
        filters = filters.in_zone(zone)
    except Unprocessable as refused:
        for item in refused.errors or []:
            item.field = PREFIX + item.field
        raise
    stored: dict[str, Any] = filters.model_dump(mode="json", exclude_defaults=True)
    return stored


def offer_filters(stored: Mapping[str, Any]) -> OfferFilters:
    """The stored filters as the list's model, for ``listing.matching_offers``."""
    return OfferFilters.model_validate(dict(stored))

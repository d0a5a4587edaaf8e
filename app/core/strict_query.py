"""Lists refuse query parameters they do not declare.

A list ignoring a misspelt filter (``department=75`` for ``departement``) answers every
item, and the client takes the answer for a filtered one. The declared names are read
from the route's dependant, as FastAPI reads the query string and writes the OpenAPI
spec, so a parameter added to a route, or a field to a query model, is accepted at once.
"""

from collections.abc import Iterable

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

# How FastAPI itself expands a query model (`Annotated[OfferQuery, Query()]`) into one
# parameter per field: the same function builds the spec, so the names cannot drift.
from fastapi.dependencies.utils import _get_flat_fields_from_params
from fastapi.routing import APIRoute

from app.core.errors import FieldError, Unprocessable

UNKNOWN = "unknown query parameter"

# Kept on the route itself: routes compare by value, so no dict can key them, and an app
# built per test would otherwise leave its routes in a module-wide cache.
_ATTRIBUTE = "_vocation_declared_query"


def query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a dependant reads, its sub-dependencies' included, by the
    name the client sends (the alias)."""
    fields = []
    pending = [dependant]
    while pending:
        current = pending.pop()
        fields.extend(current.query_params)
        pending.extend(current.dependencies)
    return frozenset(field.alias for field in _get_flat_fields_from_params(fields))


def declared_query(route: APIRoute) -> frozenset[str]:
    names: frozenset[str] | None = getattr(route, _ATTRIBUTE, None)
    if names is None:
        names = query_names(route.dependant)
        setattr(route, _ATTRIBUTE, names)
    return names


def unknown_query(names: Iterable[str]) -> Unprocessable:
    unknown = list(names)
    return Unprocessable(
        "Unknown query parameter" + ("s" if len(unknown) > 1 else "") + ": "
        f"{', '.join(unknown)}. See this route's parameters in the OpenAPI description.",
        errors=[FieldError(field=name, message=UNKNOWN) for name in unknown],
    )


async def _reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = declared_query(route)
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        raise unknown_query(unknown)


# For a list route's `dependencies=`: it reads no parameter, so the spec is unchanged.
STRICT_QUERY = Depends(_reject_unknown_query)

"""Field types checked against the referentials (départements, régions).

Both are patterns listing every code, so that pydantic-core checks them without a Python
call (see app.core.fields); their messages are registered there."""

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.core.fields import register_pattern_message
from app.referentials.data import DEPARTEMENT_BY_CODE, DEPARTEMENTS, REGIONS


def _one_of(codes: list[str]) -> str:
    # Case-insensitive: « 2a » is read as « 2A » (to_upper comes after the pattern).
    return "^(?i:" + "|".join(re.escape(code) for code in codes) + ")$"


_DEPARTEMENT_PATTERN = register_pattern_message(
    _one_of([d.code for d in DEPARTEMENTS]),
    "unknown département: use an INSEE code such as 44, 75, 2A or 971 "
    "(see /v1/referentials/departements)",
)
_REGION_PATTERN = register_pattern_message(
    _one_of([r.code for r in REGIONS]),
    "unknown région: use an INSEE code (see /v1/referentials/regions)",
)


def _listed(codes: list[str], longest: int) -> Callable[[dict[str, Any]], None]:
    """The schema lists the codes; the pattern that checks them would only repeat it."""

    def edit(schema: dict[str, Any]) -> None:
        schema.pop("pattern", None)
        schema.update(enum=codes, maxLength=longest)

    return edit


DepartementCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=_DEPARTEMENT_PATTERN),
    Field(
        description="INSEE code of the département.",
        json_schema_extra=_listed([d.code for d in DEPARTEMENTS], 3),
    ),
]
RegionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=_REGION_PATTERN),
    Field(
        description="INSEE code of the région.",
        json_schema_extra=_listed([r.code for r in REGIONS], 2),
    ),
]


def region_of(departement: str) -> str:
    return DEPARTEMENT_BY_CODE[departement].region

"""Field types checked against the referentials (départements, régions)."""

from typing import Annotated

from pydantic import AfterValidator, Field

from app.referentials.data import DEPARTEMENT_BY_CODE, DEPARTEMENTS, REGION_BY_CODE, REGIONS


def _known_departement(code: str) -> str:
    code = code.strip().upper()
    if code not in DEPARTEMENT_BY_CODE:
        raise ValueError(
            "unknown département: use an INSEE code such as 44, 75, 2A or 971 "
            "(see /v1/referentials/departements)"
        )
    return code


def _known_region(code: str) -> str:
    code = code.strip()
    if code not in REGION_BY_CODE:
        raise ValueError("unknown région: use an INSEE code (see /v1/referentials/regions)")
    return code


DepartementCode = Annotated[
    str,
    AfterValidator(_known_departement),
    Field(
        max_length=3,
        description="INSEE code of the département.",
        json_schema_extra={"enum": [d.code for d in DEPARTEMENTS]},
    ),
]
RegionCode = Annotated[
    str,
    AfterValidator(_known_region),
    Field(
        max_length=2,
        description="INSEE code of the région.",
        json_schema_extra={"enum": [r.code for r in REGIONS]},
    ),
]


def region_of(departement: str) -> str:
    return DEPARTEMENT_BY_CODE[departement].region

"""/v1/referentials: the value lists front ends build their filters from, with French labels."""

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.core.errors import problem_responses
from app.core.http import cached_json
from app.referentials import data

router = APIRouter(prefix="/referentials", tags=["referentials"])

# They change only with a release: a day of caching costs nothing.
MAX_AGE = 86_400


class Value(BaseModel):
    code: str
    label: str


class RegionValue(Value):
    departements: list[str]


class DepartementValue(Value):
    region: str
    region_label: str


class ValueList(BaseModel):
    items: list[Value]


class RegionList(BaseModel):
    items: list[RegionValue]


class DepartementList(BaseModel):
    items: list[DepartementValue]


def _values(entries: tuple[data.Entry, ...]) -> ValueList:
    return ValueList(items=[Value(code=entry.code, label=entry.label) for entry in entries])


# Each list: its operation id, its summary and its entries.
_SIMPLE_LISTS: dict[str, tuple[str, str, tuple[data.Entry, ...]]] = {
    "contract-types": (
        "listContractTypes",
        "Contract types (`contract_type`)",
        data.CONTRACT_TYPES,
    ),
    "organisation-kinds": (
        "listOrganisationKinds",
        "Kinds of organisation (`kind`)",
        data.ORGANISATION_KINDS,
    ),
    "education-levels": (
        "listEducationLevels",
        "Education levels (`education_level`)",
        data.EDUCATION_LEVELS,
    ),
    "remote-modes": ("listRemoteModes", "Remote work (`remote`)", data.REMOTE_MODES),
    "working-times": ("listWorkingTimes", "Working time (`working_time`)", data.WORKING_TIMES),
    "salary-periods": (
        "listSalaryPeriods",
        "Salary periods (`salary_period`)",
        data.SALARY_PERIODS,
    ),
    "salary-bases": ("listSalaryBases", "Salary bases (`salary_basis`)", data.SALARY_BASES),
    "versants": ("listVersants", "Versants of the civil service (`versant`)", data.VERSANTS),
    "categories": ("listCategories", "Civil-service categories (`categorie`)", data.CATEGORIES),
    "apply-via": ("listApplyVia", "Ways to apply (`apply_via`)", data.APPLY_VIA),
    "contract-reasons": (
        "listContractReasons",
        "Reasons for a contract (`contract_reason`)",
        data.CONTRACT_REASONS,
    ),
    "start-precisions": (
        "listStartPrecisions",
        "How precise a start date is (`start_precision`)",
        data.START_PRECISIONS,
    ),
    "domains": ("listDomains", "Fields of work (`domain`)", data.DOMAINS),
    "language-levels": (
        "listLanguageLevels",
        "Levels of a required language (`languages[].level`)",
        data.LANGUAGE_LEVELS,
    ),
    "offer-statuses": ("listOfferStatuses", "Offer statuses (`status`)", data.OFFER_STATUSES),
}


def _simple_route(
    path: str, operation_id: str, summary: str, entries: tuple[data.Entry, ...]
) -> None:
    body = _values(entries)

    async def read(request: Request) -> Response:
        return cached_json(request, body, max_age=MAX_AGE)

    read.__name__ = "referential_" + path.replace("-", "_")
    router.add_api_route(
        f"/{path}",
        read,
        methods=["GET"],
        operation_id=operation_id,
        response_model=ValueList,
        summary=summary,
        responses=problem_responses(304),
    )


for _path, (_operation_id, _summary, _entries) in _SIMPLE_LISTS.items():
    _simple_route(_path, _operation_id, _summary, _entries)

_REGIONS = RegionList(
    items=[
        RegionValue(
            code=region.code,
            label=region.label,
            departements=[d.code for d in data.DEPARTEMENTS if d.region == region.code],
        )
        for region in data.REGIONS
    ]
)
_DEPARTEMENTS = DepartementList(
    items=[
        DepartementValue(
            code=d.code,
            label=d.label,
            region=d.region,
            region_label=data.REGION_BY_CODE[d.region].label,
        )
        for d in data.DEPARTEMENTS
    ]
)


@router.get(
    "/regions",
    operation_id="listRegions",
    response_model=RegionList,
    summary="Régions, with their départements",
    responses=problem_responses(304),
)
async def regions(request: Request) -> Response:
    return cached_json(request, _REGIONS, max_age=MAX_AGE)


@router.get(
    "/departements",
    operation_id="listDepartements",
    response_model=DepartementList,
    summary="The 101 départements, with their région",
    responses=problem_responses(304),
)
async def departements(request: Request) -> Response:
    return cached_json(request, _DEPARTEMENTS, max_age=MAX_AGE)

"""The hot reads write the JSON that the pydantic models would, byte for byte: rows laid
out by `reads.public_data` and written by pydantic-core, on the driver's own connection on
PostgreSQL, against `OfferPublic` and `OfferPage` built and serialised as before."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.offers import listing, reads
from app.offers.hot import HotReads
from app.offers.listing import OfferFacets, OfferPage
from app.offers.models import Offer, OfferPublic
from app.offers.query import Facet, OfferQuery
from tests.factories import bearer, make_key, make_offer, make_organisation, paris_today

TRICKY = 'Guillemets " et \\ barre, <script>alert("x")</script>, tab\tligne\n« é » — 🌍 \u2028'


def _reference(row: Any, today: date) -> OfferPublic:
    """An offer as the API built it before the hot reads: the row, reshaped and validated."""
    data = dict(row)
    data["organisation"] = {
        "id": data.pop("organisation_id"),
        "slug": data.pop("organisation_slug"),
        "name": data.pop("organisation_name"),
        "kind": data.pop("organisation_kind"),
    }
    data.pop("organisation_updated_at")
    data["status"] = reads.effective_status(
        data["status"], data["deadline"], data["expires_at"], today, datetime.now(UTC)
    )
    return OfferPublic.model_validate(data)


async def _references(session: AsyncSession, today: date) -> dict[str, OfferPublic]:
    rows = (await session.execute(reads._PUBLIC_SELECT)).mappings().all()
    return {str(row["id"]): _reference(row, today) for row in rows}


@pytest.fixture
async def seeded(session: AsyncSession) -> dict[str, Offer]:
    organisation = await make_organisation(
        session, slug="le-labo-de-l-ess", name=f"Le Labo de l'ESS {TRICKY}", kind="think_tank"
    )
    today = paris_today()
    return {
        # Every optional field set, with text that JSON must escape.
        "full": await make_offer(
            session,
            organisation,
            reference="2024-00042/a:b",
            title=f"Chargé·e de mission {TRICKY}"[:200],
            description=f"# Description\n\n{TRICKY}",
            missions=f"- {TRICKY}",
            profile="Profil\r\n\x7f",
            contract_type="cdd",
            duration_months=18,
            duration_months_min=12,
            working_time="part_time",
            working_time_percent=80,
            city="Saint-Denis",
            postcode="97400",
            departement="974",
            region="04",
            country="FR",
            remote="partial",
            remote_days_per_week=2,
            language="fr",
            salary_min=2_100.55,
            salary_max=2_600,
            salary_period="month",
            hours_per_week=17.5,
            benefits=["IFSE", "CIA", f"tickets restaurant {TRICKY}"],
            contract_reason="remplacement",
            grades=["attaché territorial", "ingénieur territorial"],
            domain="numerique",
            start_precision="month",
            expires_at=datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC),
            languages=[{"code": "en", "level": "B2"}, {"code": "de", "level": "native"}],
            contact={"name": f"Camille {TRICKY}", "phone": "01 23 45 67 89"},
            documents_required=["CV", "dernier arrêté de situation"],
            salary_basis="gross",
            salary_text="selon grille, « RIFSEEP »",
            versant="fpt",
            categorie="A+",
            open_to_contractuels=False,
            start_date=today + timedelta(days=40),
            start_text="dès que possible",
            end_date=today + timedelta(days=220),
            deadline=today + timedelta(days=30),
            education_level="niveau_7",
            experience_years_min=0,
            experience_years_max=4,
            positions=3,
            manages_team=True,
            address="20 avenue de Ségur",
            legal_basis="L332-8 2°",
            source_url="https://example.org/offres/42",
            apply_via="email",
            apply_email="recrutement@example.org",
            apply_url="https://example.org/offres/42?x=1&y=é",
            published_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            closed_at=datetime(2026, 1, 3, 4, 5, 6, 789, tzinfo=UTC),
        ),
        # As few fields as an offer may have.
        "minimal": await make_offer(
            session,
            organisation,
            reference=None,
            duration_months=None,
            city=None,
            postcode=None,
            departement=None,
            region=None,
        ),
        # Published, but its last day to apply has passed: it reads as closed.
        "expired": await make_offer(session, organisation, deadline=today - timedelta(days=1)),
        # Published, no deadline, but its end has come: closed too.
        "ended": await make_offer(
            session, organisation, expires_at=datetime.now(UTC) - timedelta(minutes=1)
        ),
    }


async def test_public_data_serialises_as_the_model(
    app: Any, session: AsyncSession, seeded: dict[str, Offer]
) -> None:
    today = paris_today()
    references = await _references(session, today)
    rows = await reads.fetch(app.state.database, reads._PUBLIC_SELECT, {})
    assert len(rows) == len(seeded)
    for row in rows:
        expected = references[str(row["id"])]
        data = reads.public_data(row, today)
        assert reads.dumps(data) == expected.model_dump_json().encode()
        assert OfferPublic.model_validate(data) == expected


async def test_detail_bytes_are_the_models(
    client: httpx.AsyncClient, session: AsyncSession, seeded: dict[str, Offer]
) -> None:
    references = await _references(session, paris_today())
    key = await make_key(session, "partner")
    for name, offer in seeded.items():
        expected = references[str(offer.id)].model_dump_json().encode()
        fast = await client.get(f"/v1/offers/{offer.id}")
        # With a token, the route answers rather than the fast lane: the same bytes.
        routed = await client.get(f"/v1/offers/{offer.id}", headers=bearer(key))
        assert fast.status_code == routed.status_code == 200, name
        assert fast.content == routed.content == expected, name
        assert fast.headers == routed.headers, name


async def test_the_fast_lane_keeps_cors_head_and_304(
    client: httpx.AsyncClient, session: AsyncSession, seeded: dict[str, Offer]
) -> None:
    path = f"/v1/offers/{seeded['full'].id}"
    origin = {"Origin": "https://partenaire.example"}
    got = await client.get(path, headers=origin)
    assert got.headers["access-control-allow-origin"] == "*"
    assert "ETag" in got.headers["access-control-expose-headers"]
    head = await client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(len(got.content))
    cached = await client.get(path, headers={"If-None-Match": got.headers["etag"]})
    assert cached.status_code == 304
    assert (await client.get(f"/v1/offers/{seeded['minimal'].id}x")).status_code == 404
    missing = await client.get("/v1/offers/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_the_fast_lane_is_rate_limited(
    settings: Settings, session: AsyncSession, seeded: dict[str, Offer]
) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_default": "2/minute"}))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            path = f"/v1/offers/{seeded['full'].id}"
            statuses = [(await client.get(path)).status_code for _ in range(3)]
    finally:
        await app.state.database.dispose()
    assert statuses == [200, 200, 429]


async def test_list_bytes_are_the_models(
    client: httpx.AsyncClient, session: AsyncSession, seeded: dict[str, Offer]
) -> None:
    references = await _references(session, paris_today())
    listed = [seeded["minimal"], seeded["full"]]  # newest first; the expired one is not open
    items = [references[str(offer.id)] for offer in listed]

    first = await client.get("/v1/offers", params={"limit": 1})
    page = OfferPage(items=items[:1], next_cursor=first.json()["next_cursor"])
    assert first.content == page.model_dump_json(exclude=listing.absent_facets([])).encode()

    rest = await client.get("/v1/offers", params={"cursor": page.next_cursor})
    page = OfferPage(items=items[1:], next_cursor=None)
    assert rest.content == page.model_dump_json(exclude=listing.absent_facets([])).encode()

    asked = [Facet.remote, Facet.contract_type, Facet.categorie]
    counted = await client.get("/v1/offers", params={"facets": "remote,contract_type,categorie"})
    facets = OfferFacets.model_validate(counted.json()["facets"])
    page = OfferPage(items=items, next_cursor=None, facets=facets)
    assert counted.content == page.model_dump_json(exclude=listing.absent_facets(asked)).encode()
    assert list(counted.json()["facets"]) == ["contract_type", "remote", "categorie"]


async def test_one_statement_per_shape_of_query() -> None:
    def statement(**fields: Any) -> Any:
        query = OfferQuery.model_validate(fields)
        return listing.page_statement(
            query, "postgresql", today=paris_today(), limit=20, cursor=None
        )

    first, params, _sort = statement(contract_type=["cdd"], departement=["75"])
    again, other_params, _sort = statement(contract_type=["cdi", "stage"], departement=["13"])
    assert first is again
    assert params["contract_type"] == ["cdd"]
    assert other_params["contract_type"] == ["cdi", "stage"]
    assert statement(contract_type=["cdd"])[0] is not first


async def test_a_row_read_on_the_driver_equals_one_read_through_sqlalchemy(
    app: Any, session: AsyncSession, seeded: dict[str, Offer]
) -> None:
    # The driver's own rows hold numerics as Decimal and JSONB as text, where SQLAlchemy's
    # types give floats and lists: laid out for the JSON, both are the same.
    today = paris_today()
    through_sqlalchemy = (await session.execute(reads._PUBLIC_SELECT)).mappings().all()
    on_driver = await reads.fetch(app.state.database, reads._PUBLIC_SELECT, {})
    assert sorted(reads.public_rows(on_driver, today), key=str) == sorted(
        reads.public_rows(through_sqlalchemy, today), key=str
    )


async def test_the_fast_lanes_answer_as_the_routes(
    client: httpx.AsyncClient, settings: Settings, seeded: dict[str, Offer]
) -> None:
    """Every request below, answered by an app without `HotReads` (the routes alone) and by
    the app (its lanes, where they apply): the same status, headers and bytes."""
    routes_only = create_app(settings)
    routes_only.user_middleware = [
        middleware for middleware in routes_only.user_middleware if middleware.cls is not HotReads
    ]
    full, minimal = seeded["full"].id, seeded["minimal"].id
    requests: list[tuple[str, dict[str, str]]] = [
        ("/v1/offers", {}),
        ("/v1/offers?limit=1", {}),
        ("/v1/offers?limit=1&contract_type=cdd&contract_type=stage&remote=partial", {}),
        ("/v1/offers?q=mission&sort=deadline", {}),
        ("/v1/offers?q=chargee%20de&limit=1&deadline_after=2000-01-01", {}),
        ("/v1/offers?published_since=2026-01-01&organisation=le-labo-de-l-ess", {}),
        ("/v1/offers?limit=101", {}),
        ("/v1/offers?limit=0", {}),
        ("/v1/offers?departement=99", {}),
        ("/v1/offers?cursor=garbage", {}),
        ("/v1/offers", {"Origin": "https://partenaire.example"}),
        (f"/v1/offers/{full}", {}),
        (f"/v1/offers/{minimal}", {"Accept": "application/ld+json"}),
        (f"/v1/offers/{seeded['expired'].id}", {"Origin": "https://partenaire.example"}),
        ("/v1/offers/00000000-0000-4000-8000-000000000000", {}),
    ]
    try:
        transport = httpx.ASGITransport(app=routes_only)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as routed:
            for path, headers in requests:
                lane, route = (
                    await client.get(path, headers=headers),
                    await routed.get(path, headers=headers),
                )
                assert lane.status_code == route.status_code, path
                assert lane.headers == route.headers, path
                assert lane.content == route.content, path
                if lane.status_code == 200:
                    following = {"If-None-Match": lane.headers["etag"], **headers}
                    assert (await client.get(path, headers=following)).status_code == 304, path
                    next_page = lane.headers.get("link")
                    if next_page:
                        target = next_page.split(">")[0].removeprefix("<http://testserver")
                        lane, route = await client.get(target), await routed.get(target)
                        assert lane.content == route.content, target
    finally:
        await routes_only.state.database.dispose()


async def test_plain_reads_take_the_lanes(
    client: httpx.AsyncClient, seeded: dict[str, Offer], monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[tuple[str, bool]] = []
    for name in ("_list", "_detail"):
        original = getattr(HotReads, name)

        async def spy(self: HotReads, *args: Any, _original: Any = original) -> Any:
            response = await _original(self, *args)
            answered.append((str(args[0].url.path), response is not None))
            return response

        monkeypatch.setattr(HotReads, name, spy)
    await client.get("/v1/offers", params={"contract_type": "cdd", "departement": "44"})
    await client.get("/v1/offers", params={"q": "mission", "limit": "5"})
    await client.get(f"/v1/offers/{seeded['full'].id}")
    await client.get("/v1/offers", params={"facets": "remote"})
    await client.get("/v1/offers", params={"salary_min": "beaucoup"})
    assert [taken for _path, taken in answered] == [True, True, True, False, False]

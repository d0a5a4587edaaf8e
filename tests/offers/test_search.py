"""`q`: French full-text search, the same cases on SQLite (FTS5) and PostgreSQL (tsvector)."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_offer, make_organisation


async def titles(client: httpx.AsyncClient, q: str, **params: str) -> list[str]:
    response = await client.get("/v1/offers", params={"q": q, "limit": "100", **params})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


@pytest.fixture
async def seeds(session: AsyncSession) -> Organisation:
    """Offers shaped like the seeds: their titles and organisations, our own words."""
    labo = await make_organisation(
        session, slug="le-labo-de-l-ess", name="Le Labo de l'ESS", kind="think_tank"
    )
    await make_offer(
        session,
        labo,
        title="Chargé·e des projets collectifs",
        description="Animer les dynamiques collectives de l'économie sociale et solidaire.",
    )
    await make_offer(
        session,
        labo,
        title="Animateur·ice de réseau territorial",
        description="Faire vivre un réseau d'acteurs engagés pour les transitions écologiques.",
    )
    await make_offer(
        session,
        labo,
        title="Chef de projets innovation et transformation publique H/F",
        description="Accompagner les services de l'État dans leurs projets de transformation.",
        missions="Conduire des ateliers avec les agents.",
    )
    await make_offer(
        session,
        labo,
        title="Comptable",
        description="Tenir la comptabilité de l'association.",
        profile="Une première expérience en cabinet est appréciée.",
    )
    return labo


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Accents and case.
        ("chargee de projets", "Chargé·e des projets collectifs"),
        ("CHARGÉE DES PROJETS", "Chargé·e des projets collectifs"),
        ("Chargé de projet", "Chargé·e des projets collectifs"),
        # Stemming: singular and plural, adjective agreement.
        ("transition ecologique", "Animateur·ice de réseau territorial"),
        ("transitions écologiques", "Animateur·ice de réseau territorial"),
        ("réseaux territoriaux", "Animateur·ice de réseau territorial"),
        # Inclusive writing in the query, in its usual spellings.
        ("chargé·e", "Chargé·e des projets collectifs"),
        ("chargé.e", "Chargé·e des projets collectifs"),
        ("chargé(e)s de projet", "Chargé·e des projets collectifs"),
        ("animateur·ice", "Animateur·ice de réseau territorial"),
        ("animateur.rice", "Animateur·ice de réseau territorial"),
        # Each plain form finds the inclusive title.
        ("animatrice", "Animateur·ice de réseau territorial"),
        ("animateur", "Animateur·ice de réseau territorial"),
        # Missions, profile and the organisation's name are searched too.
        ("ateliers agents", "Chef de projets innovation et transformation publique H/F"),
        ("experience cabinet", "Comptable"),
        # Apostrophes and stop words.
        ("l'économie solidaire", "Chargé·e des projets collectifs"),
    ],
)
async def test_french_search_finds_the_offer(
    client: httpx.AsyncClient, seeds: Organisation, q: str, expected: str
) -> None:
    assert expected in await titles(client, q)


async def test_every_word_must_match(client: httpx.AsyncClient, seeds: Organisation) -> None:
    assert await titles(client, "comptable réseau") == []
    assert await titles(client, "comptable association") == ["Comptable"]


async def test_organisation_name_is_searched(
    client: httpx.AsyncClient, session: AsyncSession, seeds: Organisation
) -> None:
    other = await make_organisation(session, name="La 27e Région", kind="association")
    await make_offer(session, other, title="Assistant·e gestion de projet", description="Stage.")

    assert await titles(client, "27e région") == ["Assistant·e gestion de projet"]


async def test_plain_spellings_in_offers_are_found_by_inclusive_queries(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    await make_offer(session, organisation, title="Animatrice jeunesse", description="Été.")
    await make_offer(session, organisation, title="Chargée de mission", description="Plaidoyer.")
    await make_offer(session, organisation, title="Coordinatrices", description="Santé.")

    assert await titles(client, "animateur·ice") == ["Animatrice jeunesse"]
    assert await titles(client, "chargé·e de mission") == ["Chargée de mission"]
    assert await titles(client, "charge de mission") == ["Chargée de mission"]
    assert await titles(client, "coordinateur·rice·s") == ["Coordinatrices"]


async def test_last_word_matches_as_a_prefix_while_typing(
    client: httpx.AsyncClient, seeds: Organisation
) -> None:
    assert await titles(client, "transition écolo") == ["Animateur·ice de réseau territorial"]
    # A trailing space: the word is finished, and no word is « ecolo ».
    assert await titles(client, "transition écolo ") == []
    # Too short to be a useful prefix: matched whole.
    assert await titles(client, "co") == []


async def test_a_query_of_stop_words_does_not_narrow_the_list(
    client: httpx.AsyncClient, seeds: Organisation
) -> None:
    everything = await titles(client, "")
    assert len(everything) == 4
    assert await titles(client, "de la") == everything
    assert await titles(client, " ' ") == everything


async def test_drafts_and_closed_offers_are_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    await make_offer(session, organisation, title="Juriste brouillon", status="draft")
    await make_offer(session, organisation, title="Juriste close", status="closed")
    await make_offer(session, organisation, title="Juriste ouverte")

    assert await titles(client, "juriste") == ["Juriste ouverte"]


async def test_writes_through_the_api_keep_the_index_in_step(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session, name="Collectif Alpha")
    key = await make_key(session, "recruiter", organisation)
    offer = await make_offer(session, organisation, title="Documentaliste", status="draft")
    assert await titles(client, "documentaliste") == []

    published = await client.patch(
        f"/v1/offers/{offer.id}", json={"status": "published"}, headers=bearer(key)
    )
    assert published.status_code == 200, published.text
    assert await titles(client, "documentaliste") == ["Documentaliste"]

    renamed = await client.patch(
        f"/v1/offers/{offer.id}", json={"title": "Archiviste"}, headers=bearer(key)
    )
    assert renamed.status_code == 200
    assert await titles(client, "documentaliste") == []
    assert await titles(client, "archiviste") == ["Archiviste"]

    organisation_renamed = await client.patch(
        f"/v1/organisations/{organisation.slug}",
        json={"name": "Collectif Bêta"},
        headers=bearer(key),
    )
    assert organisation_renamed.status_code == 200, organisation_renamed.text
    assert await titles(client, "alpha") == []
    assert await titles(client, "beta") == ["Archiviste"]

    closed = await client.delete(f"/v1/offers/{offer.id}", headers=bearer(key))
    assert closed.status_code == 204
    assert await titles(client, "archiviste") == []


async def test_relevance_puts_title_before_organisation_before_text(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    plain = await make_organisation(session, name="Association Horizon")
    named = await make_organisation(session, name="Fondation Jardins partagés")
    now = datetime.now(UTC)
    # The newest offer is the least relevant: relevance, not recency, decides.
    await make_offer(
        session,
        plain,
        title="Chargé·e de communication",
        description="Valoriser nos jardins partagés.",
        published_at=now - timedelta(hours=1),
    )
    await make_offer(
        session,
        named,
        title="Chargé·e de communication",
        description="Valoriser nos actions.",
        published_at=now - timedelta(hours=2),
    )
    await make_offer(
        session,
        plain,
        title="Jardinier·ère des jardins partagés",
        description="Entretenir les parcelles.",
        published_at=now - timedelta(hours=3),
    )

    found = await client.get("/v1/offers", params={"q": "jardins"})

    assert [(item["title"], item["organisation"]["name"]) for item in found.json()["items"]] == [
        ("Jardinier·ère des jardins partagés", "Association Horizon"),
        ("Chargé·e de communication", "Fondation Jardins partagés"),
        ("Chargé·e de communication", "Association Horizon"),
    ]
    # Asked for, recency orders the same hits newest first.
    recent = await client.get("/v1/offers", params={"q": "jardins", "sort": "published_at"})
    assert [item["organisation"]["name"] for item in recent.json()["items"]] == [
        "Association Horizon",
        "Fondation Jardins partagés",
        "Association Horizon",
    ]


async def test_equally_relevant_offers_come_newest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    now = datetime.now(UTC)
    for hours in (5, 1, 3):
        await make_offer(
            session,
            organisation,
            title=f"Médiateur·rice numérique {hours}",
            description="Accompagner les usagers.",
            published_at=now - timedelta(hours=hours),
        )

    assert await titles(client, "médiatrice numérique") == [
        "Médiateur·rice numérique 1",
        "Médiateur·rice numérique 3",
        "Médiateur·rice numérique 5",
    ]


async def test_relevance_pages_have_no_duplicate_and_no_gap(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    same_moment = datetime.now(UTC) - timedelta(hours=1)
    for number in range(23):
        # Scores repeat (three levels of relevance) and so do publication times: only
        # the whole key (score, published_at, id) orders them.
        repeats = " ".join(["solidarité"] * (number % 3 + 1))
        await make_offer(
            session,
            organisation,
            title=f"Poste {number}",
            description=f"Économie sociale. {repeats}",
            published_at=same_moment if number % 2 else same_moment - timedelta(minutes=number),
        )
    await make_offer(session, organisation, title="Sans rapport", description="Comptabilité.")

    whole = await client.get("/v1/offers", params={"q": "solidarite", "limit": "100"})
    expected = [item["id"] for item in whole.json()["items"]]
    assert len(expected) == 23

    seen: list[str] = []
    params = {"q": "solidarite", "limit": "4"}
    while True:
        page = await client.get("/v1/offers", params=params)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        assert page.headers["Link"].endswith('rel="next"')
        params = {**params, "cursor": cursor}

    assert seen == expected


async def test_a_cursor_is_tied_to_its_sort(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    for _ in range(3):
        await make_offer(session, organisation, title="Juriste", description="Droit.")
    page = await client.get("/v1/offers", params={"q": "juriste", "limit": "1"})
    cursor = page.json()["next_cursor"]

    other_sort = await client.get("/v1/offers", params={"cursor": cursor, "sort": "deadline"})
    no_query = await client.get("/v1/offers", params={"cursor": cursor})

    for response in (other_sort, no_query):
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "cursor"


async def test_query_limits_and_odd_input(client: httpx.AsyncClient, seeds: Organisation) -> None:
    too_long = await client.get("/v1/offers", params={"q": "a" * 201})
    assert too_long.status_code == 422
    # FTS5 and tsquery operators are words like any other, never syntax.
    for q in ['"', "NOT OR AND", "a & b | !c", "projet*", "title:comptable", "(", "\x00", "💼"]:
        response = await client.get("/v1/offers", params={"q": q})
        assert response.status_code in (200, 422), (q, response.text)
    assert await titles(client, "comptable:") == ["Comptable"]

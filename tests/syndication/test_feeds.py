"""/v1/feeds: valid for their consumers, only open offers, filtered, cached, and streamed."""

import asyncio
import gc
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import feedparser
import httpx
import pytest
from fastapi import FastAPI
from lxml import etree
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import Offer
from app.organisations.models import Organisation
from app.syndication import feeds
from app.syndication.jsonld import PARIS
from tests.conftest import QueryCounter
from tests.factories import bearer, make_key, make_offer, make_organisation, paris_today
from tests.syndication.test_jsonld import BASE, offer

FEEDS = ("rss", "atom", "xml", "jsonld")
CONTEXT = feeds.FeedContext(base_url=BASE, self_url=f"{BASE}/v1/feeds/offers.xml", updated=None)


async def ditp_offer(session: AsyncSession, organisation: Organisation, **overrides: Any) -> Offer:
    """The seeds' Etat'LIN offer: fonctionnaire, catégorie A, in Nantes."""
    values: dict[str, Any] = {
        "title": "Chef de projets innovation et transformation publique H/F",
        "description": "Etat'LIN aide les services de l'État en Pays de la Loire.",
        "contract_type": "fonctionnaire",
        "duration_months": None,
        "working_time": "full_time",
        "versant": "fpe",
        "categorie": "A",
        "remote": "partial",
        "education_level": "niveau_7",
        "salary_text": "selon grille indiciaire, cotation RIFSEEP 3",
        "apply_via": "url",
        "apply_url": "https://choisirleservicepublic.gouv.fr/",
        "deadline": paris_today() + timedelta(days=30),
    }
    return await make_offer(session, organisation, **(values | overrides))


async def open_and_gone(session: AsyncSession, client: httpx.AsyncClient) -> dict[str, Offer]:
    """One offer in each state a feed must sort out."""
    ditp = await make_organisation(
        session, slug="etat-lin", name="Etat'LIN", kind="administration_etat"
    )
    labo = await make_organisation(
        session, slug="le-labo-de-l-ess", name="Le Labo de l'ESS", departement="75", region="11"
    )
    offers = {
        "ditp": await ditp_offer(session, ditp),
        "labo": await make_offer(
            session,
            labo,
            title="Chargé·e d'études <ESS> & plaidoyer",
            city="Paris",
            postcode="75007",
            departement="75",
            region="11",
            salary_min=2600,
            salary_max=2900,
            salary_period="month",
            salary_basis="gross",
        ),
        "deleted": await make_offer(session, labo, title="Fermée par DELETE"),
        "closed": await make_offer(session, labo, title="Clôturée", status="closed"),
        "expired": await make_offer(
            session, labo, title="Échue", deadline=paris_today() - timedelta(days=1)
        ),
        "draft": await make_offer(
            session, labo, title="Brouillon", status="draft", published_at=None
        ),
    }
    key = await make_key(session, "recruiter", labo)
    deleted = await client.delete(f"/v1/offers/{offers['deleted'].id}", headers=bearer(key))
    assert deleted.status_code == 204
    return offers


async def feed_ids(client: httpx.AsyncClient, kind: str, query: str = "") -> list[str]:
    """The offer ids a feed lists, in order, parsed the way its consumers parse it."""
    response = await client.get(f"/v1/feeds/offers.{kind}?{query}")
    assert response.status_code == 200, response.text
    if kind in {"rss", "atom"}:
        parsed = feedparser.parse(response.content)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        return [entry.link.rsplit("/", 1)[1] for entry in parsed.entries]
    if kind == "xml":
        root = etree.fromstring(response.content)
        return [str(job.findtext("referencenumber")) for job in root.iter("job")]
    return [
        element["item"]["identifier"]["value"] for element in response.json()["itemListElement"]
    ]


@pytest.mark.parametrize("kind", FEEDS)
async def test_only_open_offers_appear(
    client: httpx.AsyncClient, session: AsyncSession, kind: str
) -> None:
    offers = await open_and_gone(session, client)

    # Newest first, as the list: make_offer dates each offer an hour before the previous.
    assert await feed_ids(client, kind) == [str(offers["ditp"].id), str(offers["labo"].id)]


@pytest.mark.parametrize("kind", FEEDS)
async def test_filters_apply_to_feeds(
    client: httpx.AsyncClient, session: AsyncSession, kind: str
) -> None:
    offers = await open_and_gone(session, client)
    ditp, labo = str(offers["ditp"].id), str(offers["labo"].id)

    assert await feed_ids(client, kind, "contract_type=fonctionnaire") == [ditp]
    assert await feed_ids(client, kind, "departement=75") == [labo]
    assert await feed_ids(client, kind, "organisation=etat-lin&remote=partial") == [ditp]
    assert await feed_ids(client, kind, "contract_type=cdd&contract_type=fonctionnaire") == [
        ditp,
        labo,
    ]
    assert await feed_ids(client, kind, "limit=1") == [ditp]
    assert await feed_ids(client, kind, "remote=full") == []
    # The list's newer filters and its search work on feeds too.
    assert await feed_ids(client, kind, "q=innovation+publique") == [ditp]
    assert await feed_ids(client, kind, "q=ferm%C3%A9e") == []
    assert await feed_ids(client, kind, "region=11&salary_min=2800") == [labo]
    assert await feed_ids(client, kind, "organisation_kind=administration_etat") == [ditp]


async def test_a_closed_offer_leaves_the_feeds_and_enters_the_change_feed_as_closed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    offers = await open_and_gone(session, client)
    gone = str(offers["deleted"].id)

    for kind in FEEDS:
        assert gone not in await feed_ids(client, kind)
    changes = (await client.get("/v1/offers/changes", params={"limit": 100})).json()["items"]
    last_change = [item for item in changes if item["offer_id"] == gone][-1]
    assert last_change["change"] == "closed"
    assert last_change["offer"]["status"] == "closed"


async def test_rss_items_for_feed_readers(client: httpx.AsyncClient, session: AsyncSession) -> None:
    offers = await open_and_gone(session, client)

    response = await client.get("/v1/feeds/offers.rss")

    assert response.headers["content-type"] == "application/rss+xml"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    assert parsed.version == "rss20"
    labo = parsed.entries[1]
    assert labo.title == "Chargé·e d'études <ESS> & plaidoyer"
    assert labo.link == f"http://testserver/v1/offers/{offers['labo'].id}"
    assert labo.id == labo.link
    assert labo.author == "Le Labo de l'ESS"
    assert labo.tags[0].term == "CDD"
    assert "<p>Une mission d'intérêt général.</p>" in labo.summary
    assert labo.published_parsed is not None


async def test_atom_entries_for_feed_readers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    offers = await open_and_gone(session, client)

    response = await client.get("/v1/feeds/offers.atom")

    assert response.headers["content-type"] == "application/atom+xml"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    assert parsed.version == "atom10"
    assert parsed.feed.links[0].href == "http://testserver/v1/feeds/offers.atom"
    ditp = parsed.entries[0]
    assert ditp.id == f"urn:uuid:{offers['ditp'].id}"
    assert ditp.title == "Chef de projets innovation et transformation publique H/F"
    assert ditp.author == "Etat'LIN"
    assert ditp.tags[0].term == "fonctionnaire"
    assert ditp.content[0].type == "text/html"
    assert "Pays de la Loire" in ditp.content[0].value


async def test_xml_has_the_aggregators_layout_in_cdata(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    offers = await open_and_gone(session, client)

    response = await client.get("/v1/feeds/offers.xml")

    assert response.headers["content-type"] == "application/xml"
    assert b"<title><![CDATA[Chef de projets" in response.content
    root = etree.fromstring(response.content)
    assert root.tag == "source"
    assert root.findtext("publisher") == "Vocation"
    assert root.findtext("publisherurl") == "http://testserver"
    assert root.findtext("lastBuildDate")
    jobs = root.findall("job")
    assert len(jobs) == 2
    ditp, labo = ({child.tag: child.text for child in job} for job in jobs)
    assert ditp["referencenumber"] == str(offers["ditp"].id)
    assert ditp["url"] == f"http://testserver/v1/offers/{offers['ditp'].id}"
    assert ditp["company"] == "Etat'LIN"
    assert (ditp["city"], ditp["postalcode"], ditp["state"], ditp["country"]) == (
        "Nantes",
        "44000",
        "Pays de la Loire",
        "FR",
    )
    assert ditp["category"] == "Fonctionnaire (poste statutaire)"
    assert ditp["jobtype"] == "fulltime"
    assert ditp["salary"] == "selon grille indiciaire, cotation RIFSEEP 3"
    assert ditp["education"] == "Niveau 7 (bac+5 : master, diplôme d'ingénieur)"
    assert ditp["remotetype"] == "Hybrid remote"
    assert ditp["expirationdate"] == (paris_today() + timedelta(days=30)).isoformat()
    assert ditp["openings"] == "1"
    assert labo["title"] == "Chargé·e d'études <ESS> & plaidoyer"
    assert labo["salary"] == "2600 - 2900 EUR par mois brut"
    # The factory's offer does not say whether it is full time: only its kind is known.
    assert labo["jobtype"] == "temporary"


def xml_jobs(content: bytes) -> dict[str, dict[str, str | None]]:
    """Each <job> of an XML feed as its elements' texts, by reference number."""
    root = etree.fromstring(content)
    jobs = ({child.tag: child.text for child in job} for job in root.iter("job"))
    return {str(job["referencenumber"]): job for job in jobs}


async def test_xml_carries_the_facts_of_real_offers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    expires_at = datetime.now(UTC) + timedelta(days=10)
    stored = await make_offer(
        session,
        organisation,
        contract_type="cdd",
        working_time=None,
        hours_per_week=17.5,
        remote="full",
        salary_min=3.9,
        salary_max=4,
        salary_period="hour",
        salary_basis="gross",
        domain="numerique",
        start_date=date(2026, 9, 1),
        start_precision="month",
        experience_years_min=2,
        experience_years_max=5,
        positions=3,
        benefits=["IFSE", "CIA", "tickets restaurant"],
        contract_reason="remplacement",
        grades=["attaché territorial", "ingénieur territorial"],
        languages=[{"code": "en", "level": "B2"}, {"code": "de", "level": "native"}],
        documents_required=["CV", "dernier arrêté de situation"],
        deadline=None,
        expires_at=expires_at,
    )

    job = xml_jobs((await client.get("/v1/feeds/offers.xml")).content)[str(stored.id)]

    assert job["salary"] == "3,90 - 4,00 EUR par heure brut"
    # Fewer hours than the legal week, with no working time named: part time.
    assert job["jobtype"] == "parttime, temporary"
    assert job["workhours"] == "17,5 heures par semaine"
    assert job["remotetype"] == "Fully remote"
    assert job["category"] == "CDD"
    assert job["domain"] == "Numérique, données, systèmes d'information"
    assert job["startdate"] == "2026-09"
    assert job["experience"] == "2 à 5 ans"
    assert job["openings"] == "3"
    assert job["benefits"] == "IFSE, CIA, tickets restaurant"
    assert job["contractreason"] == "Remplacement"
    assert job["grades"] == "attaché territorial, ingénieur territorial"
    assert job["languages"] == "en B2, de native"
    assert job["documents"] == "CV, dernier arrêté de situation"
    assert job["expirationdate"] == expires_at.astimezone(PARIS).date().isoformat()


async def test_xml_expires_at_the_earliest_end(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    soon = datetime.now(UTC) + timedelta(days=5)
    ends_first = await make_offer(
        session, organisation, deadline=paris_today() + timedelta(days=30), expires_at=soon
    )
    deadline_first = await make_offer(
        session,
        organisation,
        deadline=paris_today() + timedelta(days=3),
        expires_at=datetime.now(UTC) + timedelta(days=20),
    )

    jobs = xml_jobs((await client.get("/v1/feeds/offers.xml")).content)

    assert jobs[str(ends_first.id)]["expirationdate"] == soon.astimezone(PARIS).date().isoformat()
    assert (
        jobs[str(deadline_first.id)]["expirationdate"]
        == (paris_today() + timedelta(days=3)).isoformat()
    )


async def test_what_an_offer_does_not_say_is_left_out_of_the_feeds(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    unknown = {"working_time": None, "remote": None, "apply_via": None, "deadline": None}
    statutory = await make_offer(session, organisation, contract_type="fonctionnaire", **unknown)
    temporary = await make_offer(session, organisation, contract_type="cdd", **unknown)

    jobs = xml_jobs((await client.get("/v1/feeds/offers.xml")).content)
    postings = {
        element["item"]["identifier"]["value"]: element["item"]
        for element in (await client.get("/v1/feeds/offers.jsonld")).json()["itemListElement"]
    }

    said_nothing = jobs[str(statutory.id)]
    for absent in (
        "jobtype",
        "remotetype",
        "expirationdate",
        "salary",
        "education",
        "domain",
        "experience",
        "startdate",
        "workhours",
        "benefits",
    ):
        assert absent not in said_nothing, absent
    for required in ("title", "date", "referencenumber", "url", "company", "city", "state"):
        assert said_nothing[required], required
    assert said_nothing["openings"] == "1"
    assert jobs[str(temporary.id)]["jobtype"] == "temporary"
    assert "employmentType" not in postings[str(statutory.id)]
    assert postings[str(temporary.id)]["employmentType"] == ["TEMPORARY"]
    for posting in postings.values():
        assert "directApply" not in posting
        assert "jobLocationType" not in posting
        assert "validThrough" not in posting


@pytest.mark.parametrize(
    ("least", "most", "expected"),
    [
        (0, None, "aucune expérience exigée"),
        (None, 0, "aucune expérience exigée"),
        (1, None, "au moins 1 an"),
        (3, None, "au moins 3 ans"),
        (None, 5, "jusqu'à 5 ans"),
        (0, 2, "jusqu'à 2 ans"),
        (2, 5, "2 à 5 ans"),
        (4, 4, "4 ans"),
        (None, None, None),
    ],
)
def test_xml_experience_in_words(least: int | None, most: int | None, expected: str | None) -> None:
    item = feeds.XML.item(offer(experience_years_min=least, experience_years_max=most), CONTEXT, 1)

    assert etree.fromstring(item).findtext("experience") == expected


def test_xml_start_and_working_week_from_the_function() -> None:
    item = feeds.XML.item(
        offer(
            working_time="part_time",
            working_time_percent=80,
            start_precision="asap",
            salary_min=3.9,
            salary_max=None,
            salary_period="hour",
            salary_basis="net",
            salary_text=None,
        ),
        CONTEXT,
        1,
    )
    job = {child.tag: child.text for child in etree.fromstring(item)}

    assert job["jobtype"] == "parttime"
    assert job["workhours"] == "temps partiel à 80 %"
    assert job["startdate"] == "dès que possible"
    assert job["salary"] == "3,90 EUR par heure net"
    # The deadline's day in Paris, as in the JSON-LD.
    assert job["expirationdate"] == "2026-03-31"


async def test_cdata_survives_its_own_terminator(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    await make_offer(session, organisation, title="a ]]> b", description="x ]]]]> y")

    root = etree.fromstring((await client.get("/v1/feeds/offers.xml")).content)

    assert root.findtext("job/title") == "a ]]> b"
    assert "x ]]]]&gt; y" in str(root.findtext("job/description"))


async def test_jsonld_is_an_item_list_of_job_postings(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    offers = await open_and_gone(session, client)

    response = await client.get("/v1/feeds/offers.jsonld")

    assert response.headers["content-type"] == "application/ld+json"
    document = response.json()
    assert document["@context"] == "https://schema.org"
    assert document["@type"] == "ItemList"
    first, second = document["itemListElement"]
    assert (first["@type"], first["position"], second["position"]) == ("ListItem", 1, 2)
    posting = first["item"]
    assert "@context" not in posting
    assert posting["@type"] == "JobPosting"
    assert posting["identifier"]["value"] == str(offers["ditp"].id)
    assert posting["employmentType"] == ["FULL_TIME"]
    assert posting["jobLocation"]["address"]["addressRegion"] == "Pays de la Loire"
    assert posting["validThrough"].startswith((paris_today() + timedelta(days=30)).isoformat())
    assert second["item"]["baseSalary"]["value"]["unitText"] == "MONTH"
    assert second["item"]["directApply"] is True


@pytest.mark.parametrize("kind", FEEDS)
async def test_cache_headers_and_304(
    client: httpx.AsyncClient, session: AsyncSession, kind: str
) -> None:
    organisation = await make_organisation(session)
    first = await make_offer(session, organisation)
    path = f"/v1/feeds/offers.{kind}?departement=44"

    response = await client.get(path)

    etag = response.headers["etag"]
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["last-modified"].endswith(" GMT")
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = await client.get(path, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304

    # Another limit or filter is another body, so another tag.
    other = await client.get(path + "&limit=5")
    assert other.headers["etag"] != etag

    key = await make_key(session, "recruiter", organisation)
    await client.delete(f"/v1/offers/{first.id}", headers=bearer(key))
    after_close = await client.get(path, headers={"If-None-Match": etag})
    assert after_close.status_code == 200
    assert after_close.headers["etag"] != etag


async def test_head_answers_the_headers(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    await make_offer(session, organisation)

    head = await client.head("/v1/feeds/offers.rss")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == (await client.get("/v1/feeds/offers.rss")).headers["etag"]


async def test_a_feed_costs_two_queries_however_many_offers(
    client: httpx.AsyncClient, session: AsyncSession, queries: QueryCounter
) -> None:
    organisation = await make_organisation(session)
    for _ in range(30):
        await make_offer(session, organisation)

    queries.reset()
    response = await client.get("/v1/feeds/offers.jsonld")

    assert len(response.json()["itemListElement"]) == 30
    assert queries.count == 2


async def test_public_base_url_names_the_offers(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"public_base_url": "https://api.vocation.example/"}
    )
    organisation = await make_organisation(session)
    stored = await make_offer(session, organisation)

    parsed = feedparser.parse((await client.get("/v1/feeds/offers.rss")).content)

    assert parsed.entries[0].link == f"https://api.vocation.example/v1/offers/{stored.id}"


async def test_limit_is_checked(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/feeds/offers.rss?limit=100001")).status_code == 422
    assert (await client.get("/v1/feeds/offers.rss?limit=0")).status_code == 422
    bad = await client.get("/v1/feeds/offers.atom?contract_type=cdx")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_an_empty_feed_is_still_valid(client: httpx.AsyncClient) -> None:
    for kind in FEEDS:
        assert await feed_ids(client, kind) == []


# Streaming: the body is written offer by offer, never held whole.

LONG_TEXT = "Une mission d'intérêt général, décrite longuement. " * 30  # about 1.5 kB


async def insert_offers(session: AsyncSession, organisation: Organisation, count: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "organisation_id": organisation.id,
            "title": f"Offre {number}",
            "description": LONG_TEXT,
            "missions": LONG_TEXT,
            "contract_type": "cdd",
            "working_time": "full_time",
            "city": "Nantes",
            "postcode": "44000",
            "departement": "44",
            "region": "52",
            "country": "FR",
            "remote": "none",
            "language": "fr",
            "apply_via": "platform",
            "status": "published",
            "published_at": now - timedelta(seconds=number),
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for number in range(count)
    ]
    await session.execute(insert(Offer.__table__), rows)  # type: ignore[attr-defined]
    await session.commit()


async def stream_without_keeping(app: FastAPI, path: str, query: str) -> tuple[int, int]:
    """Call the app as a server would and count the body's bytes without keeping them:
    httpx's test transport would gather the whole body and hide what the app holds."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asked = False
    status = 0
    size = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


@pytest.mark.parametrize("kind", FEEDS)
async def test_a_large_feed_streams_in_bounded_memory(
    app: FastAPI, session: AsyncSession, kind: str
) -> None:
    count = 2_000
    organisation = await make_organisation(session)
    await insert_offers(session, organisation, count)
    path = f"/v1/feeds/offers.{kind}"
    await stream_without_keeping(app, path, "limit=5")  # compile statements, fill caches
    gc.collect()

    tracemalloc.start()
    try:
        status, size = await stream_without_keeping(app, path, f"limit={count}")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert status == 200
    # A buffering writer holds at least the whole body (and, before it, every offer).
    assert size > 2_000 * 3_000
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,}-byte feed"


async def test_head_on_a_feed_gives_its_validators_without_making_it(
    client: httpx.AsyncClient, session: AsyncSession, queries: QueryCounter
) -> None:
    organisation = await make_organisation(session)
    await make_offer(session, organisation)
    get = await client.get("/v1/feeds/offers.rss")
    queries.reset()
    head = await client.head("/v1/feeds/offers.rss")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["last-modified"] == get.headers["last-modified"]
    assert queries.count == 1  # the freshness stamp only, no rows streamed

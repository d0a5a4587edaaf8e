"""Feed writers: RSS 2.0, Atom, the aggregators' XML and a JSON-LD ItemList, one offer at a time.

feedgen (like any DOM builder) holds the whole document before writing a byte, so a feed of
100,000 offers would sit in memory. Each writer here is a head, one text per offer and a
tail, written with the standard library's escaping: the body streams in constant memory,
and there is no per-offer DOM to build, which also makes it several times faster.
"""

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from app.offers.models import OfferPublic
from app.referentials.data import (
    CONTRACT_REASONS,
    CONTRACT_TYPE_BY_CODE,
    EDUCATION_LEVEL_BY_CODE,
    REGION_BY_CODE,
    SALARY_BASIS_BY_CODE,
    SALARY_PERIOD_BY_CODE,
)
from app.referentials.enums import ContractType, RemoteMode, WorkingTime
from app.syndication import jsonld

PUBLISHER = "Vocation"
TITLE = "Vocation : offres d'emploi d'intérêt général"
SUBTITLE = "Les offres ouvertes des associations, collectifs, administrations et de l'ESS."
# A feed with no offer still needs a date; a fixed one keeps its ETag stable.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bytes gathered before a write: fewer, larger writes without holding more than this.
CHUNK_BYTES = 64 * 1024

# XML 1.0 refuses these even escaped; stored text should not hold them, but one slipping in
# must not make the whole feed unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class FeedContext:
    base_url: str
    self_url: str
    updated: datetime | None
    zone: ZoneInfo = jsonld.PARIS


@dataclass(frozen=True, slots=True)
class FeedFormat:
    name: str
    media_type: str
    head: Callable[[FeedContext], str]
    item: Callable[[OfferPublic, FeedContext, int], str]
    tail: str


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def _cdata(value: str | int | None) -> str:
    # "]]>" would end the section early: split it across two sections.
    text = _NOT_XML.sub("", "" if value is None else str(value))
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _published(offer: OfferPublic) -> datetime:
    return offer.published_at or offer.created_at


# RSS 2.0 -------------------------------------------------------------------------------


def _rss_head(context: FeedContext) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{_text(TITLE)}</title>"
        f"<link>{_text(context.base_url + '/v1/offers')}</link>"
        f"<description>{_text(SUBTITLE)}</description>"
        "<language>fr</language>"
        f"<lastBuildDate>{_rfc822(context.updated or EPOCH)}</lastBuildDate>"
        f'<atom:link href={_attr(context.self_url)} rel="self" type="application/rss+xml"/>'
    )


def _rss_item(offer: OfferPublic, context: FeedContext, _position: int) -> str:
    url = jsonld.offer_url(context.base_url, offer)
    return (
        "<item>"
        f"<title>{_text(offer.title)}</title>"
        f"<link>{_text(url)}</link>"
        f'<guid isPermaLink="true">{_text(url)}</guid>'
        f"<pubDate>{_rfc822(_published(offer))}</pubDate>"
        f"<dc:creator>{_text(offer.organisation.name)}</dc:creator>"
        f"<category>{_text(_contract_label(offer))}</category>"
        f"<description>{_text(jsonld.description_html(offer))}</description>"
        "</item>"
    )


RSS = FeedFormat("rss", "application/rss+xml", _rss_head, _rss_item, "</channel></rss>\n")


# Atom ----------------------------------------------------------------------------------


def _atom_head(context: FeedContext) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">'
        f"<id>{_text(context.base_url + '/v1/feeds/offers.atom')}</id>"
        f"<title>{_text(TITLE)}</title>"
        f"<subtitle>{_text(SUBTITLE)}</subtitle>"
        f"<updated>{(context.updated or EPOCH).isoformat()}</updated>"
        f'<link rel="self" type="application/atom+xml" href={_attr(context.self_url)}/>'
        f'<link rel="alternate" href={_attr(context.base_url + "/v1/offers")}/>'
        f"<author><name>{PUBLISHER}</name></author>"
    )


def _contract_label(offer: OfferPublic) -> str:
    # Feeds carry published offers, which always say; a draft may not yet.
    contract = offer.contract_type
    return CONTRACT_TYPE_BY_CODE[contract].label if contract is not None else ""


def _atom_item(offer: OfferPublic, context: FeedContext, _position: int) -> str:
    contract = offer.contract_type or ""
    return (
        "<entry>"
        # The id survives a change of host name, unlike the URL.
        f"<id>urn:uuid:{offer.id}</id>"
        f"<title>{_text(offer.title)}</title>"
        f'<link rel="alternate" href={_attr(jsonld.offer_url(context.base_url, offer))}/>'
        f"<published>{_published(offer).isoformat()}</published>"
        f"<updated>{offer.updated_at.isoformat()}</updated>"
        f"<author><name>{_text(offer.organisation.name)}</name></author>"
        f"<category term={_attr(contract)} label={_attr(_contract_label(offer))}/>"
        f'<content type="html">{_text(jsonld.description_html(offer))}</content>'
        "</entry>"
    )


ATOM = FeedFormat("atom", "application/atom+xml", _atom_head, _atom_item, "</feed>\n")


# The job aggregators' XML (<source>, then one <job> per offer) ---------------------------

_JOB_TYPES = {
    ContractType.stage: "internship",
    ContractType.alternance: "apprenticeship",
    ContractType.service_civique: "volunteer",
    ContractType.volontariat: "volunteer",
    ContractType.interim: "temporary",
    ContractType.independant: "contract",
    ContractType.cdd: "temporary",
}
_REMOTE_TYPES = {RemoteMode.full: "Fully remote", RemoteMode.partial: "Hybrid remote"}
_SCHEDULES = {WorkingTime.full_time: "fulltime", WorkingTime.part_time: "parttime"}
# The elements aggregators require are always written, even empty; any other is left out
# when the offer does not say, rather than sent empty.
_REQUIRED = frozenset(
    (
        "title",
        "date",
        "referencenumber",
        "url",
        "company",
        "city",
        "state",
        "country",
        "description",
    )
)


def _job_type(offer: OfferPublic) -> str:
    """The schedule, by the JSON-LD's rule (none when unknown), then the contract's kind."""
    hours = jsonld.schedule(offer)
    parts = [_SCHEDULES[hours]] if hours is not None else []
    kind = _JOB_TYPES.get(offer.contract_type) if offer.contract_type else None
    if kind:
        parts.append(kind)
    return ", ".join(parts)


def _salary_text(offer: OfferPublic) -> str:
    numbers = [a for a in (offer.salary_min, offer.salary_max) if a is not None]
    if not numbers or offer.salary_period is None:
        return offer.salary_text or ""
    # Cents the French way, on both ends of a range when one has them: 3,90 - 4,00.
    cents = any(not float(number).is_integer() for number in numbers)
    amounts = [f"{n:.2f}".replace(".", ",") if cents else str(int(n)) for n in numbers]
    text = " - ".join(amounts) + " EUR " + SALARY_PERIOD_BY_CODE[offer.salary_period].label.lower()
    if offer.salary_basis is not None:
        text += " " + SALARY_BASIS_BY_CODE[offer.salary_basis].label.lower()
    return text + (f" ({offer.salary_text})" if offer.salary_text else "")


def _years(count: int) -> str:
    return f"{count} an" if count < 2 else f"{count} ans"


def _experience(offer: OfferPublic) -> str | None:
    """The years of experience asked, as a range in words (« 2 à 5 ans »)."""
    least, most = offer.experience_years_min, offer.experience_years_max
    if most == 0 or (least == 0 and most is None):
        return "aucune expérience exigée"
    if most is None:
        return f"au moins {_years(least)}" if least is not None else None
    if not least:
        return f"jusqu'à {_years(most)}"
    return _years(most) if least == most else f"{least} à {_years(most)}"


def _xml_head(context: FeedContext) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<source>'
        f"<publisher>{_cdata(PUBLISHER)}</publisher>"
        f"<publisherurl>{_cdata(context.base_url)}</publisherurl>"
        f"<lastBuildDate>{_cdata(_rfc822(context.updated or EPOCH))}</lastBuildDate>"
    )


_REASONS = {entry.code: entry.label for entry in CONTRACT_REASONS}


def _xml_item(offer: OfferPublic, context: FeedContext, _position: int) -> str:
    region = REGION_BY_CODE.get(offer.region or "")
    education = offer.education_level
    # The day in the service's zone: a UTC date would end an offer a day early at night.
    end = jsonld.valid_through(offer, context.zone)
    fields: list[tuple[str, str | int | None]] = [
        ("title", offer.title),
        ("date", _rfc822(_published(offer))),
        ("referencenumber", str(offer.id)),
        ("requisitionid", offer.reference),
        ("url", jsonld.offer_url(context.base_url, offer)),
        ("company", offer.organisation.name),
        ("city", offer.city),
        ("state", region.label if region else None),
        ("country", offer.country),
        ("postalcode", offer.postcode),
        ("description", jsonld.description_html(offer)),
        ("salary", _salary_text(offer)),
        ("education", EDUCATION_LEVEL_BY_CODE[education].label if education else None),
        ("jobtype", _job_type(offer)),
        ("category", _contract_label(offer)),
        ("domain", jsonld.domain_label(offer)),
        ("experience", _experience(offer)),
        ("remotetype", _REMOTE_TYPES.get(offer.remote) if offer.remote else None),
        ("expirationdate", end.astimezone(context.zone).date().isoformat() if end else None),
        ("startdate", jsonld.job_start(offer)),
        ("workhours", jsonld.work_hours(offer)),
        ("openings", offer.positions),
        ("benefits", ", ".join(offer.benefits)),
        # Facts JobPosting has no property for: the XML is ours to extend.
        ("contractreason", _REASONS.get(offer.contract_reason or "")),
        ("grades", ", ".join(offer.grades)),
        ("languages", ", ".join(f"{item['code']} {item['level']}" for item in offer.languages)),
        ("documents", ", ".join(offer.documents_required)),
    ]
    body = "".join(
        f"<{name}>{_cdata(value)}</{name}>"
        for name, value in fields
        if name in _REQUIRED or value not in (None, "")
    )
    return f"<job>{body}</job>"


XML = FeedFormat("xml", "application/xml", _xml_head, _xml_item, "</source>\n")


# JSON-LD: a schema.org ItemList of JobPosting --------------------------------------------


def _jsonld_head(context: FeedContext) -> str:
    header = jsonld.dumps(
        {"@context": jsonld.CONTEXT, "@type": "ItemList", "@id": context.self_url, "name": TITLE}
    )
    return header[:-1] + ',"itemListElement":['


def _jsonld_item(offer: OfferPublic, context: FeedContext, position: int) -> str:
    posting = jsonld.job_posting(offer, context.base_url, zone=context.zone, context=False)
    item = jsonld.dumps({"@type": "ListItem", "position": position, "item": posting})
    return item if position == 1 else "," + item


JSONLD = FeedFormat("jsonld", "application/ld+json", _jsonld_head, _jsonld_item, "]}\n")

FORMATS = {feed.name: feed for feed in (RSS, ATOM, XML, JSONLD)}


async def render(
    feed: FeedFormat, offers: AsyncIterator[OfferPublic], context: FeedContext
) -> AsyncIterator[bytes]:
    """The feed's bytes, written as the offers arrive: never more than one chunk held."""
    pending = [feed.head(context).encode()]
    size = len(pending[0])
    position = 0
    async for offer in offers:
        position += 1
        text = feed.item(offer, context, position).encode()
        pending.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    pending.append(feed.tail.encode())
    yield b"".join(pending)

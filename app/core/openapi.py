"""What the generated spec cannot say by itself, added in one place after FastAPI builds it.

The headers below are sent by shared helpers (`app.core.http`, the rate limiter, the error
handlers), not by route signatures, so FastAPI cannot see them; declaring them here keeps
the routes' behaviour untouched. Everything is derived from what each operation already
declares (a 304 means `If-None-Match` is honoured, a 412 means `If-Match` is), so a new
route is documented by the same rules.
"""

import re
from typing import Any

LICENSE = {"name": "MIT", "identifier": "MIT"}
CONTACT = {"name": "The Vocation contributors"}
# Relative: the spec is right wherever it is served from (an absolute URL would make the
# committed spec depend on one deployment's settings).
SERVERS = [{"url": "/", "description": "The server that serves this document."}]

TAGS = [
    {"name": "offers", "description": "Job offers: search, read, and write (recruiters)."},
    {"name": "feeds", "description": "The published offers as RSS, Atom, XML and JSON-LD."},
    {"name": "organisations", "description": "The organisations that publish offers."},
    {
        "name": "referentials",
        "description": "The codes an offer's fields take, with their French labels.",
    },
    {
        "name": "applications",
        "description": "Applying to an offer, and following applications up.",
    },
    {
        "name": "candidates",
        "description": "Candidates' accounts: sign-up, sign-in, and their own data.",
    },
    {
        "name": "webhooks",
        "description": "Events POSTed to partners' and recruiters' receivers, signed as "
        "Standard Webhooks says, and the subscriptions that ask for them.",
    },
    {"name": "operations", "description": "Liveness and readiness probes."},
]

# Sent on every JSON representation (`app.core.http`); not by these, which stream files,
# plain answers or probes.
_NO_ETAG = {
    "uploadOffers",
    "downloadApplicationDocument",
    "exportOfferApplicationsCsv",
    "checkLiveness",
    "checkReadiness",
    # The pages e-mailed links open: private, never cached.
    "showVerifyCandidateEmailPage",
    "showPasswordResetPage",
    "showEmailChangePage",
}
_LAST_MODIFIED = {
    "getOffer",
    "getOffersRssFeed",
    "getOffersAtomFeed",
    "getOffersXmlFeed",
    "getOffersJsonLdFeed",
}
# The cursor-paginated lists whose next page is also in `Link`.
_LINKED = {
    "listOffers",
    "listOrganisations",
    "listApplications",
    "listWebhooks",
    "listWebhookDeliveries",
}

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The representation's tag, for `If-None-Match` and `If-Match`.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "When the representation last changed (an RFC 9110 HTTP date).",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page, as `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags the client holds: 304, without a body, when one still matches.",
        "schema": {"type": "string"},
    },
    "If-Modified-Since": {
        "name": "If-Modified-Since",
        "in": "header",
        "required": False,
        "description": "A `Last-Modified` date the client holds (ignored with "
        "`If-None-Match`): 304 when nothing changed since.",
        "schema": {"type": "string"},
    },
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag of the version read: refused with 412 when the resource "
        "changed since. Without it, the last write wins.",
        "schema": {"type": "string"},
    },
}


def complete(schema: dict[str, Any]) -> None:
    info = schema["info"]
    info["license"] = LICENSE
    info["contact"] = CONTACT
    schema["servers"] = SERVERS
    schema["tags"] = TAGS
    components = schema.setdefault("components", {})
    components["headers"] = {name.replace("-", ""): header for name, header in HEADERS.items()}
    for item in schema["paths"].values():
        for operation in item.values():
            # Public: an explicit empty requirement, so that tools do not read "unsecured
            # by mistake".
            operation.setdefault("security", [])
            _declare_headers(operation)
    for item in schema.get("webhooks", {}).values():
        for operation in item.values():
            # Requests we send: their signature is their security, in their headers.
            operation.setdefault("security", [])
    _name_enum_members(schema)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name.replace('-', '')}"}


def _declare_headers(operation: dict[str, Any]) -> None:
    operation_id = operation["operationId"]
    responses = operation["responses"]
    for status, response in responses.items():
        headers: dict[str, dict[str, str]] = {}
        if (status.startswith("2") and "content" in response) or status == "304":
            if operation_id not in _NO_ETAG:
                headers["ETag"] = _ref("headers", "ETag")
            if operation_id in _LAST_MODIFIED:
                headers["Last-Modified"] = _ref("headers", "Last-Modified")
        if status == "200" and operation_id in _LINKED:
            headers["Link"] = _ref("headers", "Link")
        if status in {"429", "503"}:
            headers["Retry-After"] = _ref("headers", "Retry-After")
        if headers:
            response.setdefault("headers", {}).update(headers)
    conditions = []
    if "304" in responses:
        conditions.append("If-None-Match")
        if operation_id in _LAST_MODIFIED:
            conditions.append("If-Modified-Since")
    if "412" in responses:
        conditions.append("If-Match")
    if conditions:
        parameters = operation.setdefault("parameters", [])
        # Inline, as FastAPI writes every other parameter: tools that read `name` on each
        # parameter need not follow references.
        parameters.extend(dict(PARAMETERS[name]) for name in conditions)


def enum_member_name(value: str) -> str:
    """A name valid in Python and TypeScript for an enum's wire value: `A+` is `A_PLUS`,
    `service_civique` is `SERVICE_CIVIQUE`."""
    words = re.sub(r"[^0-9A-Za-z]+", "_", value.replace("+", "_plus")).strip("_")
    name = words.upper() or "EMPTY"
    return name if not name[0].isdigit() else "VALUE_" + name


def _name_enum_members(node: Any) -> None:
    """Give every string enum `x-enum-varnames` (honoured by openapi-python-client and
    openapi-typescript): values stay as they are on the wire (v1 promises they do not
    change), and generators stop deriving names that collide (`A+` and `A` both `A`)."""
    if isinstance(node, list):
        for item in node:
            _name_enum_members(item)
        return
    if not isinstance(node, dict):
        return
    values = node.get("enum")
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        names = [enum_member_name(value) for value in values]
        if len(set(names)) != len(names):
            raise ValueError(f"enum values {values} give clashing member names {names}")
        node["x-enum-varnames"] = names
    for value in node.values():
        _name_enum_members(value)

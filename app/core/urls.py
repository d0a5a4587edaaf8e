"""Every absolute URL the service writes (Link, Location, feeds, JSON-LD, redirects) is made
here, from one base: ``VOCATION_PUBLIC_BASE_URL`` when set, else the request's own origin,
which ``AllowedHosts`` has already checked. Nothing else reads the Host header."""

from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send


def public_base(request: Request) -> str:
    """Where the world reaches us, without a trailing slash: the configured base behind a
    proxy, else the request's scheme, host and root path."""
    configured: str = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def route_path(scope: Scope) -> str:
    """The path as the routes see it: without the root path a proxy prefix puts before it,
    which the base already holds."""
    path: str = scope["path"]
    root = str(scope.get("root_path", "")).rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


def absolute_url(request: Request, path: str, query: str = "") -> str:
    """``path`` (a route path, starting with /) under the public base."""
    url = public_base(request) + path
    return f"{url}?{query}" if query else url


def url_for(request: Request, name: str, **params: Any) -> str:
    """The absolute URL of a named route, for `Location` headers."""
    return absolute_url(request, str(request.app.url_path_for(name, **params)))


def request_url(request: Request, **replace_query: str) -> str:
    """The URL of the request itself (a feed's self link, the next page), under the public
    base, with the given query parameters set."""
    url: URL = request.url
    if replace_query:
        url = url.include_query_params(**replace_query)
    return absolute_url(request, route_path(request.scope), url.query)


def slash_redirects(router: Router) -> ASGIApp:
    """The router's fallback: `/v1/offers/` redirects to `/v1/offers` (and the reverse) as
    Starlette's own ``redirect_slashes`` does, but to a URL from ``absolute_url``; Starlette
    builds it from the Host header. Anything else is the router's 404."""

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        if scope["type"] == "http" and path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            moved = {**scope, "path": scope["path"][: len(scope["path"]) - len(path)] + other}
            if any(route.matches(moved)[0] is not Match.NONE for route in router.routes):
                request = Request(scope)
                query = scope.get("query_string", b"").decode("latin-1")
                location = absolute_url(request, other, query)
                await RedirectResponse(location)(scope, receive, send)
                return
        await router.not_found(scope, receive, send)

    return fallback


# The base of links written where no request is at hand (a worker closing offers): the
# public base URL, else where `make run` serves.
LOCAL_BASE_URL = "http://localhost:8000"


def message_base(configured_public_base: str) -> str:
    """The base of links in messages made outside a request (e-mails, webhooks)."""
    return (configured_public_base or LOCAL_BASE_URL).rstrip("/")

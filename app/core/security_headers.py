"""The headers that harden every response, errors and 304s included: one pure ASGI layer,
set outside Starlette's error middleware so that even a 500 carries them."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.urls import route_path

# Path prefixes of pages other sites may frame (issue 17's widget goes here); every other
# response refuses to be framed.
EMBEDDABLE: tuple[str, ...] = ()

NO_FRAMING = "frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, public_base_url: str) -> None:
        self.app = app
        # Only a client that reached us over https may be told to keep to it; behind a TLS
        # proxy the request itself says http, so the public URL decides.
        self.hsts = public_base_url.lower().startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed = route_path(scope).startswith(EMBEDDABLE)

        async def hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A browser must not guess HTML or script from an upload or an error body.
                headers["X-Content-Type-Options"] = "nosniff"
                if not framed:
                    headers["X-Frame-Options"] = "DENY"
                    policy = headers.get("Content-Security-Policy")
                    if policy is None:
                        headers["Content-Security-Policy"] = NO_FRAMING
                    elif "frame-ancestors" not in policy:
                        headers["Content-Security-Policy"] = f"{policy}; {NO_FRAMING}"
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, hardened)

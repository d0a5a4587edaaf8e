"""Only the configured hosts are answered: links made from the request (when no public base
URL is set) can then name nothing but one of our own hosts, whatever Host a client forges.

Starlette's ``TrustedHostMiddleware`` does the matching (ports ignored, ``*.domain``
wildcards); its plain-text 400 is replaced by our problem+json, with 421 Misdirected
Request: RFC 9110 §15.5.20's status for a request this server will not answer for that
host. The syntax of the request is fine, which 400 would deny.
"""

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, problem_response
from app.core.urls import route_path

# Probes call an address (a pod's IP, a container's name), not the public host, and these
# answers hold no link: they answer any Host.
ANY_HOST_PATHS = frozenset({"/healthz", "/readyz"})

_PASSED = "vocation.host_allowed"


class MisdirectedRequest(AppError):
    status, title, slug = 421, "Misdirected Request", "misdirected-request"


class AllowedHosts:
    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts, www_redirect=False)

    async def _passed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_PASSED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope) in ANY_HOST_PATHS:
            await self.app(scope, receive, send)
            return

        async def refusal_as_problem(message: Message) -> None:
            if scope.get(_PASSED):
                await send(message)
            elif message["type"] == "http.response.start":
                # The host check's own plain-text answer; its body is dropped below.
                error = MisdirectedRequest(
                    "This server does not answer for this host (see VOCATION_ALLOWED_HOSTS)."
                )
                await problem_response(error.problem())(scope, receive, send)

        await self.check(scope, receive, refusal_as_problem)
